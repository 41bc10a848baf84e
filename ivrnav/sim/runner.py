"""Run a navigator against a simulated line on a virtual clock (or paced to the wall clock for demos).

The runner is the adapter between the two sans-I/O parts: it jumps the clock from one scheduled moment
to the next (line output, a key due to arrive, the navigator's own wake-up), so a three-minute call runs
in milliseconds and the same seed always gives the same call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ivrnav.menu.model import MenuFile
from ivrnav.menu.template import key_offsets
from ivrnav.navigate.events import CallEnded, DigitsSent, Done, Heard, Say, SendDigits, Sounded, Tick
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult
from ivrnav.navigate.session import Session
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.noise import Noise

HARD_LIMIT_FACTOR = 1.05  # the runner stops a call a little after the navigator's own max_call


@dataclass
class SimulatedCall:
    result: NavigationResult
    trace: list[dict] = field(default_factory=list)
    line_keys: list[tuple[str, float]] = field(default_factory=list)
    line_visited: list[str] = field(default_factory=list)


def _digit_schedule(action: SendDigits, start: float) -> tuple[list[tuple[float, str]], float]:
    """When each key of ``action`` reaches the line, and when sending ends."""
    offsets, length = key_offsets(action.digits, action.inter_digit)
    return [(start + t, action.digits[i]) for t, i in offsets], start + length + 0.1  # a tone lasts ~100 ms


class CallRunner:
    """One simulated call; ``step()`` advances it to its next moment. Used directly by benchmarks."""

    def __init__(
        self,
        navigator: Navigator,
        line: SimulatedLine,
        *,
        on_note: Callable[[Note], None] | None = None,
        keep_trace: bool = True,
    ):
        self.nav = navigator
        self.line = line
        self.keep_trace = keep_trace
        self.trace: list[dict] = []
        self.session = Session(navigator, self._do, trace=self._record if keep_trace else None, on_note=on_note)
        self.now = 0.0
        self.keys: list[tuple[float, str]] = []
        self.sent_at: float | None = None
        self.sent_action: SendDigits | None = None
        self.result: NavigationResult | None = None
        self.limit = navigator.settings.max_call * HARD_LIMIT_FACTOR + 1
        line.start(0.0)

    def _record(self, kind: str, **data: object) -> None:
        if self.keep_trace:
            self.trace.append({"t": round(self.now, 3), "kind": kind, **data})

    def next_time(self) -> float | None:
        if self.result is not None:
            return None
        times = [t for t in (self.line.next_time(), self.nav.wakeup_at(), self.sent_at) if t is not None]
        if self.keys:
            times.append(self.keys[0][0])
        return min(times) if times else None

    def step(self) -> bool:
        """Advance to the next moment; False once the call is over."""
        if self.result is not None:
            return False
        t = self.next_time()
        if t is None or t > self.limit:
            # Nothing will ever happen again: the line is silent forever. Let the navigator's clock run out.
            t = self.limit if t is None or t > self.limit else t
            self.now = max(self.now, t)
            self._feed(Tick(self.now))
            if self.result is None:
                self._feed(CallEnded("runner limit", self.now))
            return False
        self.now = max(self.now, t)
        while self.keys and self.keys[0][0] <= self.now + 1e-9:
            at, key = self.keys.pop(0)
            self.line.press(key, at)
            self._record("line_key", key="•" if self._is_secret_key() else key)
        if self.sent_at is not None and self.sent_at <= self.now + 1e-9 and not self.keys:
            action, self.sent_at, self.sent_action = self.sent_action, None, None
            assert action is not None
            self._feed(DigitsSent(action.digits, self.now))
        for _at, event in self.line.advance(self.now):
            self._feed(event)
        self._feed(Tick(self.now))
        return self.result is None

    def _is_secret_key(self) -> bool:
        return self.sent_action is not None and "•" in self.sent_action.masked

    def _feed(self, event: Heard | CallEnded | DigitsSent | Tick | Sounded) -> None:
        self.result = self.session.feed(event)

    def _do(self, action: SendDigits | Say | Done) -> None:
        if isinstance(action, SendDigits):
            schedule, end = _digit_schedule(action, self.now)
            self.keys.extend(schedule)
            self.keys.sort()
            self.sent_at, self.sent_action = end, action
        elif isinstance(action, Say):
            self.line.hear(action.text, self.now)


def simulate_call(
    menu_file: MenuFile,
    *,
    line_file: MenuFile | None = None,
    goal: str | None = None,
    vars: Mapping[str, str] | None = None,
    wer: float = 0.0,
    seed: int = 0,
    on_note: Callable[[Note], None] | None = None,
    keep_trace: bool = True,
) -> SimulatedCall:
    """Navigate ``menu_file`` against ``line_file`` (default: the same file) on a virtual clock."""
    runner = make_runner(menu_file, line_file=line_file, goal=goal, vars=vars, wer=wer, seed=seed,
                         on_note=on_note, keep_trace=keep_trace)
    while runner.step():
        pass
    return _finished(runner)


async def simulate_call_realtime(
    menu_file: MenuFile,
    *,
    speed: float = 1.0,
    line_file: MenuFile | None = None,
    goal: str | None = None,
    vars: Mapping[str, str] | None = None,
    wer: float = 0.0,
    seed: int = 0,
    on_note: Callable[[Note], None] | None = None,
) -> SimulatedCall:
    """The same call, paced to the wall clock (``speed`` 2.0 = twice as fast) for demos."""
    runner = make_runner(menu_file, line_file=line_file, goal=goal, vars=vars, wer=wer, seed=seed,
                         on_note=on_note)
    wall0 = time.monotonic()
    while True:
        t = runner.next_time()
        if t is not None:
            delay = t / speed - (time.monotonic() - wall0)
            if delay > 0:
                await asyncio.sleep(delay)
        if not runner.step():
            break
    return _finished(runner)


def make_runner(
    menu_file: MenuFile,
    *,
    line_file: MenuFile | None = None,
    goal: str | None = None,
    vars: Mapping[str, str] | None = None,
    wer: float = 0.0,
    seed: int = 0,
    on_note: Callable[[Note], None] | None = None,
    keep_trace: bool = True,
) -> CallRunner:
    line_file = line_file or menu_file
    values = demo_values(menu_file, vars)
    navigator = Navigator(menu_file, goal, values)
    line = SimulatedLine(line_file, noise=Noise(wer), seed=seed)
    return CallRunner(navigator, line, on_note=on_note, keep_trace=keep_trace)


def demo_values(menu_file: MenuFile, vars: Mapping[str, str] | None) -> dict[str, str]:
    """Values for the navigator: given ones first; on the simulated line, the file's demo values fill gaps."""
    values = dict(menu_file.line.vars)
    values.update(vars or {})
    return values


def _finished(runner: CallRunner) -> SimulatedCall:
    assert runner.nav.result is not None
    return SimulatedCall(runner.nav.result, runner.trace, [(k, t) for k, t in runner.line.keys_received],
                         list(runner.line.visited))
