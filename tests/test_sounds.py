"""The audio path's sound classifier: it reports ringback and hold music the line plays, and nothing for
silence, line noise, keys or speech (a false "music" during a prompt would confirm a goal never reached)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from ivrnav.speech.audio import add_noise, telephone_channel
from ivrnav.speech.dtmf import generate_dtmf
from ivrnav.speech.sounds import SoundClassifier, music_loop, ringback
from tests.parts import missing_part, require_speech_models

RATE = 8000
ASTERISK = Path("/usr/share/asterisk/sounds/en")


def _classify(audio, rate: int = RATE, chunk: int = 160):
    c = SoundClassifier(rate)
    out = []
    for i in range(0, len(audio), chunk):
        out += c.push(audio[i : i + chunk], i / rate)
    return out


def _line(audio, snr_db: float | None = 20.0, seed: int = 0):
    phone = telephone_channel(audio, RATE)
    return phone if snr_db is None else add_noise(phone, snr_db, np.random.default_rng(seed), reference_rms=3000)


@pytest.mark.parametrize(("freqs", "on", "off"), [((440.0, 480.0), 2.0, 4.0), ((425.0,), 1.0, 4.0)],
                         ids=["north-america", "europe"])
def test_ringback_is_reported_from_the_first_burst_through_the_off_gaps(freqs, on, off) -> None:
    reports = _classify(_line(ringback(14, RATE, freqs=freqs, on=on, off=off)))
    assert reports and {r.kind for r in reports} == {"ringing"}
    assert {r.start for r in reports} == {reports[0].start} and reports[0].start < 0.1  # one sound, from its start
    assert reports[0].end <= 0.6  # reported within the first burst
    assert reports[-1].end > 13.5  # through every gap
    gaps = np.diff([r.end for r in reports])
    assert gaps.max() <= 0.55  # a report about every 0.5 s, also while the tone is off


def test_uk_double_ring_is_reported_as_ringing() -> None:
    # 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off
    cycle = np.concatenate([ringback(0.4, RATE, freqs=(400.0, 450.0), on=1, off=0), np.zeros(round(0.2 * RATE))] * 2
                           + [np.zeros(2 * RATE)])
    reports = _classify(_line(np.tile(cycle, 3)))
    assert reports and {r.kind for r in reports} == {"ringing"} and reports[0].end < 0.5
    assert reports[-1].end > 8


def test_ringing_that_stops_is_no_longer_reported() -> None:
    audio = np.concatenate([ringback(2, RATE), np.zeros(8 * RATE)])
    reports = _classify(_line(audio))
    assert reports and reports[-1].end < 2 + 4.5 + 0.6


def test_hold_music_is_reported_as_music() -> None:
    reports = _classify(_line(music_loop(8, RATE)))
    assert reports and {r.kind for r in reports} == {"music"}
    assert reports[0].start < 0.1 and reports[0].end < 1.6 and reports[-1].end > 7.5


@pytest.mark.parametrize("audio", [
    pytest.param(np.zeros(10 * RATE, dtype=np.int16), id="silence"),
    pytest.param(add_noise(np.zeros(10 * RATE), 10, np.random.default_rng(1), reference_rms=3000), id="white-noise"),
    pytest.param(telephone_channel(generate_dtmf("0123456789*#" * 3, duration=0.2, gap=0.05), RATE), id="dtmf"),
    pytest.param(telephone_channel(generate_dtmf("159", duration=2.0, gap=0.05), RATE), id="held-dtmf"),
])
def test_no_sound_is_reported_for_silence_noise_or_keys(audio) -> None:
    assert _classify(audio) == []


def test_no_sound_is_reported_on_recorded_speech() -> None:
    files = sorted(ASTERISK.glob("*.wav"))
    if len(files) < 100:
        missing_part("Asterisk's recorded prompts (scripts/ensure-asterisk-sounds)", f"no prompts in {ASTERISK}")
    heard = {}
    for path in files:
        with wave.open(str(path)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
            rate = w.getframerate()
        reports = _classify(telephone_channel(pcm, rate))
        if reports:
            heard[path.name] = reports[0]
    assert heard == {}


@pytest.mark.speech
def test_no_sound_is_reported_on_synthesised_prompts() -> None:
    require_speech_models()
    from ivrnav.speech.tts import PiperSynthesizer

    synth = PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)
    prompts = ["Thank you for calling. For sales, press 1. For billing, press 2.",
               "Please hold while we connect your call. Your call is important to us.",
               "Hello, you have reached the front desk. How may I help you today?",
               "Please enter your account number followed by the pound key."]
    for text in prompts:
        speech = synth.synthesize(text, RATE)
        for snr in (None, 15.0):
            assert _classify(_line(speech, snr)) == [], (text, snr)
