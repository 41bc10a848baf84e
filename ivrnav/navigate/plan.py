"""Routes: the cheapest way from one menu to a goal, counting keys and expected prompt time.

A route is recomputed whenever the line goes somewhere unexpected, so planning must be cheap: the graph
is small (menus x options) and Dijkstra over it takes microseconds for hand-written files.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ivrnav.menu.derived import per_file
from ivrnav.menu.model import Exit, Menu, MenuFile, exits
from ivrnav.text import tokens

KEY_COST = 0.3  # seconds a key press costs beyond pacing: the line must react to it
TYPICAL_HOLD = 60.0  # seconds assumed for a hold when the file gives no maximum


@dataclass(frozen=True, slots=True)
class Step:
    menu: str
    exit: Exit


@dataclass(frozen=True, slots=True)
class Route:
    steps: tuple[Step, ...]
    goal: str
    cost: float  # expected seconds

    @property
    def menus(self) -> tuple[str, ...]:
        return (*tuple(s.menu for s in self.steps), self.goal)

    def step_at(self, menu: str) -> Step | None:
        for step in self.steps:
            if step.menu == menu:
                return step
        return None


class NoRoute(Exception):
    def __init__(self, start: str, goal: str):
        super().__init__(f"no route from menu {start!r} to goal {goal!r}: no chain of options or next leads there")
        self.start, self.goal = start, goal


def prompt_seconds(menu_file: MenuFile, menu: Menu) -> float:
    return len(tokens(menu.prompt)) / menu_file.line.speaking_rate if menu.prompt else 1.0


def exit_cost(menu_file: MenuFile, menu: Menu, e: Exit) -> float:
    rate = menu_file.line.speaking_rate
    pacing = len(e.keys) * (menu.settings.inter_digit + KEY_COST)
    if e.kind == "option":
        if menu.type_ahead:
            return 0.5 + pacing
        return _seconds_until_offer(menu, e, rate) + menu.settings.settle + pacing
    if menu.hold:
        return prompt_seconds(menu_file, menu) + (menu.hold_max or TYPICAL_HOLD)
    return prompt_seconds(menu_file, menu) + pacing + (1.0 if e.kind == "say" else 0.0)


def _seconds_until_offer(menu: Menu, e: Exit, rate: float) -> float:
    """When the prompt has said this option: the end of the sentence that names it (or the whole prompt)."""
    words = tokens(menu.prompt)
    if not words:
        return 1.0
    said = [tokens(s) for s in (e.option.says if e.option else ())]
    best = len(words)
    for phrase in said:
        if not phrase:
            continue
        for i in range(len(words) - len(phrase) + 1):
            if words[i : i + len(phrase)] == phrase:
                # "for X press N" ends 2 words later; "press N for X" ends with the label
                best = min(best, i + len(phrase) + 2)
                break
    return min(best, len(words)) / rate


@per_file
def _memo(menu_file: MenuFile) -> dict[tuple, object]:
    """Routes and distances computed on a file, kept with it: each call re-plans at every menu."""
    return {}


def plan(menu_file: MenuFile, start: str, goal: str, avoid: frozenset[str] = frozenset()) -> Route:
    """Cheapest route; ``avoid`` lists menus not to pass through (e.g. ones that proved to be loops)."""
    memo = _memo(menu_file)
    key = ("plan", start, goal, avoid)
    route = memo.get(key)
    if route is None:
        route = memo[key] = _plan(menu_file, start, goal, avoid)
    return route  # type: ignore[return-value]


def _plan(menu_file: MenuFile, start: str, goal: str, avoid: frozenset[str]) -> Route:
    if goal not in menu_file.menus:
        raise KeyError(goal)
    if start == goal:
        return Route((), goal, 0.0)
    best: dict[str, float] = {start: 0.0}
    back: dict[str, Step] = {}
    queue: list[tuple[float, int, str]] = [(0.0, 0, start)]
    counter = 0
    while queue:
        cost, _, name = heapq.heappop(queue)
        if name == goal:
            break
        if cost > best.get(name, float("inf")):
            continue
        menu = menu_file.menus[name]
        for e in exits(menu_file, menu):
            if e.to in avoid and e.to != goal:
                continue
            new = cost + exit_cost(menu_file, menu, e)
            if new < best.get(e.to, float("inf")):
                best[e.to] = new
                back[e.to] = Step(name, e)
                counter += 1
                heapq.heappush(queue, (new, counter, e.to))
    if goal not in back:
        raise NoRoute(start, goal)
    steps = []
    node = goal
    while node != start:
        step = back[node]
        steps.append(step)
        node = step.menu
    return Route(tuple(reversed(steps)), goal, best[goal])


def distances_to(menu_file: MenuFile, goal: str) -> dict[str, float]:
    """Expected cost from every menu to ``goal`` (reverse Dijkstra); unreachable menus are absent."""
    memo = _memo(menu_file)
    key = ("distances", goal)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _distances_to(menu_file, goal)
    return dict(found)  # type: ignore[call-overload]


def _distances_to(menu_file: MenuFile, goal: str) -> tuple[tuple[str, float], ...]:
    incoming: dict[str, list[tuple[str, float]]] = {}
    for name, menu in menu_file.menus.items():
        for e in exits(menu_file, menu):
            incoming.setdefault(e.to, []).append((name, exit_cost(menu_file, menu, e)))
    best = {goal: 0.0}
    queue = [(0.0, goal)]
    while queue:
        cost, name = heapq.heappop(queue)
        if cost > best[name]:
            continue
        for source, c in incoming.get(name, ()):
            if cost + c < best.get(source, float("inf")):
                best[source] = cost + c
                heapq.heappush(queue, (cost + c, source))
    return tuple(best.items())
