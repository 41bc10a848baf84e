"""Diagnostics: errors and warnings about a menu file, each pinned to file, line, column and YAML path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

YamlPath = tuple[str | int, ...]
QUOTE_LIMIT = 80  # characters of a value quoted in a message: a 1 MB prompt must not become a 1 MB error
MESSAGE_LIMIT = 600  # the longest message: values are quoted short, this bounds the rest (lists of names)


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of a value, shortened to about ``limit`` characters with an ellipsis."""
    # repr of a 1 MB string only to cut it is slow: cut first
    text = repr(value[:limit]) + "…" if isinstance(value, str) and len(value) > limit else repr(value)
    if len(text) <= limit:
        return text
    end = text[0] if text[0] in "'\"" else ""
    return f"{text[: limit - 4]}…{end} ({len(str(value)):,} characters)"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def format_path(path: YamlPath) -> str:
    """``("menus", "main", "options", 2, "press")`` -> ``menus.main.options[2].press``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    message: str
    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: YamlPath = ()
    code: str = ""

    def __post_init__(self) -> None:
        if len(self.message) > MESSAGE_LIMIT:
            object.__setattr__(self, "message", self.message[: MESSAGE_LIMIT - 1] + "…")

    def __str__(self) -> str:
        where = f" [{format_path(self.path)}]" if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity.value}: {self.message}{where}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class MenuFileError(Exception):
    """A menu file could not be loaded or compiled. ``diagnostics`` holds every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)
