"""Offline speech end to end: Piper -> 8 kHz telephone band -> Whisper, as the navigator will hear it."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from tests.parts import require_speech_models

pytestmark = pytest.mark.speech

PROMPTS = [
    ("For account balances, press 1. For credit card services, press 2.", ["press 1", "press 2", "credit card"]),
    ("To report fraud, press 3. For all other questions, press 0.", ["press 3", "press 0", "fraud"]),
]
KEYTERMS = ["press 1", "press 2", "press 3", "press 0", "account balances", "credit card services"]
_NUM = {"zero": "0", "one": "1", "two": "2", "to": "2", "three": "3", "four": "4", "five": "5"}


def _norm(text: str) -> str:
    # What the navigator's normaliser does, enough for these assertions: case, punctuation, digits.
    words = re.sub(r"[^a-z0-9 ]", " ", text.lower()).split()
    out = [_NUM.get(w, w) if i and words[i - 1] == "press" else w for i, w in enumerate(words)]
    return " ".join(out)


@pytest.fixture(scope="module")
def engines():
    require_speech_models()
    from ivrnav.speech.stt import load_whisper
    from ivrnav.speech.tts import PiperSynthesizer

    # Noise-free Piper: the same audio every run, so these assertions cannot flake.
    return PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0), load_whisper()


@pytest.fixture(scope="module")
def phone_audio(engines) -> list[np.ndarray]:
    from ivrnav.speech.audio import telephone_channel

    synth, _ = engines
    pad = np.zeros(2400, np.int16)
    return [np.concatenate([pad, telephone_channel(synth.synthesize(t, 16000), 16000), pad, pad]) for t, _ in PROMPTS]


def test_synthesize_rates(engines) -> None:
    synth, _ = engines
    a16 = synth.synthesize("Please hold.", 16000)
    a8 = synth.synthesize("Please hold.", 8000)
    assert a16.dtype == np.int16 and a8.dtype == np.int16
    assert 0.4 < len(a16) / 16000 < 2.0
    assert abs(len(a16) / 16000 - len(a8) / 8000) < 0.3  # same speech, other rate (Piper varies a bit)
    assert np.abs(a16).max() > 3000


def test_recognizer_hears_press_pairs(engines, phone_audio) -> None:
    from ivrnav.speech.stt import IncrementalRecognizer

    _, whisper = engines
    for (_, expected), pcm in zip(PROMPTS, phone_audio, strict=True):
        rec = IncrementalRecognizer(8000, model=whisper, keyterms=KEYTERMS)
        results = []
        for i in range(0, len(pcm), 320):  # 40 ms chunks, like a phone stream
            results += rec.feed(pcm[i : i + 320])
        results += rec.finish()
        finals = [r for r in results if r.is_final]
        text = _norm(" ".join(r.text for r in finals))
        for phrase in expected:
            assert phrase in text, (phrase, text)
        assert any(not r.is_final for r in results), "no interim transcripts"
        assert all(r.start < r.end <= len(pcm) / 8000 + 1e-6 for r in results)


async def test_streaming_plugin_emits_interim_then_final(engines, phone_audio) -> None:
    from livekit import rtc
    from livekit.agents import stt

    from ivrnav.speech.stt import WhisperSTT

    _, whisper = engines
    plugin = WhisperSTT(keyterms=KEYTERMS, sample_rate=8000, model=whisper)
    assert plugin.capabilities.streaming and plugin.capabilities.interim_results
    stream = plugin.stream()
    pcm = phone_audio[0]
    for i in range(0, len(pcm), 160):
        chunk = pcm[i : i + 160]
        stream.push_frame(rtc.AudioFrame(chunk.tobytes(), 8000, 1, len(chunk)))
        # Paced at 2x real time: frames pushed all at once would be decoded in one batch (by design,
        # a lagging stream skips interims), so pacing is what makes interims appear.
        await asyncio.sleep(0.005)
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    kinds = [ev.type for ev in events]
    T = stt.SpeechEventType
    assert kinds[0] == T.START_OF_SPEECH
    assert T.INTERIM_TRANSCRIPT in kinds and T.FINAL_TRANSCRIPT in kinds and T.END_OF_SPEECH in kinds
    assert kinds.index(T.INTERIM_TRANSCRIPT) < kinds.index(T.FINAL_TRANSCRIPT) < kinds.index(T.END_OF_SPEECH)
    finals = " ".join(ev.alternatives[0].text for ev in events if ev.type == T.FINAL_TRANSCRIPT)
    assert "press 1" in _norm(finals)


async def test_tts_plugin_frames(engines) -> None:
    from ivrnav.speech.tts import PiperTTS

    synth, _ = engines
    for rate in (16000, 8000):
        tts = PiperTTS(sample_rate=rate, synthesizer=synth)
        frame = await tts.synthesize("For billing, press 4.").collect()
        assert frame.sample_rate == rate and frame.num_channels == 1
        assert 0.8 < frame.duration < 4.0


def test_loop_cut_only_cuts_words_said_again_back_to_back() -> None:
    from ivrnav.speech.stt import _loop_start

    # real menus repeat their wording apart: nothing is cut
    for menu in ("To call the planet Brodo, press 2. To call the planet Dagobah, press 3.",
                 "If you are a patient press 1, if you are a doctor press 2.",
                 "For sales, press 1. For support, press 2. For billing, press 3."):
        assert _loop_start(menu) is None, menu
    # a decoding loop repeats right after itself: one copy stays
    for looped, kept in (("Press 4. Press 4. Press 4. Press 4.", "Press 4."),
                         ("For gift cards, press 6, press 6, press 9,", "For gift cards, press 6,"),
                         ("Press 4 to go back to the main menu. Press 4 to go back to the main menu. Press",
                          "Press 4 to go back to the main menu.")):
        cut = _loop_start(looped)
        assert cut is not None and " ".join(looped.split()[:cut]) == kept


def test_recognizer_keeps_every_offer_of_a_menu_that_repeats_its_wording(engines) -> None:
    """Twilio's phone-tree sample says "To call the planet ..., press N" three times in one breath: all three
    offers reach the final transcripts (a loop cut at the second "to call the planet" lost two)."""
    from ivrnav.speech.audio import telephone_channel
    from ivrnav.speech.stt import IncrementalRecognizer

    synth, whisper = engines
    prompt = ("To call the planet Broh doe As O G, press 2. To call the planet DuhGo bah, press 3. "
              "To call an oober asteroid to your location, press 4.")
    pad = np.zeros(2400, np.int16)
    pcm = np.concatenate([pad, telephone_channel(synth.synthesize(prompt, 8000), 8000), pad, pad, pad])
    rec = IncrementalRecognizer(8000, model=whisper)  # no key terms, as in discovery
    finals = [r for i in range(0, len(pcm), 160) for r in rec.feed(pcm[i : i + 160]) if r.is_final]
    text = _norm(" ".join(r.text for r in finals + rec.finish()))
    for phrase in ("press 2", "press 3", "press 4", "location"):
        assert phrase in text, (phrase, text)
