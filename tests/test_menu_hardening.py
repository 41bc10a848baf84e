"""Hostile and careless menu files: bounded, positioned, never a crash, hang or silent change (issue #15)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.diagnostics import MESSAGE_LIMIT, MenuFileError

HEAD = "ivrnav: 1\nname: x\nstart: m\nmenus:\n  m:\n    prompt: "
DEEP = 25_000


def _error(text: str):
    with pytest.raises(MenuFileError) as info:
        compile_text(text, "f.yaml")
    return info.value.errors[0]


# The deep files are parsed in a child process: a SIGSEGV there fails this test instead of killing pytest.
_CHILD = """
import sys
from ivrnav.menu.compiler import compile_text
from ivrnav.menu.diagnostics import MenuFileError
try:
    compile_text(sys.stdin.read(), "deep.yaml")
except MenuFileError as exc:
    print(exc.errors[0].line, exc.errors[0].column, exc.errors[0].message)
"""

DEEP_FILES = {
    "flow_sequence": (HEAD + "[" * DEEP + "]" * DEEP + "\n", (6, 75)),
    "flow_mapping": (HEAD + "{a: " * DEEP + "b" + "}" * DEEP + "\n", (6, 258)),
    "unclosed_flow": (HEAD + "[" * DEEP + "\n", (6, 75)),
    "block_mappings": ("ivrnav: 1\n" + "".join(" " * i + "k:\n" for i in range(3000)) + " " * 3000 + "v\n",
                       (66, 65)),
    "compact_sequences": ("ivrnav: 1\nname:\n" + "- " * DEEP + "x\n", (3, 129)),
}


@pytest.mark.parametrize("name", sorted(DEEP_FILES))
def test_deep_nesting_is_a_positioned_error_not_a_crash(name: str):
    text, where = DEEP_FILES[name]
    child = subprocess.run([sys.executable, "-c", _CHILD], input=text, capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 0, f"child died with {child.returncode}: {child.stderr[-500:]}"
    line, col, message = child.stdout.strip().split(" ", 2)
    assert (int(line), int(col)) == where
    assert "nested more than 64 levels deep" in message


@pytest.mark.parametrize(
    ("written", "number"), [("010", "8"), ("0x1A", "26"), ("1:30", "90"), ("00", "0"), ("0b11", "3"), ("1_0", "10")]
)
def test_unquoted_keys_that_yaml_would_change_are_refused(written: str, number: str):
    error = _error(HEAD + f"x\n    options:\n      - {{press: {written}, to: m}}\n")
    assert (error.line, error.column) == (8, 17)
    assert f"would be read as the number {number}" in error.message
    assert f'quote it to keep it: press: "{written}"' in error.message


def test_quoted_and_plain_decimal_keys_are_kept_as_written():
    text = HEAD + "x\n    options:\n      - {press: \"010\", to: m}\n      - {press: 7, to: m}\n      - {press: 1e3x}\n"
    error = _error(text)  # `1e3x` is text, never a number: its bad key is reported as written
    assert "'1e3x'" in error.message
    compiled = compile_text(text.replace("      - {press: 1e3x}\n", ""), "f.yaml")
    assert [o.keys for o in compiled.menu_file.menus["m"].options] == ["010", "7"]


def test_mapping_keys_are_names_as_written():
    error = _error("ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {prompt: x}\n  010: {prompt: y}\n")
    assert (error.line, error.column) == (6, 3)
    assert "'010'" in error.message


@pytest.mark.parametrize(
    ("setting", "words"),
    [("settle: .nan", "not a number"), ("settle: !!float nan", "not a number"), ("settle: .inf", "at most 86400"),
     ("max_visits: 100000000000000000000", "at most 1000"), ("inter_digit: -1", "at least 0"),
     ("max_visits: 1e20", "must be a whole number")],
)
def test_numbers_are_finite_and_in_range(setting: str, words: str):
    error = _error(f"ivrnav: 1\nname: x\nstart: m\ndefaults: {{{setting}}}\nmenus:\n  m: {{prompt: x}}\n")
    assert error.line == 4 and error.column > 1
    assert words in error.message


def test_control_character_is_positioned():
    error = _error("ivrnav: 1\nname: x\x07y\n")
    assert (error.line, error.column) == (2, 8)
    assert "U+0007" in error.message


def test_messages_quote_values_briefly():
    error = _error(HEAD + "x\n    type_ahead: '" + "y" * 100_000 + "'\n")
    assert len(error.message) <= MESSAGE_LIMIT
    assert "100,000 characters" in error.message
    many = "".join(f"  m{i}: {{prompt: x}}\n" for i in range(200))
    error = _error("ivrnav: 1\nname: x\nstart: nowhere\nmenus:\n" + many)
    assert len(str(error)) < 1000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_menu_file_is_refused_without_hanging(tmp_path: Path):
    fifo = tmp_path / "menu.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            compile_file(fifo)
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # unblock the reader so the thread ends, then fail
        with open(fifo, "w"):
            pass
        pytest.fail("loading a FIFO blocked")
    assert isinstance(outcome[0], MenuFileError)
    assert "FIFO" in outcome[0].errors[0].message


@pytest.mark.parametrize(("path", "words"), [("/dev/zero", "character device"), ("/", "directory")])
def test_devices_and_directories_are_refused(path: str, words: str):
    if not os.path.exists(path):
        pytest.skip(f"{path} missing")
    with pytest.raises(MenuFileError) as info:
        compile_file(path)
    assert words in info.value.errors[0].message


# ------------------------------------------------------------------------------------------ regexes

REGEX_HEAD = "ivrnav: 1\nname: x\nstart: m\n"


@pytest.mark.parametrize(
    ("pattern", "words"),
    [("a{4294967296}", "repetition count or nesting is too large"), ("a{1001}", "larger than 1000"),
     ("(" * 40 + "a" + ")" * 40, "nests groups more than 32 deep"), ("(" * 1200 + ")" * 1200, "longer than 1000"),
     ("(a)\\\\1", "backreferences"), ("(?=a)b", "lookahead"), ("[0-9", "unterminated character set")],
)
@pytest.mark.parametrize("where", ["var", "listen", "accept"])
def test_hostile_regexes_are_positioned_errors(pattern: str, words: str, where: str):
    quoted = '"' + pattern + '"'
    if where == "var":
        text = REGEX_HEAD + f"vars:\n  pin: {{pattern: {quoted}}}\nmenus:\n  m: {{prompt: x, next: m}}\n"
    elif where == "listen":
        text = REGEX_HEAD + f"menus:\n  m: {{prompt: x, next: m, listen: \"re:{pattern}\"}}\n"
    else:
        text = REGEX_HEAD + f"menus:\n  m: {{prompt: x, next: m, line: {{accept: {quoted}}}}}\n"
    line = text.splitlines()[4]
    at = (5, line.index('"') + 1)  # the value's opening quote
    error = _error(text)
    assert (error.line, error.column) == at
    assert words in error.message
    assert len(error.message) < 400


def test_backtracking_pattern_checks_its_default_in_linear_time():
    # Python's re needs ~2^40 steps for this; RE2 answers at once. A hang here fails through pytest-timeout.
    error = _error(REGEX_HEAD + "vars:\n  a: {pattern: '(a+)+$', default: '" + "a" * 40 + "b'}\n"
                   "menus:\n  m: {prompt: x, next: m}\n")
    assert "default does not match its pattern" in error.message
    assert "aaaa" not in error.message  # the default may be a secret


def test_listen_regex_matches_case_insensitively():
    text = REGEX_HEAD + "menus:\n  m: {prompt: x, next: m, listen: 're:my name is (\\w+)'}\n"
    compiled = compile_text(text, "r.yaml")
    (phrase,) = compiled.menu_file.menus["m"].listen
    assert phrase.regex.search("MY NAME IS Dana") and not phrase.regex.search("my game is")


# ------------------------------------------------------------------------------------- linear lint

@pytest.mark.timeout(120)
def test_thousand_globals_over_thousand_menus():
    globals_ = "".join(f'  - {{press: "{i}", says: "global option {i}", to: m0}}\n' for i in range(1000))
    menus = "".join(f"  m{i}: {{prompt: menu {i}, next: m{(i + 1) % 1000}}}\n" for i in range(1000))
    compiled = compile_text("ivrnav: 1\nname: x\nstart: m0\nglobals:\n" + globals_ + "menus:\n" + menus, "g.yaml")
    assert len(compiled.menu_file.globals) == 1000


@pytest.mark.timeout(120)
def test_ten_thousand_bad_references_are_all_reported():
    menus = "".join(f"  m{i}: {{prompt: menu {i}, next: q{i}}}\n" for i in range(10_000))
    with pytest.raises(MenuFileError) as info:
        compile_text("ivrnav: 1\nname: x\nstart: m0\nmenus:\n" + menus, "r.yaml")
    assert len(info.value.errors) == 10_000
    assert info.value.errors[-1].line == 10_004


@pytest.mark.timeout(120)
def test_ten_thousand_options_with_one_label_are_confusable_warnings():
    options = "".join(f"      - {{press: '{i}', says: same thing, to: m0}}\n" for i in range(10_000))
    compiled = compile_text("ivrnav: 1\nname: x\nstart: m0\nmenus:\n  m0:\n    prompt: the same thing\n"
                            "    options:\n" + options, "o.yaml")
    confusable = [w for w in compiled.warnings if w.code == "confusable"]
    assert len(confusable) == 9_999  # each later option against the first one


def test_template_of_many_fields_is_one_short_error():
    text = "ivrnav: 1\nname: x\nstart: m0\nmenus:\n  m0: {prompt: hi, enter: '" + "{a}" * 300 + "', next: m0}\n"
    errors = _error_list(text)
    assert len(errors) == 1 and "undefined variable {a}" in errors[0].message
    big = "ivrnav: 1\nname: x\nstart: m0\nmenus:\n  m0: {prompt: hi, enter: '" + "{a}" * 1_000_000 + "', next: m0}\n"
    (error,) = _error_list(big)
    assert "longer than 1000 characters" in error.message


def _error_list(text: str):
    with pytest.raises(MenuFileError) as info:
        compile_text(text, "t.yaml")
    return info.value.errors


def test_aliases_cannot_chain_depth_or_recurse():
    chain = "a: &a " + "[" * 40 + "]" * 40 + "\nb: &b " + "[" * 30 + "*a" + "]" * 30 + "\n"
    error = _error("ivrnav: 1\n" + chain)
    assert (error.line, error.column) == (3, 37)
    assert "through the alias '*a'" in error.message
    error = _error("ivrnav: 1\na: &a [1, *a]\n")
    assert (error.line, error.column) == (2, 11)
    assert "refers to the value that contains it" in error.message


def test_bom_only_and_empty_typed_scalars():
    assert "file is empty" in _error("\ufeff").message
    assert "is not a valid whole number" in _error("ivrnav: !!int\n").message


def test_prompts_and_phrases_are_bounded_for_the_recogniser():
    # the navigator compares prompts and phrases with fuzzy ratios at run time: megabytes would stall a call
    error = _error("ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {prompt: " + "x" * 20_000 + ", next: m}\n")
    assert (error.line, error.column) == (5, 15) and "longer than 10000 characters" in error.message
    error = _error("ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {prompt: hi, next: m, listen: [" + "y" * 2000 + "]}\n")
    assert "listen[0] is longer than 1000 characters" in error.message
