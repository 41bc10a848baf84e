"""The real phone trees: each is a line (the source's exact prompts and timing) and a map written from memory.

``trees()`` loads them all; ``run(tree, goal, system, wer, seed)`` plays one call with ivrnav, a baseline or
the oracle against the tree's line and judges it by the line's own position, like bench/calls.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.baselines import EndOfTurnNavigator, KeywordNavigator, OracleNavigator
from bench.calls import RecordingLine
from ivrnav.menu.compiler import compile_file
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.navigator import Navigator
from ivrnav.navigate.plan import NoRoute
from ivrnav.sim.noise import Noise
from ivrnav.sim.runner import CallRunner, demo_values

HERE = Path(__file__).resolve().parent
MAX_STEPS = 200_000


@dataclass(frozen=True)
class Tree:
    name: str
    line: MenuFile
    map: MenuFile
    goals: tuple[str, ...]


def trees(root: Path = HERE) -> list[Tree]:
    goals = yaml.safe_load((root / "goals.yaml").read_text())
    out = []
    for line_path in sorted(root.glob("*.line.yaml")):
        name = line_path.name.removesuffix(".line.yaml")
        out.append(Tree(name, compile_file(line_path).menu_file, compile_file(root / f"{name}.map.yaml").menu_file,
                        tuple(goals[name])))
    return out


def run(tree: Tree, goal: str, system: str, wer: float, seed: int) -> dict:
    """One call; ``reached`` is the line's judgement (it entered the goal), ``claimed`` the navigator's."""
    sim = RecordingLine(tree.line, noise=Noise(wer), seed=seed)
    values = demo_values(tree.map, None)
    if system == "ivrnav":
        nav = Navigator(tree.map, goal, values)
    elif system == "keyword":
        nav = KeywordNavigator(tree.map, goal, values)
    elif system == "end_of_turn":
        nav = EndOfTurnNavigator(tree.map, goal, values)
    else:
        try:
            nav = OracleNavigator(tree.line, sim, goal, demo_values(tree.line, None))
        except NoRoute:  # the goal is reached only by the line's own behaviour (a free-form entry): no plan
            return {"tree": tree.name, "goal": goal, "system": system, "wer": wer, "seed": seed, "reached": False,
                    "time": None, "keys": 0, "claimed": False, "false_success": False, "reason": "no_route",
                    "detail": "the oracle plans on options only", "visited": []}
    runner = CallRunner(nav, sim, keep_trace=False)
    steps = 0
    while runner.step() and steps < MAX_STEPS:
        steps += 1
        if system != "ivrnav" and any(name == goal for name, _ in sim.entered):
            break
    goal_at = next((t for name, t in sim.entered if name == goal), None)
    result = nav.result
    claimed = bool(result and result.reached)
    at_goal = bool(sim.visited) and sim.visited[-1] == goal
    return {
        "tree": tree.name, "goal": goal, "system": system, "wer": wer, "seed": seed,
        "reached": goal_at is not None, "time": goal_at, "keys": len(sim.keys_received),
        "claimed": claimed,
        # a claim is false when the line never entered the goal, or had already left it when the claim was made
        "false_success": claimed and not (goal_at is not None and (at_goal or system != "ivrnav")),
        "reason": result.reason if result else "stopped",
        "detail": result.detail if result else "",
        "visited": list(sim.visited),
    }
