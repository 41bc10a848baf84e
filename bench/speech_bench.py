"""Offline speech benchmark: Piper -> 300-3400 Hz, 8 kHz, G.711 -> incremental Whisper tiny.en.

Reports WER, "press N" recall, STT and TTS real-time factors, and the key-digit latency: from the end
of a spoken digit ("press *2*") to the first transcript (interim or final) containing "press 2",
counting the decode time as if audio arrived in real time. Digit end times come from Whisper word
timestamps on the clean 16 kHz audio (Piper's own alignments need the optional onnx package).

Run: .venv/bin/python bench/speech_bench.py   (writes bench/results/speech.json)
"""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ivrnav.speech.audio import telephone_channel
from ivrnav.speech.stt import IncrementalRecognizer, Transcript, load_whisper
from ivrnav.speech.tts import PiperSynthesizer

PROMPTS = [
    "Thank you for calling Acme Bank. For English, press 1. Para espanol, oprima dos.",
    "Main menu. For account balances and recent transactions, press 1. For credit card services, press 2.",
    "To report fraud, press 3. For all other questions, press 0.",
    "For billing and payments, press 4. For technical support, press 5.",
    "To check the status of an order, press 6. To speak with a representative, press 0.",
    "For new appointments, press 1. To cancel or reschedule an appointment, press 2.",
    "If you are a doctor's office or pharmacy, press 7. For prescription refills, press 8.",
    "To hear these options again, press star. To return to the main menu, press pound.",
    "For store hours and locations, press 9. For gift cards, press 6.",
    "To activate a new card, press 1. To report a lost or stolen card, press 2.",
    "For roadside assistance, press 3. To file a claim, press 4.",
    "For questions about your bill, press 2. To make a payment, press 1.",
    "If you are calling about an existing reservation, press 5. To make a new reservation, press 6.",
    "For the pharmacy, press 3. For the front desk, press 0.",
    "To track a package, press 1. To schedule a pickup, press 2. For shipping rates, press 3.",
    "For mortgage and home loans, press 7. For auto loans, press 8.",
    "To change your password or unlock your account, press 4. For all other issues, press 9.",
    "For sales, press 1. For customer service, press 2. For the company directory, press 8.",
    "If this is a medical emergency, please hang up and dial 911. For lab results, press 5.",
    "To update your address or phone number, press 6. To speak with an agent, press 0.",
]
KEYTERMS = [f"press {d}" for d in "1234567890"] + ["press star", "press pound"]
_NUMBERS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_KEYWORDS = {"star": "*", "pound": "#", "hash": "#"}


def normalize(text: str) -> list[str]:
    """Lower case, no punctuation, digits as digits (only after "press" for homophones like "for")."""
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()
    out = []
    for i, w in enumerate(words):
        after_press = i > 0 and words[i - 1] == "press"
        if after_press and (w in _NUMBERS or w in _KEYWORDS):
            out.append(_NUMBERS.get(w) or _KEYWORDS[w])
        elif w in _NUMBERS and w not in ("to", "too", "for", "oh"):
            out.append(_NUMBERS[w])
        else:
            out.append(w)
    return out


def press_keys(words: list[str]) -> list[str]:
    return [words[i + 1] for i in range(len(words) - 1) if words[i] == "press"]


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def digit_end_times(model, clean16: np.ndarray) -> list[tuple[str, float]]:
    """(key, end time) of each word said right after "press", from word timestamps on clean audio."""
    segments, _ = model.transcribe(
        clean16.astype(np.float32) / 32768,
        language="en",
        word_timestamps=True,
        beam_size=1,
        condition_on_previous_text=False,
        initial_prompt=", ".join(KEYTERMS),
    )
    words = [w for s in segments for w in (s.words or [])]
    out = []
    for prev, w in itertools.pairwise(words):
        if normalize(prev.word) == ["press"]:
            key = normalize(w.word)
            if key:
                out.append((key[0], float(w.end)))
    return out


