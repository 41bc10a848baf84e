"""Simulate a call through real audio: the simulated line speaks, the navigator listens, keys are tones.

Theory of operation
-------------------
The text runner (``ivrnav.sim.runner``) hands the line's transcripts straight to the navigator. This
adapter puts real audio in between, on a virtual clock that advances in fixed frames (20 ms at 8 kHz,
the telephone band), as fast as the CPU allows:

* line -> caller: every sentence the line schedules (a final ``Heard`` in its queue gives its text and
  scheduled start and end) is synthesised once with Piper (cached by text), put through the telephone
  channel (300-3400 Hz band-pass, G.711 mu-law) and placed on the line's outgoing audio timeline. The
  line's word timing (2.5 words/s) is only a schedule; the audio is what counts. A prompt starts at its
  scheduled time; each further sentence of the same prompt follows the previous sentence's real audio
  after the line's ``pause``. Piper speaks most IVR sentences faster than the schedule, and placing every
  sentence at its scheduled start would leave ~1 s gaps inside a prompt that the navigator reads as "the
  prompt is over". A sentence never overlaps the previous one: audio longer than the schedule runs on
  and delays what follows (no time-stretching: it distorts speech, and a real IVR plays its recordings
  whole). The line's timers still run on its schedule, so it waits a little longer after a prompt whose
  audio ended early, as IVRs do. When a key barges in and the line drops sentences from its queue, their
  audio is cut at that frame.
* A menu whose line plays a sound (``line: {sound: ringing}`` or ``music``) gets it rendered into the line's
  audio from when the line starts it until the line leaves the menu: North American ringback (440+480 Hz,
  2 s on, 4 s off) or a synthetic hold-music loop (``ivrnav.speech.sounds``). The line's own ``Sounded``
  reports are its ground truth and never reach the navigator: it gets the reports of a ``SoundClassifier``
  listening to the same audio the recogniser hears (noise included), as a real adapter would.
* Each frame of that audio is fed to the incremental Whisper recogniser (key terms from the menu's
  phrases); its interim and final transcripts become ``Heard`` events, timed in audio seconds.
* caller -> line: ``SendDigits`` become in-band DTMF (ITU-T Q.23 pairs, 100 ms tones, ``inter_digit``
  start to start with at least 50 ms of silence between tones, ``w``/``W`` as 0.5/1 s of silence),
  through the same channel, into a Goertzel ``DtmfDetector`` on the line's side whose detections become
  ``line.press(digit, t)``. ``DigitsSent`` follows the last tone. ``Say`` goes to ``line.hear`` as text.
* When it sends keys or speaks, the caller ends the recogniser's open utterance (``flush``): the line's
  reaction starts ~0.3 s after a key, shorter than the VAD's end-of-utterance silence, and would
  otherwise be glued to the old prompt, whose utterance the navigator rightly ignores.

The navigator gets a ``Tick`` when its ``wakeup_at()`` is due and at least every 100 ms. The call ends
when the navigator is done, or at its ``max_call`` (with 5 % slack), so a silent or garbled line can
never hang the loop. Trace records match the text runner's (masked), plus ``line_audio`` (a sentence
placed on the timeline) and ``line_key`` with the detector's delay.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ivrnav.menu.model import MenuFile
from ivrnav.menu.template import MASK, key_offsets
from ivrnav.menu.vocabulary import menu_keyterms
from ivrnav.navigate.events import SOUND_KINDS, CallEnded, DigitsSent, Done, Heard, Say, SendDigits, Sounded, Tick
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult
from ivrnav.navigate.session import Driven, Session
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.runner import HARD_LIMIT_FACTOR, SimulatedCall, demo_values
from ivrnav.speech.audio import add_noise, telephone_channel
from ivrnav.speech.dtmf import DtmfDetector, dtmf_tone
from ivrnav.speech.sounds import SoundClassifier, line_sound_cycle

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from ivrnav.speech.recordings import Recordings
    from ivrnav.speech.stt import Transcript
    from ivrnav.speech.tts import PiperSynthesizer

__all__ = ["AudioCall", "AudioStats", "SpeechEngines", "run_audio_probe", "simulate_audio_call"]

SAMPLE_RATE = 8000
FRAME_MS = 20
TONE = 0.1  # seconds per key tone (Q.24 receivers must take >= 40 ms)
MIN_GAP = 0.05  # seconds of silence between tones, so a repeated key ("99") is heard twice
TICK_EVERY = 0.1  # the navigator's contract: a Tick at least every 100 ms
SPEECH_LEVEL_RMS = 3000.0  # typical int16 RMS of the channelled voice; reference for ``noise_snr_db``


def _sound_loops() -> dict[str, npt.NDArray[np.int16]]:
    """One cycle of each sound a simulated line plays, through the telephone channel. The loops are
    whole cycles, so indexing them modulo their length plays them on seamlessly."""
    return {kind: telephone_channel(line_sound_cycle(kind, SAMPLE_RATE), SAMPLE_RATE) for kind in SOUND_KINDS}


def interim_interval(menu_file: MenuFile) -> float:
    """Seconds of new audio between interim decodes. Whisper re-decoding a window cut mid-word guesses
    the cut word ("press th..." -> "press 2"), and the navigator presses a key that stood unchanged for
    ``settle`` s; the next interim (one VAD window later at worst) must correct a guess before that."""
    settles = [menu_file.defaults.settle] + [m.settings.settle for m in menu_file.menus.values()]
    return max(0.15, min(0.4, min(settles) - 0.1))


class SpeechEngines:
    """Piper voice, Whisper model and the per-text cache of channelled line audio. Loading costs ~1 s,
    so one instance serves many calls (tests share one; the CLI uses ``default()``)."""

    def __init__(self, synthesizer: PiperSynthesizer | None = None, whisper: WhisperModel | None = None,
                 recordings: Recordings | None = None) -> None:
        from ivrnav.speech.stt import load_whisper
        from ivrnav.speech.tts import PiperSynthesizer

        self.recordings = recordings  # real recorded prompts, played instead of Piper where they exist
        self.recorded = 0  # sentences served from recordings (cache misses only)
        # Noise-free Piper: the same text always sounds the same, so a seed gives the same call.
        self.synthesizer = synthesizer or PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)
        self.whisper = whisper or load_whisper()
        self._cache: dict[str, npt.NDArray[np.int16]] = {}
        self._lock = threading.Lock()
        self.tts_wall = 0.0  # seconds spent synthesising (cache misses only)

    _default: SpeechEngines | None = None
    _default_lock = threading.Lock()

    @classmethod
    def default(cls) -> SpeechEngines:
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    def line_audio(self, text: str) -> tuple[npt.NDArray[np.int16], bool]:
        """``text`` as the caller hears it (8 kHz, telephone band, G.711); and whether it was cached."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                return cached, True
            t0 = time.perf_counter()
            recorded = self.recordings.get(text) if self.recordings is not None else None
            if recorded is not None:
                self.recorded += 1
                audio = telephone_channel(recorded, self.recordings.rate)  # type: ignore[union-attr]
            else:
                audio = telephone_channel(self.synthesizer.synthesize(text, SAMPLE_RATE), SAMPLE_RATE)
            self.tts_wall += time.perf_counter() - t0
            self._cache[text] = audio
            return audio, False


