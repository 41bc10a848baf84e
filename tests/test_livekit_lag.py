"""A lagging STT through the real ``CallDriver`` (no server, a virtual clock): transcripts come seconds after
the words, with the STT's own times, and the line's audio level comes as it is heard. The navigator must
press exactly what a prompt-reading caller would: no ``*`` for a prompt whose transcript is late, no key
twice because the old prompt's tail arrived after the key.

The line is the bank's, scripted: it speaks sentences at about three words a second, repeats a menu when
no key comes, and says the next menu when a key is pressed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.linetime import LineTimeline
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.events import SendDigits
from ivrnav.navigate.navigator import Navigator
from ivrnav.navigate.result import NavigationResult

BANK = compile_file(Path(__file__).resolve().parents[1] / "menus" / "bank.yaml").menu_file
FRAME = 0.02  # seconds of audio per frame, as LiveKit delivers it
WORD = 0.33  # seconds per spoken word
GAP = 0.4  # seconds between sentences
LOUD, QUIET = -20.0, -90.0  # dBFS of speech and of the line between prompts

MENUS = {
    "welcome": ["Thank you for calling Acme Bank.", "Calls may be monitored or recorded."],
    "language": ["For English, press 1.", "Para espanol, oprima dos."],
    "main": ["Main menu.", "For account balances and recent transactions, press 1.",
             "For credit card services, press 2.", "To report fraud, press 3.",
             "For all other questions, press 0."],
    "fraud": ["If you see a charge you do not recognise, press 1.",
              "If your card was used without permission, press 2."],
}
NEXT = {("language", "1"): "main", ("main", "3"): "fraud", ("main", "1"): "balances"}


@dataclass
class Sentence:
    text: str
    start: float
    end: float


@dataclass
class Line:
    """The IVR: what it says when, and the keys it received."""

    sentences: list[Sentence] = field(default_factory=list)
    menu: str = "language"
    keys: list[str] = field(default_factory=list)
    repeat_at: float | None = None

    def say(self, at: float, menu: str) -> float:
        for text in MENUS.get(menu, ["Please hold."]):
            end = at + WORD * len(text.split())
            self.sentences.append(Sentence(text, at, end))
            at = end + GAP
        return at

    def start(self) -> None:
        self.repeat_at = self.say(self.say(0.5, "welcome"), "language") + 5.0

    def loud(self, t: float) -> bool:
        return any(s.start <= t < s.end for s in self.sentences[-8:])

    def key(self, t: float, digit: str) -> None:
        self.keys.append(digit)
        self.sentences = [s for s in self.sentences if s.start < t]  # a key cuts the prompt short
        if self.sentences and self.sentences[-1].end > t:
            self.sentences[-1].end = t
        self.menu = NEXT.get((self.menu, digit), self.menu)  # "*" or a wrong key: the same menu again
        self.repeat_at = self.say(t + 0.6, self.menu) + 5.0

    def tick(self, t: float) -> None:
        if self.repeat_at is not None and t >= self.repeat_at:
            self.repeat_at = self.say(t, self.menu) + 5.0


class LaggingStt:
    """Interims every second of a sentence and a final after it, each ``lag`` seconds late, with the STT's
    times (seconds of the stream, which starts with the call here)."""

    def __init__(self, line: Line, lag: float) -> None:
        self.line, self.lag = line, lag
        self.sent: set[tuple[float, float, bool]] = set()

    def due(self, t: float) -> list[tuple[str, bool, float, float]]:
        out = []
        for s in list(self.line.sentences):
            words = s.text.split()
            p = s.start + 1.0
            while p < s.end:
                key = (s.start, p, False)
                if p + self.lag <= t and key not in self.sent:
                    self.sent.add(key)
                    out.append((" ".join(words[:max(1, int(len(words) * (p - s.start) / (s.end - s.start)))]),
                                False, s.start, p))
                p += 1.0
            key = (s.start, s.end, True)
            if s.end + 0.5 + self.lag <= t and key not in self.sent:  # the STT waits for 0.5 s of silence
                self.sent.add(key)
                out.append((s.text, True, s.start, s.end + 0.2))
        return sorted(out, key=lambda e: e[3])


async def navigate(lag: float, *, with_times: bool = True, limit: float = 90.0) -> tuple[NavigationResult, Line]:
    clock = [0.0]
    line = Line()
    stt = LaggingStt(line, lag)

    async def send(action: SendDigits) -> None:
        for digit in action.digits:
            line.key(clock[0], digit)

    driver = CallDriver(Navigator(BANK, "fraud", {}), send_digits=send, clock=lambda: clock[0])
    driver.begin()
    line.start()
    result = None
    while result is None and clock[0] < limit:
        t = clock[0]
        line.tick(t)
        if with_times:
            driver.line_audio(FRAME, LOUD if line.loud(t) else QUIET)
        for text, final, start, end in stt.due(t):
            driver.transcript(text, final, start if with_times else None, end if with_times else None)
        result = driver.pump()
        await asyncio.sleep(0)  # the key sender's task runs
        clock[0] = round(t + FRAME, 6)
    assert result is not None, f"no result within {limit} s; keys {line.keys}"
    return result, line


@pytest.mark.parametrize("lag", [0.3, 2.0, 4.0])
async def test_a_lagging_stt_gets_exactly_the_keys_a_prompt_reader_presses(lag: float) -> None:
    result, line = await navigate(lag)
    assert result.reached, (result.reason, result.detail, line.keys)
    assert line.keys == ["1", "3"], line.keys  # no "*", no key twice
    assert result.timing.retries == 0


def test_the_wait_for_a_late_transcript_is_not_silence() -> None:
    """The line talks from 0.5 s to 4 s and its transcript comes a second after: until then the line is
    known only up to 0.5 s, however quiet it has been since 4 s."""
    timeline = LineTimeline()
    for i in range(int(5 / FRAME)):
        timeline.audio(FRAME, LOUD if 0.5 <= i * FRAME < 4.0 else QUIET, round((i + 1) * FRAME, 6))  # arrived whole
    assert timeline.known_until(5.0) == pytest.approx(0.5, abs=FRAME)  # held at the sound's onset ...
    timeline.transcribed(4.2, arrived=5.0)
    assert timeline.known_until(5.0) == 5.0  # ... until its transcript accounts for it
    assert timeline.lag() == pytest.approx(5.0 - 4.2, abs=FRAME)


def test_a_sound_that_never_gets_a_transcript_holds_the_clock_only_for_a_while() -> None:
    timeline = LineTimeline()
    t = 0.0
    while t < 30:
        timeline.audio(FRAME, LOUD if 1.0 <= t < 1.5 else QUIET, round(t + FRAME, 6))  # a beep, no words
        t = round(t + FRAME, 6)
    wait = timeline.settings.lag_factor * timeline.settings.initial_lag + timeline.settings.lag_margin
    assert timeline.known_until(1.0 + wait - 0.1) == pytest.approx(1.0, abs=FRAME)
    assert timeline.known_until(1.0 + wait + 0.1) == 1.0 + wait + 0.1
    assert timeline.known_until(29.0) == 29.0


def test_stt_times_outside_the_fed_audio_are_not_believed() -> None:
    timeline = LineTimeline()
    for i in range(100):
        timeline.audio(FRAME, QUIET, 100.0 + i * FRAME)
    assert timeline.clock_of(1.0) == pytest.approx(100.0 + 1.0 - FRAME, abs=1e-6)
    assert timeline.clock_of(50.0) is None  # a time of the STT's own clock, not of this stream
    assert timeline.clock_of(float("nan")) is None
