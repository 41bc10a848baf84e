"""What the caller hears of the line, handed to a ``CallDriver``: the audio's length and level, the sound
classifier's reports (music, ringing) and the STT's transcripts with its own times.

Shared by the ``NavigateIVR`` task (frames and events from the agent session's STT node) and the discovery
probe's dial-out (``probecall``: frames from the SIP participant's track, its own STT stream), so both
read a call the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from livekit import rtc
from livekit.agents import stt as lk_stt

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.linetime import level_dbfs
from ivrnav.speech.sounds import FrameSounds

__all__ = ["LAST_WORDS_TIMEOUT", "LineEar", "end_input_when_left", "hang_up_once_heard"]

LAST_WORDS_TIMEOUT = 15.0  # seconds to let the STT finish the line's last words after it hung up
DRAIN_QUIET = 0.3  # seconds without a frame after which the line's audio received before the BYE is all fed
DRAIN_LIMIT = 5.0  # seconds at most to feed it (a track that goes on sending silence)


class LineEar:
    def __init__(self, driver: CallDriver, clock: Callable[[], float] = time.monotonic) -> None:
        self.driver = driver
        self._sounds = FrameSounds()
        self.clock = clock
        self.last_frame_at = clock()  # when the latest frame was fed (the BYE's audio still queued is fed first)

    def frame(self, frame: rtc.AudioFrame, *, classify: bool = True) -> None:
        """One frame of the line's audio: its length and level go to the driver, and (``classify``: once the
        call is answered; before, ringing is the call being set up) the sounds heard in it, placed on the
        driver's line-audio clock as transcripts are."""
        self.last_frame_at = self.clock()
        at = self.driver.line_position  # where this frame starts on the line-audio clock
        self.driver.line_audio(frame.samples_per_channel / frame.sample_rate, level_dbfs(frame.data))
        if not classify:
            return
        for sound in self._sounds.push_frame(frame.data, frame.sample_rate, frame.num_channels, at):
            self.driver.sound(sound.kind, sound.start, sound.end)

    def speech(self, event: lk_stt.SpeechEvent, base: float = 0.0) -> tuple[str, bool] | None:
        """One STT event: a transcript goes to the driver with the STT's times (``base``: line seconds before
        the stream's time 0). Returns ``(text, final)`` for a transcript, None for any other event."""
        final = event.type == lk_stt.SpeechEventType.FINAL_TRANSCRIPT
        if (not final and event.type != lk_stt.SpeechEventType.INTERIM_TRANSCRIPT) or not event.alternatives:
            return None
        data = event.alternatives[0]
        timed = data.end_time > 0  # an STT without times leaves them 0
        self.driver.transcript(data.text, final, data.start_time + base if timed else None,
                               data.end_time + base if timed else None)
        return data.text.strip(), final


# The line hangs up while its last words ("... Goodbye.") are still in the STT: a VAD-cut recogniser only
# finishes an utterance on the quiet after it, which never comes once the audio stops. Those words are what
# confirms a goal that ends the call (and what a probe observes there), so the STT's input is ended (it
# decodes what it holds) and the call ends once the stream has given its last transcript, within a bound.


async def end_input_when_left(left: asyncio.Event, forwarding: asyncio.Task[Any], stream: Any, ear: LineEar) -> None:
    """Once the line has ``left``: feed ``stream`` the audio already received (on a busy machine frames wait in
    the queues behind the BYE) until none comes for ``DRAIN_QUIET`` s, then stop and end its input, so it
    transcribes what it holds and then ends."""
    await left.wait()
    start = ear.clock()
    while ear.clock() - ear.last_frame_at < DRAIN_QUIET and ear.clock() - start < DRAIN_LIMIT \
            and not forwarding.done():
        await asyncio.sleep(DRAIN_QUIET / 3)
    forwarding.cancel()
    with contextlib.suppress(BaseException):
        await forwarding
    stream.end_input()


async def hang_up_once_heard(left: asyncio.Event, drained: asyncio.Event, driver: CallDriver,
                             timeout: float = LAST_WORDS_TIMEOUT) -> None:
    """Once the line has ``left``, end ``driver``'s call as hung up at that moment, after the STT has
    ``drained`` (its last transcript given) or ``timeout`` seconds."""
    await left.wait()
    at = driver.now()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(drained.wait(), timeout)
    driver.call_ended("hangup", at=at)