@dataclass
class AudioStats:
    """How much audio work a call took. ``real_time_factor`` < 1 means faster than real time."""

    audio_seconds: float = 0.0  # length of the call on the audio clock
    wall_seconds: float = 0.0
    line_speech_seconds: float = 0.0  # line audio actually played (cut sentences count what played)
    dtmf_seconds: float = 0.0  # caller audio holding tones and w/W pauses
    sentences: int = 0  # sentences placed on the line's timeline
    synthesized: int = 0  # of which rendered by Piper (the rest came from the cache)
    tts_seconds: float = 0.0  # wall time in Piper + channel
    stt_seconds: float = 0.0  # wall time in the recogniser (VAD + Whisper)
    transcripts: int = 0  # interim + final transcripts delivered to the navigator
    keys_sent: int = 0
    keys_detected: int = 0
    key_delays: list[float] = field(default_factory=list)  # tone start -> detection, seconds

    @property
    def real_time_factor(self) -> float:
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0

    @property
    def key_delay_median(self) -> float | None:
        return median(self.key_delays) if self.key_delays else None

    def summary(self) -> str:
        delay = self.key_delay_median
        key_part = f"keys {self.keys_detected}/{self.keys_sent} detected in audio" + (
            f", median delay {delay * 1000:.0f} ms" if delay is not None else "")
        return (f"audio: {self.audio_seconds:.1f} s of call ({self.line_speech_seconds:.1f} s line speech, "
                f"{self.dtmf_seconds:.1f} s DTMF) in {self.wall_seconds:.1f} s wall, real-time factor "
                f"{self.real_time_factor:.2f} (TTS {self.tts_seconds:.1f} s for {self.synthesized}/{self.sentences} "
                f"sentences, STT {self.stt_seconds:.1f} s, {self.transcripts} transcripts); {key_part}")

    def to_dict(self) -> dict[str, object]:
        return {
            "audio_seconds": round(self.audio_seconds, 3), "wall_seconds": round(self.wall_seconds, 3),
            "real_time_factor": round(self.real_time_factor, 3),
            "line_speech_seconds": round(self.line_speech_seconds, 3), "dtmf_seconds": round(self.dtmf_seconds, 3),
            "sentences": self.sentences, "synthesized": self.synthesized,
            "tts_seconds": round(self.tts_seconds, 3), "stt_seconds": round(self.stt_seconds, 3),
            "transcripts": self.transcripts, "keys_sent": self.keys_sent, "keys_detected": self.keys_detected,
            "key_delay_median": None if self.key_delay_median is None else round(self.key_delay_median, 3),
        }


