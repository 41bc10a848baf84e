"""A small sound classifier for the line's non-speech audio: ringback tone ("ringing") and hold music.

Clock-free and synchronous: ``SoundClassifier(sample_rate).push(samples, at)`` takes 16-bit mono PCM
whose first sample is at stream time ``at`` (seconds) and returns ``Sounded`` reports, like the
recogniser returns transcripts. It cuts the audio into 50 ms frames and looks at each frame's spectrum:

* a **ringing** frame has almost all its power between 380 and 500 Hz (the ringback tones: 440+480 Hz in
  North America, 400+450 Hz in the UK, 425 Hz in most of Europe). Ringing is reported from the first
  burst of at least ``ring_burst`` s, and goes on being reported through the cadence's off gaps (2 s on,
  4 s off; UK double rings) while no gap is longer than ``ring_gap``.
* a **music** frame is loud, tonal (a few spectral peaks hold most of the power) and not a ringback or
  DTMF tone. Music is reported once ``music_window`` s of frames were nearly all music frames whose
  strongest peak held still from frame to frame (a held note or chord). Speech fails this: its pitch
  glides, and consonants and pauses break it every few hundred ms.

Each sound is reported every ``report_every`` s while it goes on, with the same ``start`` and a later
``end`` (see ``ivrnav.navigate.events.Sounded``). Synthetic ringback and music for simulations and tests
are made by ``ringback`` and ``music_loop``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ivrnav.navigate.events import Sounded
from ivrnav.speech.audio import to_float
from ivrnav.speech.dtmf import COL_FREQS, ROW_FREQS

__all__ = ["FrameSounds", "SoundClassifier", "SoundThresholds", "music_loop", "ringback"]


@dataclass(frozen=True, slots=True)
class SoundThresholds:
    frame: float = 0.05  # s per analysis frame: 20 Hz resolution separates 440 from 480 Hz, short enough for cadences
    floor_rms: float = 0.004  # float RMS (~-48 dBFS) below which a frame is quiet: line noise, not a sound
    ring_band: tuple[float, float] = (380.0, 500.0)  # Hz: holds every ringback tone (400, 425, 440, 450, 480)
    ring_share: float = 0.7  # share of the frame's power in ring_band: a pure tone holds ~all, speech/music far less
    ring_burst: float = 0.5  # s of one tone before reporting: vowels in 3 of the 358 Asterisk prompts held 0.35 s
    dual_burst: float = 0.35  # s of both tones of a pair (UK bursts last 0.4 s): no vowel holds two such peaks
    dual_share: float = 0.25  # share of the frame's power near each tone of a pair for the pair to count
    ring_gap: float = 4.5  # s: the longest off gap of a ringback cadence (US 4 s) plus slack; longer = it stopped
    ring_tones: tuple[tuple[float, ...], ...] = ((440.0, 480.0), (400.0, 450.0), (425.0,))  # NA, UK, Europe
    ring_tone_share: float = 0.8  # share of power within +-20 Hz of one ringback's tones: a vowel is never this pure
    peaks: int = 12  # spectral peaks (each +-2 bins) counted as the frame's "tonal" power (a chord: 9 partials)
    tonal_share: float = 0.6  # share of power in those peaks for a music frame; white noise and fricatives hold ~15 %
    dtmf_share: float = 0.6  # share of power near a DTMF row + column pair: a key, never music
    stable_hz: float = 25.0  # a held note: the strongest peak is within this of one of the previous frame's 4 strongest
    music_window: float = 1.2  # s of recent frames judged together; speech never holds a pitch this long
    music_start: float = 0.9  # share of the window that must be stable music frames to start reporting music
    music_keep: float = 0.6  # share that keeps it going (chord changes, a soft passage)
    report_every: float = 0.5  # s between reports of a sound that goes on


DEFAULT = SoundThresholds()
_DTMF = [(r, c) for r in ROW_FREQS for c in COL_FREQS]


@dataclass(frozen=True, slots=True)
class _Frame:
    loud: bool
    ringing: bool
    music: bool  # tonal, not ringing, not DTMF
    dual: bool  # ringing with both tones of a pair
    peaks_hz: tuple[float, ...]  # the strongest few peaks, strongest first


class SoundClassifier:
    """Streaming ringing / music detector; see the module docstring."""

    def __init__(self, sample_rate: int, thresholds: SoundThresholds = DEFAULT) -> None:
        self.rate = sample_rate
        self.th = thresholds
        self.size = max(16, round(sample_rate * thresholds.frame))
        self.nfft = 1 << int(np.ceil(np.log2(self.size * 2)))
        self.window = np.hanning(self.size)
        self.freqs = np.fft.rfftfreq(self.nfft, 1 / sample_rate)
        self.ring_mask = (self.freqs >= thresholds.ring_band[0]) & (self.freqs <= thresholds.ring_band[1])
        self.bin_hz = sample_rate / self.nfft
        self.buf = np.zeros(0, dtype=np.float32)
        self.buf_at = 0.0  # stream time of buf[0]
        self.ring_run = 0  # consecutive ringing frames
        self.dual_run = 0  # of which the last ones held both tones of a pair
        self.ring_start: float | None = None  # reported ringing: since when
        self.ring_last = 0.0  # end of the last ringing frame
        self.window_frames: deque[bool] = deque(maxlen=max(1, round(thresholds.music_window / thresholds.frame)))
        self.prev_peaks: tuple[float, ...] | None = None
        self.music_start: float | None = None
        self.last_report: dict[str, float] = {}

    def push(self, samples: npt.ArrayLike, at: float) -> list[Sounded]:
        """Feed PCM whose first sample is at stream time ``at``; returns the reports due."""
        x = to_float(samples)
        if not self.buf.size:
            self.buf_at = at
        self.buf = np.concatenate([self.buf, x]) if self.buf.size else x.copy()
        out: list[Sounded] = []
        while self.buf.size >= self.size:
            frame, self.buf = self.buf[: self.size], self.buf[self.size :]
            t0 = self.buf_at
            self.buf_at = t0 + self.size / self.rate
            out.extend(self._frame(self._analyse(frame), t0, self.buf_at))
        return out

    def _analyse(self, frame: npt.NDArray[np.float32]) -> _Frame:
        th = self.th
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        if rms < th.floor_rms:
            return _Frame(False, False, False, False, ())
        power = np.abs(np.fft.rfft(frame * self.window, self.nfft)) ** 2
        total = float(power.sum()) or 1.0
        ringing = (float(power[self.ring_mask].sum()) / total >= th.ring_share
                   and max(self._near(power, tones, 20.0) for tones in th.ring_tones) / total >= th.ring_tone_share)
        # the strongest `peaks` local maxima, each with its main lobe (+-2 bins)
        local = np.flatnonzero((power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:])) + 1
        top = local[np.argsort(power[local])[-th.peaks:]]
        covered = np.zeros(power.size, dtype=bool)
        for b in top:
            covered[max(0, b - 2) : b + 3] = True
        tonal = float(power[covered].sum()) / total >= th.tonal_share
        dtmf = max(self._near(power, (r, c), 30.0) for r, c in _DTMF) / total >= th.dtmf_share
        strongest = tuple(float(self.freqs[b]) for b in top[::-1][:4])
        dual = ringing and any(min(self._near(power, (f,), 20.0) for f in tones) / total >= th.dual_share
                               for tones in th.ring_tones if len(tones) > 1)
        return _Frame(True, ringing, tonal and not ringing and not dtmf, dual, strongest)

    def _near(self, power: npt.NDArray[np.float64], freqs: tuple[float, ...], hz: float) -> float:
        span = hz / self.bin_hz
        total = 0.0
        for f in freqs:
            c = f / self.bin_hz
            total += float(power[max(0, int(c - span)) : int(c + span) + 1].sum())
        return total

    def _frame(self, f: _Frame, t0: float, t1: float) -> list[Sounded]:
        th = self.th
        out: list[Sounded] = []
        # ringing: bursts, and the gaps between them
        if f.ringing:
            self.ring_run += 1
            self.dual_run = self.dual_run + 1 if f.dual else 0
            self.ring_last = t1
            if self.ring_start is None and (self.ring_run * th.frame >= th.ring_burst - 1e-9
                                            or self.dual_run * th.frame >= th.dual_burst - 1e-9):
                self.ring_start = t1 - self.ring_run * self.size / self.rate
        else:
            self.ring_run = self.dual_run = 0
            if self.ring_start is not None and t1 - self.ring_last > th.ring_gap:
                self.ring_start = None
                self.last_report.pop("ringing", None)
        if self.ring_start is not None:
            out.extend(self._report("ringing", self.ring_start, t1))
        # music: a window of held tonal frames
        stable = f.music and self.prev_peaks is not None and bool(f.peaks_hz) and any(
            abs(f.peaks_hz[0] - p) < th.stable_hz for p in self.prev_peaks)
        self.prev_peaks = f.peaks_hz if f.loud else None
        self.window_frames.append(stable)
        full = len(self.window_frames) == self.window_frames.maxlen
        share = sum(self.window_frames) / len(self.window_frames)
        if self.music_start is None:
            if full and share >= th.music_start and self.ring_start is None:
                self.music_start = t1 - len(self.window_frames) * self.size / self.rate
        elif share < th.music_keep or self.ring_start is not None:
            self.music_start = None
            self.last_report.pop("music", None)
        if self.music_start is not None:
            out.extend(self._report("music", self.music_start, t1))
        return out

    def _report(self, kind: str, start: float, end: float) -> list[Sounded]:
        last = self.last_report.get(kind)
        if last is not None and end - last < self.th.report_every - 1e-9:
            return []
        self.last_report[kind] = end
        return [Sounded(kind, round(start, 3), round(end, 3))]


class FrameSounds:
    """A ``SoundClassifier`` over a stream of raw frames (interleaved int16 bytes, as LiveKit delivers them):
    the first channel is classified; a change of sample rate starts a new classifier."""

    def __init__(self, thresholds: SoundThresholds = DEFAULT) -> None:
        self.thresholds = thresholds
        self.classifier: SoundClassifier | None = None

    def push_frame(self, data: object, sample_rate: int, num_channels: int, at: float) -> list[Sounded]:
        pcm = np.frombuffer(data, dtype=np.int16)[:: max(1, num_channels)]  # type: ignore[call-overload]
        if self.classifier is None or self.classifier.rate != sample_rate:
            self.classifier = SoundClassifier(sample_rate, self.thresholds)
        return self.classifier.push(pcm, at)


def ringback(seconds: float, sample_rate: int = 8000, *, freqs: tuple[float, ...] = (440.0, 480.0), on: float = 2.0,
             off: float = 4.0, level_db: float = -19.0, offset: float = 0.0) -> npt.NDArray[np.float64]:
    """Ringback tone as float: ``freqs`` summed (each at ``level_db`` dBFS peak), ``on`` s then ``off`` s,
    starting ``offset`` s into the cadence."""
    t = offset + np.arange(round(seconds * sample_rate)) / sample_rate
    a = 10 ** (level_db / 20)
    tone = sum(a * np.sin(2 * np.pi * f * t) for f in freqs)
    gate = (t % (on + off)) < on
    return np.asarray(tone * gate, dtype=np.float64)


# A-minor, F, C, G in the telephone band: fundamentals 330-880 Hz (the channel cuts below 300 Hz)
_CHORDS = ((440.0, 523.25, 659.25), (349.23, 440.0, 523.25), (523.25, 659.25, 783.99), (392.0, 493.88, 587.33))


def music_loop(seconds: float, sample_rate: int = 8000, *, note: float = 0.5, level_db: float = -16.0,
               offset: float = 0.0) -> npt.NDArray[np.float64]:
    """A simple hold-music loop as float: chords of three notes with two harmonics, ``note`` s each,
    soft attack and release, starting ``offset`` s into the loop."""
    n = round(seconds * sample_rate)
    t = offset + np.arange(n) / sample_rate
    idx = (t // note).astype(int) % len(_CHORDS)
    phase = t % note
    env = np.minimum(1.0, np.minimum(phase / 0.02, (note - phase) / 0.04))
    out = np.zeros(n)
    for i, chord in enumerate(_CHORDS):
        sel = idx == i
        if not sel.any():
            continue
        ts = t[sel]
        out[sel] = sum(np.sin(2 * np.pi * f * ts) + 0.5 * np.sin(4 * np.pi * f * ts) + 0.25 * np.sin(6 * np.pi * f * ts)
                       for f in chord)
    peak = 3 * 1.75
    return out / peak * env * 10 ** (level_db / 20) * 2


RINGBACK_CYCLE = 6.0  # s: North American ringback, 440+480 Hz, 2 s on, 4 s off
MUSIC_CYCLE = 4.0  # s: whole turns of the hold-music loop (4 chords of 0.5 s, twice)


def line_sound_cycle(kind: str, sample_rate: int) -> npt.NDArray[np.float64]:
    """One whole cycle of the sound a simulated line plays (``line: {sound: ringing|music}``) as float, so
    indexing it modulo its length plays it on seamlessly; the audio path and the LiveKit line both loop it."""
    if kind == "ringing":
        return ringback(RINGBACK_CYCLE, sample_rate)
    if kind == "music":
        return music_loop(MUSIC_CYCLE, sample_rate)
    raise ValueError(f"no sound cycle for {kind!r}")
