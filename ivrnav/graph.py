"""Diagrams of a menu tree: Graphviz (dot, svg, png through the `dot` program) and Mermaid text.

The goal and the planned route are highlighted so an author sees at a glance how the navigator will go.
Given a call's trace (``ivrnav run --trace``), the path the call actually took is drawn over the map: the
file's edges it took in blue, numbered in order, and drift (the machine's ``relocate``: the line went
somewhere the file did not predict) as dashed crimson edges the file does not have.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import graphviz

from ivrnav.menu.machine import LIFECYCLE, call_machine
from ivrnav.menu.model import MenuFile, exits
from ivrnav.navigate.plan import NoRoute, Route, plan

ROUTE_COLOUR = "#d9480f"
GOAL_FILL = "#ffd8a8"
TAKEN_COLOUR = "#1971c2"
DRIFT_COLOUR = "#c2255c"


class GraphError(Exception):
    pass


def _route(menu_file: MenuFile, goal: str | None) -> Route | None:
    if goal is None:
        return None
    try:
        return plan(menu_file, menu_file.start, goal)
    except NoRoute:
        return None


def _edge_label(keys: str, kind: str, menu_file: MenuFile, name: str) -> str:
    if kind == "option":
        return keys
    if kind == "enter":
        return "enter " + keys
    if kind == "say":
        return "say"
    return "hold" if menu_file.menus[name].hold else "next"


@dataclass(frozen=True, slots=True)
class Taken:
    """One machine transition of a call, as its trace recorded it."""

    trigger: str
    source: str
    dest: str
    at: float


def read_trace(path: Path) -> list[Taken]:
    """The machine transitions in a JSON-lines trace written by ``ivrnav run --trace``."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise GraphError(f"cannot read trace {path}: {exc.strerror}") from None
    out = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError as exc:
            raise GraphError(f"{path}:{number}:{exc.colno}: not a JSON trace record ({exc.msg})") from None
        if isinstance(record, dict) and record.get("kind") == "transition":
            try:
                out.append(Taken(str(record["trigger"]), str(record["source"]), str(record["dest"]),
                                 float(record.get("at", record.get("t", 0.0)))))
            except (KeyError, TypeError, ValueError):
                raise GraphError(f"{path}:{number}:1: a transition record needs trigger, source and dest") from None
    if not out:
        raise GraphError(f"{path} has no machine transitions: write it with `ivrnav run --trace`")
    return out


def _check_taken(menu_file: MenuFile, taken: Sequence[Taken]) -> None:
    states = set(menu_file.menus) | set(LIFECYCLE)
    for t in taken:
        for state in (t.source, t.dest):
            if state not in states:
                raise GraphError(f"the trace names state {state!r}, which is not in {menu_file.name!r}: "
                                 "was it written for another menu file?")


