"""Diagnostics: errors and warnings about a menu file, each pinned to file, line, column and YAML path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

YamlPath = tuple[str | int, ...]


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
