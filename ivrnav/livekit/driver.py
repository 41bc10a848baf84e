"""The asyncio adapter around the sans-I/O ``Navigator`` for live calls.

Theory of operation
-------------------
``CallDriver`` owns one navigator. Whoever listens to the call (the ``NavigateIVR`` task, a test) calls
``transcript(text, final)`` and ``call_ended(reason)`` from the event loop; ``run()`` turns those into
``Heard``/``CallEnded`` events stamped with a monotonic clock relative to the call start, sends a
``Tick`` at least every 100 ms, and carries out the navigator's actions: ``SendDigits`` through the
given coroutine (then ``DigitsSent``), ``Say`` through another, ``Done`` ends ``run()`` with the result.

Nothing here may hang a call or leak a secret: ``run()`` is bounded by the navigator's ``max_call``,
any exception (ours, the sender's, the navigator's) ends the call with reason ``"error"`` and a
redacted one-line detail, and only masked digits are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from ivrnav.navigate.events import Action, CallEnded, DigitsSent, Event, Heard, Say, SendDigits, Tick
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult
from ivrnav.navigate.session import Session

__all__ = ["CallDriver"]

logger = logging.getLogger("ivrnav.livekit.driver")

TICK = 0.1  # seconds between Ticks (the navigator's contract: at least every 100 ms)
HARD_LIMIT_FACTOR = 1.05  # our own bound, a little beyond the navigator's max_call
HARD_LIMIT_SLACK = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class _Failure:
    what: str  # already safe to show: exception type and redacted message


class CallDriver:
    def __init__(
        self,
        navigator: Navigator,
        *,
        send_digits: Callable[[SendDigits], Awaitable[object]],
        say: Callable[[str], Awaitable[object]] | None = None,
        on_note: Callable[[Note], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        tick: float = TICK,
    ) -> None:
        self.nav = navigator
        self._send_digits = send_digits
        self._say = say
        self._on_note = on_note
        self._clock = clock
        self._tick = tick
        self._t0: float | None = None
        self._events: asyncio.Queue[Event | _Failure] = asyncio.Queue()
        self._utterance_start: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.result: NavigationResult | None = None
        self._session = Session(navigator, self._act, on_note=on_note)  # the feed/act loop every adapter shares

    # ------------------------------------------------------------------------------- inputs (loop thread)

    def begin(self) -> None:
        """Mark the call start (time 0); ``run()`` does it if nobody did."""
        if self._t0 is None:
            self._t0 = self._clock()

    def now(self) -> float:
        self.begin()
        assert self._t0 is not None
        return self._clock() - self._t0

    def transcript(self, text: str, final: bool) -> None:
        """An interim (``final=False``) or final transcript of the line's current utterance."""
        now = self.now()
        text = text.strip()
        if not text:
            if final:
                self._utterance_start = None
            return
        if self._utterance_start is None:
            self._utterance_start = now
        self._events.put_nowait(Heard(text, final, self._utterance_start, now))
        if final:
            self._utterance_start = None

    def call_ended(self, reason: str = "hangup") -> None:
        self._events.put_nowait(CallEnded(reason, self.now()))

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
        result = self._feed(Tick(self.now()))
        next_tick = self._clock() + self._tick
        while result is None:
            timeout = max(0.0, next_tick - self._clock())
            try:
                item = await asyncio.wait_for(self._events.get(), timeout)
            except TimeoutError:
                next_tick = self._clock() + self._tick
                result = self._feed(Tick(self.now()))
                continue
            if isinstance(item, _Failure):
                return self._fail("error", item.what)
            result = self._feed(item)
            if result is None and self._clock() >= next_tick:
                next_tick = self._clock() + self._tick
                result = self._feed(Tick(self.now()))
        return result

    def _feed(self, event: Event) -> NavigationResult | None:
        return self._session.feed(event)

    def _act(self, action: Action) -> None:
        if isinstance(action, SendDigits):
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
        if base is None:  # the navigator itself is broken: assemble what we can
            base = NavigationResult(reached=False, goal=self.nav.goal, final_menu=self.nav.menu, reason=reason,
                                    path=list(self.nav.path), digits=" ".join(self.nav.masked_digits),
                                    drift=list(self.nav.drift), unrecognised=list(self.nav.unrecognised),
                                    timing=self.nav.timing)
            base.timing.ended_at = self.now()
        if base.reached:
            return base
        return dataclasses.replace(base, reason=reason, detail=detail)