def to_dot(menu_file: MenuFile, goal: str | None = None, taken: Sequence[Taken] = ()) -> graphviz.Digraph:
    route = _route(menu_file, goal)
    on_route = {(s.menu, s.exit.to, s.exit.keys) for s in route.steps} if route else set()
    dot = graphviz.Digraph(name="ivr", graph_attr={"rankdir": "LR", "label": menu_file.name, "fontname": "Helvetica"},
                           node_attr={"fontname": "Helvetica", "shape": "box", "style": "rounded"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for name, menu in menu_file.menus.items():
        attrs = {}
        label = name
        if menu.human:
            attrs["shape"] = "ellipse"
            label += "\\n(human)"
        elif menu.hold:
            attrs["shape"] = "octagon"
            label += "\\n(hold)"
        elif menu.enter:
            label += "\\n(entry)"
        elif menu.say:
            label += "\\n(speech)"
        if name == goal:
            attrs.update(style="rounded,filled,bold", fillcolor=GOAL_FILL, color=ROUTE_COLOUR)
        if name == menu_file.start:
            attrs["peripheries"] = "2"
        dot.node(name, label, **attrs)
    _check_taken(menu_file, taken)
    machine = call_machine(menu_file)
    # the file's edges a call took: (source, dest, trigger) -> the step numbers
    followed: dict[tuple[str, str, str], list[int]] = {}
    for n, t in enumerate(taken, 1):
        followed.setdefault((t.source, t.dest, t.trigger), []).append(n)
    drawn: set[tuple[str, str, str]] = set()
    for name, menu in menu_file.menus.items():
        for e in exits(menu_file, menu):
            if e.option is not None and e.option.is_global:
                continue  # globals would draw an edge from every menu; shown once below
            attrs = {"label": _edge_label(e.keys, e.kind, menu_file, name)}
            if (name, e.to, e.keys) in on_route:
                attrs.update(color=ROUTE_COLOUR, penwidth="2.5", fontcolor=ROUTE_COLOUR)
            key = next(((name, e.to, trig) for (src, dst, trig) in followed if (src, dst) == (name, e.to)
                        and trig != "relocate" and machine.expects(name, trig) == e.to), None)
            if key is not None:
                drawn.add(key)
                steps = ",".join(f"#{n}" for n in followed[key])
                attrs.update(color=TAKEN_COLOUR, penwidth="3", fontcolor=TAKEN_COLOUR,
                             label=f"{attrs['label']} {steps}")
            dot.edge(name, e.to, **attrs)
    _draw_taken(dot, followed, drawn)
    for option in menu_file.globals:
        if option.to:
            dot.node("__any__", "any menu", shape="plaintext")
            routed = any(s.exit.option is option for s in route.steps) if route else False
            attrs = {"color": ROUTE_COLOUR, "penwidth": "2.5"} if routed else {"style": "dashed"}
            dot.edge("__any__", option.to, label=f"{option.keys} (global)", **attrs)
    return dot


def _draw_taken(dot: graphviz.Digraph, followed: dict[tuple[str, str, str], list[int]],
                drawn: set[tuple[str, str, str]]) -> None:
    """The steps of a call not drawn as one of the file's edges: answering, globals, drift, the end."""
    for (source, dest, trigger), numbers in followed.items():
        if (source, dest, trigger) in drawn:
            continue
        for state in (source, dest):
            if state in LIFECYCLE:
                dot.node(state, state, shape="plaintext", fontcolor=DRIFT_COLOUR if state == "unknown" else "black")
        steps = ",".join(f"#{n}" for n in numbers)
        if trigger == "relocate":
            dot.edge(source, dest, label=f"drift {steps}", color=DRIFT_COLOUR, fontcolor=DRIFT_COLOUR, style="dashed",
                     penwidth="2.5")
        else:
            dot.edge(source, dest, label=f"{trigger} {steps}", color=TAKEN_COLOUR, fontcolor=TAKEN_COLOUR,
                     penwidth="2")


def to_mermaid(menu_file: MenuFile, goal: str | None = None) -> str:
    route = _route(menu_file, goal)
    lines = ["flowchart LR"]
    for name, menu in menu_file.menus.items():
        text = name + (" (human)" if menu.human else " (hold)" if menu.hold else "")
        shape = f'(["{text}"])' if menu.human else f'{{{{"{text}"}}}}' if menu.hold else f'["{text}"]'
        lines.append(f"    {name}{shape}")
    link = 0
    route_links = []
    on_route = {(s.menu, s.exit.to, s.exit.keys) for s in route.steps} if route else set()
    for name, menu in menu_file.menus.items():
        for e in exits(menu_file, menu):
            if e.option is not None and e.option.is_global:
                continue
            label = _edge_label(e.keys, e.kind, menu_file, name).replace('"', "'")
            lines.append(f'    {name} -->|"{label}"| {e.to}')
            if (name, e.to, e.keys) in on_route:
                route_links.append(link)
            link += 1
    if goal:
        lines.append(f"    style {goal} fill:{GOAL_FILL},stroke:{ROUTE_COLOUR},stroke-width:3px")
    if route_links:
        lines.append(f"    linkStyle {','.join(map(str, route_links))} stroke:{ROUTE_COLOUR},stroke-width:3px")
    return "\n".join(lines) + "\n"


def write(menu_file: MenuFile, output: Path, goal: str | None = None, taken: Sequence[Taken] = ()) -> Path:
    suffix = output.suffix.lower().lstrip(".")
    if suffix == "mmd":
        if taken:
            raise GraphError("a call's path (--trace) is drawn with Graphviz: use .svg, .png, .pdf or .dot")
        output.write_text(to_mermaid(menu_file, goal), "utf-8")
        return output
    dot = to_dot(menu_file, goal, taken)
    if suffix in ("dot", "gv"):
        output.write_text(dot.source, "utf-8")
        return output
    if suffix not in ("svg", "png", "pdf"):
        raise GraphError(f"unknown diagram format {output.suffix!r}: use .svg, .png, .pdf, .dot or .mmd")
    if shutil.which("dot") is None:
        raise GraphError("drawing .svg/.png needs Graphviz's `dot` program (Debian/Ubuntu: apt-get install graphviz); "
                         ".dot and .mmd outputs work without it")
    output.write_bytes(dot.pipe(format=suffix))
    return output
