"""The bad-menu corpus: every broken file fails with one clear, exactly positioned error.

``tests/bad/expected.txt`` holds one line per file, ``NAME.yaml:LINE:COL: error: WORDS``: the first error
must sit at exactly that line and column and its message must contain WORDS (the essential words, in the
author's terms). A regression in position or wording fails the corresponding case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.diagnostics import Diagnostic, MenuFileError, Severity
from ivrnav.menu.loader import MAX_FILE_BYTES, load_bytes

BAD = Path(__file__).parent / "bad"
EXPECTED_LINE = re.compile(r"^(?P<name>[\w.-]+\.yaml):(?P<line>\d+):(?P<col>\d+): error: (?P<words>.+)$")

# Anything that smells of Python internals rather than of the author's file.
LEAKS = re.compile(
    r"Traceback|File \"|line \d+, in |<class |\b\w*(Error|Exception)\b|yaml\.|jsonschema|ValidationError"
    r"|MarkedYAML|ScannerError|ParserError|ComposerError|ConstructorError|re\.error|\bNone\b|\bdict\b"
)


def _expected() -> dict[str, tuple[int, int, str]]:
    table: dict[str, tuple[int, int, str]] = {}
    for raw in (BAD / "expected.txt").read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        match = EXPECTED_LINE.match(raw)
        assert match, f"malformed line in expected.txt: {raw!r}"
        assert match["name"] not in table, f"{match['name']} listed twice in expected.txt"
        table[match["name"]] = (int(match["line"]), int(match["col"]), match["words"])
    return table


EXPECTED = _expected()


def _errors_of(path: Path) -> tuple[Diagnostic, ...]:
    with pytest.raises(MenuFileError) as info:
        compile_file(path)
    errors = info.value.errors
    assert errors, f"{path.name}: MenuFileError without any error diagnostic"
    return errors


def _assert_clean(d: Diagnostic, file: str) -> None:
    assert d.severity is Severity.ERROR
    assert d.file == file
    assert d.line >= 1 and d.column >= 1
    assert not LEAKS.search(d.message), f"internal detail leaks into the message: {d.message!r}"
    assert str(d).startswith(f"{file}:{d.line}:{d.column}: error: {d.message}")


def test_corpus_is_large_and_fully_listed():
    files = {p.name for p in BAD.glob("*.yaml")}
    assert len(files) >= 45
    assert files == set(EXPECTED), (
        f"not in expected.txt: {sorted(files - set(EXPECTED))}; no such file: {sorted(set(EXPECTED) - files)}"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_error_position_and_message(name: str):
    line, col, words = EXPECTED[name]
    path = BAD / name
    errors = _errors_of(path)
    first = errors[0]
    assert (first.line, first.column) == (line, col), f"{name}: {first}"
    assert words in first.message, f"{name}: {first.message!r} lacks {words!r}"
    for d in errors:
        _assert_clean(d, str(path))


def test_three_independent_errors_are_reported_at_once():
    path = BAD / "three_errors.yaml"
    errors = _errors_of(path)
    assert [(d.line, d.column) for d in errors] == [(8, 41), (13, 11), (16, 12)]
    assert "goes to 'billing', which is not a menu" in errors[0].message
    assert "next 'mian' is not a menu (did you mean 'main'?)" in errors[1].message
    assert "undefined variable {pin}" in errors[2].message
    assert [d.path for d in errors] == [
        ("menus", "main", "options", 0, "to"), ("menus", "agent", "next"), ("menus", "entry", "enter"),
    ]


def test_schema_errors_are_all_reported_at_once():
    text = """\
ivrnav: 1
name: Test line
start: main
menus:
  main:
    promt: For billing, press 1.
    type_ahead: sometimes
    options:
      - {press: "1x", says: billing, to: main}