def run() -> dict:
    synth = PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)  # deterministic audio
    whisper = load_whisper()
    lead = 0.5
    tts_time = tts_audio = 0.0
    stt_time = stt_offline_time = audio_total = 0.0
    errors = ref_words = 0
    keys_expected = keys_found = 0
    latencies: list[float] = []
    missed_latency = 0
    per_prompt = []
    synth.synthesize("warm up", 16000)
    for text in PROMPTS:
        t0 = time.perf_counter()
        clean16 = synth.synthesize(text, 16000)
        tts_time += time.perf_counter() - t0
        tts_audio += len(clean16) / 16000
        pad16 = np.zeros(int(lead * 16000), np.int16)
        clean16 = np.concatenate([pad16, clean16, pad16, pad16])
        phone = telephone_channel(clean16, 16000)
        duration = len(phone) / 8000
        audio_total += duration
        digit_ends = digit_end_times(whisper, clean16)

        # Streaming pass, 20 ms chunks; an event is "available" at audio position + compute time.
        rec = IncrementalRecognizer(8000, keyterms=KEYTERMS, model=whisper)
        timeline: list[tuple[float, Transcript]] = []
        spent = 0.0
        for i in range(0, len(phone), 160):
            t0 = time.perf_counter()
            events = rec.feed(phone[i : i + 160])
            dt = time.perf_counter() - t0
            spent += dt
            timeline += [((i + 160) / 8000 + dt, e) for e in events]
        t0 = time.perf_counter()
        timeline += [(duration, e) for e in rec.finish()]
        spent += time.perf_counter() - t0
        stt_time += spent

        # Offline pass: one decode per utterance (what a non-streaming use costs).
        rec_off = IncrementalRecognizer(8000, keyterms=KEYTERMS, model=whisper, interim_interval=1e9)
        t0 = time.perf_counter()
        rec_off.feed(phone)
        rec_off.finish()
        stt_offline_time += time.perf_counter() - t0

        hyp = normalize(" ".join(e.text for _, e in timeline if e.is_final))
        ref = normalize(text)
        errors += edit_distance(ref, hyp)
        ref_words += len(ref)
        want = press_keys(ref)
        got = press_keys(hyp)
        found = sum(min(want.count(k), got.count(k)) for k in set(want))
        keys_expected += len(want)
        keys_found += found

        prompt_lat = []
        for key, end in digit_ends:
            if key not in want:
                continue
            hit = next((at for at, e in timeline if at >= end - 0.5 and key in press_keys(normalize(e.text))), None)
            if hit is None:
                missed_latency += 1
            else:
                prompt_lat.append(hit - end)
        latencies += prompt_lat
        per_prompt.append(
            {
                "text": text,
                "heard": " ".join(e.text for _, e in timeline if e.is_final),
                "keys": want,
                "keys_heard": got,
                "latency_s": [round(x, 3) for x in prompt_lat],
            }
        )

    lat_sorted = sorted(latencies)
    return {
        "prompts": len(PROMPTS),
        "audio_seconds": round(audio_total, 1),
        "wer": round(errors / ref_words, 4),
        "press_n_recall": round(keys_found / keys_expected, 4),
        "stt_rtf_streaming": round(stt_time / audio_total, 4),
        "stt_rtf_offline": round(stt_offline_time / audio_total, 4),
        "tts_rtf": round(tts_time / tts_audio, 4),
        "key_latency_median_s": round(statistics.median(latencies), 3) if latencies else None,
        "key_latency_p90_s": round(lat_sorted[int(0.9 * (len(lat_sorted) - 1))], 3) if latencies else None,
        "key_latency_max_s": round(lat_sorted[-1], 3) if latencies else None,
        "key_latency_samples": len(latencies),
        "key_latency_never_heard": missed_latency,
        "cpu_count": os.cpu_count(),
        "settings": {"interim_interval_s": 0.4, "min_silence_s": 0.5, "vad": "silero", "compute_type": "int8"},
        "per_prompt": per_prompt,
    }


def main() -> None:
    results = run()
    out = Path(__file__).parent / "results" / "speech.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        ("prompts / audio", f"{results['prompts']} / {results['audio_seconds']} s"),
        ("WER (8 kHz band, G.711)", f"{results['wer']:.1%}"),
        ('"press N" recall', f"{results['press_n_recall']:.1%}"),
        ("STT RTF streaming (with interims)", f"{results['stt_rtf_streaming']:.3f}"),
        ("STT RTF offline (finals only)", f"{results['stt_rtf_offline']:.3f}"),
        ("TTS RTF (Piper joe)", f"{results['tts_rtf']:.3f}"),
        ("digit end -> transcript, median", f"{results['key_latency_median_s']} s"),
        ("digit end -> transcript, p90 / max", f"{results['key_latency_p90_s']} / {results['key_latency_max_s']} s"),
        ("digits never heard", str(results["key_latency_never_heard"])),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
