"""``python -m bench.real``: every goal of every real phone tree, ivrnav vs the baselines and the oracle.

Writes bench/results/real.json (summary) and bench/results/real_calls.jsonl (every call), and the "Real phone
trees" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.real import Tree, run, trees
from bench.report import REAL_SECTION
from bench.stats import wilson

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
WERS = (0.0, 0.15, 0.30)
SYSTEMS = ("ivrnav", "keyword", "end_of_turn")

_TREES: list[Tree] = []

NOTES = [
    "Fixed this round (each with a test in tests/test_real_failures.py, tests/test_decisions.py or "
    "tests/test_offers.py): a prompt that names no key at all gets the map's key at once (asterisk_meetme's "
    "unsaid star); a line asked to repeat by silence that stays quiet for `repeat_wait` s gets the map's key "
    "(Twilio and Asterisk lines that play a menu once); a moved key is believed only when corroborated (an "
    "all-but-exact label after a press word, the file's key offered for another label, or two hearings), a "
    "heard key also offered for another label is a mishearing, a digit joined to the file's key ('press 1 two "
    "listen') is the file's key, and a homophone key on an unknown prompt is the file's; a menu named in the "
    "current menu's offer ('To hear the sample submenu, press 6') is not entered from that offer; after our "
    "keys, a twin opening of the same menu ('please enter the conference [pin] number') waits for more words; "
    "an expected menu's phrase said through inserted words or fillers counts as heard; `confirm: {hangup: "
    "true}` confirms a goal that ends the call; every wait has a wake-up and time comparisons tolerate float "
    "rounding (a silent line had slept until max_call).",
    "Map change: asterisk_privacy's voicemail goal said `confirm: {quiet: 6}`, but the line releases the call "
    "as soon as the caller is sent to voicemail; it now says `confirm: {hangup: true}`.",
    "What still fails at 15% WER is the goal's own words lost to noise: 'Comedian Mail' heard as 'Comedian "
    "hanging' (asterisk_demo vm_login; a two-word phrase that lost a word is no evidence), 'You are now muted' "
    "as 'You are now enter', 'Agent logged in' as 'Agent pound and', 'enter your package number' without "
    "'package' (twilio_tps), a queue's agent greeting misheard, and twilio_gather's opening and labels both "
    "garbled on a line that waits 5 s once. ivrnav does not claim these goals rather than risk a false success.",
    "At 30% WER the same class dominates, plus offers lost on lines that never repeat (`not_reached:hangup`) "
    "and asterisk_demo's 60 s prompt that says 'dial 600' once (`no_route` from goodbye).",
    "Known remaining risk: silent goals are confirmed by quiet (or a hang-up) after the map's own keys; a map "
    "key pressed blind (unannounced, or after a repeat that never came) in a menu recognised from a shared "
    "opening, followed by a silent wrong branch, would be confirmed. None occurs in this corpus.",
    "The oracle misses 2 goals that are reachable only through the line's free-form entry (it plans on options).",
    "Recorded prompts: `tests/test_audio_recorded.py` plays asterisk_agent_login and asterisk_meetme over the "
    "audio path with Asterisk's own recordings (Allison Smith, Debian asterisk-core-sounds-en-wav) instead of "
    "Piper, heard by Whisper, keys as in-band DTMF; both goals are reached (asterisk_voicemail's messages goal "
    "too, in a one-off run). The other trees have no recordings (their sources are TTS or unpublished audio).",
]


def failure_class(row: dict) -> str:
    """A coarse reason class for a failed or false call, for the next round of fixes."""
    if row["false_success"]:
        return "false_success"
    if row["reached"] and not row["claimed"]:
        # the line got there but the navigator did not say so
        return f"unconfirmed_goal:{row['reason']}"
    return f"not_reached:{row['reason']}"


def _work(task: tuple[int, str, int]) -> list[dict]:
    index, goal, seeds = task
    tree = _TREES[index]
    rows = [run(tree, goal, "oracle", 0.0, 0)]
    for wer in WERS:
        for seed in range(seeds):
            for system in SYSTEMS:
                rows.append(run(tree, goal, system, wer, seed))
    return rows


def summarise(rows: list[dict]) -> dict:
    out: dict = {"success": {}, "claimed_success": {}, "false_success": {}, "failures": {}, "by_tree": {}}
    for system in (*SYSTEMS, "oracle"):
        for wer in WERS if system != "oracle" else (0.0,):
            sel = [r for r in rows if r["system"] == system and r["wer"] == wer]
            if not sel:
                continue
            key = f"{system}@{wer:.2f}"
            ok = sum(r["reached"] for r in sel)
            lo, hi = wilson(ok, len(sel))
            out["success"][key] = {"n": len(sel), "ok": ok, "rate": ok / len(sel), "lo": lo, "hi": hi}
            good = sum(r["reached"] and r["claimed"] and not r["false_success"] for r in sel)
            out["claimed_success"][key] = {"ok": good, "rate": good / len(sel)}
            out["false_success"][key] = sum(r["false_success"] for r in sel)
            failed = [r for r in sel
                      if r["false_success"] or not (r["reached"] and (r["claimed"] or system != "ivrnav"))]
            fails = Counter(failure_class(r) for r in failed)
            out["failures"][key] = dict(fails.most_common())
    by_tree: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in rows:
        if r["system"] == "ivrnav":
            cell = by_tree[r["tree"]][f"{r['wer']:.2f}"]
            cell[0] += r["reached"] and r["claimed"] and not r["false_success"]
            cell[1] += 1
    out["by_tree"] = {t: {w: {"ok": a, "n": b} for w, (a, b) in cells.items()} for t, cells in sorted(by_tree.items())}
    return out


def _pct(cell: dict) -> str:
    return f"{100 * cell['rate']:.1f}%"


def section(results: dict) -> str:
    s = results["summary"]
    c = results["corpus"]
    lines = [
        REAL_SECTION,
        "",
        f"Generated by `python -m bench.real` ({results['wall_seconds']:.0f} s on this machine); every call in "
        "`bench/results/real_calls.jsonl`, summary in `bench/results/real.json`.",
        "",
        f"Corpus: {c['trees']} real phone trees in `bench/real/` ({c['goals']} goals) from public sources (PBX sample "
        "dialplans and prompt sets, voicemail, directory, conference and queue applications, telephony tutorials, "
        "VoiceXML). Each tree is a *line* (`NAME.line.yaml`: the source's prompt words and timing) and a *map* "
        "(`NAME.map.yaml`: written separately from memory, paraphrased, only the keys a caller remembers). "
        f"Every goal at WER {', '.join(f'{w:.0%}' for w in WERS)} with {results['args']['seeds']} seeds; the oracle "
        "(knows the line, no noise) once per goal. A call *succeeds* for ivrnav when the line entered the goal "
        "and ivrnav claimed it; for the baselines when the line entered the goal. A *false success* is a claim "
        "while the line is not at the goal (judged by the line's own position).",
        "",
        "| system | WER | calls | line at goal | success (ivrnav: claimed and true) | false successes |",
        "|---|---|---|---|---|---|",
    ]
    for key, cell in s["success"].items():
        system, wer = key.split("@")
        claimed = s["claimed_success"][key]
        lines.append(f"| {system} | {float(wer):.0%} | {cell['n']} | {_pct(cell)} | "
                     f"{_pct(claimed) if system == 'ivrnav' else _pct(cell)} | {s['false_success'][key]} |")
    c0, c15 = s["claimed_success"].get("ivrnav@0.00"), s["claimed_success"].get("ivrnav@0.15")
    false = sum(v for k, v in s["false_success"].items() if k.startswith("ivrnav"))
    if c0 and c15:
        lines += ["", f"Targets (issue 11): >= 99% at 0% WER: **{'met' if c0['rate'] >= 0.99 else 'not met'}** "
                  f"({_pct(c0)}); >= 97% at 15% WER: **{'met' if c15['rate'] >= 0.97 else 'not met'}** ({_pct(c15)}); "
                  f"0 false successes: **{'met' if false == 0 else 'not met'}** ({false} in {results['args']['seeds']} "
                  "seeds x 3 WERs)."]
    lines += ["", "Failure classes (count of calls; `not_reached:REASON` = the line never got to the goal, "
              "`unconfirmed_goal:REASON` = the line got there but ivrnav did not claim it):", ""]
    for key, fails in s["failures"].items():
        if fails and key.startswith("ivrnav"):
            lines.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in fails.items()))
    lines += ["", "ivrnav per tree (claimed and true / calls):", "", "| tree | " +
              " | ".join(f"WER {w:.0%}" for w in WERS) + " |", "|---|" + "---|" * len(WERS)]
    for tree, cells in s["by_tree"].items():
        lines.append(f"| {tree} | " + " | ".join(f"{cells[f'{w:.2f}']['ok']}/{cells[f'{w:.2f}']['n']}"
                                                   for w in WERS) + " |")
    lines += ["", "What changed and what still fails (read from the traces of this corpus):", ""]
    lines += [f"- {n}" for n in NOTES]
    return "\n".join(lines).rstrip() + "\n"


def write_section(text: str, path: Path = DOCS) -> None:
    old = path.read_text() if path.exists() else ""
    start = old.find("\n" + REAL_SECTION + "\n")
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[: start + 1] + (old[end + 1 :] if end >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text)


def main(argv: list[str] | None = None) -> int:
    global _TREES
    parser = argparse.ArgumentParser(prog="python -m bench.real", description=__doc__)
    parser.add_argument("--seeds", type=int, default=3, help="noise seeds per goal and WER (default 3)")
    parser.add_argument("--procs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    _TREES = trees()
    tasks = [(i, goal, args.seeds) for i, tree in enumerate(_TREES) for goal in tree.goals]
    rows: list[dict] = []
    if args.procs > 1:
        with mp.get_context("fork").Pool(args.procs) as pool:
            for chunk in pool.imap_unordered(_work, tasks):
                rows.extend(chunk)
    else:
        for task in tasks:
            rows.extend(_work(task))
    rows.sort(key=lambda r: (r["tree"], r["goal"], r["system"], r["wer"], r["seed"]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "real_calls.jsonl").open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    results = {
        "args": vars(args),
        "wers": list(WERS),
        "corpus": {"trees": len(_TREES), "goals": len(tasks)},
        "summary": summarise(rows),
        "wall_seconds": time.monotonic() - t0,
    }
    (RESULTS / "real.json").write_text(json.dumps(results, indent=1))
    for key, cell in results["summary"]["success"].items():
        print(f"{key:20} {cell['ok']:4}/{cell['n']:<4} line at goal; false successes "
              f"{results['summary']['false_success'][key]}", flush=True)
    if not args.no_docs:
        write_section(section(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
