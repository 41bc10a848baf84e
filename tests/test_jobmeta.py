"""Job metadata is untrusted input (issue #16): hostile inline menus are refused with a clear reason, never a
crashed or stalled worker. Checks that could crash or stall run in a child interpreter of their own, so a
regression fails the test instead of taking pytest down."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ivrnav.livekit import jobmeta
from ivrnav.livekit.worker import JobRequestError, WorkerConfig, parse_job

ROOT = Path(__file__).resolve().parent.parent
BANK = (ROOT / "menus" / "bank.yaml").read_text()
HEADER = "ivrnav: 1\nname: x\nstart: a\nmenus:\n  a:\n    prompt: "


def _job(menu: str, **extra) -> str:
    return json.dumps({"menu": menu, **extra})


def _parse_on_a_job_thread(metadata: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
    """``parse_job`` on a thread (as the worker runs jobs), in a child interpreter: a crash or stall there
    is a failed assertion here."""
    script = textwrap.dedent("""
        import sys, threading
        from ivrnav.livekit.worker import JobRequestError, WorkerConfig, parse_job
        metadata = sys.stdin.read()
        def job():
            try:
                parse_job(metadata, WorkerConfig())
                print("accepted")
            except JobRequestError as exc:
                print("refused:", exc)
        thread = threading.Thread(target=job)
        thread.start()
        thread.join()
    """)
    return subprocess.run([sys.executable, "-c", script], input=metadata, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, check=False)


def test_a_deeply_nested_inline_menu_is_refused_without_crashing_the_job_thread():
    metadata = _job(HEADER + "[" * 40_000 + "]" * 40_000 + "\n")  # 80 KB: libyaml's composer overflows the stack
    assert len(metadata) < jobmeta.MAX_METADATA_BYTES
    done = _parse_on_a_job_thread(metadata)
    assert done.returncode == 0, f"job thread died (exit {done.returncode})"  # was SIGSEGV (-11)
    assert "refused: <metadata>:6:" in done.stdout and "nested too deeply" in done.stdout


def test_compact_block_nesting_is_bounded_too():
    with pytest.raises(JobRequestError, match="nested too deeply"):
        parse_job(_job(HEADER.rstrip() + "\n      " + "- " * 20_000 + "x\n"), WorkerConfig())


def test_a_catastrophic_regex_in_an_inline_menu_is_refused_not_run():
    """A var pattern with a default compiles by matching the default: ``(a+)+$`` on "aaa...!" never ends."""
    menu = BANK.replace('pin: {secret: true, pattern: "^[0-9]{4}$"',
                        'pin: {secret: true, default: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", pattern: "^(a+)+$"')
    assert menu != BANK
    done = _parse_on_a_job_thread(_job(menu, goal="agent"), timeout=jobmeta.COMPILE_TIMEOUT * 4)
    assert done.returncode == 0
    assert "refused: the inline menu did not compile within" in done.stdout


def test_a_listen_regex_that_backtracks_catastrophically_is_refused(monkeypatch):
    """Compiling it is quick, but a transcript window would stall the call: the probes find it."""
    monkeypatch.setattr(jobmeta, "COMPILE_TIMEOUT", 6.0)  # it never ends: no need to wait the full timeout
    menu = BANK.replace('listen: ["re:my name is \\\\w+"', 'listen: ["re:(\\\\w+\\\\s?)+$"')
    assert menu != BANK
    with pytest.raises(JobRequestError, match="did not compile within"):
        parse_job(_job(menu, goal="agent"), WorkerConfig())


def test_oversized_or_deeply_nested_metadata_is_refused():
    with pytest.raises(JobRequestError, match="larger than 128 KiB"):
        parse_job(_job(BANK + "#" * 200_000), WorkerConfig())
    with pytest.raises(JobRequestError, match="nested more than"):
        parse_job("[" * 50_000 + "]" * 50_000, WorkerConfig())  # json.loads raised RecursionError: a dead job
    with pytest.raises(JobRequestError, match="not JSON"):
        parse_job("{nope", WorkerConfig())


def test_a_good_inline_menu_is_still_accepted():
    request = parse_job(_job(BANK, goal="agent"), WorkerConfig())
    assert request.goal == "agent" and "queue" in request.menu_file.menus


def test_the_depth_bound_never_undercounts_the_loaders_own_depth():
    for text in (HEADER + "[" * 70 + "]" * 70, HEADER + "{a: " * 70 + "1" + "}" * 70,
                 HEADER.rstrip() + "\n" + "".join(" " * (6 + 2 * i) + "- \n" for i in range(70))):
        depth, _line, _col = jobmeta.yaml_depth_bound(text)
        assert depth >= 70
    depth, _, _ = jobmeta.yaml_depth_bound(BANK)
    assert depth < jobmeta.MAX_NESTING // 4
