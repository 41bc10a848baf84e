"""Discovery benchmark: how much of a line's true tree ``ivrnav discover`` recovers, at what cost, and whether
the draft then navigates the line; against a random-key fuzzer with the same number of calls.

    python -m bench.discover [--generated 40] [--wer 0 0.15] [--audio real] [--keep]

For every line (bundled menus, generated IVRs from bench/corpus.py, the real trees of bench/real) the
crawler hears only the simulated line's transcripts. Scoring uses the line file, which the crawler never
reads: a true menu is *recovered* when a draft menu's hearings contain its spoken prompt (or, for a menu
that says nothing, when the draft reaches a silent menu by the same key from the same parent); a true
edge (a menu's own option or its ``next``) when the draft links the two recovered menus by the same key.
Then every draft menu is a goal: the draft navigates the true line at 15% WER, and the line's own
position judges the claim (a false success is a claim while the line is elsewhere): the draft menu stands
for the true menus the line was at when the crawl heard the sentences its hearings are made of.
``--audio KIND``: the lines of that kind are also crawled through audio (``discover --audio``: Piper, and for
Asterisk's own trees its recordings of the sentences they have, a G.711 channel, offline Whisper without key
terms, in-band DTMF); their rows have ``wer: "audio"``. ``--keep``: rows of the previous results file that
this run does not recompute are kept.
Writes bench/results/discover.json and prints a summary; docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import platform
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bench.calls import RecordingLine
from ivrnav.discover.crawl import AudioCalls, PlaceCall, SimulatedCalls, crawl
from ivrnav.discover.draft import display_names, write_draft
from ivrnav.discover.explorer import ENTRY, Budget, Explorer
from ivrnav.discover.probe import Probe, ProbeSettings
from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import Action, CallEnded, DigitsSent, Event, Heard, SendDigits, Tick
from ivrnav.navigate.result import Redactor
from ivrnav.sim.noise import Noise
from ivrnav.sim.runner import CallRunner, simulate_call
from ivrnav.text import normalise

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Discovery (ivrnav discover)"
TARGETS = {"generated": 0.95, "real": 0.90}  # issue #14: menus and edges recovered
CONTAINS = 80.0  # partial ratio: a true prompt said within a draft menu's hearing
FRAGMENT_WORDS = 8  # a hearing this long that says no whole true prompt may be a part of one
SHORT_PROMPT_WORDS = 3  # a true prompt this short is a common phrase inside a long hearing
_MARKUP = re.compile(r"\[[^\]]*\]")


@dataclass
class Source:
    name: str
    kind: str  # "bundled", "generated", "real"
    line: MenuFile


def sources(generated: int) -> list[Source]:
    out = [Source(p.stem, "bundled", compile_file(p).menu_file) for p in sorted((ROOT / "menus").glob("*.yaml"))]
    real = ROOT / "bench" / "real"
    for p in sorted(real.glob("*.line.yaml")):
        out.append(Source(p.name.removesuffix(".line.yaml"), "real", compile_file(p).menu_file))
    if generated:
        import yaml

        from bench.corpus import generate

        for i in range(generated):
            data = generate(5000 + i)
            out.append(Source(f"gen{5000 + i}", "generated", compile_text(yaml.safe_dump(data, sort_keys=False),
                                                                          f"gen{5000 + i}").menu_file))
    return out


def spoken(line: MenuFile, name: str) -> str:
    menu = line.menus[name]
    return " ".join(_MARKUP.sub(" ", menu.line.prompt or menu.prompt).split())


def true_tree(line: MenuFile) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Menus reachable from the start by the menus' own options and ``next``, and those edges."""
    seen, edges, todo = {line.start}, set(), [line.start]
    while todo:
        name = todo.pop()
        menu = line.menus[name]
        outs = [(o.keys, o.to or name) for o in menu.options if o.to or o.repeat]
        if menu.next:
            outs.append(("", menu.next))
        for key, to in outs:
            edges.add((name, key, to))
            if to not in seen:
                seen.add(to)
                todo.append(to)
    return seen, edges


