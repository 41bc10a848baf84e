"""Numpy-only telephone audio helpers: resampling, the 300-3400 Hz band, G.711 mu-law, line noise.

They let tests and simulations put clean synthetic speech and tones through something that sounds like
a phone line, without scipy. Audio is mono ``int16`` unless said otherwise.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "add_noise",
    "bandpass",
    "g711_roundtrip",
    "mulaw_decode",
    "mulaw_encode",
    "resample",
    "telephone_channel",
    "to_float",
    "to_int16",
]

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]


def to_float(pcm: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """int16 PCM -> float32 in [-1, 1] (float input is passed through as float32)."""
    a = np.asarray(pcm)
    if a.dtype == np.int16:
        return a.astype(np.float32) / 32768.0
    return a.astype(np.float32, copy=False)


def to_int16(audio: npt.ArrayLike) -> Int16Array:
    """float in [-1, 1] -> int16 with clipping (int16 input is returned as is)."""
    a = np.asarray(audio)
    if a.dtype == np.int16:
        return a
    return np.clip(np.round(a * 32767.0), -32768, 32767).astype(np.int16)


def resample(audio: npt.ArrayLike, src_rate: int, dst_rate: int) -> npt.NDArray[np.float32]:
    """Band-limited resampling of a whole signal by zero-padding/truncating its spectrum.

    Returns float32. Exact for whole utterances (what TTS and the recogniser's windows need); not
    meant for frame-by-frame streaming, where the block edges would click.
    """
    x = to_float(audio)
    if src_rate == dst_rate or x.size == 0:
        return x.copy()
    n_out = round(x.size * dst_rate / src_rate)
    spec = np.fft.rfft(x.astype(np.float64))
    n_bins = n_out // 2 + 1
    if n_bins <= spec.size:
        spec = spec[:n_bins]
    else:
        spec = np.concatenate([spec, np.zeros(n_bins - spec.size, dtype=spec.dtype)])
    y = np.fft.irfft(spec, n=n_out) * (n_out / x.size)
    return y.astype(np.float32)


@lru_cache(maxsize=16)
def _bandpass_taps(sample_rate: int, low: float, high: float, taps: int) -> npt.NDArray[np.float64]:
    # Windowed-sinc band-pass = low-pass(high) - low-pass(low); Blackman keeps stop-band ripple < -70 dB.
    n = np.arange(taps) - (taps - 1) / 2

    def lowpass(fc: float) -> npt.NDArray[np.float64]:
        return 2 * fc / sample_rate * np.sinc(2 * fc / sample_rate * n)

    h = (lowpass(high) - lowpass(low)) * np.blackman(taps)
    # Normalise the gain at the band centre to 1.
    fc = np.sqrt(low * high)
    gain = abs(np.sum(h * np.exp(-2j * np.pi * fc / sample_rate * np.arange(taps))))
    return h / gain


def bandpass(
    audio: npt.ArrayLike, sample_rate: int, low: float = 300.0, high: float = 3400.0, taps: int = 257
) -> npt.NDArray[np.float32]:
    """Zero-phase-delay FIR band-pass (linear phase, delay compensated). Returns float32."""
    x = to_float(audio).astype(np.float64)
    h = _bandpass_taps(sample_rate, float(low), float(min(high, sample_rate / 2 - 1)), taps)
    return np.convolve(x, h, mode="same").astype(np.float32)


_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def mulaw_encode(pcm: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """G.711 mu-law encode int16 PCM to 8-bit codes (segment/mantissa form, inverted bits)."""
    x = to_int16(pcm).astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), _MULAW_CLIP) + _MULAW_BIAS
    # Segment = position of the highest set bit above bit 7 (0..7).
    exponent = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def mulaw_decode(codes: npt.ArrayLike) -> Int16Array:
    """G.711 mu-law decode 8-bit codes to int16 PCM."""
    c = (~np.asarray(codes, dtype=np.int32)) & 0xFF
    sign = c & 0x80
    exponent = (c >> 4) & 0x07
    mantissa = c & 0x0F
    mag = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def g711_roundtrip(pcm: npt.ArrayLike) -> Int16Array:
    """What a G.711 mu-law leg does to the samples (quantisation noise, ~38 dB SNR)."""
    return mulaw_decode(mulaw_encode(pcm))


def add_noise(
    pcm: npt.ArrayLike, snr_db: float, rng: np.random.Generator | None = None, reference_rms: float | None = None
) -> Int16Array:
    """Add white noise at ``snr_db`` below the signal's RMS (or below ``reference_rms``, in int16 units)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    x = to_int16(pcm).astype(np.float64)
    ref = reference_rms if reference_rms is not None else float(np.sqrt(np.mean(x**2)) if x.size else 0.0)
    sigma = ref / (10 ** (snr_db / 20))
    return np.clip(np.round(x + rng.normal(0.0, sigma, x.size)), -32768, 32767).astype(np.int16)


def telephone_channel(audio: npt.ArrayLike, sample_rate: int, *, mulaw: bool = True) -> Int16Array:
    """Clean audio at any rate -> what a phone line delivers: 8 kHz, 300-3400 Hz, optionally G.711."""
    y = bandpass(resample(audio, sample_rate, 8000), 8000)
    out = to_int16(y)
    return g711_roundtrip(out) if mulaw else out
