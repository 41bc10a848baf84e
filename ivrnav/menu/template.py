"""Digit and speech templates: ``"{account}#"``, ``"1w2w3#"``, ``"my card number is {card}"``.

Rendering returns both the real string (sent to the line) and a masked one (for every log, trace and
result): each character that came from a secret variable is replaced by ``•``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ivrnav.menu.model import KEYS

_FIELD = re.compile(r"\{([^{}]*)\}")
PAUSES = {"w": 0.5, "W": 1.0}
MASK = "•"


@dataclass(frozen=True, slots=True)
class Part:
    literal: str = ""
    var: str | None = None


class TemplateError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def parse(template: str, *, digits: bool) -> tuple[Part, ...]:
    """Split a template into literals and ``{var}`` fields; for digit templates check every literal key."""
    parts: list[Part] = []
    pos = 0
    for match in _FIELD.finditer(template):
        parts.extend(_literal(template, pos, match.start(), digits))
        name = match.group(1).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise TemplateError(f"bad variable name {{{match.group(1)}}}", match.start())
        parts.append(Part(var=name))
        pos = match.end()
    parts.extend(_literal(template, pos, len(template), digits))
    return tuple(parts)


def _literal(template: str, start: int, end: int, digits: bool) -> list[Part]:
    text = template[start:end]
    for i, ch in enumerate(text):
        if ch in "{}":
            raise TemplateError(f"unbalanced {ch!r}", start + i)
        if digits and ch not in KEYS and ch not in PAUSES:
            raise TemplateError(
                f"{ch!r} is not a key: digit templates take 0-9 * # A-D, w/W pauses and {{vars}}", start + i
            )
    return [Part(literal=text)] if text else []


def variables(template: str, *, digits: bool) -> list[str]:
    return [p.var for p in parse(template, digits=digits) if p.var]


def render(
    template: str, values: Mapping[str, str], secret: frozenset[str] | set[str], *, digits: bool
) -> tuple[str, str]:
    """Return ``(real, masked)``. Raises KeyError naming the missing variable (never its value)."""
    real, masked = [], []
    for part in parse(template, digits=digits):
        if part.var is None:
            real.append(part.literal)
            masked.append(part.literal)
            continue
        value = values[part.var]
        real.append(value)
        masked.append(MASK * len(value) if part.var in secret else value)
    return "".join(real), "".join(masked)


def key_offsets(digits: str, spacing: float) -> tuple[list[tuple[float, int]], float]:
    """When each key of a digit string goes out, relative to the first: ``spacing`` seconds between keys
    plus 0.5 s per ``w`` and 1 s per ``W``. Returns ``[(offset, index in digits)]`` for the keys, and the
    length of the whole string including trailing pauses. Every adapter (simulated runner, audio tones,
    LiveKit DTMF) paces keys with this, so simulations and real calls agree."""
    t = 0.0
    pause = 0.0
    out: list[tuple[float, int]] = []
    for i, ch in enumerate(digits):
        if ch in PAUSES:
            pause += PAUSES[ch]
            continue
        if out:
            t += spacing
        t += pause
        pause = 0.0
        out.append((t, i))
    return out, t + pause
