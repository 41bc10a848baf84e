"""The LiveKit path hears music and ringing: ``NavigateIVR.line_frame`` (what ``stt_node`` calls for each frame
of the line) feeds the sound classifier, and the ``CallDriver`` queues its reports for the navigator on the
call's clock, the clock transcripts are mapped to. No server: real ``rtc.AudioFrame``s and a virtual clock."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.ear import LineEar
from ivrnav.livekit.task import NavigateIVR
from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.events import Sounded
from ivrnav.speech.audio import to_int16
from ivrnav.speech.sounds import music_loop, ringback
from tests.livekit_fixtures import queued

MAP = """
ivrnav: 1
name: map
start: main
menus:
  main:
    prompt: For sales, press 1.
    options:
      - {press: "1", says: sales, to: sales}
  sales:
    prompt: It rings a salesperson.
    confirm: {sound: ringing}
"""
FRAME = 0.02


def _task(answered: bool = True):
    """The task and its driver; call it inside a running loop (the framework's Agent makes a Future)."""
    from livekit import rtc

    task = NavigateIVR(compile_text(MAP, "map.yaml").menu_file, "sales")
    clock = [100.0]
    task._driver = CallDriver(task.navigator, send_digits=lambda a: asyncio.sleep(0), clock=lambda: clock[0])
    task._ear = LineEar(task._driver)  # what on_enter sets up with the driver
    task._answered = answered

    def play(audio: np.ndarray, rate: int, channels: int = 1) -> None:
        pcm = to_int16(audio)
        n = round(rate * FRAME)
        for i in range(0, len(pcm) - n + 1, n):
            chunk = np.repeat(pcm[i : i + n], channels)  # interleaved: every channel the same
            task.line_frame(rtc.AudioFrame(chunk.tobytes(), rate, channels, n))
            clock[0] += FRAME

    return task, play, clock




@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (48000, 2)])
async def test_ringing_on_the_line_reaches_the_navigator_on_the_calls_clock(rate, channels) -> None:
    task, play, _clock = _task()
    play(np.zeros(rate), rate, channels)  # 1 s of silence before the driver's call start
    task._driver.begin()  # the call starts at line second 1.0
    play(np.zeros(rate), rate, channels)
    play(ringback(5, rate), rate, channels)  # ringing from line second 2.0 = call second 1.0
    sounds = [e for e in queued(task._driver) if isinstance(e, Sounded)]
    assert sounds and {s.kind for s in sounds} == {"ringing"}
    assert all(abs(s.start - 1.0) < 0.06 for s in sounds)
    assert sounds[0].end < 1.6 and sounds[-1].end > 5.4
    assert task._driver._line.covered >= 5.9  # no transcript is awaited for the ringing


async def test_music_on_the_line_reaches_the_navigator() -> None:
    task, play, _clock = _task()
    task._driver.begin()
    play(music_loop(4, 16000), 16000)
    sounds = [e for e in queued(task._driver) if isinstance(e, Sounded)]
    assert sounds and {s.kind for s in sounds} == {"music"}


async def test_ringing_before_the_callee_answers_is_not_the_calls() -> None:
    task, play, _clock = _task(answered=False)
    task._driver.begin()
    play(ringback(4, 16000), 16000)
    assert [e for e in queued(task._driver) if isinstance(e, Sounded)] == []


async def test_a_sound_report_is_fed_to_the_navigator() -> None:
    task, play, _clock = _task()
    task._driver.begin()
    play(ringback(3, 16000), 16000)
    assert task._driver.pump() is None  # fed without error; no key was pressed, so no goal is claimed
    assert task._driver._latest >= 2.5


async def test_ringing_after_the_key_confirms_a_ringing_goal_through_the_driver() -> None:
    from livekit import rtc

    rate, n = 16000, round(16000 * FRAME)
    task = NavigateIVR(compile_text(MAP, "map.yaml").menu_file, "sales")
    clock = [0.0]
    keys: list[tuple[str, float]] = []

    async def send(action) -> None:
        keys.extend((d, clock[0]) for d in action.digits)

    task._driver = driver = CallDriver(task.navigator, send_digits=send, clock=lambda: clock[0])
    task._ear = LineEar(driver)
    task._answered = True
    driver.begin()
    rng = np.random.default_rng(0)
    ring = to_int16(ringback(10, rate))
    result, i = None, 0
    while result is None and clock[0] < 20:
        t = clock[0]
        if t < 1.5:  # the prompt: loud, not tonal (the words come from the STT below)
            pcm = to_int16(rng.normal(0, 0.1, n))
        elif keys and t >= keys[0][1] + 0.3:  # the line rings from 0.3 s after our key
            j = round((t - keys[0][1] - 0.3) * rate)
            pcm = ring[j : j + n] if j + n <= ring.size else np.zeros(n, dtype=np.int16)
        else:
            pcm = np.zeros(n, dtype=np.int16)
        task.line_frame(rtc.AudioFrame(pcm.tobytes(), rate, 1, n))
        if i == round(1.6 / FRAME):
            driver.transcript("For sales, press 1.", True, 0.0, 1.5)
        result = driver.pump()
        await asyncio.sleep(0)
        clock[0] = round(t + FRAME, 6)
        i += 1
    assert result is not None and result.reached, result
    assert [k for k, _ in keys] == ["1"] and "confirmed: ringing" in result.detail
