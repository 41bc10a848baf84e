"""The context: what the line has said since the navigator last acted (keys or speech).

Transcripts arrive as interim and final ``Heard`` events of utterances. The context keeps the finals,
the current interim, their tokens with ``|`` at sentence and utterance ends, and when the line last said
something new. An utterance that began before we acted is the old prompt; a streaming STT that does not
end it at our keys keeps appending the line's reaction, and only those appended words are kept, marked
*carried*: an STT lags the audio, so they may have been said before our keys. They may reveal a new menu
but never prove that the line ignored us, nor are they offers to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ivrnav.menu.model import Option
from ivrnav.navigate.events import Heard
from ivrnav.navigate.intake import LIMITS
from ivrnav.navigate.offers import BOUNDARY, stream_tokens

T = TypeVar("T")

EPSILON = 1e-6  # seconds: utterance times from one clock compare equal within this



@dataclass(slots=True)
class Utterance:
    text: str
    start: float
    end: float


@dataclass(slots=True)
class Pending:
    """A key chosen but not yet pressed: it must stand ``settle`` seconds and be confirmed by a later
    transcript (``decisions.settled``, ``decisions.confirmed``)."""

    keys: str
    since: float
    option: Option | None
    heard_tokens: int = 0  # context length when chosen


@dataclass
class Context:
    """Everything here lasts until the navigator acts; then a fresh context starts."""

    since: float
    finals: list[Utterance] = field(default_factory=list)
    interim: Utterance | None = None
    final_tokens: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    carried: int = 0  # tokens[:carried] came from an utterance that began before we acted
    prompt_start: int | None = None  # token where the current menu's prompt began (None: not heard here)
    pending: Pending | None = None  # the key chosen, waiting to settle
    reaction_noted: bool = False  # the line's reaction (keys ignored, entry rejected) has been noted
    unknown_noted: bool = False  # a prompt no menu matches has been kept
    revision: int = 0  # bumped whenever ``tokens`` change: what was read from them may be reused until then
    _read: dict[str, tuple[tuple, object]] = field(default_factory=dict)  # see ``read``

    def read(self, what: str, inputs: tuple, compute: Callable[[], T]) -> T:
        """``compute()``, reused while the tokens and ``inputs`` are as when it last ran: most events of a
        call are wake-ups that change only the time, and re-reading unchanged words is most of a step's
        cost. ``inputs`` must name everything besides the tokens that ``compute`` reads."""
        key = (self.revision, *inputs)
        last = self._read.get(what)
        if last is not None and last[0] == key:
            return last[1]  # type: ignore[return-value]
        value = compute()
        self._read[what] = (key, value)
        return value

    def texts(self) -> list[str]:
        return [u.text for u in self.finals] + ([self.interim.text] if self.interim else [])

    def trim(self, limit: int) -> int:
        """Drop the oldest finals while they hold more than ``limit`` tokens; returns how many tokens went from
        the front, after moving every token index into the context by as much."""
        cut = 0
        while len(self.final_tokens) - cut > limit and len(self.finals) > 1:
            cut += len(stream_tokens([self.finals.pop(0).text]))
        if cut:
            self.revision += 1
            del self.final_tokens[:cut]
            self.carried = max(0, self.carried - cut)
            if self.prompt_start is not None:
                self.prompt_start = max(0, self.prompt_start - cut)
            if self.pending is not None:
                self.pending.heard_tokens = max(0, self.pending.heard_tokens - cut)
        return cut

    def rebuild(self) -> None:
        interim = stream_tokens([self.interim.text]) if self.interim else []
        if interim and interim[-1] == BOUNDARY:
            interim.pop()  # an interim utterance has not ended
        self.tokens = self.final_tokens + interim
        self.revision += 1

    @property
    def open(self) -> bool:
        """An utterance is still in progress (its final has not arrived)."""
        return self.interim is not None

    def sentence_starts(self) -> list[int]:
        toks = self.tokens
        return [0] + [i + 1 for i, t in enumerate(toks) if t == BOUNDARY and i + 1 < len(toks)]

    def words(self, start: int = 0, end: int | None = None) -> str:
        return " ".join(t for t in self.tokens[start:end] if t != BOUNDARY)


class Hearing:
    """The context plus what carries over between contexts: an utterance in progress when we acted."""

    def __init__(self, start: float):
        self.context = Context(since=start)
        self.carry: tuple[float, int] | None = None  # (start, words) of an utterance in progress when we acted
        self.last_words_at = start  # when the line last said something new

    def hear(self, event: Heard) -> tuple[Heard | None, bool]:
        """Add a transcript; returns what of it was kept (None: only the old prompt) and whether the words
        changed."""
        ctx = self.context
        carried = False
        if event.start < ctx.since - EPSILON:
            carry = self.carry
            if carry is None or abs(event.start - carry[0]) > EPSILON:
                return None, False  # the old prompt
            if event.final:
                self.carry = None
            rest = " ".join(event.text.split()[carry[1] :])
            if not rest:
                return None, False
            event = Heard(rest, event.final, ctx.since, event.end)
            carried = True
        previous = ctx.tokens
        if event.final:
            ctx.interim = None
            ctx.finals.append(Utterance(event.text, event.start, event.end))
            ctx.final_tokens.extend(stream_tokens([event.text]))
            cut = ctx.trim(LIMITS.max_context_tokens)  # bounded cost per event: a long hold
            previous = previous[cut:]
        else:
            ctx.interim = Utterance(event.text, event.start, event.end)
        ctx.rebuild()
        if carried:
            ctx.carried = len(ctx.tokens)
        changed = [t for t in ctx.tokens if t != BOUNDARY] != [t for t in previous if t != BOUNDARY]
        if changed:
            self.last_words_at = event.end
        return event, changed

    def reset(self, now: float) -> None:
        """We acted at ``now``: what the line says from here on is its reaction."""
        interim = self.context.interim
        self.carry = (interim.start, len(interim.text.split())) if interim is not None else None
        self.context = Context(since=now)

    def quiet(self, now: float) -> float:
        """Seconds since the line last said something new."""
        return now - self.last_words_at
