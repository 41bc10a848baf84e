"""``--secrets FILE``: a YAML mapping of var name to value, read with every value as the text written.

YAML 1.1 would turn ``pin: 0123`` into the octal number 83, ``code: 1e3`` into 1000.0 and ``answer: no``
into False; a secret is a string of characters to key in, so no value is resolved (the base loader keeps
every scalar as written, quoted or not). Nested values are refused, naming the key, never the value.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class SecretsFileError(ValueError):
    """The secrets file is not a flat mapping of names to values; the message holds no value."""


def load_secrets_file(path: str | Path) -> dict[str, str]:
    try:
        data = yaml.load(Path(path).read_text("utf-8"), Loader=_LOADER)  # BaseLoader builds only str, list, dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SecretsFileError(f"secrets file {path} is not valid YAML{where}") from None
    if data is None or data == "":
        return {}
    if not isinstance(data, dict):
        raise SecretsFileError(f"secrets file {path} must map var names to values")
    values: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise SecretsFileError(f"secrets file {path}: the value of {str(key)[:40]!r} must be plain text, "
                                   "not a list or mapping")
        values[key] = value
    return values
