"""The benchmark's progress lines (stderr): a line per stage and per tenth of the calls, with the count."""

from __future__ import annotations

import io

from bench.progress import Progress, stage


def test_progress_reports_each_tenth_and_the_end():
    out = io.StringIO()
    ticks = iter(float(i) for i in range(1000))
    progress = Progress("calls", 25, stream=out, every=0.2, clock=lambda: next(ticks))
    for _ in range(25):
        progress.advance()
    progress.finish("75 calls")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[bench] calls: started (25 to do)"
    counts = [line.split(": ", 1)[1].split(" ", 1)[0] for line in lines[1:-1]]
    assert counts == ["5/25", "10/25", "15/25", "20/25", "25/25"]
    assert "left" in lines[1] and "left" not in lines[-2]
    assert lines[-1].startswith("[bench] calls: done in ") and lines[-1].endswith("; 75 calls")


def test_progress_with_chunks_larger_than_a_step_prints_once_per_advance():
    out = io.StringIO()
    progress = Progress("x", 10, stream=out, every=0.1, clock=lambda: 1.0)
    progress.advance(7)
    progress.advance(3)
    assert [line.split(": ", 1)[1].split(" ")[0] for line in out.getvalue().splitlines()[1:]] == ["7/10", "10/10"]


def test_stage_line():
    out = io.StringIO()
    stage("perf: compile", out)
    assert out.getvalue() == "[bench] perf: compile ...\n"
