"""The "Robustness" section of docs/benchmarks.md, from bench/results/fuzz.json and scale.json (issue #15).

    .venv/bin/python -m bench.robustness     # print the section (bench.report includes it when the files exist)
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def robustness_lines(results: Path = RESULTS) -> list[str]:
    fuzz_file, scale_file = results / "fuzz.json", results / "scale.json"
    if not fuzz_file.exists() and not scale_file.exists():
        return []
    lines = ["## Robustness", ""]
    if fuzz_file.exists():
        f = json.loads(fuzz_file.read_text())
        m, cli, sec = f["menu_files"], f["cli"], f["secrets"]
        kinds = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(m["by_kind"].items()))
        lines += [
            f"`nice -n 10 python -m bench.fuzz` (seed {f['seed']}, {f['seconds']:.0f} s): {m['cases']:,} generated and "
            f"mutated menu files ({kinds}), each compiled in a worker process that a crash or hang cannot take down; "
            f"{cli['scenarios']} CLI fault scenarios through the real command; {sec['runs']:,} secret read-backs in "
            "spoken forms through the Redactor.", "",
            "| Check | Found | Target |", "|---|---|---|",
            f"| crashes (worker killed by a signal) | {m['crashes']} | 0 |",
            f"| hangs (> {f['hang_s']:.0f} s) / slow cases (> {f['slow_s']:.0f} s) | {m['hangs']} / {m['slow']} | 0 |",
            f"| uncaught exceptions | {m['uncaught_exceptions']} | 0 |",
            f"| out of memory | {m['out_of_memory']} | 0 |",
            f"| errors at 1:1 that are not about the whole file (unpositioned) | {m['unpositioned_errors']} | 0 |",
            f"| messages over 1,000 characters | {m['long_messages']} | 0 |",
            f"| slowest file | {m['max_seconds']:.2f} s | |",
            f"| CLI scenarios without a clear usage error (or with a secret echoed) | "
            f"{cli['scenarios'] - cli['passed']} (secret echoes: {cli['secret_hits']}) | 0 |",
            f"| secret read-backs left readable | {sec['secret_hits']} of {sec['runs']:,} | 0 |", "",
        ]
        slow = [x for x in m["findings"] if x.get("seconds", 0) > f["slow_s"]]
        if slow:
            lines += ["Slow cases (wall time, shared machine): " + "; ".join(
                f"case {x['case']} ({x['kind']}, {x['size'] / 1024:.0f} KiB, {x['outcome']}) {x['seconds']:.1f} s"
                for x in slow[:5]) + ". Re-run them with `bench.fuzz.make_case(seed, case)`.", ""]
    if scale_file.exists():
        s = json.loads(scale_file.read_text())
        lines += ["`python -m bench.scale`: validation (load, schema, model, lint) of compact generated files with "
                  "1,000 globals; linear means 10x the menus take ~10x the time.", "",
                  "| Menus | Size | Total (wall) | Total (CPU) | Load | Schema | Model | Lint | Menus/s (CPU) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in s["rows"]:
            lines.append(f"| {r['menus']:,} | {r['bytes'] / (1 << 20):.1f} MiB | {r['total']:.1f} s | "
                         f"{r['total_cpu']:.1f} s | {r['load_cpu']:.1f} s | {r['schema_cpu']:.2f} s | "
                         f"{r['model_cpu']:.1f} s | {r['lint_cpu']:.1f} s | {round(r['menus'] / r['total_cpu']):,} |")
        lines += ["", f"Stages in CPU seconds (the machine was shared: load average {s['load_average']:.1f} on 2 "
                  f"cores). 10x the menus took {s['cpu_ratio_10x_menus']}x the CPU time.", ""]
    return lines


if __name__ == "__main__":
    print("\n".join(robustness_lines()))
