"""Command-line inputs that are broken or hostile: one clear line, the usage exit code, no value echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrnav.cli import EXIT_USAGE, main

ROOT = Path(__file__).resolve().parent.parent
BANK = str(ROOT / "menus" / "bank.yaml")
RUN = ("run", BANK, "--goal", "fraud")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _usage_error(result, *words: str) -> str:
    out = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == EXIT_USAGE, out
    assert "Traceback" not in out and "Error:" not in out.replace("Error: Invalid value", ""), out
    for word in words:
        assert word in out, out
    return out


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"account: \xff\xfe\n", "not UTF-8"), (b"a: " + b"[" * 3000 + b"]" * 3000 + b"\n", "nested more than"),
     (b"- 1\n- 2\n", "must map var names to values"), (b"account: [1, 2]\n", "each var needs one value"),
     (b"account: !!python/object:os.system {}\n", "not allowed"), (b"pin: {a: 1\n", "line 1")],
)
def test_bad_secrets_files(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "secrets.yaml"
    path.write_bytes(content)
    _usage_error(invoke(*RUN, "--secrets", str(path)), words)


def test_huge_secrets_file_is_refused_without_reading_it(tmp_path: Path):
    path = tmp_path / "secrets.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 << 20)  # 50 MB, sparse
    _usage_error(invoke(*RUN, "--secrets", str(path)), "larger than 1 MiB")


@pytest.mark.parametrize(("path", "words"), [("/dev/zero", "character device"), ("/nonexistent/s.yaml", "no such")])
def test_secrets_that_are_not_files(path: str, words: str):
    _usage_error(invoke(*RUN, "--secrets", path), words)


def test_fifo_secrets_file_does_not_hang(tmp_path: Path):
    fifo = tmp_path / "secrets.yaml"
    os.mkfifo(fifo)
    child = subprocess.run([sys.executable, "-c", "from ivrnav.cli import main; main()", *RUN, "--secrets", str(fifo)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == EXIT_USAGE, child.stderr
    assert "FIFO" in child.stderr and "Traceback" not in child.stderr


def test_leading_zero_secret_is_kept_as_written_and_not_echoed(tmp_path: Path):
    path = tmp_path / "secrets.yaml"
    path.write_text("account: 0123456789\npin: 0123\n")  # YAML 1.1 would read the pin as octal 83
    out = invoke(*RUN, "--secrets", str(path))
    assert out.exit_code == 0, out.output  # "0123" matches the pin's pattern; 83 would not
    assert "0123" not in out.output and "83" not in out.output.replace(str(path), "")
    path.write_text("account: 0123456789\npin: '0123'\n")
    assert invoke(*RUN, "--secrets", str(path)).exit_code == 0


def test_inverted_secrets_file_does_not_print_values_as_names(tmp_path: Path):
    path = tmp_path / "secrets.yaml"
    path.write_text("'8642097531': account\n'2468': pin\n")
    out = _usage_error(invoke(*RUN, "--secrets", str(path)), "unknown var", "not shown")
    assert "8642097531" not in out and "2468" not in out


@pytest.mark.parametrize("arg", ["605379", "605379=1", " 605379 =x"])
def test_var_without_a_name_is_not_echoed(arg: str):
    out = _usage_error(invoke(*RUN, "--var", arg), "NAME=VALUE")
    assert "605379" not in out


def test_var_value_not_matching_its_pattern_is_not_echoed():
    out = _usage_error(invoke(*RUN, "--var", "pin=98765"), "does not match its pattern")
    assert "98765" not in out


@pytest.mark.parametrize(
    ("option", "value"),
    [("--wer", "nan"), ("--wer", "-0.1"), ("--wer", "1.5"), ("--wer", "inf"), ("--speed", "0"), ("--speed", "nan"),
     ("--wer", "lots")],
)
def test_numeric_options_are_finite_and_in_range(option: str, value: str):
    args = [*RUN, option, value] + (["--realtime"] if option == "--speed" else [])
    result = invoke(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "is not a number" in result.output and "Traceback" not in result.output


def test_trace_into_a_missing_folder(tmp_path: Path):
    _usage_error(invoke(*RUN, "--trace", str(tmp_path / "no" / "t.jsonl")), "does not exist")


def test_trace_onto_a_full_device():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    _usage_error(invoke(*RUN, "--trace", "/dev/full"), "no space left")


def test_trace_into_an_unwritable_file():
    target = "/proc/version"  # opens for writing even as root, but the write fails (EIO or EACCES)
    try:
        with open(target, "w") as handle:
            handle.write("x")
            handle.flush()
    except OSError:
        pass
    else:
        pytest.skip("this system lets /proc/version be written")
    _usage_error(invoke(*RUN, "--trace", target), "cannot write trace")


def test_good_inputs_still_work(tmp_path: Path):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("account: '1234567890'\npin: '9876'\n")
    trace = tmp_path / "t.jsonl"
    result = invoke("run", BANK, "--goal", "transactions", "--secrets", str(secrets), "--trace", str(trace),
                    "--wer", "0.05")
    assert result.exit_code == 0, result.output
    assert "1234567890" not in trace.read_text() + result.output


def test_secret_values_are_kept_as_written(tmp_path: Path):
    from ivrnav.cli_inputs import load_secrets

    path = tmp_path / "secrets.yaml"
    path.write_text("a: 12.50\nb: yes\nc: 1234\nd: 1e3\ne: '0042'\n")
    assert load_secrets(str(path)) == {"a": "12.50", "b": "yes", "c": "1234", "d": "1e3", "e": "0042"}


def test_a_menu_argument_that_is_no_readable_file_is_a_usage_error(tmp_path: Path):
    """A FIFO (no writer), a directory or a missing file as FILE or --line: exit 2 and one clear line, no hang."""
    fifo = tmp_path / "menu.yaml"
    os.mkfifo(fifo)
    child = subprocess.run([sys.executable, "-c", "from ivrnav.cli import main; main()", "validate", str(fifo)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 2 and "Traceback" not in child.stderr
    assert "menu.yaml" in child.stderr
    for args in (("run", str(tmp_path)), ("run", BANK, "--line", str(tmp_path / "missing.yaml"))):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
    content_error = tmp_path / "bad.yaml"
    content_error.write_text("ivrnav: 1\nname: [unclosed\n")
    assert invoke("validate", str(content_error)).exit_code == 1  # a file that is read but wrong: errors, 1
