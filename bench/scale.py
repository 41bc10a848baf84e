"""Validation time of very large menu files: the checks are linear (or n log n) in the file (issue #15).

    .venv/bin/python -m bench.scale [--menus 100000]

Generates a valid file of ``--menus`` compact menus (a tree, each menu with two options, labels unique,
1,000 globals in the large case), validates it the way ``ivrnav validate`` does, and writes
bench/results/scale.json with the size, the time of each stage and the menus per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from ivrnav.menu.compiler import _ModelBuilder, schema_diagnostics
from ivrnav.menu.lint import lint
from ivrnav.menu.loader import MAX_FILE_BYTES, load_text

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"


def generate(menus: int, globals_: int = 0) -> str:
    lines = ["ivrnav: 1", f"name: scale {menus}", "start: m0", "goal: m1"]
    if globals_:
        lines.append("globals:")
        lines.extend(f'  - {{press: "*{i:03d}", says: g{i}, to: m0}}' for i in range(globals_))
    lines.append("menus:")
    for i in range(menus):
        kids = [c for c in (2 * i + 1, 2 * i + 2) if c < menus]
        if kids:  # labels are the prompt's words, so the says-not-in-prompt check passes
            opts = ", ".join(f"{{press: '{k + 1}', says: n{c}, to: m{c}}}" for k, c in enumerate(kids))
            lines.append(f"  m{i}: {{prompt: {' '.join(f'n{c}' for c in kids)}, options: [{opts}]}}")
        else:
            lines.append(f"  m{i}: {{prompt: m{i}, human: true}}")
    return "\n".join(lines) + "\n"


def measure(text: str) -> dict[str, float | int]:
    """Wall and CPU seconds of each stage (CPU time shows the work when other processes share the cores)."""
    marks = [(time.perf_counter(), time.process_time())]
    doc = load_text(text, "scale.yaml")
    marks.append((time.perf_counter(), time.process_time()))
    problems = schema_diagnostics(doc)
    marks.append((time.perf_counter(), time.process_time()))
    builder = _ModelBuilder(doc)
    model = builder.build()
    marks.append((time.perf_counter(), time.process_time()))
    warnings = lint(model, doc)
    marks.append((time.perf_counter(), time.process_time()))
    assert not problems and not builder.errors, (problems[:3], builder.errors[:3])
    out: dict[str, float | int] = {}
    for i, stage in enumerate(("load", "schema", "model", "lint")):
        out[stage] = marks[i + 1][0] - marks[i][0]
        out[f"{stage}_cpu"] = marks[i + 1][1] - marks[i][1]
    out["total"] = marks[-1][0] - marks[0][0]
    out["total_cpu"] = marks[-1][1] - marks[0][1]
    out["warnings"] = len(warnings)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--menus", type=int, default=100_000)
    parser.add_argument("--globals", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    for menus in sorted({args.menus // 10, args.menus}):
        text = generate(menus, args.globals)
        if len(text.encode()) > MAX_FILE_BYTES:
            raise SystemExit(f"{menus} menus make {len(text) >> 20} MiB, over the {MAX_FILE_BYTES >> 20} MiB limit")
        run = measure(text)
        rows.append({"menus": menus, "globals": args.globals, "bytes": len(text.encode()), **run,
                     "menus_per_s": round(menus / run["total"])})
        print(f"{menus:>7} menus + {args.globals} globals ({len(text) >> 10} KiB): {run['total']:.2f} s "
              f"(load {run['load']:.2f}, schema {run['schema']:.2f}, model {run['model']:.2f}, "
              f"lint {run['lint']:.2f}); CPU {run['total_cpu']:.2f} s; {rows[-1]['menus_per_s']:,} menus/s", flush=True)
    ratio = rows[-1]["total_cpu"] / rows[0]["total_cpu"] if len(rows) > 1 else 1.0
    out = {"rows": rows, "cpu_ratio_10x_menus": round(ratio, 2), "load_average": os.getloadavg()[0],
           "python": platform.python_version(),
           "machine": platform.machine()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"10x the menus took {ratio:.1f}x the CPU time (linear: ~10)")


if __name__ == "__main__":
    main()
