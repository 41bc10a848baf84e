"""How far the navigator may believe it has heard the line, when its STT lags the audio.

An STT delivers a transcript seconds after the words were said (a busy machine: many seconds). Stamped on
arrival, a late transcript looks like a prompt that began late, and the wait for it looks like silence: the
navigator takes the prompt for finished, or the line for mute, and presses ``*`` or a key again.

``LineTimeline`` keeps, for the audio the STT is fed, when each stretch of it arrived (so the STT's own
times, seconds on its stream, map to our clock) and how loud it was. From that it says *up to when the line
is known*: everything the STT has transcribed, and after that every quiet stretch, but never past a stretch
of sound that no transcript has accounted for yet: the words there are still on their way. The driver
stamps the navigator's ``Tick``s with that time, so silence is only silence once it is heard as silence.

A sound the STT never transcribes (a beep, noise) would hold that time forever: it is given the STT's
recent lag (``lag_factor`` times it, plus ``lag_margin``) to produce a transcript, and never more than
``max_lag``; after that it counts as heard.

Clock-free: callers pass the arrival time of everything.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass

__all__ = ["HEARING", "HearingSettings", "LineTimeline", "level_dbfs"]


@dataclass(frozen=True, slots=True)
class HearingSettings:
    loud_dbfs: float = -45.0  # a frame at least this loud may hold speech (speech is -30..-15, a quiet line < -55)
    min_sound: float = 0.25  # seconds of loud audio, after what is transcribed, that may be an utterance
    bridge: float = 0.3  # quieter gaps shorter than this stay inside one stretch of sound (between words)
    initial_lag: float = 2.0  # seconds assumed for the STT's lag before it has delivered anything
    lag_factor: float = 2.0  # an untranscribed sound waits this many times the STT's recent lag ...
    lag_margin: float = 1.0  # ... plus this
    max_lag: float = 10.0  # and never more: the navigator's clock trails the wall clock by at most this
    recent: int = 6  # transcripts the recent lag is taken over (their largest)
    history: float = 180.0  # seconds of audio kept to map the STT's times (the longest utterance is far shorter)
    ahead_slack: float = 1.0  # seconds an STT time may lie beyond the audio fed and still be believed


HEARING = HearingSettings()


def level_dbfs(samples: object) -> float:
    """RMS level of int16 samples (a numpy array or buffer) in dBFS; -inf for silence."""
    import numpy as np

    x = np.frombuffer(samples, dtype=np.int16) if not isinstance(samples, np.ndarray) else samples
    if x.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(x.astype(np.float64)))))
    return 20.0 * math.log10(rms / 32768.0) if rms > 0 else -math.inf


@dataclass(slots=True)
class _Sound:
    start: float  # stream seconds
    end: float
    loud: float  # seconds of loud frames in it


class LineTimeline:
    """The line's audio as fed to the STT: arrival times, loud stretches, and what is transcribed."""

    def __init__(self, settings: HearingSettings = HEARING) -> None:
        self.settings = settings
        self.pos = 0.0  # stream seconds fed so far
        self.covered = 0.0  # stream seconds up to which transcripts account for the audio
        self._ends: list[float] = []  # stream end of each frame ...
        self._arrived: list[float] = []  # ... and when it arrived
        self._sounds: deque[_Sound] = deque()
        self._lags: deque[float] = deque(maxlen=settings.recent)

    @property
    def fed(self) -> bool:
        return bool(self._ends)

    def audio(self, seconds: float, dbfs: float, at: float) -> None:
        """``seconds`` more of the line's audio, at level ``dbfs``, arrived at ``at``."""
        if seconds <= 0:
            return
        start, self.pos = self.pos, self.pos + seconds
        self._ends.append(self.pos)
        self._arrived.append(at)
        if dbfs >= self.settings.loud_dbfs:
            last = self._sounds[-1] if self._sounds else None
            if last is not None and start - last.end <= self.settings.bridge:
                last.end, last.loud = self.pos, last.loud + seconds
            else:
                self._sounds.append(_Sound(start, self.pos, seconds))
        self._trim()

    def _trim(self) -> None:
        horizon = self.pos - self.settings.history
        if self._ends and self._ends[0] < horizon and len(self._ends) > 64:
            cut = bisect.bisect_left(self._ends, horizon)
            del self._ends[:cut], self._arrived[:cut]
        while self._sounds and self._sounds[0].end <= self.covered:
            self._sounds.popleft()  # transcribed

    def heard_all(self) -> None:
        """Count everything fed so far as heard (the call starts now: ringing and early media are not its)."""
        self.covered = self.pos
        self._trim()

    def clock_of(self, t: float) -> float | None:
        """When the audio at stream time ``t`` arrived; None when ``t`` is not in the audio we fed (an STT
        without times gives 0, or times of its own clock): the caller then stamps on arrival."""
        if not self._ends or not math.isfinite(t) or t > self.pos + self.settings.ahead_slack:
            return None
        i = bisect.bisect_left(self._ends, t)
        if i >= len(self._ends):
            return self._arrived[-1] + (t - self.pos)
        if i == 0 and t < self._ends[0] - 1.0:
            return None  # before what we keep
        return self._arrived[i] - (self._ends[i] - t)

    def transcribed(self, end: float | None, arrived: float) -> None:
        """A transcript arrived at ``arrived`` accounting for the audio up to stream time ``end`` (None: the
        STT gave no usable time; its transcript then accounts for all audio fed so far)."""
        at = self.clock_of(end) if end is not None else None
        if at is None:
            self.covered = self.pos
            return
        assert end is not None
        self.covered = max(self.covered, min(end, self.pos))
        self._lags.append(max(0.0, arrived - at))

    def accounted(self, end: float) -> None:
        """The audio up to stream time ``end`` is explained by something other than a transcript (the sound
        classifier heard music or ringing there): the navigator need not wait for words in it."""
        self.covered = max(self.covered, min(end, self.pos))
        self._trim()

    def lag(self) -> float:
        """The STT's recent lag: how long after the audio its transcripts arrive (the largest of the last few)."""
        return max(self._lags) if self._lags else self.settings.initial_lag

    def known_until(self, now: float) -> float:
        """Clock time up to which the line is known (transcribed, or heard quiet), at ``now``."""
        s = self.settings
        wait = min(s.max_lag, s.lag_factor * self.lag() + s.lag_margin)
        for sound in list(self._sounds):
            begin = max(sound.start, self.covered)
            if sound.end <= begin or min(sound.loud, sound.end - begin) < s.min_sound:
                continue
            onset = self.clock_of(begin)
            if onset is None:
                return now
            if onset >= now - wait:
                return min(now, onset)
            self.covered = max(self.covered, sound.end)  # waited long enough: a sound without words
        self._trim()
        return now
