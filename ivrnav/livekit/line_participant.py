"""``ivrnav line FILE --livekit --room R``: the simulated IVR as a participant in a LiveKit room.

Theory of operation
-------------------
The ``SimulatedLine`` is unchanged and clock-free; this adapter gives it the wall clock (seconds since
the line answered) and a voice:

* it publishes one audio track and waits for a caller (any other participant) to subscribe to it,
  then answers (``line.start``);
* whenever the line schedules an utterance (one sentence of a prompt, as a final ``Heard`` in its
  queue), the sentence is synthesised once with the offline Piper voice (and kept: prompts repeat) and
  played on the track at the utterance's scheduled start (or as soon as it is ready, never overlapping the
  previous sentence). The sentences scheduled together (a prompt) start only once all of them are
  rendered: a real IVR plays a recorded prompt without gaps, and on a busy machine a sentence rendered
  while the previous one plays would leave seconds of silence inside the prompt, which any caller takes
  for its end. The wait shifts the prompt, pauses between sentences kept, and what follows with it;
* ``sip_dtmf_received`` from the room becomes ``line.press(digit, t)``; when a key barges in and the
  line drops sentences from its queue, their audio is cancelled (the playing one cut off);
* when the line hangs up (or ``leave_after`` elapses, or ``leave_after_keys`` keys have arrived) it waits
  for its last words, sets ``hung_up`` and disconnects. ``leave_after_keys`` is the callee hanging up at a
  known point of the call whatever the machine's speed; ``leave_after`` is a point in line time. Whoever
  closes the line's room (the BYE a caller gets) waits for ``hung_up``, not for ``run()``: on a busy
  machine the room's disconnect can take as long as its 20 s timeout, and the caller would hear seconds of
  silence from a line that has hung up.

The transcripts the line would have produced are never sent: the caller must recognise the audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc

from ivrnav.livekit.dtmf import DTMF_CODES
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import CallEnded, Heard
from ivrnav.sim.line import SimulatedLine
from ivrnav.speech.audio import to_int16
from ivrnav.speech.sounds import line_sound_cycle

__all__ = ["LineParticipant", "LineReport", "ReceivedKey"]

logger = logging.getLogger("ivrnav.livekit.line")

SAMPLE_RATE = 16000
FRAME_MS = 20
CONNECT_TIMEOUT = 20.0
STEP = 0.05  # seconds between looks at the line's queue when nothing else happens
LATE = 0.25  # an utterance whose start is this far in the past when first seen is not spoken (barge-in tail)


@dataclass(frozen=True, slots=True)
class ReceivedKey:
    digit: str
    code: int
    at: float  # line seconds (since answering)
    sender: str | None


@dataclass
class LineReport:
    keys: list[ReceivedKey] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    ended: str = ""  # "hangup: <reason>", "left", "caller left", "timeout"
    spoken: list[tuple[float, str]] = field(default_factory=list)  # (line time the audio started, text)
    bad_codes: list[tuple[int, str]] = field(default_factory=list)  # DTMF whose code and digit disagree


class LineParticipant:
    """Play ``menu_file`` as an IVR in a LiveKit room. ``run()`` returns when the call is over."""

    def __init__(
        self,
        menu_file: MenuFile,
        *,
        url: str,
        token: str,
        vars: dict[str, str] | None = None,
        synthesize: Callable[[str, int], np.ndarray] | None = None,
        answer_delay: float = 0.5,
        leave_after: float | None = None,
        leave_after_keys: int | None = None,
        max_duration: float = 600.0,
        wait_caller: float = 60.0,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        self.menu_file = menu_file
        self.url = url
        self.token = token
        self.line = SimulatedLine(menu_file, vars=vars)
        self._synthesize = synthesize
        self.answer_delay = answer_delay
        self.leave_after = leave_after
        self.leave_after_keys = leave_after_keys
        self.max_duration = max_duration
        self.wait_caller = wait_caller
        self._on_event = on_event
        self.report = LineReport()
        self.room = rtc.Room()
        self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=200)
        self._t0: float | None = None
        self._wake = asyncio.Event()
        self._keys: list[tuple[rtc.SipDTMF, float]] = []
        self._playing: dict[tuple[float, str], asyncio.Task[None]] = {}
        self._rendered: dict[str, np.ndarray] = {}
        self._audio_lag = 0.0  # seconds the audio runs behind the line's schedule (waits for rendering)
        self._emitted: set[tuple[float, str]] = set()
        self._play_lock = asyncio.Lock()
        self._current: tuple[float, str] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ivrnav-tts")  # sentences in order
        self._caller_left = False
        self.hung_up = asyncio.Event()  # the call is over on the line's side: its room may be closed
        self._sound: tuple[tuple[str, float], asyncio.Task[None]] | None = None  # (kind, since), its player

    # -------------------------------------------------------------------------------------- helpers

    def now(self) -> float:
        return 0.0 if self._t0 is None else time.monotonic() - self._t0

    def _event(self, kind: str, text: str) -> None:
        logger.info("%7.2fs %-5s %s", self.now(), kind, text)
        if self._on_event is not None:
            self._on_event(kind, text)

    def _load_tts(self) -> Callable[[str, int], np.ndarray]:
        if self._synthesize is None:
            from ivrnav.speech.tts import default_synthesizer  # raises SpeechModelMissing with a hint

            engine = default_synthesizer()
            self._synthesize = engine.synthesize
        return self._synthesize

    # ------------------------------------------------------------------------------------------ run

    async def run(self) -> LineReport:
        synth = await asyncio.to_thread(self._load_tts)
        await asyncio.to_thread(synth, "Hello.", SAMPLE_RATE)  # warm the voice before answering
        self.room.on("sip_dtmf_received", self._on_dtmf)
        self.room.on("participant_disconnected", self._on_participant_left)
        await asyncio.wait_for(self.room.connect(self.url, self.token), CONNECT_TIMEOUT)
        try:
            track = rtc.LocalAudioTrack.create_audio_track("ivr-audio", self._source)
            opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            await asyncio.wait_for(self.room.local_participant.publish_track(track, opts), CONNECT_TIMEOUT)
            await self._wait_for_caller(track)
            await asyncio.sleep(self.answer_delay)  # the caller's speech pipeline starts on subscription
            try:
                await self._call()
            finally:
                self.hung_up.set()
        finally:
            for task in self._playing.values():
                task.cancel()
            if self._sound is not None:
                self._sound[1].cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.room.disconnect(), CONNECT_TIMEOUT)
            self._executor.shutdown(wait=False, cancel_futures=True)
        return self.report

    async def _wait_for_caller(self, track: rtc.LocalAudioTrack) -> None:
        """Answer once someone listens: a caller that subscribed to our audio (so no word is lost) and
        that our room view knows (DTMF from an unknown participant is dropped)."""
        subscribed = asyncio.Event()
        self.room.on("local_track_subscribed", lambda _t: subscribed.set())
        deadline = time.monotonic() + self.wait_caller
        while not (subscribed.is_set() and self.room.remote_participants):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no caller subscribed to the line within {self.wait_caller:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), 0.1)

    async def _call(self) -> None:
        self._t0 = time.monotonic()
        self.line.start(0.0)
        self._event("start", f"answered; playing {self.menu_file.name}")
        self._sync_audio()
        while True:
            now = self.now()
            if self.leave_after is not None and now >= self.leave_after:
                self.report.ended = "left"
                self._event("end", "leaving the call (leave_after)")
                return
            if now >= self.max_duration:
                self.report.ended = "timeout"
                return
            if self._caller_left and not self.room.remote_participants:
                self.report.ended = "caller left"
                self._event("end", "the caller left")
                return
            for ev, at in self._drain_keys():
                self._press(ev, at)
            if self.leave_after_keys is not None and len(self.report.keys) >= self.leave_after_keys:
                self.report.ended = "left"
                self._event("end", f"leaving the call after {len(self.report.keys)} key(s) (leave_after_keys)")
                return
            for _at, event in self.line.advance(self.now()):
                if isinstance(event, CallEnded):
                    self.report.ended = f"hangup: {event.reason}"
                    self._event("end", f"line hangs up ({event.reason})")
                    await self._finish_speaking()
                    return
                if isinstance(event, Heard) and event.final:
                    self._emitted.add((event.start, event.text))
            self._sync_audio()
            self._sync_sound()
            self.report.visited = list(self.line.visited)
            nxt = self.line.next_time()
            wait = STEP if nxt is None else min(STEP, max(0.0, nxt - self.now()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _finish_speaking(self) -> None:
        tasks = [t for t in self._playing.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=15)

    # ----------------------------------------------------------------------------------------- keys

    def _on_dtmf(self, ev: rtc.SipDTMF) -> None:
        self._keys.append((ev, self.now()))
        self._wake.set()

    def _on_participant_left(self, _p: rtc.RemoteParticipant) -> None:
        self._caller_left = True
        self._wake.set()

    def _drain_keys(self) -> list[tuple[rtc.SipDTMF, float]]:
        keys, self._keys = self._keys, []
        return keys

    def _press(self, ev: rtc.SipDTMF, at: float) -> None:
        digit = ev.digit or ""
        if DTMF_CODES.get(digit) != ev.code:
            self.report.bad_codes.append((ev.code, digit))
        sender = ev.participant.identity if ev.participant else None
        self.report.keys.append(ReceivedKey(digit, ev.code, at, sender))
        self._event("key", digit)
        # The line's own time for the key is "now": advance first so its schedule is current.
        for _at, event in self.line.advance(at):
            if isinstance(event, Heard) and event.final:
                self._emitted.add((event.start, event.text))
        self.line.press(digit, at)

    # ---------------------------------------------------------------------------------------- audio

    def _scheduled(self) -> set[tuple[float, str]]:
        return set(self.line.scheduled_sentences())

    def _sync_audio(self) -> None:
        """Start audio for newly scheduled sentences; cancel audio of sentences the line dropped."""
        scheduled = self._scheduled()
        alive = scheduled | self._emitted
        for key, task in list(self._playing.items()):
            if key not in alive and not task.done():
                task.cancel()
                if self._current == key:
                    self._source.clear_queue()  # cut off mid-sentence, as an IVR does on barge-in
        now = self.now()
        batch: list[asyncio.Future[Any]] = []  # the prompt's sentences: all rendered before the first plays
        first: list[float] = []  # the prompt's scheduled start
        for key in sorted(scheduled):
            start, text = key
            if key in self._playing or start < now - LATE:
                continue
            future = asyncio.get_running_loop().run_in_executor(self._executor, self._render, text)
            batch.append(future)
            first = first or [start]
            # ``batch`` and ``first`` are complete before any of these tasks runs
            self._playing[key] = asyncio.create_task(self._play(key, future, batch, first))

    def _sync_sound(self) -> None:
        """Play the music or ringing of the line's menu (``line: {sound: ...}``) for as long as it is there."""
        playing = self.line.playing_sound()
        if self._sound is not None and self._sound[0] == playing:
            return
        if self._sound is not None:
            self._sound[1].cancel()
            self._source.clear_queue()
            self._sound = None
        if playing is not None:
            self._event("sound", playing[0])
            self._sound = (playing, asyncio.create_task(self._play_sound(playing[0])))

    async def _play_sound(self, kind: str) -> None:
        loop = _sound_loop(kind)
        step = SAMPLE_RATE * FRAME_MS // 1000
        async with self._play_lock:  # after the sentence in progress, never over it
            i = 0
            while True:
                chunk = np.take(loop, np.arange(i, i + step), mode="wrap")
                i = (i + step) % loop.size
                await self._source.capture_frame(rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, step))

    def _render(self, text: str) -> np.ndarray:
        assert self._synthesize is not None
        if text not in self._rendered:
            self._rendered[text] = np.asarray(self._synthesize(text, SAMPLE_RATE), dtype=np.int16)
        return self._rendered[text]

    async def _play(self, key: tuple[float, str], audio_future: asyncio.Future[Any],
                    prompt: list[asyncio.Future[Any]], first: list[float]) -> None:
        start, text = key
        audio = await audio_future
        await asyncio.gather(*prompt)  # every sentence of its prompt is ready
        self._audio_lag = max(self._audio_lag, self.now() - first[0])
        start += self._audio_lag
        delay = start - self.now()
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._play_lock:
            self._current = key
            try:
                self.report.spoken.append((round(self.now(), 3), text))
                self._event("say", text)
                step = SAMPLE_RATE * FRAME_MS // 1000
                for i in range(0, len(audio), step):
                    chunk = audio[i : i + step]
                    if len(chunk) < step:
                        chunk = np.concatenate([chunk, np.zeros(step - len(chunk), dtype=np.int16)])
                    frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, step)
                    await self._source.capture_frame(frame)
                await self._source.wait_for_playout()
            finally:
                self._current = None


@functools.lru_cache(maxsize=4)
def _sound_loop(kind: str) -> np.ndarray:
    """One whole cycle of a line sound as int16 at SAMPLE_RATE (played on seamlessly, modulo its length)."""
    return to_int16(line_sound_cycle(kind, SAMPLE_RATE))