def _within(said: str, heard: str) -> bool:
    """A true prompt that may be said within a hearing: not much longer than it, and a prompt of a few words
    only when it is a good part of the hearing (the asterisk demo's "password" is said inside its long
    instructions, "... extension 1234 and password 4242", which are not that menu)."""
    if not said or len(said) > len(heard) * 1.3:
        return False
    return len(said.split()) > SHORT_PROMPT_WORDS or len(said) * 3 >= len(heard)


def mapping(ex: Explorer, line: MenuFile, menus: set[str]) -> dict[str, set[str]]:
    """Draft node -> the true menus it stands for (by what the line said; silent menus by their key)."""
    out: dict[str, set[str]] = {}
    said = {name: normalise(spoken(line, name)) for name in menus}
    for node in ex.nodes.values():
        # each hearing stands for the true prompts it says best (two when prompts ran on into each other); an
        # announcement heard with what it runs into (a prompt with a long pause or a shared ending is two)
        hits: set[str] = set()
        after = ex.nodes.get(node.next or "")
        chained = [f"{h} {after.prompt}" for h in node.hearings] if after is not None and after.hearings else []
        for h in [*node.hearings, *chained]:
            heard = normalise(h)
            scores = {n: fuzz.partial_ratio(s, heard) for n, s in said.items() if _within(s, heard)}
            top = max(scores.values(), default=0.0)
            if top < CONTAINS and len(heard.split()) >= FRAGMENT_WORDS:
                # no true prompt said within the hearing: the hearing may be a part of one, split off at a long
                # pause ("[pause 4] I am afraid I was unable to create a connection ...")
                scores = {n: fuzz.partial_ratio(s, heard) for n, s in said.items() if s}
                top = max(scores.values(), default=0.0)
            hits |= {n for n, v in scores.items() if v >= CONTAINS and v >= top - 2}
        out[node.name] = hits
    # menus that say nothing (music, ringing, a hang-up): where the true line goes by the same key (or by
    # itself) from the true menus of every draft node that leads there
    for _ in range(3):  # a quiet reached from a quiet
        for node in ex.nodes.values():
            outs = [(k, o.to) for k, o in node.outcomes.items() if o.kind == "to" and o.to and k != ENTRY]
            outs += [("", node.next)] if node.next else []
            for key, to in outs:
                if ex.nodes[to].kind != "silent":
                    continue
                for p in out.get(node.name, set()):
                    true = line.menus[p]
                    target = true.next if key == "" else next((o.to for o in true.options if o.keys == key and o.to),
                                                              None)
                    if target and target not in out[node.name]:
                        out[to].add(target)
    return out


def recovered(ex: Explorer, line: MenuFile) -> dict:
    menus, edges = true_tree(line)
    m = mapping(ex, line, menus)
    found_menus = set().union(*m.values()) & menus if m else set()
    found_edges = set()
    for node in ex.nodes.values():
        for src in m[node.name]:
            for key, outcome in node.outcomes.items():
                if key == ENTRY:
                    continue
                if outcome.kind == "repeat":
                    found_edges.add((src, key, src))
                elif outcome.kind == "to" and outcome.to:
                    for dst in m.get(outcome.to, set()):
                        found_edges.add((src, key, dst))
            nxt = node.next or (node.outcomes[ENTRY].to if ENTRY in node.outcomes else None)
            for dst in m.get(nxt, set()) if nxt else ():
                found_edges.add((src, "", dst))
                found_edges |= {(src, e[1], dst) for e in edges if e[0] == src and e[2] == dst and e[1] != ""
                                and line.menus[src].enter}  # an entry's edge carries no key
            for dst in m[node.name] - {src}:  # two true menus said as one run-on draft menu
                found_edges.add((src, "", dst))
            # an announcement that runs into a menu says, with it, one true menu ("Congratulations. ... dial 2
            # ..."): the menu's keys are that true menu's
            after = ex.nodes.get(node.next or "")
            if not node.waits and after is not None and src not in m.get(after.name, set()):
                for key, outcome in after.outcomes.items():
                    if outcome.kind == "to" and outcome.to and key != ENTRY:
                        found_edges |= {(src, key, dst) for dst in m.get(outcome.to, set())}
    true_edges = {e for e in edges if e[0] in menus}
    return {"menus": len(menus), "menus_found": len(found_menus), "edges": len(true_edges),
            "edges_found": len(found_edges & true_edges), "missing": sorted(menus - found_menus),
            "missing_edges": sorted(true_edges - found_edges),
            "map": {k: sorted(v) for k, v in m.items()}}


