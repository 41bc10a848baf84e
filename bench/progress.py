"""Progress lines on stderr for the long benchmark stages (stdout keeps the results summary)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def stage(text: str, stream: TextIO | None = None) -> None:
    """One line when a stage without a useful count starts."""
    out = stream if stream is not None else sys.stderr
    out.write(f"[bench] {text} ...\n")
    out.flush()


class Progress:
    """``stage ... n/total (p%), elapsed, eta`` on ``stream``, at most once per ``every`` of the total."""

    def __init__(self, stage: str, total: int, *, stream: TextIO | None = None, every: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stage, self.total, self.done = stage, max(total, 0), 0
        self._stream = stream if stream is not None else sys.stderr
        self._step = max(1, int(self.total * every))
        self._next = self._step
        self._clock = clock
        self._t0 = clock()
        self._line(f"{stage}: started ({self.total} to do)")

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self._next or self.done == self.total:
            while self._next <= self.done:
                self._next += self._step
            elapsed = self._clock() - self._t0
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = f", ~{(self.total - self.done) / rate:.0f}s left" if rate and self.done < self.total else ""
            pct = 100 * self.done / self.total if self.total else 100.0
            self._line(f"{self.stage}: {self.done}/{self.total} ({pct:.0f}%), {elapsed:.0f}s{eta}")

    def finish(self, note: str = "") -> None:
        self._line(f"{self.stage}: done in {self._clock() - self._t0:.1f}s{'; ' + note if note else ''}")

    def _line(self, text: str) -> None:
        self._stream.write(f"[bench] {text}\n")
        self._stream.flush()
