"""Running a crawl: one probe call after another against a line, until the map is done or the budget is.

The crawl loop is the adapter around the sans-I/O explorer and probe. ``SimulatedCalls`` places calls on
the simulated line of a menu file (the embedded default: the file stands in for an unknown IVR and the
crawler hears only its transcripts); any other ``place_call`` that runs a probe to its end (the audio
path, a LiveKit dial-out) plugs in the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ivrnav.discover.explorer import Explorer, Frontier
from ivrnav.discover.probe import Probe, ProbeResult, ProbeSettings, Step
from ivrnav.menu.model import MenuFile
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.noise import Noise
from ivrnav.sim.runner import CallRunner


class PlaceCall(Protocol):
    def __call__(self, probe: Probe, call_number: int) -> list[dict]:
        """Run ``probe`` on one call to its end; return the call's trace records."""
        ...


@dataclass
class SimulatedCalls:
    """Calls to the simulated line of ``line_file`` on a virtual clock, each with its own noise seed.
    ``line_type``: the line class (a benchmark's records where it was); the latest call's line is ``last_line``."""

    line_file: MenuFile
    wer: float = 0.0
    seed: int = 0
    line_type: type[SimulatedLine] = SimulatedLine

    def __call__(self, probe: Probe, call_number: int) -> list[dict]:
        line = self.line_type(self.line_file, noise=Noise(self.wer), seed=self.seed * 100_003 + call_number)
        runner = CallRunner(probe, line)  # type: ignore[arg-type]  # the probe speaks the navigator protocol
        self.last_line = line
        while runner.step():
            pass
        if probe.result is None:  # the runner gave up on a line that went silent forever
            probe.handle_end("the line went silent")
        return runner.trace


@dataclass
class AudioCalls:
    """Calls to the simulated line of ``line_file`` through audio: its prompts spoken by Piper (or played
    from the line's recordings) through a telephone channel and heard by the offline Whisper STT, the
    probe's keys sent as in-band DTMF tones. The recogniser gets no key terms: the line is unknown.
    ``line_type`` and ``last_line`` as for ``SimulatedCalls``."""

    line_file: MenuFile
    seed: int = 0
    engines: object | None = None  # ivrnav.speech.audio_call.SpeechEngines, loaded once for every call
    line_type: type[SimulatedLine] = SimulatedLine

    def __call__(self, probe: Probe, call_number: int) -> list[dict]:
        from ivrnav.speech.audio_call import SpeechEngines, run_audio_probe

        if self.engines is None:
            self.engines = SpeechEngines.default()
        seed = self.seed * 100_003 + call_number
        self.last_line = self.line_type(self.line_file, seed=seed)
        call = run_audio_probe(probe, self.line_file, seed=seed, engines=self.engines,  # type: ignore[arg-type]
                               line=self.last_line)
        if probe.result is None:
            probe.handle_end("the line went silent")
        return call.trace


@dataclass(frozen=True)
class Progress:
    calls: int
    menus: int
    queue: int
    line_minutes: float
    last: str


def crawl(
    explorer: Explorer,
    place_call: PlaceCall,
    *,
    settings: ProbeSettings | None = None,
    secrets: list[str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_call: Callable[[int, Frontier | None, ProbeResult], None] | None = None,
    traces_dir: str | os.PathLike[str] | None = None,
    state_path: str | os.PathLike[str] | None = None,
) -> str:
    """Explore until done; returns why the crawl stopped ("done" or the budget that ran out)."""
    while True:
        if explorer.root is None and explorer.root_tries >= 3:
            return "the line played no prompt in 3 calls"
        spent = explorer.budget_left()
        if spent:
            return spent
        if explorer.root is not None and not explorer.queue:
            return "done"
        steps, trial, item = explorer.next_call()
        probe = Probe(steps, trial, settings=settings, secrets=secrets)
        number = explorer.calls + 1
        trace = place_call(probe, number)
        assert probe.result is not None
        explorer.record(item, probe.result)
        if traces_dir is not None:
            _write_trace(Path(traces_dir) / f"call-{number:04d}.jsonl", trace, item, probe.result)
        if state_path is not None:
            save_state(explorer, state_path)
        if on_call is not None:
            on_call(number, item, probe.result)
        if on_progress is not None:
            what = "first call" if item is None else f"{item.node} key {item.key}"
            on_progress(Progress(explorer.calls, len(explorer.nodes), len(explorer.queue),
                                 explorer.line_seconds / 60, f"{what}: {probe.result.reason}"))


def _write_trace(path: Path, trace: list[dict], item: Frontier | None, result: ProbeResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        head = {"kind": "probe", "node": item.node if item else None, "key": item.key if item else None}
        handle.write(json.dumps(head, allow_nan=False) + "\n")
        for record in trace:
            handle.write(json.dumps(record, allow_nan=False, default=str) + "\n")
        handle.write(json.dumps({"kind": "probe_result", "reached": result.reached, "reason": result.reason,
                                 "detail": result.detail, "line_time": round(result.line_time, 3)},
                                allow_nan=False) + "\n")


def save_state(explorer: Explorer, path: str | os.PathLike[str]) -> None:
    """Write the crawl state atomically (a crash mid-write never loses the previous state)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(explorer.to_json(), indent=1, allow_nan=False), encoding="utf-8")
    os.replace(tmp, target)


def load_state(path: str | os.PathLike[str], **kwargs: object) -> Explorer:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Explorer.from_json(data, **kwargs)  # type: ignore[arg-type]


__all__ = ["AudioCalls", "Progress", "SimulatedCalls", "Step", "crawl", "load_state", "save_state"]
