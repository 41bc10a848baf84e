"""Events fed to the navigator and actions it returns.

The navigator is sans-I/O: an adapter (simulated line, LiveKit task, audio pipeline) turns what happens
on the call into these events, feeds them with ``Navigator.handle(event)`` and carries out the actions
it gets back. Times are seconds on the adapter's clock (virtual or wall), never read by the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivrnav.navigate.result import NavigationResult


@dataclass(frozen=True, slots=True)
class Heard:
    """A transcript of what the line is saying: ``final=False`` for interim (it may still change).

    ``text`` is the transcript of the current utterance so far (interim events of one utterance
    repeat and extend it; a final event closes it). ``start``/``end`` are the utterance's times.
    """

    text: str
    final: bool
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class DigitsSent:
    """The adapter finished sending digits requested by a ``SendDigits`` action, at ``at``."""

    digits: str
    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed with nothing else happening. Adapters send these at least every 100 ms."""

    now: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call ended on the line's side (``reason`` such as "hangup") at ``at``."""

    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class Sounded:
    """The line is playing a sound that is not speech (``kind``: "ringing" or "music") since ``start``,
    heard until ``end``. Adapters report it as it goes on (each report repeats ``start`` with a later
    ``end``), like interim transcripts; the navigator confirms a goal whose ``confirm.sound`` names it."""

    kind: str
    start: float
    end: float


SOUND_KINDS = ("ringing", "music")

Event = Heard | DigitsSent | Tick | CallEnded | Sounded


@dataclass(frozen=True, slots=True)
class SendDigits:
    """Send ``digits`` (``0-9*#A-D``; ``w`` = 0.5 s pause, ``W`` = 1 s pause) with ``inter_digit``
    seconds between keys. Then feed back ``DigitsSent``.

    ``masked`` is the same string with secret digits replaced by ``*``-free placeholders ("•") for
    display; adapters must log ``masked``, never ``digits``.
    """

    digits: str
    inter_digit: float
    masked: str

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"SendDigits(masked={self.masked!r}, inter_digit={self.inter_digit})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` to the line (speech-enabled IVRs)."""

    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """Navigation is over; ``result`` says whether the goal was reached and how."""

    result: NavigationResult


Action = SendDigits | Say | Done
