"""Diagrams of a menu tree: Graphviz (dot, svg, png through the `dot` program) and Mermaid text.

The goal and the planned route are highlighted so an author sees at a glance how the navigator will go.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import graphviz

from ivrnav.menu.model import MenuFile, exits
from ivrnav.navigate.plan import NoRoute, Route, plan

ROUTE_COLOUR = "#d9480f"
GOAL_FILL = "#ffd8a8"


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


def to_dot(menu_file: MenuFile, goal: str | None = None) -> graphviz.Digraph:
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
    for name, menu in menu_file.menus.items():
        for e in exits(menu_file, menu):
            if e.option is not None and e.option.is_global:
                continue  # globals would draw an edge from every menu; shown once below
            attrs = {"label": _edge_label(e.keys, e.kind, menu_file, name)}
            if (name, e.to, e.keys) in on_route:
                attrs.update(color=ROUTE_COLOUR, penwidth="2.5", fontcolor=ROUTE_COLOUR)
            dot.edge(name, e.to, **attrs)
    for option in menu_file.globals:
        if option.to:
            dot.node("__any__", "any menu", shape="plaintext")
            routed = any(s.exit.option is option for s in route.steps) if route else False
            attrs = {"color": ROUTE_COLOUR, "penwidth": "2.5"} if routed else {"style": "dashed"}
            dot.edge("__any__", option.to, label=f"{option.keys} (global)", **attrs)
    return dot


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


def write(menu_file: MenuFile, output: Path, goal: str | None = None) -> Path:
    suffix = output.suffix.lower().lstrip(".")
    if suffix == "mmd":
        output.write_text(to_mermaid(menu_file, goal), "utf-8")
        return output
    dot = to_dot(menu_file, goal)
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
