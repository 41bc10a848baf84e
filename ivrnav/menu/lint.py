"""Lint: the semantic checks that need the whole model (reachability, dead ends, confusable options)."""

from __future__ import annotations

import re
from collections import deque
from itertools import combinations

from rapidfuzz import fuzz

from ivrnav.menu.diagnostics import Diagnostic, Severity
from ivrnav.menu.loader import Document
from ivrnav.menu.model import MenuFile, exits
from ivrnav.text import normalise, tokens

_REGEX_LIKE = re.compile(r"\\[wdsbWDS]|\([^)]*\|[^)]*\)|\.[*+]|\[[^\]]+\]")
SIMILAR_SAYS = 90  # rapidfuzz ratio (0-100) above which two sibling labels are confusable


def reachable(menu_file: MenuFile, start: str | None = None) -> set[str]:
    seen = {start or menu_file.start}
    queue = deque(seen)
    while queue:
        name = queue.popleft()
        for to in [e.to for e in exits(menu_file, name)] + line_exits(menu_file, name):
            if to not in seen:
                seen.add(to)
                queue.append(to)
    return seen


def line_exits(menu_file: MenuFile, name: str) -> list[str]:
    """Where the line's own behaviour (timeouts, invalid keys, any key, free-form entries) can lead."""
    ln = menu_file.menus[name].line
    targets = [ln.any_key, ln.entry_to, ln.timeout.to if ln.timeout else None, ln.invalid.to if ln.invalid else None]
    return [t for t in targets if t is not None]


def lint(menu_file: MenuFile, doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def warn(path: tuple, message: str, *, key: bool = False, code: str = "") -> None:
        out.append(doc.diagnostic(path, message, severity=Severity.WARNING, key=key, code=code))

    seen = reachable(menu_file)
    goal = menu_file.goal
    if goal is not None and goal in menu_file.menus and goal not in seen:
        out.append(doc.diagnostic(("goal",), f"goal {goal!r} cannot be reached from start "
                                  f"{menu_file.start!r}: no chain of options or next leads there",
                                  code="unreachable-goal"))
    for name, menu in menu_file.menus.items():
        path = ("menus", name)
        if name not in seen and name != goal:  # an unreachable goal is already an error
            warn(path, f"menu {name!r} is never reached from start {menu_file.start!r}", key=True,
                 code="unreachable")
        own_exits = ([o for o in menu.options if o.to] or ([menu.next] if menu.next else [])
                     or line_exits(menu_file, name))
        if not own_exits and not menu.passive and not menu.terminal and name != goal:
            warn(path, f"menu {name!r} has no way out (no options with `to`, no `next`) and is not the goal, a "
                 "hold or a human", key=True, code="dead-end")
        options = menu_file.options_of(menu)
        for (_i, a), (j, b) in combinations(enumerate(options), 2):
            for pa in a.says:
                for pb in b.says:
                    if fuzz.ratio(normalise(pa), normalise(pb)) >= SIMILAR_SAYS:
                        where = ("globals", menu_file.globals.index(b)) if b.is_global else (*path, "options", j)
                        warn((*where, "says"), f"menu {name!r}: options {a.keys!r} ({pa!r}) and {b.keys!r} "
                             f"({pb!r}) sound alike after normalisation; the navigator cannot tell them apart",
                             code="confusable")
        for i, phrase in enumerate(menu.listen):
            if phrase.regex is None and _REGEX_LIKE.search(phrase.text):
                warn((*path, "listen", i), f"menu {name!r}: listen phrase {phrase.text!r} looks like a regular "
                     f"expression but is matched as plain words; write \"re:{phrase.text}\" to use it as a regex",
                     code="listen-not-regex")
        prompt = set(tokens(menu.prompt))
        if menu.prompt:
            for i, option in enumerate(menu.options):
                if option.says and not any(_mostly_in(p, prompt) for p in option.says):
                    warn((*path, "options", i, "says"), f"menu {name!r}: option {option.keys!r} says "
                         f"{option.says[0]!r}, but the prompt never says that", code="says-not-in-prompt")
    return out


def _mostly_in(phrase: str, prompt_tokens: set[str]) -> bool:
    words = tokens(phrase)
    return bool(words) and sum(w in prompt_tokens for w in words) / len(words) >= 0.6
