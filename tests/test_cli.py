"""The `ivrnav` command as users run it."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrnav.cli import main

ROOT = Path(__file__).resolve().parent.parent
MENUS = sorted((ROOT / "menus").glob("*.yaml"))
BANK = str(ROOT / "menus" / "bank.yaml")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_all_menus_strict():
    result = invoke("validate", "--strict", *map(str, MENUS))
    assert result.exit_code == 0, result.output


def test_validate_errors_and_warnings_exit_codes():
    bad = invoke("validate", str(ROOT / "tests" / "bad" / "press_not_a_key.yaml"))
    assert bad.exit_code == 1
    warn_file = next((ROOT / "tests" / "warn").glob("*.yaml"))
    assert invoke("validate", str(warn_file)).exit_code == 0
    assert invoke("validate", "--strict", str(warn_file)).exit_code == 3


def test_schema_is_printed_as_json():
    data = json.loads(invoke("schema").output)
    assert data["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.stem)
def test_route_and_graph_for_every_menu(path, tmp_path):
    route = invoke("route", str(path))
    assert route.exit_code == 0, route.output
    for suffix in ("mmd", "dot", "svg"):
        out = tmp_path / f"g.{suffix}"
        result = invoke("graph", str(path), "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 200


def test_route_masks_secrets():
    result = invoke("route", BANK, "--goal", "transactions", "--var", "account=8642097531", "--var", "pin=2468")
    assert result.exit_code == 0
    assert "8642097531" not in result.output and "2468" not in result.output
    assert "••••" in result.output


def test_route_unknown_goal_is_a_clear_error():
    result = invoke("route", BANK, "--goal", "nowhere")
    assert result.exit_code == 2
    assert "nowhere" in result.output and "Traceback" not in result.output


def test_run_shows_timeline_and_verdict():
    result = invoke("run", BANK)
    assert result.exit_code == 0
    assert "REACHED agent" in result.output
    assert "line" in result.output and "keys" in result.output


def test_run_json_trace_and_secrets(tmp_path):
    trace = tmp_path / "trace.jsonl"
    result = invoke("run", BANK, "--goal", "transactions", "--json", "--trace", str(trace),
                    "--var", "account=1234567890", "--var", "pin=9876", "--wer", "0.1", "--seed", "3")
    data = json.loads(result.output)
    assert data["reached"] is True and data["goal"] == "transactions"
    assert {"path", "drift", "unrecognised", "timing", "digits"} <= set(data)
    text = trace.read_text() + result.output
    assert "1234567890" not in text and "9876" not in text
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert records[-1]["kind"] == "result"
    assert any(r["kind"] == "send_digits" for r in records)


def test_run_failure_exits_1_with_reason(tmp_path):
    result = invoke("run", BANK, "--goal", "balances_menu", "--var", "account=5555555555", "--var", "pin=1111")
    assert result.exit_code == 1
    assert "FAILED" in result.output


def test_bad_var_value_is_refused_without_echo():
    result = invoke("run", BANK, "--var", "account=12ab")
    assert result.exit_code == 2
    assert "12ab" not in result.output and "pattern" in result.output


def test_malformed_file_names_file_line_column(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("ivrnav: 1\nname: x\nstart: a\nmenus:\n  a:\n    prompt: hi\n    promtp: x\n")
    result = invoke("run", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:7:5" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(shutil.which("ivrnav") is None and not (Path(sys.executable).parent / "ivrnav").exists(),
                    reason="console script not installed")
def test_console_script_runs():
    exe = shutil.which("ivrnav") or str(Path(sys.executable).parent / "ivrnav")
    proc = subprocess.run([exe, "run", BANK, "--goal", "fraud"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "REACHED fraud" in proc.stdout


def test_realtime_mode_paces_and_reaches_the_goal():
    result = invoke("run", BANK, "--goal", "fraud", "--realtime", "--speed", "100")
    assert result.exit_code == 0
    assert "REACHED fraud" in result.output


def test_graph_draws_the_path_a_call_took_with_drift_dashed(tmp_path):
    """`run --trace` records every machine transition; `graph --trace` draws them over the map."""
    import yaml

    from ivrnav.sim import drift

    data = yaml.safe_load(Path(BANK).read_text())
    changed, _ = drift.new_menu(data, menu="cards")  # a prompt the file does not know, on the way to lost_card
    line = tmp_path / "line.yaml"
    line.write_text(yaml.safe_dump(changed))
    trace = tmp_path / "trace.jsonl"
    ran = invoke("run", BANK, "--goal", "lost_card", "--line", str(line), "--trace", str(trace), "--json")
    assert ran.exit_code == 0, ran.output
    steps = [json.loads(x) for x in trace.read_text().splitlines() if '"transition"' in x]
    assert [(s["trigger"], s["source"], s["dest"]) for s in steps[:2]] == [
        ("answer", "dialling", "welcome"), ("advance", "welcome", "language")]
    assert ("relocate", "main", "unknown") in {(s["trigger"], s["source"], s["dest"]) for s in steps}
    assert steps[-1]["dest"] == "reached" and all(a["at"] <= b["at"] for a, b in itertools.pairwise(steps))
    out = tmp_path / "path.dot"
    drawn = invoke("graph", BANK, "--goal", "lost_card", "--trace", str(trace), "-o", str(out))
    assert drawn.exit_code == 0, drawn.output
    dot = out.read_text()
    assert 'main -> unknown [label="drift #' in dot and "style=dashed" in dot
    assert 'welcome -> language [label="next #2" color="#1971c2"' in dot


def test_graph_refuses_a_trace_of_another_file(tmp_path):
    trace = tmp_path / "trace.jsonl"
    trace.write_text(json.dumps({"kind": "transition", "trigger": "press_1", "source": "nowhere", "dest": "main"})
                     + "\n")
    result = invoke("graph", BANK, "--trace", str(trace), "-o", str(tmp_path / "g.dot"))
    assert result.exit_code != 0 and "nowhere" in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{}\n")
    result = invoke("graph", BANK, "--trace", str(empty), "-o", str(tmp_path / "g.dot"))
    assert result.exit_code != 0 and "no machine transitions" in result.output
