"""Property-based checks (hypothesis) of what a menu file, a YAML scalar or a read-back may do: a bounded run
here (a few seconds); ``python -m bench.fuzz`` runs >= 10,000 files, the CLI faults and 5,000 read-backs."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivrnav.menu.compiler import compile_document, compile_text
from ivrnav.menu.diagnostics import MESSAGE_LIMIT, MenuFileError
from ivrnav.menu.loader import load_bytes
from ivrnav.navigate.result import Redactor

BANK = (Path(__file__).resolve().parent.parent / "menus" / "bank.yaml").read_bytes()
BOUNDED = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])

YAML_PIECES = ["ivrnav: 1\n", "name: x\n", "start: m\n", "menus:\n", "  m:\n", "    prompt: hi\n", "    next: m\n",
               "- ", "? ", ": ", "{", "}", "[", "]", ",", "'", '"', "&a ", "*a", "!!int ", "!!python/name:x ", "|\n",
               "#", "\t", "\n", "  ", "010", "0x1A", "1:30", ".nan", "~", "yes", "<<: ", "---\n", "%TAG ", "\\", "\x00",
               "\ufeff", "é", "\x85", "\u2028"]


def _assert_clean(exc: MenuFileError, name: str) -> None:
    assert exc.errors
    for d in exc.errors:
        assert d.file == name and d.line >= 1 and d.column >= 1
        assert 0 < len(d.message) <= MESSAGE_LIMIT
        assert "Traceback" not in d.message and "Error" not in d.message.replace("error", "")


@BOUNDED
@given(st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=5), max_size=60).map("".join))
def test_any_text_compiles_or_fails_with_positioned_errors(text: str):
    try:
        compile_text(text, "p.yaml")
    except MenuFileError as exc:
        _assert_clean(exc, "p.yaml")


@BOUNDED
@given(st.lists(st.tuples(st.integers(0, len(BANK) - 1), st.integers(0, 255)), min_size=1, max_size=12))
def test_byte_flips_of_a_real_menu(flips: list[tuple[int, int]]):
    data = bytearray(BANK)
    for at, value in flips:
        data[at] = value
    try:
        compile_document(load_bytes(bytes(data), "bank.yaml"))
    except MenuFileError as exc:
        _assert_clean(exc, "bank.yaml")


@BOUNDED
@given(st.from_regex(r"[0-9+_:.xXoObBeE-]{1,8}", fullmatch=True))
def test_unquoted_press_is_kept_as_written_or_refused(written: str):
    text = ("ivrnav: 1\nname: x\nstart: m\nmenus:\n  m:\n    prompt: hi\n    options:\n"
            f"      - {{press: {written}, to: m}}\n")
    try:
        compiled = compile_text(text, "k.yaml")
    except MenuFileError as exc:
        _assert_clean(exc, "k.yaml")
        return
    (option,) = compiled.menu_file.menus["m"].options
    assert option.keys == written  # never changed silently


@BOUNDED
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30))
def test_settings_are_finite_and_in_range_or_refused(value: float):
    text = (f"ivrnav: 1\nname: x\nstart: m\ndefaults: {{settle: {value!r}, max_visits: 3}}\n"
            "menus:\n  m: {prompt: hi, next: m}\n")
    text = text.replace("nan", ".nan").replace("inf", ".inf")
    try:
        compiled = compile_text(text, "n.yaml")
    except MenuFileError as exc:
        _assert_clean(exc, "n.yaml")
        return
    settle = compiled.menu_file.defaults.settle
    assert math.isfinite(settle) and 0 <= settle <= 86400


DIGIT_WORDS = {"0": ["zero", "oh", "o"], "1": ["one", "won"], "2": ["two", "to", "too"], "3": ["three", "tree"],
               "4": ["four", "for", "fore"], "5": ["five"], "6": ["six"], "7": ["seven"], "8": ["eight", "ate"],
               "9": ["nine", "niner"]}


@st.composite
def read_backs(draw: st.DrawFn) -> tuple[str, str, list[tuple[int, int]]]:
    secret = draw(st.text("0123456789", min_size=4, max_size=12))
    pieces = [draw(st.sampled_from(DIGIT_WORDS[d])) if draw(st.booleans()) else d for d in secret]
    separators = draw(st.lists(st.sampled_from([" ", "-", ", ", ". ", "  "]), min_size=len(pieces),
                               max_size=len(pieces)))
    text, spans = draw(st.sampled_from(["", "your number is ", "ID "])), []
    for piece, sep in zip(pieces, separators, strict=True):
        spans.append((len(text), len(text) + len(piece)))
        text += piece + sep
    return secret, text + draw(st.sampled_from(["", "thank you", "is that right?"])), spans


@BOUNDED
@given(read_backs())
def test_read_back_in_words_and_digits_is_masked(case: tuple[str, str, list[tuple[int, int]]]):
    secret, text, spans = case
    out = Redactor([secret])(text)
    assert len(out) == len(text)
    for a, b in spans:
        assert not any(ch.isalnum() for ch in out[a:b]), (secret, text, out)
