"""``python -m bench``: the whole benchmark, results in bench/results/ and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench import corpus, perf
from bench.calls import SYSTEMS, run
from bench.progress import Progress, stage
from bench.report import plots, write_docs
from bench.stats import quantile, wilson

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WERS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.30)

_LINES: list[corpus.Line] = []


def _init(count: int) -> None:
    global _LINES
    _LINES = corpus.build(count, ROOT)


def _work(args: tuple[int, int]) -> list[dict]:
    index, seeds = args
    line = _LINES[index]
    rows = [run(line, "oracle", 0.0, 0)]
    for wer in WERS:
        for seed in range(seeds):
            for system in SYSTEMS:
                row = run(line, system, wer, seed)
                row["line"] = index
                rows.append(row)
    rows[0]["line"] = index
    return rows


def machine() -> dict:
    model = ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def summarise(rows: list[dict], n_lines: int) -> dict:
    oracle = {r["line"]: r["time"] for r in rows if r["system"] == "oracle" and r["reached"]}
    calls = [r for r in rows if r["system"] != "oracle"]
    eot = {(r["line"], r["wer"], r["seed"]): r["time"] for r in calls if r["system"] == "end_of_turn" and r["reached"]}
    out: dict = {
        "success": {},
        "time_vs_oracle": {},
        "time_vs_end_of_turn": {},
        "keys": {},
        "retries": {},
        "false_success": {},
        "by_variant_15": {},
        "failures_15": {},
    }
    for system in SYSTEMS:
        for wer in WERS:
            sel = [r for r in calls if r["system"] == system and r["wer"] == wer]
            ok = sum(r["reached"] for r in sel)
            lo, hi = wilson(ok, len(sel))
            key = f"{system}@{wer:.2f}"
            out["success"][key] = {"n": len(sel), "ok": ok, "rate": ok / len(sel) if sel else 0, "lo": lo, "hi": hi}
            ratios = [r["time"] / oracle[r["line"]] for r in sel if r["reached"] and oracle.get(r["line"])]
            out["time_vs_oracle"][key] = {
                "median": quantile(ratios, 0.5),
                "p95": quantile(ratios, 0.95),
                "n": len(ratios),
            }
            rb = [
                r["time"] / eot[(r["line"], r["wer"], r["seed"])]
                for r in sel
                if r["reached"] and eot.get((r["line"], r["wer"], r["seed"]))
            ]
            out["time_vs_end_of_turn"][key] = {"median": quantile(rb, 0.5), "p95": quantile(rb, 0.95), "n": len(rb)}
            out["keys"][key] = statistics.fmean(r["keys"] for r in sel) if sel else None
            out["retries"][key] = statistics.fmean(r["retries"] for r in sel) if sel else None
            out["false_success"][key] = sum(r["claimed"] and not r["reached"] for r in sel)
        sel15 = [r for r in calls if r["system"] == system and r["wer"] == 0.15]
        byv: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        reasons: dict[str, int] = defaultdict(int)
        for r in sel15:
            byv[r["variant"]][0] += r["reached"]
            byv[r["variant"]][1] += 1
            if not r["reached"]:
                reasons[r["reason"]] += 1
        out["by_variant_15"][system] = {v: {"ok": a, "n": b, "rate": a / b} for v, (a, b) in byv.items()}
        out["failures_15"][system] = dict(reasons)
    out["oracle"] = {"lines": n_lines, "reached": len(oracle), "median_time_s": quantile(list(oracle.values()), 0.5)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 generated IVRs, 1 seed, short perf")
    parser.add_argument("--ivrs", type=int, default=200, help="generated IVRs (default 200)")
    parser.add_argument("--seeds", type=int, default=1, help="noise seeds per line and WER (default 1)")
    parser.add_argument("--procs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.ivrs, args.seeds = 10, 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    info = machine()
    print(f"machine: {info}", flush=True)

    t0 = time.monotonic()
    stage(f"corpus: generating {args.ivrs} IVRs and their drifted variants")
    _init(args.ivrs)
    lines = _LINES
    n_hand = len(list((ROOT / "menus").glob("*.yaml")))
    variant_counts: dict[str, int] = defaultdict(int)
    for line in lines:
        variant_counts[line.variant] += 1
    print(
        f"corpus: {len(lines)} lines ({args.ivrs} generated + {n_hand} hand-written IVRs, with drift) "
        f"in {time.monotonic() - t0:.1f}s; lossy rewords skipped: {len(corpus.LOSSY_REWORDS)}",
        flush=True,
    )

    t0 = time.monotonic()
    tasks = [(i, args.seeds) for i in range(len(lines))]
    rows: list[dict] = []
    progress = Progress("calls (lines)", len(tasks))
    if args.procs > 1:
        with mp.get_context("fork").Pool(args.procs) as pool:
            for chunk in pool.imap_unordered(_work, tasks, chunksize=4):
                rows.extend(chunk)
                progress.advance()
    else:
        for task in tasks:
            rows.extend(_work(task))
            progress.advance()
    progress.finish(f"{len(rows)} calls")
    calls_s = time.monotonic() - t0
    print(f"calls: {len(rows)} in {calls_s:.1f}s", flush=True)
    summary = summarise(rows, len(lines))
    with (RESULTS / "calls.jsonl").open("w") as fh:  # saved before the perf part, which may fail
        for row in rows:
            fh.write(json.dumps(row) + "\n")

    t0 = time.monotonic()
    stage("perf: per-event latency (500 menus)")
    latency = perf.event_latency(500, calls=5 if args.quick else 20)
    print(
        f"per-event: median {latency['median_ms']:.3f} ms p99 {latency['p99_ms']:.3f} ms ({latency['events']} events)",
        flush=True,
    )
    stage(f"perf: compile + lint {500 if args.quick else 5000} menus")
    comp = perf.compile_time(500 if args.quick else 5000, repeats=1 if args.quick else 3)
    print(f"compile {comp['menus']} menus: {comp['median_s']}s {comp.get('error', '')}", flush=True)
    gens = [line for line in lines if line.variant == "original" and line.ivr.startswith("gen")] or lines
    stage("perf: concurrent simulated calls")
    conc = perf.concurrency(
        gens,
        sizes=(100, 250) if args.quick else (100, 250, 500, 1000, 2000),
        window=3.0 if args.quick else 10.0,
        budget=15.0 if args.quick else 65.0,
    )
    print(f"concurrency: {[(r['n'], round(r.get('lag_p99_ms', -1), 1)) for r in conc['runs']]}", flush=True)
    stage("perf: memory per call")
    memory = perf.memory_per_call(gens, 100 if args.quick else 500)
    print(f"memory per call: {memory['kib_per_call']:.1f} KiB (navigator {memory['navigator_kib_per_call']:.1f} KiB)",
          flush=True)
    perf_s = time.monotonic() - t0

    results = {
        "machine": info,
        "args": vars(args),
        "wers": list(WERS),
        "systems": list(SYSTEMS),
        "corpus": {
            "lines": len(lines),
            "generated_ivrs": args.ivrs,
            "hand_written_ivrs": n_hand,
            "variants": dict(variant_counts),
            "lossy_rewords_skipped": len(corpus.LOSSY_REWORDS),
        },
        "summary": summary,
        "event_latency": {k: v for k, v in latency.items() if k != "samples_ms"},
        "compile": comp,
        "concurrency": conc,
        "memory": memory,
        "wall_seconds": {"calls": calls_s, "perf": perf_s, "total": time.monotonic() - t_start},
    }
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    stage("report: plots and docs")
    plots(results, latency["samples_ms"], RESULTS)
    if not args.no_docs:
        write_docs(results, ROOT / "docs" / "benchmarks.md")
    print(f"done in {time.monotonic() - t_start:.0f}s; results in {RESULTS}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
