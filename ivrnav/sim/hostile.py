"""A simulated line heard through a flaky speech-to-text provider, for robustness tests and the fuzz bench.

``HostileLine`` wraps a ``SimulatedLine`` and changes only how its words reach the navigator, the way real
providers and reconnects do: every final delivered twice (the second time re-cased, without punctuation
and with its times shifted a little), and hold messages that quote other menus' openings while the line is
on hold. ``run_call`` drives one call like ``simulate_call`` and also counts hold exits the line did not
make (the navigator left the hold while the line was still holding).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import CallEnded, Heard, Sounded
from ivrnav.navigate.result import NavigationResult
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.noise import Noise
from ivrnav.sim.runner import CallRunner, demo_values

FIRST_HOLD_MESSAGE = 4.0  # seconds after the hold prompt ends
HOLD_MESSAGE_EVERY = 9.0  # seconds between the starts of hold messages
DUPLICATE_SHIFT = (0.04, 0.12)  # a re-delivered final's start and end move by up to this much (overlapping)


def quoting_messages(menu_file: MenuFile, hold: str, rng: random.Random, count: int = 6) -> list[str]:
    """Hold messages that quote the opening of other menus ("Main menu. For account balances ..." is also
    online), mixed with the hold's own prompt. The quote is the start of a prompt, never more than a third of it."""
    others = [m for m in menu_file.menus.values() if m.name != hold and m.prompt.split()]
    messages: list[str] = []
    for _ in range(count):
        menu = rng.choice(others)
        words = menu.prompt.split()
        take = max(3, min(len(words) - 1, rng.randint(4, 9), len(words) // 3))
        quote = " ".join(words[:take]).rstrip(",;:")
        tail = rng.choice([
            "is something you can also do at our website.",
            "and much more is available in our mobile app, any time.",
            "Remember, you can skip this wait by visiting us online.",
            "Your call is important to us, please stay on the line.",
        ])
        messages.append(f"{quote} {tail}" if rng.random() < 0.5 else f"{quote}. {tail}")
    own = menu_file.menus[hold].prompt
    if own:
        messages.insert(len(messages) // 2, own)
    return messages


class HostileLine:
    """A ``SimulatedLine`` (same interface) whose transcripts arrive as a flaky STT would deliver them."""

    def __init__(
        self,
        line: SimulatedLine,
        *,
        duplicate_finals: bool = False,
        hold_messages: bool = False,
        seed: int = 0,
    ) -> None:
        self.inner = line
        self.duplicate_finals = duplicate_finals
        self.hold_messages = hold_messages
        self.rng = random.Random(seed)
        self._queue: list[tuple[float, Heard]] = []  # injected transcripts, sorted by time
        self._hold_menu: str | None = None
        self._next_message: float | None = None
        self._messages: list[str] = []
        self.injected = 0  # hold-message words delivered

    def __getattr__(self, name: str):  # keys_received, visited, menu, hear, press, ...: the real line's
        return getattr(self.inner, name)

    def start(self, at: float = 0.0) -> None:
        self.inner.start(at)

    def next_time(self) -> float | None:
        times = [t for t in (self.inner.next_time(), self._queue[0][0] if self._queue else None,
                             self._next_message) if t is not None]
        return min(times) if times and not self.inner.ended else None

    def advance(self, until: float) -> list[tuple[float, Heard | CallEnded | Sounded]]:
        out: list[tuple[float, Heard | CallEnded | Sounded]] = []
        for at, event in self.inner.advance(until):
            out.append((at, event))
            if self.duplicate_finals and isinstance(event, Heard) and event.final:
                out.append((at, self._redelivered(event)))
        self._hold(until)
        while self._queue and self._queue[0][0] <= until + 1e-9:
            out.append(self._queue.pop(0))
        out.sort(key=lambda item: item[0])
        return out

    def _redelivered(self, event: Heard) -> Heard:
        """The same final again, as a reconnecting provider sends it: other case and punctuation, times moved
        a little but still overlapping the first delivery."""
        if self.rng.random() < 0.5:
            return event  # byte for byte the same
        text = event.text.upper() if self.rng.random() < 0.5 else event.text.lower()
        text = text.replace(",", "").rstrip(".?!") if self.rng.random() < 0.5 else text + "."
        shift = self.rng.uniform(*DUPLICATE_SHIFT)
        return Heard(text, True, event.start + shift, event.end + shift)

    def _hold(self, until: float) -> None:
        """While the real line holds, schedule quoting messages; stop them the moment it leaves the hold."""
        if not self.hold_messages:
            return
        menu = self.inner.menu
        on_hold = menu is not None and menu.hold and not self.inner.ended
        if not on_hold:
            if self._hold_menu is not None:
                self._queue = [(t, e) for t, e in self._queue if t <= until]  # cut off mid-message
                self._hold_menu, self._next_message = None, None
            return
        assert menu is not None
        if self._hold_menu != menu.name:
            self._hold_menu = menu.name
            self._messages = quoting_messages(self.inner.file, menu.name, self.rng)
            self._next_message = max(until, self.inner.speaking_until) + FIRST_HOLD_MESSAGE
        while self._next_message is not None and self._next_message <= until + 1e-9:
            self._say(self._messages[self.injected % len(self._messages)], self._next_message)
            self._next_message += HOLD_MESSAGE_EVERY

    def _say(self, text: str, at: float) -> None:
        rate = self.inner.settings.speaking_rate
        t = at
        for sentence in (s.strip() + "." for s in text.replace("?", ".").split(".") if s.strip()):
            words = sentence.split()
            start = t
            for i in range(len(words)):
                t += 1.0 / rate
                self._queue.append((t, Heard(" ".join(words[: i + 1]), i == len(words) - 1, start, t)))
            t += self.inner.settings.pause
        self.injected += 1
        self._queue.sort(key=lambda item: item[0])


@dataclass
class HostileCall:
    result: NavigationResult
    line_visited: list[str] = field(default_factory=list)
    holds: int = 0  # times the navigator was on a hold menu
    unwarranted_hold_exits: int = 0  # it left the hold while the line was still holding
    hold_messages: int = 0


def run_call(
    menu_file: MenuFile,
    goal: str,
    *,
    vars: Mapping[str, str] | None = None,
    wer: float = 0.0,
    seed: int = 0,
    duplicate_finals: bool = False,
    hold_messages: bool = False,
) -> HostileCall:
    from ivrnav.navigate.navigator import Navigator

    navigator = Navigator(menu_file, goal, demo_values(menu_file, vars))
    inner = SimulatedLine(menu_file, noise=Noise(wer), seed=seed)
    line = HostileLine(inner, duplicate_finals=duplicate_finals, hold_messages=hold_messages, seed=seed)
    runner = CallRunner(navigator, line, keep_trace=False)  # type: ignore[arg-type]
    holds = exits = 0
    was: str | None = None
    while True:
        going = runner.step()
        now = navigator.menu
        if now != was:
            if now is not None and menu_file.menus[now].hold:
                holds += 1
            held = was is not None and menu_file.menus[was].hold
            line_menu = inner.menu.name if inner.menu is not None else None
            if held and now is not None and line_menu == was:
                exits += 1
            was = now
        if not going:
            break
    assert navigator.result is not None
    return HostileCall(navigator.result, list(inner.visited), holds, exits, line.injected)


# ------------------------------------------------------------------------------------------ event fuzz

@dataclass
class FuzzRun:
    events: int = 0
    results: list[NavigationResult] = field(default_factory=list)  # one per navigator (a new one after each)
    max_chars: int = 0  # the most transcript characters a navigator was handed in one event
    max_context: int = 0  # the most tokens a navigator's context held
    dropped: Counter[str] = field(default_factory=Counter)


def fuzz_stream(menu_file: MenuFile, rng: random.Random, events: int, *, huge: int = 200_000):
    """A hostile event stream: the file's prompts as interims and finals (finals often twice), times that are
    NaN, infinite or backwards, over-long growing interims (up to ``huge`` characters), bare ticks."""
    from ivrnav.navigate.events import Tick

    prompts = [m.prompt for m in menu_file.menus.values() if m.prompt] or ["hello"]
    t = 0.0
    n = 0
    while n < events:
        roll = rng.random()
        if roll < 0.6:
            words = rng.choice(prompts).split()
            start = t
            for i in range(len(words)):
                t += 0.4
                final = i == len(words) - 1
                end = t if rng.random() > 0.03 else rng.choice([math.nan, math.inf, -math.inf, t - 50.0])
                yield Heard(" ".join(words[: i + 1]), final, start, end)
                n += 1
                if final and rng.random() < 0.5:
                    yield Heard(" ".join(words).upper(), True, start + 0.05, end)  # delivered twice
                    n += 1
            t += 0.3
        elif roll < 0.7:
            filler = rng.choice(prompts)
            size = rng.randint(1, huge)
            text = (filler + " ") * (size // (len(filler) + 1) + 1)
            start = t
            for step in range(1, 17):  # 16 growing interims of one huge utterance, then its final
                t += 0.2
                yield Heard(text[: size * step // 16], step == 16, start, t)
                n += 1
        elif roll < 0.8:
            yield Tick(rng.choice([math.nan, math.inf, -math.inf, t - 30.0, 1e300 if rng.random() < 0.01 else t]))
            n += 1
        else:
            t += rng.choice([0.1, 0.5, 2.0, 12.0])
            yield Tick(t)
            n += 1


def run_fuzz(menu_file: MenuFile, goal: str, seed: int, events: int, *, huge: int = 200_000) -> FuzzRun:
    """Feed ``fuzz_stream`` to navigators (keys are 'sent' at once; a new navigator once one is done)."""
    from ivrnav.navigate.events import DigitsSent, Done, SendDigits
    from ivrnav.navigate.navigator import Navigator

    rng = random.Random(seed)
    values = demo_values(menu_file, None)
    run = FuzzRun()
    nav = Navigator(menu_file, goal, values)
    before = 0

    def finish(result: NavigationResult) -> None:
        nonlocal nav, before
        run.results.append(result)
        run.dropped.update(nav.intake.dropped)
        nav, before = Navigator(menu_file, goal, values), 0

    for event in fuzz_stream(menu_file, rng, events, huge=huge):
        run.events += 1
        actions = nav.handle(event)
        passed = nav.intake.chars_passed
        run.max_chars = max(run.max_chars, passed - before)
        before = passed
        run.max_context = max(run.max_context, len(nav.context.tokens))
        for action in actions:
            if isinstance(action, SendDigits):
                actions += nav.handle(DigitsSent(action.digits, nav.now + 0.2))
            elif isinstance(action, Done):
                finish(action.result)
                break
    for action in nav.handle(CallEnded("fuzz stream over", nav.now)):
        if isinstance(action, Done):
            finish(action.result)
    return run
