"""Robustness under duplicated, hostile and oversized input (issue #16).

    .venv/bin/python -m bench.hostile [--seeds 10] [--events 4000] [--quick]

Writes bench/results/hostile.json:

* ``duplicates``: every goal of every bundled menu at 0% WER with every final delivered twice (and at 15% WER
  over seeds), reached when the line really is at the goal;
* ``holds``: goals behind a hold, with hold messages quoting other menus' openings (and finals twice): exits
  from the hold while the line was still holding ("unwarranted"), and how many goals were reached;
* ``fuzz``: ``ivrnav.sim.hostile.fuzz_stream`` event streams (prompts as interims/finals, finals twice,
  NaN/infinite/backwards times, 16 growing interims of utterances up to 200 KB, bare ticks) per menu: results
  that are not strict JSON, the most transcript characters and context tokens per event, events per second;
* ``oversized``: wall time of one 1 MB final and of 16 growing interims of it (each event timed), against
  the same navigator with the intake's bounds lifted (what it cost before);
* ``metadata``: hostile dispatch metadata through ``parse_job``: every one refused, with the time taken.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

from ivrnav.menu.compiler import compile_file
from ivrnav.menu.lint import reachable
from ivrnav.menu.model import exits
from ivrnav.navigate.events import Heard
from ivrnav.navigate.intake import Intake, IntakeLimits
from ivrnav.navigate.navigator import Navigator
from ivrnav.sim.hostile import run_call, run_fuzz

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "hostile.json"
MENUS = sorted((ROOT / "menus").glob("*.yaml"))
MEGABYTE = 1 << 20


def _strict(data: object) -> bool:
    try:
        json.dumps(data, allow_nan=False)
    except ValueError:
        return False
    return True


def duplicates(seeds: int) -> dict:
    out: dict = {}
    for wer, runs in ((0.0, 1), (0.15, seeds)):
        n = ok = strict = 0
        failed: list[str] = []
        for path in MENUS:
            mf = compile_file(path).menu_file
            for goal in sorted(g for g in reachable(mf) if g != mf.start):
                for seed in range(runs):
                    call = run_call(mf, goal, wer=wer, seed=seed, duplicate_finals=True)
                    n += 1
                    good = call.result.reached and call.line_visited[-1] == goal
                    ok += good
                    strict += _strict(call.result.to_dict())
                    if not good and wer == 0.0:
                        failed.append(f"{path.stem}.{goal}: {call.result.reason}")
        out[f"wer_{wer:.2f}"] = {"calls": n, "reached": ok, "rate": ok / n, "strict_json": strict, "failed": failed}
    return out


def holds(seeds: int) -> dict:
    out: dict = {}
    for wer in (0.0, 0.10):
        for label, messages in (("quoting_messages", True), ("silent_hold", False)):
            n = ok = held = unwarranted = injected = 0
            for path in MENUS:
                mf = compile_file(path).menu_file
                goals = {e.to for m in mf.menus.values() if m.hold for e in exits(mf, m.name)} & reachable(mf)
                for goal in sorted(goals):
                    for seed in range(seeds):
                        call = run_call(mf, goal, wer=wer, seed=seed, hold_messages=messages, duplicate_finals=True)
                        n += 1
                        ok += call.result.reached and call.line_visited[-1] == goal
                        held += call.holds
                        unwarranted += call.unwarranted_hold_exits
                        injected += call.hold_messages
            out[f"{label}@{wer:.2f}"] = {"calls": n, "reached": ok, "holds": held, "hold_messages": injected,
                                         "unwarranted_hold_exits": unwarranted}
    return out


def fuzz(seeds: int, events: int) -> dict:
    out: dict = {"streams": 0, "events": 0, "results": 0, "non_strict_json": 0, "max_chars_per_event": 0,
                 "max_context_tokens": 0, "dropped": {}, "seconds": 0.0}
    dropped: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for path in MENUS:
        mf = compile_file(path).menu_file
        goals = sorted(g for g in reachable(mf) if g != mf.start)
        rng = random.Random(path.stem)
        for seed in range(seeds):
            t0 = time.perf_counter()
            run = run_fuzz(mf, rng.choice(goals), seed, events)
            out["seconds"] += time.perf_counter() - t0
            out["streams"] += 1
            out["events"] += run.events
            out["results"] += len(run.results)
            out["non_strict_json"] += sum(not _strict(r.to_dict()) for r in run.results)
            out["max_chars_per_event"] = max(out["max_chars_per_event"], run.max_chars)
            out["max_context_tokens"] = max(out["max_context_tokens"], run.max_context)
            for kind, count in run.dropped.items():
                dropped[kind] = dropped.get(kind, 0) + count
            for result in run.results:
                reasons[result.reason] = reasons.get(result.reason, 0) + 1
    out["dropped"] = dropped
    out["reasons"] = reasons
    out["events_per_s"] = out["events"] / out["seconds"] if out["seconds"] else None
    out["seconds"] = round(out["seconds"], 2)
    return out


def _timed_events(text: str, interims: int, bounded: bool) -> list[float]:
    nav = Navigator(compile_file(ROOT / "menus" / "bank.yaml").menu_file, "cards")
    if not bounded:  # what the navigator cost before the intake bounded transcripts
        nav.intake = Intake(limits=IntakeLimits(max_utterance_chars=1 << 40, max_utterance_words=1 << 40,
                                                max_context_tokens=1 << 40))
    times = []
    steps = [len(text)] if interims == 0 else [len(text) * k // interims for k in range(1, interims + 1)]
    for i, size in enumerate(steps):
        event = Heard(text[:size], i == len(steps) - 1, 0.0, 1.0 + i)
        t0 = time.perf_counter()
        nav.handle(event)
        times.append(time.perf_counter() - t0)
    return times


def oversized(repeat: int, unbounded: bool) -> dict:
    unit = "Thank you for calling Acme Bank. Calls may be monitored or recorded. "
    text = unit * (MEGABYTE // len(unit) + 1)
    out: dict = {"bytes": len(text)}
    for label, interims in (("one_final", 0), ("16_growing_interims", 16)):
        runs = [_timed_events(text, interims, True) for _ in range(repeat)]
        per_event = [t for run in runs for t in run]
        out[label] = {"events": len(per_event), "max_event_s": round(max(per_event), 4),
                      "median_event_s": round(statistics.median(per_event), 4),
                      "total_s": round(statistics.median(sum(run) for run in runs), 4)}
        if unbounded and interims == 0:
            before = _timed_events(text, interims, False)
            out[label]["unbounded_total_s"] = round(sum(before), 3)
    return out


def metadata() -> dict:
    from ivrnav.livekit.worker import JobRequestError, WorkerConfig, parse_job

    bank = (ROOT / "menus" / "bank.yaml").read_text()
    header = "ivrnav: 1\nname: x\nstart: a\nmenus:\n  a:\n    prompt: "
    cases = {
        "deep_flow_80KB": json.dumps({"menu": header + "[" * 40_000 + "]" * 40_000 + "\n"}),
        "deep_compact_40KB": json.dumps({"menu": header.rstrip() + "\n      " + "- " * 20_000 + "x\n"}),
        "redos_var_default": json.dumps({"menu": bank.replace(
            'pin: {secret: true, pattern: "^[0-9]{4}$"',
            'pin: {secret: true, default: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", pattern: "^(a+)+$"')}),
        "redos_listen": json.dumps({"menu": bank.replace('listen: ["re:my name is \\\\w+"',
                                                         'listen: ["re:(\\\\w+\\\\s?)+$"')}),
        "oversized_300KB": json.dumps({"menu": bank + "#" * 300_000}),
        "deep_json": "[" * 50_000 + "]" * 50_000,
        "not_json": "{menu: bank",
    }
    out: dict = {}
    for name, md in cases.items():
        t0 = time.perf_counter()
        try:
            parse_job(md, WorkerConfig())
            verdict = "accepted"
        except JobRequestError as exc:
            verdict = f"refused: {str(exc)[:120]}"
        out[name] = {"verdict": verdict, "seconds": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    parse_job(json.dumps({"menu": bank, "goal": "agent"}), WorkerConfig())
    out["good_inline_menu"] = {"verdict": "accepted", "seconds": round(time.perf_counter() - t0, 2)}
    out["refused"] = sum(v["verdict"].startswith("refused") for k, v in out.items() if k != "good_inline_menu")
    out["hostile"] = len(cases)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per goal / stream (default 10)")
    parser.add_argument("--events", type=int, default=4000, help="events per fuzz stream (default 4000)")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 1000 events, no metadata or unbounded runs")
    args = parser.parse_args(argv)
    seeds, events = (2, 1000) if args.quick else (args.seeds, args.events)
    report: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform()},
                    "seeds": seeds, "events_per_stream": events}
    started = time.perf_counter()
    for name, run in (("duplicates", lambda: duplicates(seeds)), ("holds", lambda: holds(seeds)),
                      ("fuzz", lambda: fuzz(seeds, events)),
                      ("oversized", lambda: oversized(1 if args.quick else 3, not args.quick)),
                      ("metadata", (lambda: {}) if args.quick else metadata)):
        t0 = time.perf_counter()
        report[name] = run()
        print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    targets = {
        "every bundled goal reached with duplicated finals": not report["duplicates"]["wer_0.00"]["failed"],
        "0 non-strict JSON results": report["fuzz"]["non_strict_json"] == 0,
        "bounded transcript per event": report["fuzz"]["max_chars_per_event"] <= IntakeLimits().max_utterance_chars,
        "0 unwarranted hold exits": all(v["unwarranted_hold_exits"] == 0 for v in report["holds"].values()),
    }
    if report["metadata"]:
        targets["every hostile job refused"] = report["metadata"]["refused"] == report["metadata"]["hostile"]
    for what, ok in targets.items():
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
