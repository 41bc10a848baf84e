"""The record of one navigation: its timeline of notes, the path through the file, drift, prompts the file
does not know, timing and the keys sent. Everything that enters it passes through the call's ``Redactor``,
so a secret value never leaves the navigator."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ivrnav.navigate.result import Drift, NavigationResult, PathEntry, Redactor, Timing


@dataclass(frozen=True, slots=True)
class Note:
    """One line of the navigator's timeline, already redacted."""

    at: float
    kind: str  # heard, menu, press, say, wait, drift, retry, ignored, done
    text: str


@dataclass
class Record:
    redact: Redactor
    started_at: float
    notes: list[Note] = field(default_factory=list)
    path: list[PathEntry] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)
    masked_digits: list[str] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # illegal events, by "<Event> while <phase>"
    timing: Timing = field(init=False)
    _notes_read: int = 0

    def __post_init__(self) -> None:
        self.timing = Timing(started_at=self.started_at)

    def note(self, at: float, kind: str, text: str) -> None:
        self.notes.append(Note(at, kind, self.redact(text)))

    def drain(self) -> list[Note]:
        fresh = self.notes[self._notes_read :]
        self._notes_read = len(self.notes)
        return fresh

    def add_drift(self, at: float, kind: str, menu: str | None, detail: str, expected: str | None,
                  actual: str | None) -> None:
        self.drift.append(Drift(kind, menu, at, self.redact(detail), expected, actual))
        self.note(at, "drift", f"{kind}: {detail}")

    def keep_unrecognised(self, text: str) -> str:
        """Keep a prompt the file does not know (once), redacted; returns what was kept."""
        text = self.redact(text)
        if text not in self.unrecognised:
            self.unrecognised.append(text)
        return text

    def ignore(self, at: float, what: str) -> None:
        """An event that is illegal in the current phase: counted, and noted the first time of its kind."""
        self.ignored[what] += 1
        if self.ignored[what] == 1:
            self.note(at, "ignored", f"{what}: ignored")

    def sent(self, menu: str | None, at: float, masked: str, keys: int) -> None:
        """Keys requested: attach them to the path entry awaiting keys, or start a retry entry."""
        if self.path and self.path[-1].keys == "" and self.path[-1].said is None:
            self.path[-1].keys = masked
        else:
            self.path.append(PathEntry(menu, at, "retry", masked))
        self.masked_digits.append(masked)
        self.timing.keys_sent += keys

    def result(self, at: float, reached: bool, goal: str, reason: str, detail: str,
               final_menu: str | None) -> NavigationResult:
        self.timing.ended_at = at
        return NavigationResult(reached=reached, goal=goal, reason=reason, detail=self.redact(detail),
                                final_menu=final_menu, path=self.path, digits=" ".join(self.masked_digits),
                                drift=self.drift, unrecognised=self.unrecognised, timing=self.timing)