@dataclass
class AudioCall(SimulatedCall):
    """A ``SimulatedCall`` plus the audio figures and what the caller sent (masked) vs the line detected."""

    stats: AudioStats = field(default_factory=AudioStats)
    keys_sent: list[tuple[str, float]] = field(default_factory=list)  # (masked key, tone start)


@dataclass
class _Segment:
    key: tuple[float, str]  # the line's (scheduled start, sentence text)
    start: int  # sample index on the timeline
    audio: npt.NDArray[np.int16]

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


class _Timeline:
    """One direction's audio: non-overlapping clips at sample positions, rendered frame by frame."""

    def __init__(self) -> None:
        self.segments: list[_Segment] = []
        self.tail = 0  # where the last clip ends

    def place(self, seg: _Segment) -> None:
        self.segments.append(seg)
        self.tail = max(self.tail, seg.end)

    def render(self, n0: int, n: int) -> tuple[npt.NDArray[np.int16], int]:
        """Samples ``n0 .. n0+n`` and how many of them some clip covered."""
        out = np.zeros(n, dtype=np.int16)
        covered = 0
        for seg in self.segments:
            a, b = max(seg.start, n0), min(seg.end, n0 + n)
            if a < b:
                out[a - n0 : b - n0] = seg.audio[a - seg.start : b - seg.start]
                covered += b - a
        # Clips entirely in the past are never read again.
        self.segments = [s for s in self.segments if s.end > n0 + n]
        return out, covered

    def cut(self, seg: _Segment, at: int) -> None:
        """Stop ``seg`` at sample ``at`` (drop it if it has not started)."""
        if seg.start >= at:
            self.segments.remove(seg)
        else:
            seg.audio = seg.audio[: at - seg.start]
        self.tail = max((s.end for s in self.segments), default=at)


@dataclass
class _Tone:
    at: int  # sample index of the tone's start
    digit: str
    masked: str


