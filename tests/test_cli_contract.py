"""The command line's contract for scripts and CI: one diagnostic per line, distinct exit codes, flags that
cannot apply refused, LiveKit/STT settings from the environment, Ctrl-C exits 130."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrnav.cli import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WARN, main

ROOT = Path(__file__).resolve().parent.parent
BANK = str(ROOT / "menus" / "bank.yaml")
EXE = Path(sys.executable).parent / "ivrnav"
NO_LIVEKIT_ENV = {k: "" for k in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_SIP_TRUNK_ID",
                                  "LIVEKIT_AGENT_NAME", "DEEPGRAM_API_KEY", "IVRNAV_STT")}


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env={**NO_LIVEKIT_ENV, **(env or {})})


def test_exit_codes_are_distinct():
    assert len({0, EXIT_FAIL, EXIT_USAGE, EXIT_WARN, EXIT_INTERRUPTED}) == 5
    warn_file = next((ROOT / "tests" / "warn").glob("*.yaml"))
    assert invoke("validate", "--strict", str(warn_file)).exit_code == EXIT_WARN
    assert invoke("validate", str(ROOT / "tests" / "bad" / "press_not_a_key.yaml")).exit_code == EXIT_FAIL
    assert invoke("run", BANK, "--goal", "nowhere").exit_code == EXIT_USAGE


@pytest.mark.skipif(not EXE.exists(), reason="console script not installed")
def test_diagnostics_one_per_line_when_piped_to_a_narrow_terminal(tmp_path: Path):
    deep = tmp_path / ("a-rather-long-directory-name-for-menus" * 2) / "press_not_a_key_with_a_long_name.yaml"
    deep.parent.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "bad" / "press_not_a_key.yaml", deep)
    done = subprocess.run([str(EXE), "validate", str(deep)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "40"})
    assert done.returncode == EXIT_FAIL
    lines = done.stderr.splitlines()
    assert lines and all(len(line) > 80 for line in lines)
    assert all(re.match(rf"{re.escape(str(deep))}:\d+:\d+: ", line) for line in lines), lines


@pytest.mark.parametrize(("flags", "words"), [
    (("--livekit", "--trace", "t.jsonl"), "--trace"),
    (("--livekit", "--wer", "0.1"), "--wer"),
    (("--livekit", "--audio"), "--audio"),
    (("--livekit", "--line", BANK), "--line"),
    (("--livekit", "--realtime"), "--realtime"),
    (("--trunk", "ST_x"), "--trunk"),
    (("--agent-name", "x"), "--agent-name"),
    (("--speed", "4"), "--speed"),
    (("--audio", "--realtime"), "--audio"),
    (("--audio", "--wer", "0.2"), "--wer"),
])
def test_flags_that_cannot_apply_are_refused(flags: tuple[str, ...], words: str):
    result = invoke("run", BANK, *flags)
    assert result.exit_code == EXIT_USAGE, result.output
    assert words in result.output and "REACHED" not in result.output


def test_livekit_settings_from_the_environment_or_options():
    missing = invoke("worker", "--stt", "offline")
    assert missing.exit_code == EXIT_USAGE and "LIVEKIT_URL" in missing.output
    env = {"LIVEKIT_URL": "ws://127.0.0.1:1", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    # Past the LiveKit settings, the worker asks for the STT's key: the env vars were taken.
    from_env = invoke("worker", env=env)
    assert from_env.exit_code == EXIT_USAGE and "DEEPGRAM_API_KEY" in from_env.output, from_env.output
    from_options = invoke("worker", "--url", "ws://127.0.0.1:1", "--api-key", "k", "--api-secret", "s")
    assert "DEEPGRAM_API_KEY" in from_options.output, from_options.output
    # run --livekit: settings and trunk from the environment; no trunk is the next thing it asks for.
    no_trunk = invoke("run", BANK, "--livekit", env=env)
    assert no_trunk.exit_code == EXIT_USAGE and "trunk" in no_trunk.output, no_trunk.output


def test_stt_choice_from_the_environment():
    bad = invoke("worker", env={"IVRNAV_STT": "whisper"})
    assert bad.exit_code == EXIT_USAGE and "whisper" in bad.output


@pytest.mark.skipif(not EXE.exists(), reason="console script not installed")
def test_ctrl_c_exits_130():
    proc = subprocess.Popen([str(EXE), "run", BANK, "--realtime"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the header: the call is under way
        assert "navigating" in first
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "interrupted" in err and "Traceback" not in err