def same_menu(line: MenuFile, at: str, goal: str) -> bool:
    """The line is at ``goal``, or at a menu no caller can tell from it: one that says more first and then all
    of ``goal``'s prompt, with the same keys to the same places (Asterisk's welcome ends with its instructions)."""
    if at == goal:
        return True
    a, g = line.menus[at], line.menus[goal]
    said_a, said_g = normalise(spoken(line, at)), normalise(spoken(line, goal))
    keys = [(o.keys, o.to) for o in a.options] == [(o.keys, o.to) for o in g.options]
    return bool(said_g) and keys and bool(a.options) and said_a.endswith(said_g)


def navigate_draft(draft_text: str, line: MenuFile, names: dict[str, str], m: dict[str, set[str]],
                   values: dict[str, str], wer: float, seeds: int) -> dict:
    try:
        compiled = compile_text(draft_text, "draft")
    except MenuFileError as exc:
        return {"valid": False, "error": str(exc.diagnostics[0]), "goals": 0, "reached": 0, "false": 0}
    draft = compiled.menu_file
    strict = not compiled.warnings  # `ivrnav validate --strict` passes
    by_name = {v: k for k, v in names.items()}
    # a hang-up is no place to navigate to and stay at
    goals = [g for g in draft.menus if g != draft.start and m.get(by_name.get(g, ""), set())
             and not draft.menus[g].line.hangup]
    reached = false = calls = 0
    for goal in goals:
        for seed in range(seeds):
            calls += 1
            vals = {k: v for k, v in values.items() if k in draft.vars}
            call = simulate_call(draft, line_file=line, goal=goal, vars=vals, wer=wer, seed=seed, keep_trace=False)
            at_goal = bool(call.line_visited) and any(same_menu(line, call.line_visited[-1], t)
                                                          for t in m[by_name[goal]])
            if call.result.reached and at_goal:
                reached += 1
            elif call.result.reached:
                false += 1
    return {"valid": strict, "warnings": [str(w) for w in compiled.warnings][:5], "goals": len(goals),
            "nav_calls": calls, "reached": reached, "false": false}


class RandomKeys:
    """The fuzzer baseline: at every pause, a random key; speaks the navigator protocol."""

    def __init__(self, rng: random.Random, presses: int = 6, gap: float = 1.2, max_call: float = 240.0):
        from ivrnav.menu.model import Settings

        self.rng, self.left, self.gap = rng, presses, gap
        self.settings = Settings(max_call=max_call)
        self.redact = Redactor([])
        self.now = self.last = 0.0
        self.interim = False
        self.result = None
        self.sending = False

    def handle(self, event: Event) -> list[Action]:
        if self.result is not None:
            return []
        if isinstance(event, Heard):
            self.now, self.last, self.interim = event.end, max(self.last, event.end), not event.final
        elif isinstance(event, Tick):
            self.now = event.now
        elif isinstance(event, DigitsSent):
            self.now, self.last, self.sending = event.at, event.at, False
        elif isinstance(event, CallEnded):
            return self._done()
        if self.now >= self.settings.max_call or self.now - self.last > 30:
            return self._done()
        if not self.sending and not self.interim and self.now - self.last >= self.gap and self.left > 0:
            self.left -= 1
            self.sending = True
            key = self.rng.choice("0123456789*#")
            return [SendDigits(key, 0.2, key)]
        return []

    def _done(self) -> list[Action]:
        from ivrnav.navigate.events import Done
        from ivrnav.navigate.result import NavigationResult

        self.result = NavigationResult(False, "", "fuzz")
        return [Done(self.result)]

    def wakeup_at(self) -> float | None:
        return None if self.result else max(self.now, self.last) + self.gap

    def drain_notes(self) -> list:
        return []


