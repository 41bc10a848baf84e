"""In-band DTMF: tone generation (ITU-T Q.23) and a streaming Goertzel detector (Q.24-style checks).

A simulated line hears the navigator's keys in its audio, and tests can check what was pressed, without
RFC 4733 events. The telephone helpers (G.711, band-pass, noise) live in ``ivrnav.speech.audio`` and are
re-exported here because DTMF tests and simulations use them together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ivrnav.speech.audio import add_noise, bandpass, g711_roundtrip, mulaw_decode, mulaw_encode

__all__ = [
    "COL_FREQS",
    "DIGITS",
    "ROW_FREQS",
    "DtmfDetection",
    "DtmfDetector",
    "add_noise",
    "bandpass",
    "detect_dtmf",
    "dtmf_tone",
    "g711_roundtrip",
    "generate_dtmf",
    "mulaw_decode",
    "mulaw_encode",
]

ROW_FREQS: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
COL_FREQS: tuple[float, ...] = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "0123456789*#ABCD"
_FREQS_OF: dict[str, tuple[float, float]] = {
    key: (ROW_FREQS[r], COL_FREQS[c]) for r, row in enumerate(_KEYPAD) for c, key in enumerate(row)
}


def dtmf_tone(
    digit: str, duration: float = 0.1, *, sample_rate: int = 8000, level_db: float = -10.0, twist_db: float = 0.0
) -> npt.NDArray[np.float64]:
    """One key's dual tone as float in [-1, 1]; ``level_db`` is each tone's peak level in dBFS and
    ``twist_db`` the high (column) tone's level relative to the low (row) tone."""
    key = digit.upper()
    if key not in _FREQS_OF:
        raise ValueError(f"not a DTMF key: {digit!r} (expected one of {DIGITS})")
    low, high = _FREQS_OF[key]
    t = np.arange(round(duration * sample_rate)) / sample_rate
    a_low = 10 ** (level_db / 20)
    a_high = a_low * 10 ** (twist_db / 20)
    return a_low * np.sin(2 * np.pi * low * t) + a_high * np.sin(2 * np.pi * high * t)


def generate_dtmf(
    digits: str,
    *,
    sample_rate: int = 8000,
    duration: float = 0.1,
    gap: float = 0.1,
    level_db: float = -10.0,
    twist_db: float = 0.0,
    lead: float = 0.0,
    trail: float = 0.0,
) -> npt.NDArray[np.int16]:
    """int16 audio of ``digits`` pressed one after another: tone ``duration`` then ``gap`` of silence.

    Key ``i`` starts at ``lead + i * (duration + gap)`` seconds.
    """
    parts: list[npt.NDArray[np.float64]] = [np.zeros(round(lead * sample_rate))]
    silence = np.zeros(round(gap * sample_rate))
    for i, d in enumerate(digits):
        if i:
            parts.append(silence)
        parts.append(dtmf_tone(d, duration, sample_rate=sample_rate, level_db=level_db, twist_db=twist_db))
    parts.append(np.zeros(round(trail * sample_rate)))
    return np.clip(np.round(np.concatenate(parts) * 32767), -32768, 32767).astype(np.int16)


@dataclass(frozen=True, slots=True)
class DtmfDetection:
    """A key heard in the audio; ``start`` is the stream time (s) of the first block that showed it."""

    digit: str
    start: float


class DtmfDetector:
    """Streaming DTMF detector: feed int16 chunks of any size, get the keys heard.

    Goertzel powers of the 8 DTMF frequencies over 205-sample blocks at 8 kHz (the classic size: every
    DTMF frequency lies near a bin, 25.6 ms), hopped by half a block. A block votes for a key when the
    strongest row and column tones are loud enough, carry most of the block's energy (speech spreads
    its energy over harmonics and formants), dominate the other tones of their group, and respect the
    twist limits. A key is reported after two consecutive blocks agree and is re-armed only after a
    block that does not vote for it, so one long press is one key.
    """

    def __init__(
        self,
        sample_rate: int = 8000,
        *,
        block: int | None = None,
        min_level_db: float = -42.0,
        tone_ratio: float = 0.45,
        dominance_db: float = 8.0,
        max_normal_twist_db: float = 8.0,
        max_reverse_twist_db: float = 8.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.block = block or round(205 * sample_rate / 8000)
        self.hop = self.block // 2
        n = np.arange(self.block)
        freqs = np.array(ROW_FREQS + COL_FREQS)
        # Goertzel at non-integer bins equals a single-frequency DFT; evaluating it as one matrix
        # product per chunk keeps the detector fast in numpy.
        self._basis = np.exp(-2j * np.pi * np.outer(freqs, n) / sample_rate)
        # Power of a full-scale sine of peak amplitude 1 in this block, to turn powers into dBFS.
        self._full_scale = (self.block / 2) ** 2
        self._min_power = self._full_scale * 10 ** (min_level_db / 10)
        self._tone_ratio = tone_ratio
        self._dominance = 10 ** (dominance_db / 10)
        self._normal_twist = 10 ** (max_normal_twist_db / 10)
        self._reverse_twist = 10 ** (max_reverse_twist_db / 10)
        self.reset()

    def reset(self) -> None:
        """Forget buffered audio and key state; stream time restarts at 0."""
        self._buf = np.zeros(0, dtype=np.float64)
        self._buf_start = 0  # stream sample index of self._buf[0]
        self._prev_vote: str | None = None
        self._prev_start = 0
        self._latched: str | None = None

    def _vote(self, x: npt.NDArray[np.float64]) -> str | None:
        power = np.abs(self._basis @ x) ** 2
        rows, cols = power[:4], power[4:]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        pr, pc = rows[r], cols[c]
        if pr < self._min_power or pc < self._min_power:
            return None
        # Tone-to-total: a pure sine of power p has energy sum(x^2) = 2 p / N.
        energy = float(np.dot(x, x))
        if 2 * (pr + pc) / self.block < self._tone_ratio * energy:
            return None
        others_r = np.delete(rows, r).max()
        others_c = np.delete(cols, c).max()
        if pr < self._dominance * others_r or pc < self._dominance * others_c:
            return None
        if pr > pc * self._normal_twist or pc > pr * self._reverse_twist:
            return None
        return _KEYPAD[r][c]

    def feed(self, pcm: npt.ArrayLike) -> list[DtmfDetection]:
        """Process a chunk (int16, or float in [-1, 1]); return keys whose detection completed in it."""
        a = np.asarray(pcm)
        x = a.astype(np.float64) / 32768.0 if a.dtype == np.int16 else a.astype(np.float64)
        self._buf = np.concatenate([self._buf, x])
        out: list[DtmfDetection] = []
        pos = 0
        while pos + self.block <= self._buf.size:
            vote = self._vote(self._buf[pos : pos + self.block])
            start = self._buf_start + pos
            if vote is None or vote != self._latched:
                self._latched = None
            if vote is not None and vote == self._prev_vote and self._latched is None:
                out.append(DtmfDetection(vote, self._prev_start / self.sample_rate))
                self._latched = vote
            if vote != self._prev_vote:
                self._prev_start = start
            self._prev_vote = vote
            pos += self.hop
        self._buf = self._buf[pos:]
        self._buf_start += pos
        return out


def detect_dtmf(pcm: npt.ArrayLike, sample_rate: int = 8000) -> list[DtmfDetection]:
    """Detect keys in a whole recording (convenience over ``DtmfDetector``)."""
    return DtmfDetector(sample_rate).feed(pcm)