class _AudioCallRunner:
    def __init__(
        self,
        menu_file: MenuFile,
        *,
        line_file: MenuFile | None,
        goal: str | None,
        vars: Mapping[str, str] | None,
        seed: int,
        on_note: Callable[[Note], None] | None,
        keep_trace: bool,
        engines: SpeechEngines,
        frame_ms: int,
        noise_snr_db: float | None,
        driven: Driven | None = None,
        line: SimulatedLine | None = None,
    ) -> None:
        from ivrnav.speech.stt import IncrementalRecognizer

        # ``driven``: anything that speaks the navigator's protocol (a discovery probe) instead of a navigator
        # of ``menu_file``; it knows no menu, so the recogniser gets no key terms from one
        self.nav = driven if driven is not None else Navigator(menu_file, goal, demo_values(menu_file, vars))
        self.line = line if line is not None else SimulatedLine(line_file or menu_file, seed=seed)
        self.pause = self.line.settings.pause
        self.engines = engines
        keyterms = menu_keyterms(menu_file) if driven is None else ()
        self.recognizer = IncrementalRecognizer(SAMPLE_RATE, keyterms=keyterms, model=engines.whisper,
                                                interim_interval=interim_interval(menu_file))
        self.detector = DtmfDetector(SAMPLE_RATE)
        self.sounds = SoundClassifier(SAMPLE_RATE)  # what the navigator learns of the line's music and ringing
        self.sound_loops = _sound_loops()
        self.playing: tuple[str, float] | None = None  # the sound on the line's audio, (kind, since)
        self.sound_from = 0  # sample where the playing sound started on the timeline
        self.on_note = on_note
        self.keep_trace = keep_trace
        self.frame = SAMPLE_RATE * frame_ms // 1000
        self.noise_rng = np.random.default_rng(seed) if noise_snr_db is not None else None
        self.noise_snr_db = noise_snr_db
        self.limit = round((self.nav.settings.max_call * HARD_LIMIT_FACTOR + 1) * SAMPLE_RATE)
        self.n = 0  # the audio clock, in samples
        self.trace: list[dict] = []
        self.stats = AudioStats()
        self.line_out = _Timeline()
        self.caller_out = _Timeline()
        self.sched_end: dict[tuple[float, str], float] = {}  # sentence -> its scheduled end
        self.last_placed: _Segment | None = None
        self.announced: set[tuple[float, str]] = set()
        self.known_starts: set[float] = set()
        self.upcoming: list[tuple[float, str]] = []  # to be spoken, not yet on the timeline
        self.emitted: set[tuple[float, str]] = set()  # sentences whose schedule the line has finished
        self.tones: deque[_Tone] = deque()  # sent, not yet detected
        self.secret_in_flight = False
        self.sending: SendDigits | None = None
        self.sending_until = 0
        self.keys_sent: list[tuple[str, float]] = []
        self.last_fed = 0.0
        self.result: NavigationResult | None = None
        self.session = Session(self.nav, self._do, trace=self._record if keep_trace else None, on_note=on_note)

    @property
    def now(self) -> float:
        return self.n / SAMPLE_RATE

    def _record(self, kind: str, at: float | None = None, **data: object) -> None:
        if self.keep_trace:
            self.trace.append({"t": round(self.now if at is None else at, 3), "kind": kind, **data})

    # -------------------------------------------------------------------------------------------- run

    def run(self) -> AudioCall:
        wall0 = time.perf_counter()
        tts0 = self.engines.tts_wall
        self.line.start(0.0)
        self._sync_line_audio()
        while self.result is None:
            self._step()
        self.stats.audio_seconds = self.now
        self.stats.wall_seconds = time.perf_counter() - wall0
        self.stats.tts_seconds = self.engines.tts_wall - tts0
        self._record("audio_stats", **self.stats.to_dict())
        return AudioCall(self.nav.result or self.result, self.trace, list(self.line.keys_received),
                         list(self.line.visited), stats=self.stats, keys_sent=self.keys_sent)

    def _step(self) -> None:
        n0, n = self.n, self.frame
        # 1. This frame of audio in both directions, as already scheduled.
        self._place_due(n0)
        heard, covered = self.line_out.render(n0, n)
        self.stats.line_speech_seconds += covered / SAMPLE_RATE
        heard = self._mix_sound(heard, n0)
        if self.noise_rng is not None and self.noise_snr_db is not None:
            heard = add_noise(heard, self.noise_snr_db, self.noise_rng, reference_rms=SPEECH_LEVEL_RMS)
        sent, _ = self.caller_out.render(n0, n)
        detections = self.detector.feed(sent)
        t0 = time.perf_counter()
        transcripts = self.recognizer.feed(heard)
        self.stats.stt_seconds += time.perf_counter() - t0
        sounds = self.sounds.push(heard, n0 / SAMPLE_RATE)
        self.n = n0 + n
        now = self.now
        # 2. The line's own schedule up to now (timers, hang-up), then the keys it heard in this frame.
        self._advance_line()
        for det in detections:
            self._line_key(det.digit)
        self._sync_line_audio()
        # 3. The navigator hears the transcripts, learns its keys went out, gets its ticks.
        for tr in transcripts:
            self._heard(tr)
        for sound in sounds:  # what the classifier heard in the line's audio, not the line's own reports
            self._feed(sound)
        if self.sending is not None and self.n >= self.sending_until:
            action, self.sending = self.sending, None
            self._feed(DigitsSent(action.digits, now))
        if self.result is None and (self.session.due(now) or now - self.last_fed >= TICK_EVERY):
            self._feed(Tick(now))
        if self.result is None and self.n >= self.limit:
            self._feed(Tick(now))
            self._feed(CallEnded("runner limit", now))

    # ---------------------------------------------------------------------------------------- the line

    def _advance_line(self) -> None:
        for _at, event in self.line.advance(self.now):
            if isinstance(event, CallEnded):
                self._feed(event)
            elif isinstance(event, Sounded):
                continue  # the line's ground truth: the navigator hears the rendered sound (``_mix_sound``)
            elif event.final:
                self.emitted.add((event.start, event.text))

    def _line_key(self, digit: str) -> None:
        delay: float | None = None
        if self.tones and self.tones[0].digit == digit:
            tone = self.tones.popleft()
            masked, delay = tone.masked, self.now - tone.at / SAMPLE_RATE
            self.stats.keys_detected += 1
            self.stats.key_delays.append(delay)
        else:  # a key nobody sent (or out of order): report it, masked if a secret entry is under way
            masked = MASK if self.secret_in_flight else digit
        self._record("line_key", key=masked, delay=None if delay is None else round(delay, 3))
        self._line_note("dtmf", f"line detected {masked}" + (f" (+{delay * 1000:.0f} ms)" if delay is not None else
                                                             " (unexpected)"))
        self.line.press(digit, self.now)

    def _mix_sound(self, heard: npt.NDArray[np.int16], n0: int) -> npt.NDArray[np.int16]:
        """Add the music or ringing the line plays (its menu says ``line: {sound: ...}``) to this frame,
        from when the sound starts (not before the audio clock gets there) until the line leaves the menu."""
        playing = self.line.playing_sound()
        if playing != self.playing:
            self.playing = playing
            if playing is not None:
                self.sound_from = max(round(playing[1] * SAMPLE_RATE), n0)
                self._record("line_sound", self.sound_from / SAMPLE_RATE, sound=playing[0])
                self._line_note("sound", f"line plays {playing[0]}")
        if playing is None or playing[0] not in self.sound_loops:
            return heard
        loop = self.sound_loops[playing[0]]
        idx = np.arange(n0, n0 + heard.size) - self.sound_from
        on = idx >= 0
        if not on.any():
            return heard
        mixed = heard.astype(np.int32)
        mixed[on] += loop[idx[on] % loop.size]
        return np.clip(mixed, -32768, 32767).astype(np.int16)

    def _scheduled(self) -> set[tuple[float, str]]:
        sentences = self.line.scheduled_sentences()
        for key, end in sentences.items():
            self.sched_end.setdefault(key, end)
        return set(sentences)

    def _sync_line_audio(self) -> None:
        """Queue newly scheduled sentences; drop or cut the audio of sentences the line dropped (barge-in)."""
        scheduled = self._scheduled()
        live = [s for s in self.line_out.segments if s.end > self.n]
        gone = [k for k in self.upcoming if k not in scheduled and k not in self.emitted]
        dropped = [s for s in live if s.key not in scheduled and s.key not in self.emitted]
        if gone or dropped:
            # A key interrupted the prompt: everything playing or queued from before the key stops.
            self.upcoming = [k for k in self.upcoming if k not in gone]
            for seg in live:
                if seg in dropped or seg.start < self.n:
                    self.line_out.cut(seg, self.n)
        for key in sorted(scheduled - self.announced):
            start = key[0]
            self.announced.add(key)
            # The line closes an interrupted utterance with a shorter final at the same start: not new speech.
            if start in self.known_starts or start < self.now - 2 * self.frame / SAMPLE_RATE:
                continue
            self.known_starts.add(start)
            self.upcoming.append(key)
        self.upcoming.sort()

    def _place_due(self, n0: int) -> None:
        """Synthesise and place the sentences due to start in this frame. Rendering only what is about to
        play means a prompt cut short by a key costs no TTS for its unplayed sentences."""
        while self.upcoming:
            start, text = self.upcoming[0]
            at = round(start * SAMPLE_RATE)
            prev = self.last_placed
            if prev is not None and abs(self.sched_end[prev.key] + self.pause - start) < 1e-6:
                at = prev.end + round(self.pause * SAMPLE_RATE)  # the next sentence of the same prompt
            at = max(at, self.line_out.tail, n0)
            if at >= n0 + self.frame:
                return
            self.upcoming.pop(0)
            audio, cached = self.engines.line_audio(text)
            self.last_placed = _Segment((start, text), at, audio)
            self.line_out.place(self.last_placed)
            self.stats.sentences += 1
            self.stats.synthesized += 0 if cached else 1
            self._record("line_audio", at / SAMPLE_RATE, text=self.nav.redact(text), scheduled=round(start, 3),
                         seconds=round(len(audio) / SAMPLE_RATE, 3))

    # ----------------------------------------------------------------------------------- the navigator

    def _heard(self, tr: Transcript) -> None:
        self.stats.transcripts += 1
        self._feed(Heard(tr.text, tr.is_final, tr.start, tr.end))

    def _feed(self, event: Heard | CallEnded | DigitsSent | Tick | Sounded) -> None:
        if self.result is not None:
            return
        self.last_fed = self.now
        self.result = self.session.feed(event)

    def _line_note(self, kind: str, text: str) -> None:
        if self.on_note:
            self.on_note(Note(self.now, kind, text))

    def _do(self, action: SendDigits | Say | Done) -> None:
        if isinstance(action, SendDigits):
            self._flush_recognizer()
            self._send_tones(action)
        elif isinstance(action, Say):
            self._flush_recognizer()
            self.line.hear(action.text, self.now)
            self._sync_line_audio()

    def _flush_recognizer(self) -> None:
        # What the line says from here on is its reaction: a new utterance (see the module docstring).
        t0 = time.perf_counter()
        leftovers = self.recognizer.finish()
        self.stats.stt_seconds += time.perf_counter() - t0
        for tr in leftovers:  # the old prompt's last words: recorded, and ignored by the navigator
            self._heard(tr)

    def _send_tones(self, action: SendDigits) -> None:
        keys, _ = key_offsets(action.digits, max(action.inter_digit, TONE + MIN_GAP))
        offsets = [(t, action.digits[i], action.masked[i]) for t, i in keys]
        length = round((offsets[-1][0] + TONE) * SAMPLE_RATE) if offsets else 0
        clip = np.zeros(length, dtype=np.float64)
        for offset, ch, masked in offsets:
            a = round(offset * SAMPLE_RATE)
            tone = dtmf_tone(ch, TONE, sample_rate=SAMPLE_RATE)
            clip[a : a + tone.size] = tone
            self.tones.append(_Tone(self.n + a, ch.upper(), masked))
            self.keys_sent.append((masked, round(self.now + offset, 3)))
        start = max(self.n, self.caller_out.tail)
        if length:
            self.caller_out.place(_Segment((self.now, action.masked), start, telephone_channel(clip, SAMPLE_RATE)))
        self.stats.keys_sent += len(offsets)
        self.stats.dtmf_seconds += length / SAMPLE_RATE
        self.secret_in_flight = MASK in action.masked
        self.sending, self.sending_until = action, start + length


