"""The asyncio adapter around the sans-I/O ``Navigator`` for live calls.

Theory of operation
-------------------
``CallDriver`` owns one navigator. Whoever listens to the call (the ``NavigateIVR`` task, a test) calls
``line_audio(seconds, dbfs)`` for the line's audio as the STT gets it, ``transcript(text, final, start,
end)`` for each transcript (``start``/``end``: the STT's own times, seconds on its stream) and
``call_ended(reason)``, from the event loop; ``run()`` turns those into ``Heard``/``CallEnded`` events
stamped with a monotonic clock relative to the call start, sends a ``Tick`` at least every 100 ms, and
carries out the navigator's actions: ``SendDigits`` through the given coroutine (then ``DigitsSent``),
``Say`` through another, ``Done`` ends ``run()`` with the result. It drives a discovery probe the same way
(anything with the navigator's protocol, ``session.Driven``); ``keep_trace`` records the call as the
simulated runner does (redacted events, masked keys, notes), stamped with the navigator's clock.

The STT lags the audio. A transcript is stamped with the STT's times mapped to our clock (when that audio
arrived), not with its arrival, and a ``Tick`` carries the time up to which the line is known
(``linetime.LineTimeline``): a stretch of sound still waiting for its transcript is not silence. An
utterance the line began after the navigator chose keys but before they went out is stamped as begun
before they were chosen: the line said it before hearing any key, so it is the old prompt, not a reaction.
An STT without usable times gets the arrival stamps.

Nothing here may hang a call or leak a secret: ``run()`` is bounded by the navigator's ``max_call``,
any exception (ours, the sender's, the navigator's) ends the call with reason ``"error"`` and a
redacted one-line detail, and only masked digits are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ivrnav.livekit.linetime import HEARING, HearingSettings, LineTimeline
from ivrnav.navigate.events import Action, CallEnded, DigitsSent, Event, Heard, Say, SendDigits, Sounded, Tick
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult
from ivrnav.navigate.session import Driven, Session

__all__ = ["CallDriver"]

logger = logging.getLogger("ivrnav.livekit.driver")

TICK = 0.1  # seconds between Ticks (the navigator's contract: at least every 100 ms)
HARD_LIMIT_FACTOR = 1.05  # our own bound, a little beyond the navigator's max_call
HARD_LIMIT_SLACK = 5.0
BEFORE = 2e-6  # seconds: "just before" on the navigator's clock (its utterance times compare within 1e-6)


@dataclasses.dataclass(frozen=True, slots=True)
class _Failure:
    what: str  # already safe to show: exception type and redacted message


class CallDriver:
    def __init__(
        self,
        navigator: Navigator | Driven,
        *,
        send_digits: Callable[[SendDigits], Awaitable[object]],
        say: Callable[[str], Awaitable[object]] | None = None,
        on_note: Callable[[Note], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        tick: float = TICK,
        hearing: HearingSettings = HEARING,
        keep_trace: bool = False,
    ) -> None:
        self.nav: Any = navigator  # a Navigator, or a probe: both have settings.max_call, redact and result
        self._send_digits = send_digits
        self._say = say
        self._on_note = on_note
        self._clock = clock
        self._tick = tick
        self._t0: float | None = None
        self._events: asyncio.Queue[Event | _Failure] = asyncio.Queue()
        self._utterance_start: float | None = None
        self._line = LineTimeline(hearing)
        self._latest = 0.0  # the latest time the navigator was given
        self._acted: tuple[float, float] | None = None
        self._next_tick = -math.inf  # (navigator time, call time) keys were chosen / went out
        self._tasks: set[asyncio.Task[None]] = set()
        self.result: NavigationResult | None = None
        self.trace: list[dict[str, Any]] = []
        # the feed/act loop every adapter shares
        self._session = Session(navigator, self._act, on_note=on_note, trace=self._record if keep_trace else None)

    def _record(self, kind: str, **data: Any) -> None:
        self.trace.append({"t": round(self._latest, 3), "kind": kind, **data})

    # ------------------------------------------------------------------------------- inputs (loop thread)

    def begin(self) -> None:
        """Mark the call start (time 0); ``run()`` does it if nobody did."""
        if self._t0 is None:
            self._t0 = self._clock()
            self._line.heard_all()

    def now(self) -> float:
        self.begin()
        assert self._t0 is not None
        return self._clock() - self._t0

    def line_audio(self, seconds: float, dbfs: float) -> None:
        """``seconds`` more of the line's audio reached the STT, at level ``dbfs`` (``linetime.level_dbfs``)."""
        self._line.audio(seconds, dbfs, self._clock())

    @property
    def line_position(self) -> float:
        """Seconds of line audio given to ``line_audio`` so far (a new STT stream's time 0 is here)."""
        return self._line.pos

    def transcript(self, text: str, final: bool, start: float | None = None, end: float | None = None) -> None:
        """An interim (``final=False``) or final transcript of the line's current utterance; ``start``/``end``
        are the STT's times for it (seconds on its stream, as fed through ``line_audio``) when it gives them."""
        arrived = self._clock()
        now = self.now()
        placed = self._place(start, end, now)
        self._line.transcribed(end if placed is not None else None, arrived)
        text = text.strip()
        if not text:
            if final:
                self._utterance_start = None
            return
        if placed is None:  # arrival stamps: the utterance began when its first transcript came
            if self._utterance_start is None:
                self._utterance_start = now
            begin, until = self._utterance_start, now
        else:
            begin, until = placed
        logger.debug("heard final=%s start=%.2f end=%.2f arrived=%.2f (stt %s)", final, begin, until, now,
                     "times" if placed is not None else "no times")
        self._events.put_nowait(Heard(text, final, begin, until))
        if final:
            self._utterance_start = None

    def sound(self, kind: str, start: float, end: float) -> None:
        """The sound classifier heard ``kind`` (music, ringing) on the line from ``start`` to ``end``, in
        seconds of the audio fed through ``line_audio`` (the clock of ``line_position``, which transcripts'
        times are mapped from too). That audio is accounted for: no transcript is awaited for it."""
        placed = self._place(start, end, self.now())
        if placed is None:
            return  # not in the audio we fed, or before the call began
        self._line.accounted(end)
        self._events.put_nowait(Sounded(kind, *placed))

    def _place(self, start: float | None, end: float | None, now: float) -> tuple[float, float] | None:
        """The STT's times for a transcript on the call's clock, or None when it gave none we can map."""
        if start is None or end is None or not end > 0 or start > end or self._t0 is None:
            return None
        at_start, at_end = self._line.clock_of(start), self._line.clock_of(end)
        if at_start is None or at_end is None:
            return None
        until = min(max(at_end - self._t0, self._latest), now)
        begin = min(max(at_start - self._t0, 0.0), until)
        if self._acted is not None and self._acted[0] <= begin < self._acted[1]:
            begin = self._acted[0] - BEFORE  # said before our keys went out: the old prompt
        return begin, until

    def call_ended(self, reason: str = "hangup", at: float | None = None) -> None:
        """The call is over (``at``: when, on the call's clock, if earlier than now: the line hung up then and
        its last words were transcribed since)."""
        when = self.now() if at is None else min(max(at, self._latest), self.now())
        self._events.put_nowait(CallEnded(reason, when))

    def unanswered(self, reason: str, detail: str) -> NavigationResult:
        """End a call that never started (not answered, busy, rejected) with ``reason``; no ``run()``."""
        self.begin()
        self.result = self._fail(reason, detail)
        return self.result

    # ------------------------------------------------------------------------------------------- loop

    async def run(self) -> NavigationResult:
        """Drive the call to its end and return the result (never raises for call-side failures)."""
        self.begin()
        limit = self.nav.settings.max_call * HARD_LIMIT_FACTOR + HARD_LIMIT_SLACK
        try:
            self.result = await asyncio.wait_for(self._loop(), limit)
        except TimeoutError:
            self.result = self._fail("timeout", f"call exceeded {limit:.0f} s without the navigator finishing")
        except Exception as exc:  # a bug anywhere must end the call, not leave a caller waiting
            logger.debug("navigation loop failed", exc_info=False)
            self.result = self._fail("error", self._describe(exc))
        finally:
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(BaseException):
                    await task
        return self.result

    async def _loop(self) -> NavigationResult:
        self._next_tick = self._clock()  # a Tick at once
        while True:
            result = self.pump()
            if result is not None:
                return result
            timeout = max(0.0, self._next_tick - self._clock())
            try:
                item = await asyncio.wait_for(self._events.get(), timeout)
            except TimeoutError:
                continue
            result = self._take(item)
            if result is not None:
                return result

    def pump(self) -> NavigationResult | None:
        """One step of ``run()``: feed what is queued, then a ``Tick`` if one is due. The result once the
        navigation is over. (``run()`` calls it; a test with its own clock may call it instead of ``run()``.)"""
        self.begin()
        while not self._events.empty():
            result = self._take(self._events.get_nowait())
            if result is not None:
                return result
        if self._clock() >= self._next_tick:
            self._next_tick = self._clock() + self._tick
            return self._feed(Tick(self._heard_until()))
        return None

    def _take(self, item: Event | _Failure) -> NavigationResult | None:
        if isinstance(item, _Failure):
            return self._fail("error", item.what)
        return self._feed(item)

    def _heard_until(self) -> float:
        """The time for a ``Tick``: now, or earlier while sound on the line still waits for its transcript."""
        now = self.now()
        if self._line.fed and self._t0 is not None:
            now = min(now, self._line.known_until(self._clock()) - self._t0)
        return max(self._latest, now)

    def _feed(self, event: Event) -> NavigationResult | None:
        at = event.now if isinstance(event, Tick) else event.end if isinstance(event, Heard | Sounded) else event.at
        self._latest = max(self._latest, at)
        return self._session.feed(event)

    def _act(self, action: Action) -> None:
        if isinstance(action, SendDigits):
            self._acted = (self._latest, self.now())
            self._spawn(self._send(action))
        elif isinstance(action, Say):
            self._spawn(self._speak(action.text))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, action: SendDigits) -> None:
        logger.info("keys %s", action.masked)
        try:
            await self._send_digits(action)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._events.put_nowait(_Failure(f"sending keys {action.masked} failed: {self._describe(exc)}"))
            return
        self._events.put_nowait(DigitsSent(action.digits, self.now()))

    async def _speak(self, text: str) -> None:
        if self._say is None:
            self._events.put_nowait(_Failure("the menu asks to speak but this call has no speech output"))
            return
        try:
            await self._say(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._events.put_nowait(_Failure(f"speaking failed: {self._describe(exc)}"))

    # ----------------------------------------------------------------------------------------- failure

    def _describe(self, exc: BaseException) -> str:
        message = str(exc).splitlines()[0] if str(exc) else ""
        return self.nav.redact(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)

    def _fail(self, reason: str, detail: str) -> NavigationResult:
        """End the navigation ourselves: the navigator's own hang-up result, relabelled with ``reason``."""
        detail = self.nav.redact(detail)
        base: NavigationResult | None = self.nav.result
        if base is None:
            try:
                base = self._session.feed(CallEnded(reason, self.now()))
            except Exception:
                base = None
        if base is None and hasattr(self.nav, "failed"):  # a probe that is itself broken
            base = self.nav.failed(reason, detail, self.now())
        if base is None:  # the navigator itself is broken: assemble what we can
            base = NavigationResult(reached=False, goal=self.nav.goal, final_menu=self.nav.menu, reason=reason,
                                    path=list(self.nav.path), digits=" ".join(self.nav.masked_digits),
                                    drift=list(self.nav.drift), unrecognised=list(self.nav.unrecognised),
                                    timing=self.nav.timing)
            base.timing.ended_at = self.now()
        if base.reached:
            return base
        return dataclasses.replace(base, reason=reason, detail=detail)
