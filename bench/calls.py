"""Run one simulated call with any system, judged by the line itself (when it entered the goal menu)."""

from __future__ import annotations

from bench.baselines import EndOfTurnNavigator, KeywordNavigator, OracleNavigator
from bench.corpus import Line
from ivrnav.navigate.navigator import Navigator
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.noise import Noise
from ivrnav.sim.runner import CallRunner, demo_values

SYSTEMS = ("ivrnav", "keyword", "end_of_turn")


class RecordingLine(SimulatedLine):
    """A simulated line that remembers when it entered each menu."""

    def __init__(self, *args, **kwargs):
        self.entered: list[tuple[str, float]] = []
        super().__init__(*args, **kwargs)

    def _goto(self, name: str, at: float) -> None:
        self.entered.append((name, at))
        super()._goto(name, at)


def run(line: Line, system: str, wer: float, seed: int) -> dict:
    nav_file = line.nav_file
    goal = nav_file.goal or ""
    sim = RecordingLine(line.line_file, noise=Noise(wer), seed=seed)
    values = demo_values(nav_file, None)
    if system == "ivrnav":
        nav = Navigator(nav_file, goal, values)
    elif system == "keyword":
        nav = KeywordNavigator(nav_file, goal, values)
    elif system == "end_of_turn":
        nav = EndOfTurnNavigator(nav_file, goal, values)
    else:
        nav = OracleNavigator(nav_file, sim, goal, values)
    runner = CallRunner(nav, sim, keep_trace=False)
    goal_at = None
    steps = 0
    while runner.step():
        steps += 1
        if goal_at is None:
            goal_at = next((t for name, t in sim.entered if name == goal), None)
        if goal_at is not None and system != "ivrnav":
            break
        if steps > 200_000:
            break
    if goal_at is None:
        goal_at = next((t for name, t in sim.entered if name == goal), None)
    result = nav.result
    return {
        "system": system,
        "ivr": line.ivr,
        "variant": line.variant,
        "wer": wer,
        "seed": seed,
        "reached": goal_at is not None,
        "time": goal_at,
        "keys": len(sim.keys_received),
        "retries": result.timing.retries if result is not None else 0,
        "claimed": bool(result and result.reached),
        "reason": result.reason if result else "stopped",
    }
