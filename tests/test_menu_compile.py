"""Compiling menu files to the typed model: the shipped menus are clean and the model says what the file says."""

from __future__ import annotations

import re
from collections import Counter, deque
from pathlib import Path

import pytest

from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.diagnostics import Severity
from ivrnav.menu.model import MenuFile, exits

ROOT = Path(__file__).parent.parent
MENUS = sorted((ROOT / "menus").glob("*.yaml"))
NEW_MENUS = ["pharmacy", "airline", "utility", "insurer"]
WARN = Path(__file__).parent / "warn"


@pytest.fixture(scope="module")
def bank() -> MenuFile:
    return compile_file(ROOT / "menus" / "bank.yaml").menu_file


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.name)
def test_every_menu_compiles_without_warnings(path: Path):
    compiled = compile_file(path)
    assert compiled.warnings == ()
    assert compiled.menu_file.path == str(path)


# --------------------------------------------------------------------------------------------- bank.yaml


def test_bank_header(bank: MenuFile):
    assert bank.name == "Acme Bank customer service"
    assert bank.phone == "+18005550100"
    assert (bank.start, bank.goal) == ("welcome", "agent")
    assert bank.defaults.inter_digit == 0.15
    assert bank.defaults.max_call == 1800


def test_bank_globals(bank: MenuFile):
    operator, repeat = bank.globals
    assert (operator.keys, operator.says, operator.to, operator.repeat) == (
        "0", ("representative", "operator"), "queue", False,
    )
    assert (repeat.keys, repeat.says, repeat.to, repeat.repeat) == ("*", ("repeat",), None, True)
    assert all(g.is_global for g in bank.globals)


def test_bank_menus(bank: MenuFile):
    assert bank.menus["language"].type_ahead is True
    assert bank.menus["main"].type_ahead is False
    verify = bank.menus["verify"]
    assert (verify.enter, verify.next) == ("{account}#", "queue")
    assert verify.invalid == ("not a valid account number",)
    queue = bank.menus["queue"]
    assert (queue.hold, queue.hold_max, queue.passive, queue.line.hold) == (True, 1200, True, 45)
    agent = bank.menus["agent"]
    assert agent.human and agent.passive
    assert agent.listen[0].regex is not None and agent.listen[0].regex.search("Hi, my name is Dana")
    assert (bank.menus["lost_card"].say, bank.menus["lost_card"].next) == ("lost card", "verify")
    assert [o.keys for o in bank.menus["main"].options] == ["1", "2", "3", "0"]
    assert bank.menus["main"].listen[0].text == "main menu"


def test_bank_vars_and_line(bank: MenuFile):
    assert bank.secret_vars == frozenset({"account", "pin"})
    assert bank.vars["account"].pattern == "^[0-9]{10}$"
    assert bank.vars["card_last4"].default == "4821" and not bank.vars["card_last4"].secret
    assert bank.line.speaking_rate == 2.5
    assert (bank.line.hold, bank.line.repeats, bank.line.wait) == (30, 3, 5)
    assert dict(bank.line.vars) == {"account": "1234567890", "pin": "9876"}


def test_options_of_merges_globals_unless_the_menu_uses_the_key(bank: MenuFile):
    main = bank.options_of("main")
    # main defines its own "0", so the global "0" is not added; the global "*" is.
    assert [o.keys for o in main] == ["1", "2", "3", "0", "*"]
    assert [o.is_global for o in main] == [False, False, False, False, True]
    assert next(o for o in main if o.keys == "0").to == "verify"
    language = bank.options_of("language")
    assert [o.keys for o in language] == ["1", "2", "0", "*"]
    assert next(o for o in language if o.keys == "0").to == "queue"


def test_options_of_is_empty_where_the_navigator_never_presses(bank: MenuFile):
    for name in ("queue", "agent", "verify", "lost_card"):
        assert bank.options_of(name) == ()


def test_options_of_accepts_a_menu_object(bank: MenuFile):
    assert bank.options_of(bank.menus["cards"]) == bank.options_of("cards")


# ------------------------------------------------------------------------------ the realistic menu files


def _depth(mf: MenuFile) -> int:
    """Longest shortest-path (in menus that ask the caller for something) from start to any menu."""
    best = {mf.start: 0}
    queue = deque([mf.start])
    while queue:
        name = queue.popleft()
        menu = mf.menus[name]
        step = 1 if (menu.options or menu.enter or menu.say) else 0
        for e in exits(mf, name):
            if e.to not in best:
                best[e.to] = best[name] + step
                queue.append(e.to)
    return max(best.values())


