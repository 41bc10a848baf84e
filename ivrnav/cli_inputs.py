"""Checks of the command line's inputs: secrets files, var values, output paths and numeric options.

Each failure is an :class:`InputFileError` (or a click usage error) with one sentence that never contains a
value that may be secret: a secrets file's values, a ``--var`` argument without ``NAME=``, or the names of
a secrets file written the wrong way round (``605379: account``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping

import click

from ivrnav.files import InputFileError, decode_utf8, read_regular
from ivrnav.menu import regex
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.menu.loader import load_text

__all__ = ["MAX_SECRETS_BYTES", "Finite", "InputFileError", "load_secrets", "var_values"]

MAX_SECRETS_BYTES = 1 << 20  # a secrets file holds a few names and values
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def load_secrets(path: str) -> dict[str, str]:
    """``NAME: value`` pairs of a secrets file, read like a menu file (bounded, no tags) with every value the
    text as written (YAML 1.1 would read ``pin: 0123`` as 83), never quoting a value in an error."""
    what = f"secrets file {path}"
    raw = read_regular(path, MAX_SECRETS_BYTES, what=what)
    text = decode_utf8(raw, what=what)
    if not text.strip():
        return {}
    try:
        doc = load_text(text, path, echo=False)
    except MenuFileError as exc:
        first = exc.errors[0] if exc.errors else None
        where = f" at line {first.line}, column {first.column}" if first else ""
        raise InputFileError(f"{what}{where}: {first.message if first else 'not valid YAML'}") from None
    data = doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputFileError(f"{what} must map var names to values (NAME: value), not a list or a single value")
    out: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, dict | list) or value is None:
            line, column = doc.where((name,))
            raise InputFileError(f"{what} at line {line}, column {column}: each var needs one value (text or "
                                 "digits), not a list, a mapping or nothing")
        out[str(name)] = value if isinstance(value, str) else doc.written.get((name,), str(value))  # as written
    return out


def shown_names(names: Iterable[str]) -> str:
    """Names safe to print: valid var names only (a digit string may be a value written where a name goes)."""
    names = sorted(names)
    safe = [n for n in names if _NAME.fullmatch(n)]
    hidden = len(names) - len(safe)
    parts = [", ".join(safe)] if safe else []
    if hidden:
        parts.append(f"{hidden} more that {'is' if hidden == 1 else 'are'} not valid var names (not shown: "
                     "they may be values written where names go)")
    return "; ".join(parts)


def var_values(declared: Mapping[str, object], pairs: Iterable[str], secrets: Mapping[str, str],
               environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], str | None]:
    """Merge ``secrets`` < environment ``IVRNAV_VAR_<NAME>`` < ``--var NAME=VALUE``; returns the values and an
    error sentence (or None). Patterns are checked with RE2 (linear time) and values are never echoed."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = dict(secrets)
    from_file = set(secrets)
    for name in declared:
        if f"IVRNAV_VAR_{name.upper()}" in env:
            values[name] = env[f"IVRNAV_VAR_{name.upper()}"]
    for pair in pairs:
        if "=" not in pair:
            return values, "--var takes NAME=VALUE (the argument is not shown: it may be a secret)"
        name, value = pair.split("=", 1)
        name = name.strip()
        if not _NAME.fullmatch(name):
            return values, "--var takes NAME=VALUE with NAME a var name (the argument is not shown: it may be a secret)"
        values[name] = value
        from_file.discard(name)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        where = "the secrets file" if set(unknown) <= from_file else "--var/--secrets"
        return values, (f"unknown var(s) in {where}: {shown_names(unknown)}; declared: "
                        f"{', '.join(declared) or 'none'}")
    for name, value in values.items():
        pattern = getattr(declared[name], "pattern", None)
        if pattern and not regex.fullmatch(pattern, value):
            return values, f"value of var {name} does not match its pattern (the value is not shown)"
    return values, None


class Finite(click.ParamType):
    """A finite float in a range: click's FloatRange lets ``nan`` through (every comparison with NaN is false)."""

    name = "number"

    def __init__(self, low: float, high: float, *, low_open: bool = False):
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        low_ok = number > self.low if self.low_open else number >= self.low
        if not math.isfinite(number) or not low_ok or number > self.high:
            bound = f"more than {self.low:g}" if self.low_open else f"from {self.low:g}"
            self.fail(f"{value!r} is not a number {bound} to {self.high:g}", param, ctx)
        return number
