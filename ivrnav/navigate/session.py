"""The feed/act loop every adapter shares: the simulated runner, the audio call and the LiveKit driver.

An adapter turns what happens on its call into events and calls ``Session.feed(event)``; the session
hands the event to the navigator, carries out each action through the adapter's ``act`` callback, writes
the trace (events, actions, machine transitions, notes; redacted and masked) and passes notes on. After
``Done`` it ignores further events and ``feed`` returns the result. ``due(now)`` says whether the
navigator asked to be woken (``Tick``) by ``now``. Sans-I/O like the navigator: no clock, no sleeping,
so the async LiveKit driver wraps it in its own loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from ivrnav.navigate.events import Action, CallEnded, DigitsSent, Done, Event, Heard, Say, SendDigits, Sounded
from ivrnav.navigate.record import Note
from ivrnav.navigate.result import NavigationResult

logger = logging.getLogger("ivrnav.navigate.session")

EPSILON = 1e-9  # seconds: a wake-up at exactly now is due


class Driven(Protocol):
    """What a session drives: the navigator, or a benchmark baseline with the same surface."""

    result: NavigationResult | None

    def handle(self, event: Event) -> list[Action]: ...
    def wakeup_at(self) -> float | None: ...
    def drain_notes(self) -> list[Note]: ...
    def redact(self, text: str) -> str: ...


Trace = Callable[..., None]  # trace(kind, **data): the adapter stamps the time


class Session:
    def __init__(self, nav: Driven, act: Callable[[Action], None], *, trace: Trace | None = None,
                 on_note: Callable[[Note], None] | None = None):
        self.nav = nav
        self.act = act
        self.trace = trace
        self.on_note = on_note
        self.result: NavigationResult | None = None
        self.sent_masked = ""  # the keys being sent, masked: what a DigitsSent is recorded as

    def feed(self, event: Event) -> NavigationResult | None:
        if self.result is not None:
            return self.result
        self._trace_event(event)
        for action in self.nav.handle(event):
            self._trace_action(action)
            if isinstance(action, SendDigits):
                self.sent_masked = action.masked
            elif isinstance(action, Done):
                self.result = action.result
            self.act(action)
        self.flush()
        return self.result

    def flush(self) -> None:
        """Pass on the machine transitions and notes the navigator made since the last call."""
        drain_steps = getattr(self.nav, "drain_steps", None)  # baselines have no machine
        if drain_steps is not None and self.trace is not None:
            for step in drain_steps():
                self.trace("transition", trigger=step.trigger, source=step.source, dest=step.dest,
                           at=round(step.at, 3))
        for note in self.nav.drain_notes():
            if self.trace is not None:
                self.trace("note", note=note.kind, text=note.text)
            if self.on_note is not None:
                try:
                    self.on_note(note)
                except Exception:  # a broken printer must not end the call
                    logger.warning("timeline callback failed", exc_info=False)

    def due(self, now: float) -> bool:
        wake = self.nav.wakeup_at()
        return self.result is None and wake is not None and wake <= now + EPSILON

    def _trace_event(self, event: Event) -> None:
        if self.trace is None:
            return
        if isinstance(event, Heard):
            self.trace("heard", text=self.nav.redact(event.text), final=event.final, start=round(event.start, 3),
                       end=round(event.end, 3))
        elif isinstance(event, Sounded):
            self.trace("sound", sound=event.kind, start=round(event.start, 3), end=round(event.end, 3))
        elif isinstance(event, CallEnded):
            self.trace("call_ended", reason=event.reason)
        elif isinstance(event, DigitsSent):
            self.trace("digits_sent", digits=self.sent_masked)

    def _trace_action(self, action: Action) -> None:
        if self.trace is None:
            return
        if isinstance(action, SendDigits):
            self.trace("send_digits", digits=action.masked, inter_digit=action.inter_digit)
        elif isinstance(action, Say):
            self.trace("say", text=self.nav.redact(action.text))
        elif isinstance(action, Done):
            self.trace("done", reached=action.result.reached, reason=action.result.reason)
