"""What a navigation produced: JSON-serialisable, with every secret already masked."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ivrnav.navigate.redact import PARTIAL_DIGITS, Redactor


@dataclass(slots=True)
class PathEntry:
    menu: str | None  # None: a prompt the file does not know
    heard_at: float
    how: str  # "recognised", "label" (unknown prompt, wanted label found), "expected"
    keys: str = ""  # masked
    sent_at: float | None = None
    said: str | None = None


@dataclass(slots=True)
class Drift:
    """Where the real line no longer matches the menu file."""

    kind: str  # "key_moved", "unexpected_menu", "unknown_prompt", "ignored_keys"
    menu: str | None
    at: float
    detail: str
    expected: str | None = None
    actual: str | None = None


@dataclass(slots=True)
class Timing:
    started_at: float = 0.0
    ended_at: float = 0.0
    goal_at: float | None = None
    keys_sent: int = 0
    retries: int = 0

    @property
    def time_to_goal(self) -> float | None:
        return None if self.goal_at is None else self.goal_at - self.started_at


@dataclass(slots=True)
class NavigationResult:
    reached: bool
    goal: str
    reason: str  # "reached", "hangup", "timeout", "loop", "no_prompt", "hold_timeout", "no_route", ...
    detail: str = ""
    final_menu: str | None = None
    path: list[PathEntry] = field(default_factory=list)
    digits: str = ""  # every key sent, masked
    drift: list[Drift] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["timing"]["time_to_goal"] = self.timing.time_to_goal
        return finite(data)

    def to_json(self, **kwargs) -> str:
        return strict_json(self.to_dict(), **kwargs)


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None: results and traces are strict JSON
    (``Infinity`` is not JSON, and many parsers reject it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def strict_json(value: Any, **kwargs: Any) -> str:
    """The one JSON writer for results, traces and published records: never emits NaN/Infinity."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)


__all__ = ["PARTIAL_DIGITS", "Drift", "NavigationResult", "PathEntry", "Redactor", "Timing"]