def run_audio_probe(driven: Driven, line_file: MenuFile, *, seed: int = 0, engines: SpeechEngines | None = None,
                    keep_trace: bool = True, line: SimulatedLine | None = None) -> AudioCall:
    """Run ``driven`` (e.g. a discovery probe) against the simulated line of ``line_file`` through audio:
    Piper (or the line's recordings) -> G.711 -> Whisper, keys as in-band DTMF. ``line``: that simulated line,
    made by the caller (a benchmark's line that records where it was)."""
    goal = line_file.goal or next(iter(line_file.menus))
    runner = _AudioCallRunner(line_file, line_file=line_file, goal=goal, vars=None, seed=seed, on_note=None,
                              keep_trace=keep_trace, engines=engines or SpeechEngines.default(), frame_ms=FRAME_MS,
                              noise_snr_db=None, driven=driven, line=line)
    return runner.run()


def simulate_audio_call(
    menu_file: MenuFile,
    *,
    line_file: MenuFile | None = None,
    goal: str | None = None,
    vars: Mapping[str, str] | None = None,
    seed: int = 0,
    on_note: Callable[[Note], None] | None = None,
    keep_trace: bool = True,
    engines: SpeechEngines | None = None,
    frame_ms: int = FRAME_MS,
    noise_snr_db: float | None = None,
) -> AudioCall:
    """Navigate ``menu_file`` against the simulated line of ``line_file`` (default: the same file), with
    the line's prompts spoken by Piper, heard by Whisper, and the keys sent as in-band DTMF.

    ``engines`` shares loaded models between calls; ``noise_snr_db`` adds white line noise (seeded by
    ``seed``) at that SNR below a typical voice level. Raises ``SpeechModelMissing`` without the models.
    """
    runner = _AudioCallRunner(
        menu_file, line_file=line_file, goal=goal, vars=vars, seed=seed, on_note=on_note,
        keep_trace=keep_trace, engines=engines or SpeechEngines.default(), frame_ms=frame_ms,
        noise_snr_db=noise_snr_db,
    )
    return runner.run()
