"""What a navigation produced: JSON-serialisable, with every secret already masked."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ivrnav.menu.template import MASK
from ivrnav.text import NUMBER_WORDS


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


PARTIAL_DIGITS = 4


class Redactor:
    """Masks secret values wherever they appear in text, including when spoken back digit by digit
    ("one two three ...", "1 2 3-4") as a line reading out an account number would."""

    def __init__(self, secrets: Iterable[str]):
        self.digit_secrets = sorted({s for s in secrets if s and s.isdigit()}, key=len, reverse=True)
        words = [s for s in secrets if s and not s.isdigit()]
        self.word_pattern = (
            re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
            if words
            else None
        )

    def __call__(self, text: str) -> str:
        if self.word_pattern is not None:
            text = self.word_pattern.sub(lambda m: MASK * len(m.group()), text)
        if not self.digit_secrets:
            return text
        parts = re.split(r"(\w+)", text)
        # digit stream: for each word part that is a digit or number word, its digits and part index
        stream: list[tuple[str, int]] = []
        for i in range(1, len(parts), 2):
            word = parts[i].lower()
            digits = word if word.isdigit() else NUMBER_WORDS.get(word)
            if digits is not None and len(digits) <= len(word) and digits.isdigit():
                stream.extend((d, i) for d in digits)
            else:
                stream.append(("", i))  # a real word breaks a digit run
        joined = "".join(d or "\0" for d, _ in stream)
        hit: set[int] = set()
        for secret in self.digit_secrets:
            # any 4+ digits of a secret in a row are masked too: an interim transcript of a line reading
            # an account number back holds its first digits before it holds all of them
            least = min(len(secret), PARTIAL_DIGITS)
            i = 0
            while i <= len(joined) - least:
                n = least
                if joined[i : i + n] in secret:
                    while i + n < len(joined) and joined[i : i + n + 1] in secret:
                        n += 1
                    hit.update(stream[k][1] for k in range(i, i + n))
                    i += n
                else:
                    i += 1
        for i in hit:
            parts[i] = MASK * len(parts[i])
        return "".join(parts)