def fuzz_baseline(line: MenuFile, calls: int, seed: int) -> dict:
    menus, edges = true_tree(line)
    seen, pairs = set(), set()
    rng = random.Random(seed)
    for n in range(calls):
        sim = RecordingLine(line, noise=Noise(0.0), seed=n)
        runner = CallRunner(RandomKeys(rng), sim, keep_trace=False)  # type: ignore[arg-type]
        steps = 0
        while runner.step() and steps < 20_000:
            steps += 1
        names = [name for name, _ in sim.entered]
        seen |= set(names)
        pairs |= set(itertools.pairwise(names))
    true_pairs = {(a, c) for a, _, c in edges}
    return {"menus_found": len(seen & menus), "edges_found": len(pairs & true_pairs)}


AUDIO = "audio"  # the discovery "WER" of a crawl through real speech: its errors are the STT's own
Discovery = float | str  # a simulated WER, or AUDIO


class Truth:
    """Where the line was when the crawl heard each sentence (the line's own record, which the crawler never
    sees): the judge of where a draft menu is. A draft menu stands for the true menus whose sentences its
    hearings are made of (a menu the noise cut short or ran into the next one stands for what it heard)."""

    def __init__(self) -> None:
        self.menus: dict[str, set[str]] = {}

    def add(self, trace: list[dict], entered: list[tuple[str, float]]) -> None:
        for record in trace:
            if record["kind"] != "heard" or not record.get("final"):
                continue
            middle = (record["start"] + record["end"]) / 2  # an STT's start may fall just before the prompt's
            at = [name for name, t in entered if t <= middle + 1e-9]
            text = normalise(record["text"])
            if at and text:
                self.menus.setdefault(text, set()).add(at[-1])

    def of(self, hearings: list[str]) -> set[str]:
        out: set[str] = set()
        for hearing in hearings:
            said = f" {normalise(hearing)} "
            for text, menus in self.menus.items():
                if f" {text} " in said:
                    out |= menus
        return out


@dataclass
class TruthCalls:
    """The crawl's calls (``SimulatedCalls``, or ``AudioCalls`` for ``AUDIO``) on a line that records where it
    was, told to ``truth``."""

    calls: SimulatedCalls | AudioCalls
    truth: Truth

    def __call__(self, probe: Probe, call_number: int) -> list[dict]:
        trace = self.calls(probe, call_number)
        self.truth.add(trace, self.calls.last_line.entered)  # type: ignore[attr-defined]  # a RecordingLine
        return trace


RECORDED = "asterisk_"  # real trees of Asterisk's own applications: played from its recordings where they exist
_recorded_engines: object | None = None  # one per worker: the recordings and Whisper load once


def _engines(src_name: str) -> object | None:
    """Speech for an audio crawl: Asterisk's trees play Allison Smith's recordings (Debian's
    asterisk-core-sounds-en-wav, scripts/ensure-asterisk-sounds) for the sentences they say, Piper the rest;
    every other line is Piper's (``None``: the default engines). Their caches are apart: the same sentence
    sounds different in the two."""
    global _recorded_engines
    if not src_name.startswith(RECORDED):
        return None
    if _recorded_engines is None:
        from ivrnav.speech.audio_call import SpeechEngines
        from ivrnav.speech.recordings import Recordings

        _recorded_engines = SpeechEngines(recordings=Recordings.asterisk())
    return _recorded_engines


def _calls(line: MenuFile, wer: Discovery, seed: int, truth: Truth, src_name: str) -> PlaceCall:
    if wer == AUDIO:
        return TruthCalls(AudioCalls(line, seed=seed, engines=_engines(src_name), line_type=RecordingLine), truth)
    return TruthCalls(SimulatedCalls(line, wer=float(wer), seed=seed, line_type=RecordingLine), truth)


