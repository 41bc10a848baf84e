"""Compile + lint time of a generated 5,000-menu file (design target: <= 2 s).

    .venv/bin/python -m bench.compile_speed [--menus 5000] [--repeat 3]

Writes bench/results/compile_speed.json. Reports the load (YAML), schema, model+lint split so a regression
shows where it is.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import yaml

from ivrnav.menu.compiler import _ModelBuilder, schema_diagnostics
from ivrnav.menu.lint import lint
from ivrnav.menu.loader import load_text

RESULTS = Path(__file__).resolve().parent / "results" / "compile_speed.json"


def generate(menus: int, branching: int = 4) -> str:
    """A tree of ``menus`` option menus, each offering ``branching`` children, leaves going to a human."""
    data: dict = {"ivrnav": 1, "name": f"generated {menus}", "start": "m0", "goal": "agent",
                  "globals": [{"press": "0", "says": "operator", "to": "agent"}], "menus": {}}
    for i in range(menus):
        children = [c for c in range(i * branching + 1, i * branching + branching + 1) if c < menus]
        options = [{"press": str(k + 1), "says": f"department {c} services", "to": f"m{c}"}
                   for k, c in enumerate(children)]
        prompt = " ".join(f"For department {c} services, press {k + 1}." for k, c in enumerate(children))
        menu = {"prompt": f"Menu {i}. {prompt or 'Please hold.'}"}
        if options:
            menu["options"] = options
        else:
            menu["next"] = "agent"
        data["menus"][f"m{i}"] = menu
    data["menus"]["agent"] = {"human": True, "prompt": "This is Dana, how can I help?"}
    return yaml.safe_dump(data, sort_keys=False)


def measure(text: str) -> dict[str, float]:
    t0 = time.perf_counter()
    doc = load_text(text, "generated.yaml")
    t1 = time.perf_counter()
    assert not schema_diagnostics(doc)
    t2 = time.perf_counter()
    builder = _ModelBuilder(doc)
    model = builder.build()
    assert not builder.errors
    t3 = time.perf_counter()
    lint(model, doc)
    t4 = time.perf_counter()
    return {"load": t1 - t0, "schema": t2 - t1, "model": t3 - t2, "lint": t4 - t3, "total": t4 - t0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--menus", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = generate(args.menus)
    runs = [measure(text) for _ in range(args.repeat)]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out = {"menus": args.menus, "bytes": len(text), "best_s": best, "median_s": median, "target_s": 2.0,
           "python": platform.python_version(), "machine": platform.machine()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{args.menus} menus ({len(text) // 1024} KiB): median total {median['total']:.2f} s "
          f"(load {median['load']:.2f}, schema {median['schema']:.2f}, model {median['model']:.2f}, "
          f"lint {median['lint']:.2f}); target 2.0 s -> {'met' if median['total'] <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
