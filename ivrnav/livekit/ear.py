"""What the caller hears of the line, handed to a ``CallDriver``: the audio's length and level, the sound
classifier's reports (music, ringing) and the STT's transcripts with its own times.

Shared by the ``NavigateIVR`` task (frames and events from the agent session's STT node) and the discovery
probe's dial-out (``probecall``: frames from the SIP participant's track, its own STT stream), so both
read a call the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from livekit import rtc
from livekit.agents import stt as lk_stt

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.linetime import level_dbfs
from ivrnav.speech.sounds import FrameSounds

__all__ = ["LAST_WORDS_TIMEOUT", "LineEar", "end_input_when_left", "hang_up_once_heard"]

LAST_WORDS_TIMEOUT = 8.0  # seconds to let the STT finish the line's last words after it hung up


class LineEar:
    def __init__(self, driver: CallDriver) -> None:
        self.driver = driver
        self._sounds = FrameSounds()

    def frame(self, frame: rtc.AudioFrame, *, classify: bool = True) -> None:
        """One frame of the line's audio: its length and level go to the driver, and (``classify``: once the
        call is answered; before, ringing is the call being set up) the sounds heard in it, placed on the
        driver's line-audio clock as transcripts are."""
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


async def end_input_when_left(left: asyncio.Event, forwarding: asyncio.Task[Any], stream: Any) -> None:
    """Once the line has ``left``: stop feeding ``stream`` and end its input, so it transcribes what it holds
    and then ends."""
    await left.wait()
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