def _mode(wer: Discovery) -> str:
    return wer if isinstance(wer, str) else f"{wer:g}"


def run_one(src: Source, wer: Discovery, nav_wer: float, seeds: int) -> dict:
    values = {**{n: v.default for n, v in src.line.vars.items() if v.default}, **src.line.line.vars}
    ex = Explorer(values=values, avoid=(), budget=Budget(max_calls=300, max_minutes=600))  # simulated: nothing to avoid
    t0 = time.perf_counter()
    truth = Truth()
    stopped = crawl(ex, _calls(src.line, wer, 1, truth, src.name), settings=ProbeSettings(),
                    secrets=list(values.values()))
    # A user reads the draft ("no value for var 'conference'") and resumes with that value: the line's own
    # demo value for the entry the draft's menu stands for, given under the draft's name.
    for attempt in range(3):  # each pass may reach entries behind the ones it crossed
        if ex.root is None or not any(ENTRY in n.skipped for n in ex.nodes.values()):
            break
        more = {}
        menus, _ = true_tree(src.line)
        m = mapping(ex, src.line, menus)
        for node in ex.nodes.values():
            if ENTRY in node.skipped and node.entry_var:
                for true in m.get(node.name, ()):
                    enter = src.line.menus[true].enter or ""
                    needed = re.findall(r"\{(\w+)\}", enter)
                    if needed and all(v in values for v in needed):
                        more[node.entry_var] = "".join(values[v] for v in needed)
                    elif enter and not needed:  # the line wants one number (a demo mailbox): the user knows it
                        more[node.entry_var] = enter.rstrip("#")
        if not (more and ex.give(more)):
            break
        stopped = crawl(ex, _calls(src.line, wer, 2 + attempt, truth, src.name), settings=ProbeSettings(),
                        secrets=list(values.values()) + list(more.values()))
    wall = time.perf_counter() - t0
    row = {"line": src.name, "kind": src.kind, "wer": wer, "stopped": stopped, "calls": ex.calls,
           "line_minutes": round(ex.line_seconds / 60, 2), "draft_menus": len(ex.nodes), "wall_s": round(wall, 2)}
    if ex.root is None:
        return {**row, "menus": len(true_tree(src.line)[0]), "menus_found": 0, "edges": 0, "edges_found": 0,
                "valid": False, "goals": 0, "reached": 0, "false": 0}
    score = recovered(ex, src.line)
    text = write_draft(ex, name=f"Draft of {src.name}")
    names = display_names(ex)
    # the draft's vars are named by the draft (a value given on a later pass under the draft's name)
    # where each draft menu is, by the line's own record of what it said there (a quiet: by its key, as scored)
    where = {name: truth.of(node.hearings) or set(score["map"][name]) for name, node in ex.nodes.items()}
    nav = navigate_draft(text, src.line, names, where, {**values, **ex.values}, nav_wer, seeds)
    base = fuzz_baseline(src.line, ex.calls, seed=7)
    score.pop("map")
    return {**row, **score, **nav, "fuzz_menus_found": base["menus_found"], "fuzz_edges_found": base["edges_found"]}


