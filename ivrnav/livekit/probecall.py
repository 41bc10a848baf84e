"""Discovery over a real telephone: ``ivrnav discover FILE --livekit`` dials the line through a LiveKit SIP
outbound trunk once per probe call and runs the probe in this process.

Unlike ``ivrnav run --livekit`` there is no worker: the discovering process joins the call's room itself,
dials the number (``create_sip_participant``, waiting for the answer), listens to the SIP participant's
audio with the offline Whisper STT (no key terms: the line is unknown) and presses the probe's keys with
``publish_dtmf``. So the values the crawl enters (account numbers, PINs) never leave this process: no job
metadata, no worker environment. The call is read exactly as a navigation is: ``CallDriver`` (the STT's own
times, the line timeline, the hard bound) fed by ``LineEar``.

``LiveKitCalls`` is a ``crawl.PlaceCall``: the crawl loop is synchronous, so the calls run one after another
on one event loop of their own. ``around_call`` wraps each call in an async context (the loopback
telephone uses it to put the file's simulated IVR behind the number for that call).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from livekit import rtc

from ivrnav.livekit.dial import LINE_IDENTITY, LiveKitSettings, joined_room, ring
from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.dtmf import SIP_BRIDGE, DtmfSender
from ivrnav.livekit.ear import LineEar, end_input_when_left, hang_up_once_heard
from ivrnav.livekit.sipcall import DEFAULT_RINGING_TIMEOUT
from ivrnav.navigate.events import SendDigits

__all__ = ["LiveKitCalls", "probe_call"]

T = TypeVar("T")

TRACK_TIMEOUT = 15.0  # seconds from the answer to the line's participant in our room
SAMPLE_RATE = 16000  # what the offline STT decodes


async def probe_call(probe: Any, phone: str, *, settings: LiveKitSettings, trunk: str, stt: Any,
                     ringing_timeout: float = DEFAULT_RINGING_TIMEOUT, room_name: str | None = None) -> list[dict]:
    """Dial ``phone`` and run ``probe`` (or anything with the navigator's protocol) on the call to its
    end; returns the call's trace (redacted, keys masked). Raises ``dial.DialError`` when the call cannot be
    placed for a reason that is ours to fix (server, trunk); a far end that does not answer, a call that
    breaks and the line hanging up all end the probe with a reason instead."""
    room_name = room_name or f"ivrnav-discover-{secrets.token_hex(4)}"
    sender: DtmfSender | None = None

    async def send(action: SendDigits) -> None:
        assert sender is not None  # set once the line answered, before the driver runs
        await sender.send(action.digits, action.inter_digit, action.masked)

    driver = CallDriver(probe, send_digits=send, keep_trace=True)
    ear = LineEar(driver)
    async with joined_room(settings, room_name, "ivrnav-discover", hidden=False) as (lk, room):
        failed = await ring(lk, phone, trunk=trunk, room_name=room_name, name="unknown line",
                            max_call=probe.settings.max_call, ringing_timeout=ringing_timeout)
        if failed is not None:
            driver.unanswered(*failed)
            return driver.trace
        participant = await _participant(room, LINE_IDENTITY)
        if participant is None:  # answered and gone already
            driver.unanswered("hangup", "the line ended the call as it answered")
            return driver.trace
        sender = DtmfSender.for_participant(room.local_participant, SIP_BRIDGE)
        left, drained = asyncio.Event(), asyncio.Event()
        room.on("participant_disconnected", lambda p: left.set() if p.identity == LINE_IDENTITY else None)
        room.on("disconnected", lambda *_: driver.call_ended("room disconnected"))
        driver.begin()  # the clock starts at the answer: ringing is not the line's silence
        listening = asyncio.create_task(_listen(participant, stt, ear, left, drained), name="ivrnav-probe-listen")
        ending = asyncio.create_task(hang_up_once_heard(left, drained, driver), name="ivrnav-probe-hangup")
        try:
            await driver.run()
        finally:
            for task in (ending, listening):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
    return driver.trace


async def _participant(room: rtc.Room, identity: str) -> rtc.RemoteParticipant | None:
    """The answered line's participant (its join may reach us just after the dial returns)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TRACK_TIMEOUT
    while (participant := room.remote_participants.get(identity)) is None and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return participant


async def _listen(participant: rtc.RemoteParticipant, stt: Any, ear: LineEar, left: asyncio.Event,
                  drained: asyncio.Event) -> None:
    """The line's audio to the driver and through the STT; the STT's transcripts to the driver. Once the line
    has ``left``, the STT is flushed; ``drained`` is set after its last transcript."""
    audio = rtc.AudioStream.from_participant(participant=participant, track_source=rtc.TrackSource.SOURCE_MICROPHONE,
                                             sample_rate=SAMPLE_RATE, num_channels=1)
    async with stt.stream() as stream:

        async def forward() -> None:
            async for event in audio:
                ear.frame(event.frame)
                stream.push_frame(event.frame)

        forwarding = asyncio.create_task(forward(), name="ivrnav-probe-audio")
        ending = asyncio.create_task(end_input_when_left(left, forwarding, stream, ear), name="ivrnav-probe-flush")
        try:
            async for speech in stream:
                ear.speech(speech)
        finally:
            drained.set()
            ending.cancel()
            forwarding.cancel()
            with contextlib.suppress(BaseException):
                await forwarding
            with contextlib.suppress(Exception):
                await audio.aclose()


@dataclass
class LiveKitCalls:
    """Probe calls dialled out through LiveKit to ``phone`` (``crawl.PlaceCall``). ``stt``: the recogniser
    (default: offline Whisper without key terms, loaded once for every call)."""

    phone: str
    settings: LiveKitSettings
    trunk: str
    ringing_timeout: float = DEFAULT_RINGING_TIMEOUT
    stt: Any = None
    around_call: Callable[[int], AbstractAsyncContextManager[Any]] | None = None
    _runner: asyncio.Runner | None = field(default=None, init=False, repr=False)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the calls' event loop (setting up what the calls need, e.g. a trunk)."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coro)

    def __call__(self, probe: Any, call_number: int) -> list[dict]:
        if self.stt is None:
            # livekit plugins register on import and insist on the main thread; Whisper's Silero VAD is
            # imported lazily on a worker thread, where it stalls the line's audio: import it here first
            import livekit.plugins.silero  # noqa: F401

            from ivrnav.speech.stt import WhisperSTT

            self.stt = WhisperSTT()
            self.stt.prewarm()
        trace = self.run(self._call(probe, call_number))
        if probe.result is None:
            probe.handle_end("the call ended without a result")
        return trace

    async def _call(self, probe: Any, call_number: int) -> list[dict]:
        around = self.around_call(call_number) if self.around_call is not None else contextlib.nullcontext()
        async with around:
            return await probe_call(probe, self.phone, settings=self.settings, trunk=self.trunk, stt=self.stt,
                                    ringing_timeout=self.ringing_timeout)

    def close(self) -> None:
        """Close the calls' event loop (after the crawl)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
