"""Offline text-to-speech: Piper with the wheel-shipped "joe" voice.

``PiperSynthesizer`` is the synchronous engine (simulations, benchmarks, tests); ``PiperTTS`` wraps it
as a livekit-agents ``tts.TTS`` plugin so an agent session can speak offline exactly as it would with a
cloud TTS. Piper renders 22.05 kHz; we resample each sentence to the requested rate (16 kHz for
LiveKit rooms, 8 kHz for telephone simulations).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from livekit.agents import tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from ivrnav.speech.audio import resample, to_int16
from ivrnav.speech.models import SpeechModelMissing, piper_voice_files

if TYPE_CHECKING:
    from piper import PiperVoice

__all__ = ["PiperSynthesizer", "PiperTTS", "default_synthesizer", "synthesize"]

SUPPORTED_RATES = (8000, 16000, 22050, 24000, 48000)


class PiperSynthesizer:
    """Synchronous Piper engine. Thread-safe: one ONNX session serves every caller."""

    def __init__(
        self,
        voice_dir: Path | None = None,
        *,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
        volume: float = 0.7,
        sentence_silence: float = 0.25,
    ) -> None:
        """``volume`` < 1 leaves headroom because Piper peak-normalises each sentence and resampling
        overshoots; ``sentence_silence`` is the pause inserted between sentences (IVRs pause there).
        ``noise_scale=0, noise_w_scale=0`` makes synthesis deterministic (Piper samples noise otherwise)."""
        model, config = piper_voice_files(voice_dir)
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as exc:
            raise SpeechModelMissing(
                "piper-tts is not installed; pip install 'ivrnav[speech]'", package="piper-tts==1.8.0"
            ) from exc
        self._voice: PiperVoice = PiperVoice.load(model, config)
        self._config = SynthesisConfig(
            length_scale=length_scale, noise_scale=noise_scale, noise_w_scale=noise_w_scale, volume=volume
        )
        self.native_rate: int = self._voice.config.sample_rate
        self.sentence_silence = sentence_silence
        self._lock = threading.Lock()

    def sentences(self, text: str, sample_rate: int = 16000) -> Iterator[npt.NDArray[np.int16]]:
        """Yield int16 audio one sentence at a time (each followed by the sentence pause), so a
        streaming consumer can start playing before the whole text is rendered."""
        pause = np.zeros(round(self.sentence_silence * sample_rate), dtype=np.int16)
        with self._lock:
            chunks = list(self._voice.synthesize(text, self._config))
        for i, chunk in enumerate(chunks):
            audio = to_int16(resample(chunk.audio_float_array, self.native_rate, sample_rate))
            yield np.concatenate([audio, pause]) if i < len(chunks) - 1 else audio

    def synthesize(self, text: str, sample_rate: int = 16000) -> npt.NDArray[np.int16]:
        """Whole ``text`` as mono int16 at ``sample_rate``."""
        parts = list(self.sentences(text, sample_rate))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


_default: PiperSynthesizer | None = None
_default_lock = threading.Lock()


def default_synthesizer() -> PiperSynthesizer:
    """The process-wide synthesizer with default settings (loaded on first use, ~0.5 s)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PiperSynthesizer()
        return _default


def synthesize(text: str, sample_rate: int = 16000) -> npt.NDArray[np.int16]:
    """Speak ``text`` with the default Piper voice; mono int16 at ``sample_rate``."""
    return default_synthesizer().synthesize(text, sample_rate)


class PiperTTS(tts.TTS):
    """livekit-agents TTS plugin for offline Piper speech (non-streaming: ``synthesize`` per text;
    wrap with ``tts.StreamAdapter`` for token streams, as with any chunked TTS)."""

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        synthesizer: PiperSynthesizer | None = None,
    ) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise ValueError(f"sample_rate must be one of {SUPPORTED_RATES}")
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1)
        self._synth = synthesizer

    @property
    def model(self) -> str:
        return "piper/en_US-joe-medium"

    @property
    def provider(self) -> str:
        return "piper"

    def _engine(self) -> PiperSynthesizer:
        if self._synth is None:
            self._synth = default_synthesizer()
        return self._synth

    def prewarm(self) -> None:
        self._engine()

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class PiperChunkedStream(tts.ChunkedStream):
    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            frame_size_ms=20,
        )
        engine = await asyncio.to_thread(self._piper._engine)
        sentences = engine.sentences(self._input_text, self._piper.sample_rate)
        # Render sentence by sentence off the event loop so the first audio leaves early.
        sentinel = object()
        while (audio := await asyncio.to_thread(next, sentences, sentinel)) is not sentinel:
            assert isinstance(audio, np.ndarray)
            output_emitter.push(audio.tobytes())
        output_emitter.flush()
