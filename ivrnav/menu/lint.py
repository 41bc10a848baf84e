"""Lint: the semantic checks that need the whole model (reachability, dead ends, confusable options)."""

from __future__ import annotations

import re
from collections import deque

from rapidfuzz import fuzz

from ivrnav.menu.diagnostics import Diagnostic, Severity, quote
from ivrnav.menu.loader import Document
from ivrnav.menu.model import MenuFile, Option
from ivrnav.text import normalise, tokens

_REGEX_LIKE = re.compile(r"\\[wdsbWDS]|\([^)]*\|[^)]*\)|\.[*+]|\[[^\]]+\]")
SIMILAR_SAYS = 90  # rapidfuzz ratio (0-100) above which two sibling labels are confusable


def reachable(menu_file: MenuFile, start: str | None = None) -> set[str]:
    """Menus reachable from ``start``. Linear in the file: a global is followed once, from the first menu that
    offers it, instead of once per menu (1,000 globals x 10,000 menus)."""
    menus = menu_file.menus
    seen = {start or menu_file.start}
    queue = deque(seen)
    waiting = list(menu_file.globals)  # globals not yet followed

    def visit(target: str | None) -> None:
        if target is not None and target not in seen:
            seen.add(target)
            queue.append(target)

    while queue:
        name = queue.popleft()
        menu = menus[name]
        for option in menu.options:
            visit(option.to)
        if menu.next is not None:
            visit(menu.next)
        for target in line_exits(menu_file, name):  # the line's own behaviour: timeouts, invalid, any key
            visit(target)
        if waiting and not (menu.passive or menu.enter is not None or menu.say is not None):
            own = {o.keys for o in menu.options}
            kept = []
            for option in waiting:  # after the first menu, only globals some menu overrode are left
                if option.keys in own:
                    kept.append(option)
                else:
                    visit(option.to)
            waiting = kept
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
    confusable = _Confusable(menu_file)
    for a, pa, b, pb, where in confusable.among_globals():
        warn((*where, "says"), f"globals: options {a.keys!r} ({quote(pa)}) and {b.keys!r} ({quote(pb)}) sound "
             "alike after normalisation; the navigator cannot tell them apart", code="confusable")
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
        if not (menu.passive or menu.enter is not None or menu.say is not None):
            for a, pa, b, pb, where in confusable.in_menu(path, menu.options):
                warn((*where, "says"), f"menu {name!r}: options {a.keys!r} ({quote(pa)}) and {b.keys!r} "
                     f"({quote(pb)}) sound alike after normalisation; the navigator cannot tell them apart",
                     code="confusable")
        for i, phrase in enumerate(menu.listen):
            if phrase.regex is None and len(phrase.text) <= 500 and _REGEX_LIKE.search(phrase.text):
                warn((*path, "listen", i), f"menu {name!r}: listen phrase {quote(phrase.text)} looks like a regular "
                     f"expression but is matched as plain words; write {_re_form(phrase.text)} to use it as a regex",
                     code="listen-not-regex")
        prompt = set(tokens(menu.prompt))
        if menu.prompt:
            for i, option in enumerate(menu.options):
                if option.says and not any(_mostly_in(p, prompt) for p in option.says):
                    warn((*path, "options", i, "says"), f"menu {name!r}: option {option.keys!r} says "
                         f"{quote(option.says[0])}, but the prompt never says that", code="says-not-in-prompt")
    return out


FUZZY_PAIRS = 200_000  # fuzzy label comparisons per file; beyond, only labels equal after normalisation


class _Labels:
    """Option labels, normalised once, for the confusable check: each (position, option, label, normalised)."""

    def __init__(self, labelled: list[tuple[tuple, Option]]):
        self.entries = [(where, o, label, normalise(label)) for where, o in labelled for label in o.says]
        self.by_norm: dict[str, list[tuple]] = {}
        for entry in self.entries:
            self.by_norm.setdefault(entry[3], []).append(entry)


class _Confusable:
    """Pairs of labels that sound alike, linear in the file: the fuzzy ratio runs while the file's budget of
    comparisons lasts; past it, only labels equal after normalisation are found (through a dict)."""

    def __init__(self, menu_file: MenuFile):
        self.budget = FUZZY_PAIRS
        self.globals = _Labels([(("globals", i), g) for i, g in enumerate(menu_file.globals)])

    def _affordable(self, pairs: int) -> bool:
        if pairs <= self.budget:
            self.budget -= pairs
            return True
        return False

    def among_globals(self) -> list[tuple]:
        return self._within(self.globals)

    def in_menu(self, path: tuple, options: tuple[Option, ...]) -> list[tuple]:
        own = _Labels([((*path, "options", j), o) for j, o in enumerate(options)])
        found = self._within(own)
        keys = {o.keys for o in options}
        glob = self.globals
        if self._affordable(len(own.entries) * len(glob.entries)):
            for _w, a, la, na in own.entries:
                for wb, b, lb, nb in glob.entries:
                    if b.keys not in keys and _alike(na, nb):
                        found.append((a, la, b, lb, wb))
        else:
            for _w, a, la, na in own.entries:
                found.extend((a, la, b, lb, wb) for wb, b, lb, _nb in glob.by_norm.get(na, ()) if b.keys not in keys)
        return _first_per_pair(found)

    def _within(self, labels: _Labels) -> list[tuple]:
        entries = labels.entries
        found = []
        if self._affordable(len(entries) * (len(entries) - 1) // 2):
            for i, (_wa, a, la, na) in enumerate(entries):
                for wb, b, lb, nb in entries[i + 1:]:
                    if a is not b and _alike(na, nb):
                        found.append((a, la, b, lb, wb))
        else:
            for same in labels.by_norm.values():
                _w, a, la, _n = same[0]
                found.extend((a, la, b, lb, wb) for wb, b, lb, _nb in same[1:] if b is not a)
        return _first_per_pair(found)


FUZZY_LENGTH = 200  # longer labels are compared exactly: the ratio of two 1 MB strings takes minutes


def _alike(a: str, b: str) -> bool:
    return a == b or (len(a) <= FUZZY_LENGTH and len(b) <= FUZZY_LENGTH and fuzz.ratio(a, b) >= SIMILAR_SAYS)


def _first_per_pair(found: list[tuple]) -> list[tuple]:
    out: dict[tuple[int, int], tuple] = {}
    for a, la, b, lb, wb in found:
        out.setdefault((id(a), id(b)), (a, la, b, lb, wb))
    return list(out.values())


def _re_form(text: str) -> str:
    return f'"re:{text}"' if len(text) <= 80 else 'it with a "re:" prefix'


def _mostly_in(phrase: str, prompt_tokens: set[str]) -> bool:
    words = tokens(phrase)
    return bool(words) and sum(w in prompt_tokens for w in words) / len(words) >= 0.6
