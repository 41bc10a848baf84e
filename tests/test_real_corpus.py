"""The real phone trees in bench/real: every line and map compiles, every goal is reachable on both, and a
simulated pass over the corpus at 0% WER never claims a goal the line is not at."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench.real import HERE, run, trees
from ivrnav.menu.compiler import compile_file
from ivrnav.menu.lint import reachable

LINES = sorted(HERE.glob("*.line.yaml"))
GOALS = yaml.safe_load((HERE / "goals.yaml").read_text())


def test_corpus_has_at_least_twenty_trees_each_with_a_map_and_goals():
    names = [p.name.removesuffix(".line.yaml") for p in LINES]
    assert len(names) >= 20
    assert sorted(names) == sorted(GOALS)
    for name in names:
        assert (HERE / f"{name}.map.yaml").exists(), name


@pytest.mark.parametrize("line_path", LINES, ids=lambda p: p.name.removesuffix(".line.yaml"))
def test_tree_compiles_and_goals_are_reachable(line_path: Path):
    name = line_path.name.removesuffix(".line.yaml")
    line = compile_file(line_path).menu_file
    tree_map = compile_file(HERE / f"{name}.map.yaml").menu_file
    text = line_path.read_text()
    assert "Provenance:" in text and "Timing:" in text, "a line names its source and its timing"
    on_line, on_map = reachable(line), reachable(tree_map)
    for goal in GOALS[name]:
        assert goal in line.menus and goal in on_line, f"{goal} is not reachable on the line"
        assert goal in tree_map.menus and goal in on_map, f"{goal} is not reachable on the map"


def test_no_false_success_over_the_corpus_at_zero_wer():
    claims = []
    for tree in trees():
        for goal in tree.goals:
            row = run(tree, goal, "ivrnav", 0.0, 0)
            if row["false_success"]:
                claims.append((tree.name, goal, row["detail"], row["visited"]))
            if row["claimed"]:
                assert row["visited"][-1] == goal, (tree.name, goal, row["visited"])
    assert not claims