@pytest.mark.parametrize("stem", NEW_MENUS)
def test_realistic_menu_has_every_concept(stem: str):
    mf = compile_file(ROOT / "menus" / f"{stem}.yaml").menu_file
    menus = mf.menus.values()
    assert _depth(mf) >= 3
    assert mf.phone and mf.goal in mf.menus and mf.menus[mf.goal].human
    # data entry followed by #, with a template variable; ids/PINs/DOBs are secret and have a pattern
    assert any(m.enter and re.search(r"\{\w+\}#$", m.enter) for m in menus)
    assert mf.secret_vars
    assert all(mf.vars[v].pattern for v in mf.secret_vars)
    # every entry or speech menu says what an invalid answer sounds like
    assert all(m.invalid for m in menus if m.enter or m.say)
    # hold queue with a max, followed by a human with a name-style listen phrase
    holds = [m for m in menus if m.hold and m.hold_max]
    assert holds and any(mf.menus[h.next].human for h in holds if h.next)
    humans = [m for m in menus if m.human]
    assert any(p.regex is not None and p.regex.search("hi, my name is Sam") for h in humans for p in h.listen)
    # globals: operator 0 and repeat *
    keys = {g.keys: g for g in mf.globals}
    assert keys["*"].repeat and keys["0"].to is not None
    assert any(m.say for m in menus) and any(m.type_ahead for m in menus)
    # the simulated line has a value for every var without a default, and each value fits its pattern
    for name, var in mf.vars.items():
        value = mf.line.vars.get(name, var.default)
        assert value is not None, f"{stem}: line.vars lacks {name}"
        assert var.pattern is None or re.fullmatch(var.pattern, value), f"{stem}: demo {name} breaks pattern"
    # no two menus with the same prompt
    repeated = [p for p, n in Counter(m.prompt for m in menus if m.prompt).items() if n > 1]
    assert repeated == []
    # the goal is reachable from the start
    from ivrnav.menu.lint import reachable

    assert mf.goal in reachable(mf)


@pytest.mark.parametrize("stem", NEW_MENUS)
def test_realistic_menu_uses_real_prompt_styles(stem: str):
    mf = compile_file(ROOT / "menus" / f"{stem}.yaml").menu_file
    prompts = " ".join(m.prompt for m in mf.menus.values())
    styles = [r"\bFor [^.,]+, press \d", r"\bTo [^.,]+, press \d", r"\bIf you [^.]+, press \d", r"\bPress \d for\b"]
    used = [s for s in styles if re.search(s, prompts)]
    assert len(used) >= 3, used


# ---------------------------------------------------------------------------------------------- warnings

WARN_CODES = {
    "unreachable_menu": [("unreachable", 12, 3)],
    "dead_end_menu": [("dead-end", 10, 3)],
    "confusable_labels": [("confusable", 9, 28)],
    "says_not_in_prompt": [("says-not-in-prompt", 9, 28)],
    "listen_not_regex": [("listen-not-regex", 12, 36)],
}


def test_warning_corpus_is_fully_listed():
    assert {p.stem for p in WARN.glob("*.yaml")} == set(WARN_CODES)


@pytest.mark.parametrize("name", sorted(WARN_CODES))
def test_warning_corpus_yields_expected_codes(name: str):
    compiled = compile_file(WARN / f"{name}.yaml")
    got = [(d.code, d.line, d.column) for d in compiled.warnings]
    assert got == WARN_CODES[name]
    assert all(d.severity is Severity.WARNING for d in compiled.warnings)


def test_warning_messages_name_the_problem():
    by_name = {n: compile_file(WARN / f"{n}.yaml").warnings[0].message for n in WARN_CODES}
    assert "menu 'old_menu' is never reached from start 'main'" in by_name["unreachable_menu"]
    assert "menu 'billing' has no way out" in by_name["dead_end_menu"]
    assert "options '1' ('billing') and '2' ('Billing!') sound alike" in by_name["confusable_labels"]
    assert "option '2' says 'technical support', but the prompt never says that" in by_name["says_not_in_prompt"]
    assert 'write "re:how (can|may) i help"' in by_name["listen_not_regex"]


def test_global_confusable_with_local_label_is_a_warning():
    text = """\
ivrnav: 1
name: T
start: main
globals:
  - {press: "0", says: operator, to: agent}
menus:
  main:
    prompt: For an operator, press 9.
    options:
      - {press: "9", says: Operator, to: agent}
  agent: {human: true, prompt: Hello.}
"""
    (warning,) = compile_text(text, "g.yaml").warnings
    assert warning.code == "confusable"
    assert warning.path == ("globals", 0, "says")
