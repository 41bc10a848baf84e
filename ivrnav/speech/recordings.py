"""Recorded prompts: play a real recording for a line's sentence instead of synthesising it.

PBX prompt sets ship as one sound file per prompt with a transcript list (Asterisk's core sounds:
``name: words`` lines in ``core-sounds-en.txt``; Debian packages them as asterisk-core-sounds-en and -wav,
CC-BY-SA-3.0). The simulated line speaks one sentence at a time, so a recording whose transcript holds
several sentences ("Agent login.  Please enter your agent number followed by the pound key.") is cut at
its longest pauses, one piece per sentence. A sentence no recording says falls back to the synthesiser.
"""

from __future__ import annotations

import gzip
import itertools
import re
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ivrnav.text import normalise

ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en")
ASTERISK_TRANSCRIPTS = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
FRAME = 160  # 20 ms at 8 kHz: the resolution of pause finding
SILENCE_RMS = 300.0  # int16 RMS below which a frame is a pause between sentences


class Recordings:
    """Sentence text (normalised) -> audio (int16, ``rate`` Hz), from recordings and their transcripts."""

    def __init__(self, sentences: dict[str, npt.NDArray[np.int16]], rate: int):
        self.sentences = sentences
        self.rate = rate

    def __len__(self) -> int:
        return len(self.sentences)

    def get(self, text: str) -> npt.NDArray[np.int16] | None:
        return self.sentences.get(normalise(text))

    @classmethod
    def asterisk(cls, sounds: Path = ASTERISK_SOUNDS, transcripts: Path = ASTERISK_TRANSCRIPTS) -> Recordings:
        """Asterisk's core sounds as Debian installs them; raises FileNotFoundError when they are missing."""
        opener = gzip.open if transcripts.suffix == ".gz" else open
        with opener(transcripts, "rt", encoding="utf-8", errors="replace") as fh:
            entries = [(name.strip(), words.strip()) for name, _, words in
                       (line.partition(":") for line in fh) if words.strip()]
        return cls.from_files(((sounds / f"{name}.wav", words) for name, words in entries))

    @classmethod
    def from_files(cls, entries: Iterable[tuple[Path, str]]) -> Recordings:
        out: dict[str, npt.NDArray[np.int16]] = {}
        rate = 8000
        for path, words in entries:
            if not path.exists() or "[" in words:  # "[this is a simple beep tone]": not words
                continue
            audio, rate = read_wav(path)
            sentences = [s.strip() for s in _SENTENCE.findall(words) if normalise(s)]
            for sentence, piece in zip(sentences, split_at_pauses(audio, len(sentences)), strict=False):
                out.setdefault(normalise(sentence), piece)
        if not out:
            raise FileNotFoundError("no recordings found")
        return cls(out, rate)


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono PCM")
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy(), w.getframerate()


def split_at_pauses(audio: npt.NDArray[np.int16], pieces: int) -> list[npt.NDArray[np.int16]]:
    """``audio`` cut into ``pieces`` at its ``pieces - 1`` longest inner pauses (whole audio for one)."""
    if pieces <= 1:
        return [audio]
    n = len(audio) // FRAME
    rms = np.sqrt(np.mean(audio[: n * FRAME].astype(np.float64).reshape(n, FRAME) ** 2, axis=1))
    loud = np.flatnonzero(rms >= SILENCE_RMS)
    if len(loud) == 0:
        return [audio]
    runs: list[tuple[int, int]] = []  # (length, middle frame) of pauses between the first and last sound
    start = None
    for i in range(loud[0], loud[-1] + 1):
        if rms[i] < SILENCE_RMS and start is None:
            start = i
        elif rms[i] >= SILENCE_RMS and start is not None:
            runs.append((i - start, (start + i) // 2))
            start = None
    cuts = sorted(mid * FRAME for _, mid in sorted(runs, reverse=True)[: pieces - 1])
    bounds = [0, *cuts, len(audio)]
    return [audio[a:b] for a, b in itertools.pairwise(bounds)]