def summarise(rows: list[dict], seeds: int) -> dict:
    out = {}
    for kind in ("bundled", "generated", "real"):
        for wer in sorted({r["wer"] for r in rows}, key=lambda w: (isinstance(w, str), str(w))):
            rs = [r for r in rows if r["kind"] == kind and r["wer"] == wer]
            if not rs:
                continue
            tot = {k: sum(r.get(k, 0) for r in rs) for k in ("menus", "menus_found", "edges", "edges_found", "calls",
                                                            "goals", "reached", "false", "fuzz_menus_found",
                                                            "fuzz_edges_found")}
            minutes = sum(r["line_minutes"] for r in rs)
            out[f"{kind}@{_mode(wer)}"] = {
                "lines": len(rs),
                "menus_recovered": round(tot["menus_found"] / max(tot["menus"], 1), 4),
                "edges_recovered": round(tot["edges_found"] / max(tot["edges"], 1), 4),
                "fuzz_menus_recovered": round(tot["fuzz_menus_found"] / max(tot["menus"], 1), 4),
                "fuzz_edges_recovered": round(tot["fuzz_edges_found"] / max(tot["edges"], 1), 4),
                "drafts_valid_strict": sum(bool(r.get("valid")) for r in rs),
                "calls_per_menu": round(tot["calls"] / max(tot["menus_found"], 1), 2),
                "line_minutes_per_menu": round(minutes / max(tot["menus_found"], 1), 2),
                "draft_goals_reached": round(tot["reached"] / max(seeds * tot["goals"], 1), 4),
                "draft_calls": seeds * tot["goals"],
                "draft_reached": tot["reached"],
                "false_successes": tot["false"],
            }
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def section(report: dict) -> list[str]:
    """The docs/benchmarks.md section (``bench.report.write_docs`` keeps it when it rewrites the file)."""
    args, summary = report["args"], report["summary"]
    lines = [HEADING, "",
             f"`python -m bench.discover` (raw numbers in `bench/results/discover.json`, {report['wall_s']:.0f} s): "
             "`ivrnav discover` maps each line (the bundled menus, the real trees of bench/real, "
             f"{args['generated']} generated IVRs) hearing only its transcripts, at each WER below; the line file,",
             "which the crawler never reads, scores it. A true menu (reachable by its own options and `next`) is",
             "recovered when a draft menu's hearings say its prompt (an announcement is heard with the menu it",
             "runs into), or, for a menu that says nothing (music, ringing, a hang-up), when the draft reaches a",
             "wordless place by the key (or the `next`) the true line takes there; a true edge when the draft",
             "links the two by the same key. Entries are crossed with the line's demo values given under the",
             "draft's var names over up to three passes (what a user does when the draft says",
             "`give --var NAME=...`). Then every draft menu but a hang-up",
             f"is a goal: the draft navigates the true line at {100 * args['nav_wer']:g}% WER "
             f"({args['seeds']} seeds), judged by the line: a claim is true when the line is at a menu where,",
             "by the line's own record during the crawl, it said what that draft menu's hearings are made of (a",
             "menu that says nothing: where its key leads, as scored). Fuzzer: random keys at every pause, the",
             "same number of calls, credited with every menu the line entered (generous: it cannot name them).",
             "Rows `@ audio`: the",
             "crawl hears the line through real speech on a virtual clock (`discover --audio`: Piper, and for",
             "Asterisk's own trees (asterisk_*) its recordings (Allison Smith) of the sentences they have, a G.711",
             "channel, offline Whisper with no key terms, keys as",
             "in-band DTMF tones); the drafts then navigate the simulated line as above.", "",
             "| corpus @ discovery WER | lines | menus recovered | edges recovered | fuzzer menus | fuzzer edges | "
             "drafts strict-valid | calls / menu | line min / menu | draft goals reached | false successes |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, v in summary.items():
        lines.append(f"| {key.replace('@', ' @ ')} | {v['lines']} | {_pct(v['menus_recovered'])} | "
                     f"{_pct(v['edges_recovered'])} | {_pct(v['fuzz_menus_recovered'])} | "
                     f"{_pct(v['fuzz_edges_recovered'])} | {v['drafts_valid_strict']}/{v['lines']} | "
                     f"{v['calls_per_menu']:.2f} | {v['line_minutes_per_menu']:.2f} | "
                     f"{_pct(v['draft_goals_reached'])} ({v['draft_reached']}/{v['draft_calls']}) | "
                     f"{v['false_successes']} |")
    verdicts = []
    for kind, target in TARGETS.items():
        at0 = summary.get(f"{kind}@0")
        if at0:
            got = min(at0["menus_recovered"], at0["edges_recovered"])
            verdicts.append(f"{kind} at 0% WER: menus {_pct(at0['menus_recovered'])}, edges "
                            f"{_pct(at0['edges_recovered'])} against >= {_pct(target)}: "
                            f"{'met' if got >= target else '**missed**'}")
    nav = [f"{k}: {_pct(v['draft_goals_reached'])}" for k, v in summary.items() if k.endswith(("@0", "@audio"))]
    lines += ["", "Targets (issue #14): " + "; ".join(verdicts) + ". Drafts navigating their line at "
              f"{100 * args['nav_wer']:g}% WER (target >= 95%): " + ", ".join(nav) + ".", ""]
    return lines


def write_section(report: dict) -> None:
    from bench.report import replace_section

    replace_section(DOCS, HEADING, section(report))


_SOURCES: list[Source] = []  # the run's lines, inherited by the forked workers


def _run_task(task: tuple[int, int, Discovery, float, int]) -> tuple[int, int, dict]:
    i, w, wer, nav_wer, seeds = task
    return i, w, run_one(_SOURCES[i], wer, nav_wer, seeds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generated", type=int, default=40)
    ap.add_argument("--wer", type=float, nargs="+", default=[0.0, 0.15])
    ap.add_argument("--nav-wer", type=float, default=0.15)
    ap.add_argument("--seeds", type=int, default=2, help="navigation calls per draft goal")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "discover.json"))
    ap.add_argument("--procs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--audio", nargs="*", default=[], choices=["bundled", "generated", "real"],
                    help="also crawl the lines of these kinds through audio (TTS/recordings -> G.711 -> Whisper)")
    ap.add_argument("--keep", action="store_true", help="keep the previous results' rows this run does not redo")
    ap.add_argument("--no-simulated", action="store_true", help="only the --audio crawls")
    ap.add_argument("--kinds", nargs="+", default=["bundled", "generated", "real"],
                    choices=["bundled", "generated", "real"], help="simulated crawls of these kinds only (with --keep)")
    args = ap.parse_args(argv)
    global _SOURCES
    _SOURCES = sources(args.generated)
    t0 = time.perf_counter()
    modes: list[Discovery] = [] if args.no_simulated else list(args.wer)
    # the audio crawls first (the longest, so the pool's other worker fills the time with the simulated ones)
    tasks = [(i, len(modes), AUDIO, args.nav_wer, args.seeds) for i, src in enumerate(_SOURCES)
             if src.kind in args.audio]
    tasks += [(i, w, wer, args.nav_wer, args.seeds) for i, src in enumerate(_SOURCES) if src.kind in args.kinds
              for w, wer in enumerate(modes)]
    done: list[tuple[int, int, dict]] = []
    with mp.get_context("fork").Pool(args.procs) as pool:  # each line's crawl is independent
        for i, w, row in pool.imap_unordered(_run_task, tasks):
            done.append((i, w, row))
            src = _SOURCES[i]
            print(f"[{len(done)}/{len(tasks)}] {src.kind:9s} {src.name:28s} wer {_mode(row['wer']):>5s}: menus "
                  f"{row['menus_found']}/{row['menus']} edges {row['edges_found']}/{row['edges']} calls {row['calls']} "
                  f"draft goals {row.get('reached', 0)}/{row.get('goals', 0) * args.seeds} "
                  f"false {row.get('false', 0)}", file=sys.stderr, flush=True)
    rows = [row for _, _, row in sorted(done, key=lambda d: d[:2])]  # the sequential order, whatever finished first
    if args.keep and Path(args.out).exists():
        redone = {(r["line"], r["wer"]) for r in rows}
        kept = [r for r in json.loads(Path(args.out).read_text())["rows"] if (r["line"], r["wer"]) not in redone]
        rows = kept + rows
        previous_wall = json.loads(Path(args.out).read_text()).get("wall_s", 0.0)
    else:
        previous_wall = 0.0
    summary = summarise(rows, args.seeds)
    report = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
              "args": vars(args), "wall_s": round(previous_wall + time.perf_counter() - t0, 1), "summary": summary,
              "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1, allow_nan=False))
    write_section(report)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
