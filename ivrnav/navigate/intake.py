"""The navigator's intake: every event passes here first, so what a flaky STT or a broken adapter sends
cannot steer the call.

Sans-I/O like the navigator. ``Intake.admit(event)`` returns the event to handle (possibly with clamped
times or a shortened transcript), or ``None`` to drop it, plus notes for the timeline:

* **Repeated finals.** Providers and reconnects deliver the same final twice. A final with the same words
  (case, punctuation and number words normalised) as an accepted final is dropped when its times overlap
  that final's, or when it arrives bare (no interim of its own) within ``redelivery_gap`` seconds of it. A
  menu that repeats itself after silence starts later, has its own interims, and is heard again.
  Interims of an utterance already final (same times, a prefix of its words) are dropped too.
* **Non-finite or backwards times.** ``Tick(inf)``/``Tick(nan)`` are dropped; a non-finite time of any
  other event is replaced by the latest good time; a transcript that ends before the latest time seen is
  clamped to it (a clock must not run backwards into the retry ladder).
* **Oversized transcripts.** Only the last ``max_utterance_chars`` characters and ``max_utterance_words``
  words of an utterance are kept, so the cost of one event is bounded whatever the provider sends; the end of
  an utterance is what the navigator acts on.

``LIMITS.max_context_tokens`` bounds what the navigator keeps between two actions (a long hold).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, replace

from ivrnav.navigate.events import SOUND_KINDS, CallEnded, DigitsSent, Event, Heard, Sounded, Tick
from ivrnav.text import tokens


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    # The longest bundled prompt is ~300 characters (~50 words) and a whole menu rarely passes 150 words;
    # these bounds are 25-50x that, so they only ever cut hostile or broken input.
    max_utterance_chars: int = 8192
    max_utterance_words: int = 1200
    max_context_tokens: int = 6000  # ~40 full prompts heard without acting (a long hold), then oldest go
    overlap_slack: float = 0.05  # seconds: finals this close count as overlapping (consecutive sentences are 0.3 s+)
    redelivery_gap: float = 1.0  # seconds after a final within which a bare final of its words is a redelivery
    remembered_finals: int = 8  # recent finals a repeat is compared with
    backwards_slack: float = 0.5  # seconds a transcript may end before the latest time seen (STT timestamps jitter)


LIMITS = IntakeLimits()


@dataclass(frozen=True, slots=True)
class Admitted:
    event: Event | None  # None: drop the event
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Final:
    words: tuple[str, ...]
    start: float
    end: float


class Intake:
    """Filter for one call's events (one per Navigator)."""

    def __init__(self, start_time: float = 0.0, limits: IntakeLimits = LIMITS) -> None:
        self.limits = limits
        self.latest = start_time if math.isfinite(start_time) else 0.0
        self.finals: deque[_Final] = deque(maxlen=limits.remembered_finals)
        self.open_interim = False  # an interim was passed on and its final has not come yet
        self.dropped: Counter[str] = Counter()  # why events were dropped or changed, for tests and benches
        self.chars_passed = 0  # transcript characters handed to the navigator: the work it is given

    def admit(self, event: Event) -> Admitted:
        if isinstance(event, Tick):
            if not math.isfinite(event.now):
                return self._drop("tick_time", f"ignored a tick with a non-finite time ({event.now})")
            self.latest = max(self.latest, event.now)
            return Admitted(event)
        if isinstance(event, DigitsSent | CallEnded):
            at = event.at
            if not math.isfinite(at):
                notes = self._count("clamped_time", f"{type(event).__name__} had a non-finite time ({at}); using "
                                    f"{self.latest:.2f}")
                return Admitted(replace(event, at=self.latest), tuple(notes))
            self.latest = max(self.latest, at)
            return Admitted(event)
        if isinstance(event, Sounded):
            return self._sounded(event)
        return self._heard(event)

    def _sounded(self, event: Sounded) -> Admitted:
        """A sound report with a kind we know and finite, ordered times (an adapter's classifier is input too)."""
        if event.kind not in SOUND_KINDS:
            return self._drop("sound_kind", f"ignored a sound of unknown kind {str(event.kind)[:40]!r}")
        if not (math.isfinite(event.start) and math.isfinite(event.end)) or event.end < event.start:
            return self._drop("sound_time", f"ignored a {event.kind} report with bad times ({event.start}, "
                              f"{event.end})")
        self.latest = max(self.latest, event.end)
        return Admitted(event)

    # ------------------------------------------------------------------------------------------- heard

    def _heard(self, event: Heard) -> Admitted:
        notes: list[str] = []
        start, end = event.start, event.end
        if not math.isfinite(end):
            notes += self._count("clamped_time", f"a transcript had a non-finite end ({end}); using {self.latest:.2f}")
            end = self.latest
        elif end < self.latest - self.limits.backwards_slack:
            notes += self._count("clamped_time", f"a transcript ended at {end:.2f}, before {self.latest:.2f}; clamped")
            end = self.latest
        if not math.isfinite(start) or start > end:
            if not math.isfinite(start):
                notes += self._count("clamped_time", f"a transcript had a non-finite start ({start})")
            start = end
        text = self._bounded(event.text, notes)
        words = tokens(text)
        if event.final and self._repeated(words, start, end):
            return self._drop("repeated_final", "dropped a final transcript delivered twice", notes)
        if not event.final and self._stale(words, start, end):
            return self._drop("stale_interim", "dropped an interim of an utterance already final", notes)
        self.latest = max(self.latest, end)
        if event.final:
            self.finals.append(_Final(words, start, end))
        self.open_interim = not event.final
        if (text, start, end) != (event.text, event.start, event.end):
            event = Heard(text, event.final, start, end)
        self.chars_passed += len(text)
        return Admitted(event, tuple(notes))

    def _bounded(self, text: str, notes: list[str]) -> str:
        """The last words of an over-long transcript: cost per event must not grow with its length."""
        limits = self.limits
        cut = False
        if len(text) > limits.max_utterance_chars:
            text = text[-limits.max_utterance_chars :]
            space = text.find(" ")
            if 0 <= space < 64:
                text = text[space + 1 :]  # the first word was cut in half
            cut = True
        parts = text.rsplit(None, limits.max_utterance_words)  # scans from the end only
        if len(parts) > limits.max_utterance_words:
            text = " ".join(parts[1:])
            cut = True
        if cut:
            notes += self._count("oversized", f"a transcript was over {limits.max_utterance_chars} characters or "
                                 f"{limits.max_utterance_words} words; kept its end")
        return text

    def _repeated(self, words: tuple[str, ...], start: float, end: float) -> bool:
        if not words or self.open_interim:
            return False  # an interim of ours is open: its final must close it, even if it repeats words
        slack = self.limits.overlap_slack
        for old in reversed(self.finals):
            if not _same_or_part(words, old.words):
                continue
            if start <= old.end + slack and end >= old.start - slack:
                return True  # the same utterance, delivered again
            if old is self.finals[-1] and start - old.end <= self.limits.redelivery_gap:
                return True  # a bare final right after the same words: a reconnect's redelivery
        return False

    def _stale(self, words: tuple[str, ...], start: float, end: float) -> bool:
        if not words or not self.finals:
            return False
        last = self.finals[-1]
        slack = self.limits.overlap_slack
        return (abs(start - last.start) <= slack and end <= last.end + slack
                and last.words[: len(words)] == words)

    # ------------------------------------------------------------------------------------------- notes

    def _drop(self, kind: str, text: str, notes: list[str] | None = None) -> Admitted:
        return Admitted(None, tuple((notes or []) + self._count(kind, text)))

    def _count(self, kind: str, text: str) -> list[str]:
        self.dropped[kind] += 1
        return self._first(kind, text)

    def _first(self, kind: str, text: str) -> list[str]:
        """Note the first few of each kind, then every 100th: a hostile stream must not flood the timeline."""
        n = self.dropped[kind]
        if n <= 3 or n % 100 == 0:
            return [text if n <= 3 else f"{text} ({n} so far)"]
        return []


def _same_or_part(words: tuple[str, ...], old: tuple[str, ...]) -> bool:
    """``words`` are ``old``'s words, or a contiguous run of them (a provider re-sending part of a final)."""
    if words == old:
        return True
    n = len(words)
    if n >= len(old) or n < 3:
        return False
    first = words[0]
    return any(old[i] == first and old[i : i + n] == words for i in range(len(old) - n + 1))