"""
    with pytest.raises(MenuFileError) as info:
        compile_text(text, "three.yaml")
    got = [(d.line, d.column, d.message) for d in info.value.errors]
    assert [(line, col) for line, col, _ in got] == [(6, 5), (7, 17), (9, 17)]
    assert "unknown key 'promt'" in got[0][2]
    assert "type_ahead must be true or false" in got[1][2]
    assert "'x' is not a key" in got[2][2]


def test_missing_start_and_menus_both_reported():
    errors = _errors_of(BAD / "missing_start_and_menus.yaml")
    assert sorted(d.message for d in errors) == [
        "the file is missing required key 'menus'", "the file is missing required key 'start'",
    ]


def test_duplicate_key_points_at_second_and_names_first():
    (first,) = _errors_of(BAD / "yaml_duplicate_menu_field.yaml")
    assert (first.line, first.column, first.path) == (8, 5, ("menus", "main", "prompt"))
    assert "first at line 6" in first.message


def test_unreachable_goal_is_one_error_not_also_a_warning():
    path = BAD / "goal_unreachable.yaml"
    with pytest.raises(MenuFileError) as info:
        compile_file(path)
    assert len(info.value.diagnostics) == 1


def test_var_default_mismatch_never_echoes_the_value():
    (error,) = _errors_of(BAD / "var_default_mismatch.yaml")
    assert "12a4" not in str(error)


def test_file_over_one_mebibyte_is_refused(tmp_path: Path):
    big = tmp_path / "huge.yaml"
    filler = "# padding to make the file large\n" * (MAX_FILE_BYTES // 32 + 10)
    big.write_text("ivrnav: 1\nname: Huge\n" + filler, "utf-8")
    assert big.stat().st_size > MAX_FILE_BYTES
    (error,) = _errors_of(big)
    assert (error.line, error.column) == (1, 1)
    assert f"larger than {MAX_FILE_BYTES >> 20} MiB" in error.message
    _assert_clean(error, str(big))


def test_file_of_exactly_the_limit_is_read(tmp_path: Path):
    edge = tmp_path / "edge.yaml"
    head = "ivrnav: 1\nname: Edge\nstart: a\nmenus:\n  a: {human: true, prompt: Hello.}\n"
    edge.write_text(head + "#" * (MAX_FILE_BYTES - len(head) - 1) + "\n", "utf-8")
    assert edge.stat().st_size == MAX_FILE_BYTES
    assert compile_file(edge).menu_file.name == "Edge"


@pytest.mark.parametrize(
    ("raw", "line", "col", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, 1, "not UTF-8"),
        (b"ivrnav: 1\nname: ok\n\x00\x01\x02junk", 3, 1, "NUL character"),
        (bytes(range(256)), 2, 118, "not UTF-8"),  # byte 0x80, after the "\n" at offset 10
        (b"\xef\xbb\xbfivrnav: 1\n\tname: x\n", 2, 1, "tab character"),
    ],
)
def test_binary_junk_from_bytes(raw: bytes, line: int, col: int, words: str):
    with pytest.raises(MenuFileError) as info:
        load_bytes(raw, "junk.yaml")
    (error,) = info.value.errors
    assert (error.line, error.column) == (line, col)
    assert words in error.message
    _assert_clean(error, "junk.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "ivrnav: 1\nname: !!float many\n",
        "ivrnav: 1\nname: !!binary aGVsbG8=\n",
        "ivrnav: 1\nname: !!set {a, b}\n",
        "ivrnav: 1\nname: !!python/object:os.system {}\n",
        "ivrnav: 1\nname: " + "{a: " * 200 + "b" + "}" * 200 + "\n",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        "ivrnav: 1\nname: x\n...\n---\nivrnav: 1\n",
        "ivrnav: 1\n? [a, b]\n: x\n",
        "ivrnav: 1\nname: [unclosed\n",
        "ivrnav: 1\nname: {unclosed: 1\n",
        "ivrnav: 1\n  name: x\n",
        "- a\nb: c\n",
        "ivrnav: 1\nname: 'it''s\n",
        "ivrnav: 1\nname: x\n%YAML 1.1\n",
    ],
)
def test_hostile_or_broken_text_fails_cleanly(text: str):
    """Whatever the input, the author gets diagnostics, never a Python exception."""
    with pytest.raises(MenuFileError) as info:
        compile_text(text, "hostile.yaml")
    assert info.value.errors
    for d in info.value.errors:
        _assert_clean(d, "hostile.yaml")
