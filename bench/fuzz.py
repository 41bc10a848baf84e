"""Fuzzing the inputs an attacker or a careless author controls (issue #15).

    nice -n 10 .venv/bin/python -m bench.fuzz [--files 10000] [--secrets 5000] [--seed 0]

* Menu files: >= 10,000 generated and mutated files (byte flips, inserted/deleted bytes and lines, structural
  mutations of the shipped menus, deep nesting up to 30,000 levels, huge files, hostile regexes, YAML 1.1
  oddities, token soup). Each is compiled in a worker process: a crash (signal) kills only the worker, a
  case over 5 s counts as slow and over 60 s as a hang (the worker is killed). Every error must be a
  positioned diagnostic with a bounded message.
* CLI faults: broken secrets files, trace paths, numeric options and --var forms through the real command
  (click's runner): each must exit with the usage code, one clear message, no traceback, no secret echoed.
* Secret read-backs: random secrets rendered in spoken forms (digit words, homophones, pairs, hundreds,
  glued to words, full-width digits, separators, split over two utterances) through the Redactor: every
  word carrying 4 or more digits of a secret in a row must be masked.

Writes bench/results/fuzz.json with the counts; the targets are 0 crashes, hangs, uncaught exceptions,
unpositioned errors and secret hits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "fuzz.json"
SLOW_S = 5.0
HANG_S = 60.0
LONG_MESSAGE = 1000
MEMORY_LIMIT = 3 << 30  # bytes of address space per worker: an out-of-memory shows as MemoryError

SEEDS = sorted(p for d in ("menus", "tests/bad", "tests/warn", "examples") for p in (ROOT / d).glob("*.yaml"))

HOSTILE_REGEXES = [
    "(a+)+$", "(a|aa)+$", "(a*)*b", "a{4294967296}", "a{1001}", "(" * 40 + "a" + ")" * 40, "(" * 3000 + ")" * 3000,
    "(a)\\1", "(?=a)b", "(?<=a)b", "[0-9", "a**", "\\p{L}+", "(?P<x>a)(?P=x)", "x{2,1}", ".{1000}{1000}",
    "(?i)[a-z]+", "^[0-9]{4}$", "(\\d+)*$", "((a|b)*)*c", "\\", "[[:alpha:]]", "(?#comment)", "\\z", "a{,5}",
]
YAML11 = ["010", "0x1A", "1:30", "00", "1e3", ".nan", ".NaN", ".inf", "-.inf", "yes", "no", "on", "off", "~",
          "null", "1_000", "0b101", "+1", "-0", "2001-12-14", "!!binary aGk=", "!!float nan", "0o17", "1.0e+3",
          "!!int 010", "&a x", "*a", "<<: {a: 1}", "? [a]", "!!set {a}", "!!omap [a: 1]", "'a''b'", '"\\x00"',
          '"\\ud800"', "\t", "|\n  x", ">-\n  y", "@x", "`x", "%YAML 1.1", "--- x", "... x"]
TOKENS = ["ivrnav:", " 1", "\n", "  ", "- ", "menus:", "main:", "prompt:", "options:", "press:", "to:", "{", "}",
          "[", "]", ",", ":", "'", '"', "#", "&a", "*a", "!!str", "?", "|", ">", "---", "...", "\t", "\\", "\x00",
          "\x07", "\u2028", "\ufeff", "é", "😀", "%", "@"]


# --------------------------------------------------------------------------------------------- cases


def _seed_text(rng: random.Random) -> str:
    return rng.choice(SEEDS).read_text("utf-8", errors="replace")


def _byte_flips(rng: random.Random) -> bytes:
    data = bytearray(_seed_text(rng).encode())
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _insert_delete(rng: random.Random) -> bytes:
    data = bytearray(_seed_text(rng).encode())
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data) + 1)
        if rng.random() < 0.5 and data:
            del data[at:at + rng.randint(1, 40)]
        else:
            data[at:at] = rng.choice([rng.randbytes(rng.randint(1, 30)), rng.choice(TOKENS).encode(),
                                      rng.choice(YAML11).encode()])
    return bytes(data)


def _line_ops(rng: random.Random) -> bytes:
    lines = _seed_text(rng).split("\n")
    for _ in range(rng.randint(1, 6)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            lines.insert(i, lines[i])
        elif op == 1:
            del lines[i]
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = " " * rng.randint(1, 5) + lines[i]
        elif op == 4:
            lines[i] = lines[i].lstrip()
        else:
            lines = lines[:i]
    return "\n".join(lines).encode()


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*path, i)))
    return out


def _structural(rng: random.Random) -> bytes:
    import yaml

    seeds = [p for p in SEEDS if "/menus/" in str(p)] or SEEDS
    data = yaml.safe_load(rng.choice(seeds).read_text("utf-8"))
    for _ in range(rng.randint(1, 5)):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        pool: list[Any] = [None, "", 0, -1, 1e300, True, [], {}, "x" * rng.randint(1, 5000), [1, [2, [3]]],
                           {"a": {"b": None}}, rng.choice(HOSTILE_REGEXES), "re:" + rng.choice(HOSTILE_REGEXES),
                           "{a}" * rng.randint(1, 3000), "{" * 10, "nowhere", "main", 12345, "•", "\u202e"]
        op = rng.randrange(4)
        if op == 0 and isinstance(parent, dict):
            del parent[key]
        elif op == 1 and isinstance(parent, list):
            parent.insert(key, rng.choice(pool))
        else:
            parent[key] = rng.choice(pool)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 20)
    if rng.random() < 0.3:  # raw YAML 1.1 oddities where quoted values were
        for _ in range(rng.randint(1, 4)):
            at = text.find('"', rng.randrange(max(1, len(text))))
            end = text.find('"', at + 1) if at >= 0 else -1
            if end > at >= 0:
                text = text[:at] + rng.choice(YAML11) + text[end + 1:]
    return text.encode()


HEAD = "ivrnav: 1\nname: x\nstart: m\nmenus:\n  m:\n    prompt: "


def _deep(rng: random.Random) -> bytes:
    depth = rng.choice([63, 64, 65, 100, 1000, 3000, 10_000, 25_000, 30_000])
    kind = rng.randrange(6)
    if kind == 0:
        text = HEAD + "[" * depth + "]" * depth
    elif kind == 1:
        text = HEAD + "{a: " * depth + "b" + "}" * depth
    elif kind == 2:
        depth = min(depth, 3000)  # indentation grows quadratically
        text = "ivrnav: 1\n" + "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v"
    elif kind == 3:
        text = "ivrnav: 1\nname:\n" + "- " * depth + "x"
    elif kind == 4:
        text = HEAD + "[" * depth  # never closed
    else:
        text = "a: &a " + "[" * 30 + "]" * 30 + "\nb: " + "[" * min(depth, 60) + "*a" + "]" * min(depth, 60)
    return (text + "\n").encode()


def _huge(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return (HEAD + "x" * rng.randint(1 << 20, 9 << 20) + "\n").encode()
    if kind == 1:
        n = rng.randint(1000, 10_000)
        return ("ivrnav: 1\nname: x\nstart: m0\nmenus:\n"
                + "".join(f"  m{i}: {{prompt: m{i}, next: m{(i + 1) % n}}}\n" for i in range(n))).encode()
    if kind == 2:
        n = rng.randint(1000, 10_000)
        return (HEAD + "x\n    options:\n"
                + "".join(f"      - {{press: '{i}', says: same, to: m}}\n" for i in range(n))).encode()
    if kind == 3:
        n = rng.randint(100, 1000)
        return ("ivrnav: 1\nname: x\nstart: m\nglobals:\n"
                + "".join(f"  - {{press: '*{i}', says: g{i % 7}, to: m}}\n" for i in range(n))
                + "menus:\n" + "".join(f"  m{i}: {{prompt: a, next: m}}\n" for i in range(n))
                + "  m: {prompt: a, next: m0}\n").encode()
    if kind == 4:
        return ("ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {prompt: hi, enter: '" + "{a}" * rng.randint(1, 2_000_000)
                + "', next: m}\n").encode()
    return ("ivrnav: 1\n" + "#" * (9 << 20) + "\n").encode()


def _regexes(rng: random.Random) -> bytes:
    pattern = rng.choice(HOSTILE_REGEXES)
    if rng.random() < 0.3:
        pattern = "".join(rng.choice(["(", ")", "a", "+", "*", "?", "|", "{2}", "[", "]", "\\d", "\\1", "^", "$"])
                          for _ in range(rng.randint(1, 60)))
    quoted = json.dumps(pattern)
    where = rng.randrange(3)
    if where == 0:
        default = json.dumps("a" * rng.randint(0, 60) + rng.choice(["", "b", "!"]))
        return (f"ivrnav: 1\nname: x\nstart: m\nvars:\n  v: {{pattern: {quoted}, default: {default}}}\n"
                "menus:\n  m: {prompt: x, next: m}\n").encode()
    if where == 1:
        listen = json.dumps("re:" + pattern)
        return f"ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {{prompt: x, next: m, listen: {listen}}}\n".encode()
    return f"ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {{prompt: x, next: m, line: {{accept: {quoted}}}}}\n".encode()


def _yaml11(rng: random.Random) -> bytes:
    odd = rng.choice(YAML11)
    spot = rng.randrange(5)
    if spot == 0:
        return (HEAD + f"x\n    options:\n      - {{press: {odd}, to: m}}\n").encode()
    if spot == 1:
        return (f"ivrnav: 1\nname: x\nstart: m\ndefaults: {{settle: {odd}}}\n"
                "menus:\n  m: {prompt: x, next: m}\n").encode()
    if spot == 2:
        return f"ivrnav: 1\nname: x\nstart: m\nmenus:\n  m: {{prompt: x, next: m}}\n  {odd}: {{prompt: y}}\n".encode()
    if spot == 3:
        return (HEAD + f"x\n    next: m\n    max_visits: {odd}\n").encode()
    return f"ivrnav: {odd}\nname: {odd}\nstart: m\nmenus:\n  m: {{prompt: {odd}, next: m}}\n".encode()


def _soup(rng: random.Random) -> bytes:
    return "".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 300))).encode("utf-8", "surrogatepass")


KINDS = [("byte_flips", _byte_flips, 20), ("insert_delete", _insert_delete, 15), ("line_ops", _line_ops, 15),
         ("structural", _structural, 20), ("deep_nesting", _deep, 6), ("huge", _huge, 2),
         ("hostile_regex", _regexes, 8), ("yaml_1_1", _yaml11, 8), ("token_soup", _soup, 6)]
_WEIGHTED = [k for k in KINDS for _ in range(k[2])]


def make_case(seed: int, index: int) -> tuple[str, bytes]:
    rng = random.Random(seed * 1_000_003 + index)
    name, make, _ = _WEIGHTED[rng.randrange(len(_WEIGHTED))]
    return name, make(rng)


# ----------------------------------------------------------------------------------------- checking

_WHOLE_FILE = ("file is empty", "file has only comments", "is larger than", "a menu file is a mapping",
               "the file is missing required key", "cannot read", "not UTF-8", "NUL character")


def check_menu(raw: bytes) -> dict[str, Any]:
    from ivrnav.menu.compiler import compile_document
    from ivrnav.menu.diagnostics import MenuFileError
    from ivrnav.menu.loader import load_bytes

    try:
        compile_document(load_bytes(raw, "fuzz.yaml"))
        return {"outcome": "ok"}
    except MenuFileError as exc:
        errors = exc.errors
        if not errors:
            return {"outcome": "exception", "detail": "MenuFileError without errors"}
        bad = [d for d in errors if d.line < 1 or d.column < 1 or d.file != "fuzz.yaml"]
        unpositioned = [d for d in errors if (d.line, d.column) == (1, 1)
                        and not any(w in d.message for w in _WHOLE_FILE) and not _really_at_start(raw, d)]
        long = [d for d in errors if len(d.message) > LONG_MESSAGE]
        return {"outcome": "error", "bad_position": len(bad), "unpositioned": len(unpositioned),
                "long_message": len(long), "sample": str(unpositioned[0])[:300] if unpositioned else ""}
    except MemoryError:
        return {"outcome": "oom"}
    except BaseException as exc:  # the point of the fuzzer: anything else is a finding
        return {"outcome": "exception", "detail": f"{type(exc).__name__}: {str(exc)[:200]}",
                "where": traceback.format_exc(limit=-3)[-600:]}


def _really_at_start(raw: bytes, d: Any) -> bool:
    """A problem with the first key or value legitimately sits at 1:1."""
    first = raw.split(b"\n", 1)[0]
    return bool(first.strip()) and not first.startswith((b" ", b"#"))


def _worker(conn: Any, seed: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    while True:
        job = conn.recv()
        if job is None:
            return
        kind, payload = job
        started = time.perf_counter()
        if kind == "menu":
            name, raw = make_case(seed, payload)
            result = check_menu(raw)
            result.update(kind=name, size=len(raw))
        elif kind == "cli":
            result = cli_scenario(payload)
        else:
            result = secret_case(seed, payload)
        result["seconds"] = time.perf_counter() - started
        conn.send(result)


class Pool:
    """One worker process at a time (the machine is shared); restarted after a crash or a hang."""

    def __init__(self, seed: int):
        self.seed = seed
        self.ctx = mp.get_context("fork")
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.seed), daemon=True)
        self.proc.start()

    def run(self, job: tuple[str, Any]) -> dict[str, Any]:
        self.conn.send(job)
        started = time.perf_counter()
        try:
            if self.conn.poll(HANG_S):
                return self.conn.recv()
        except (EOFError, ConnectionError):
            pass
        self.proc.join(1)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
            result = {"outcome": "hang", "seconds": time.perf_counter() - started}
        else:
            result = {"outcome": "crash", "exitcode": self.proc.exitcode}
        self._start()
        return result

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(5)


# --------------------------------------------------------------------------------------------- CLI

BANK = str(ROOT / "menus" / "bank.yaml")
CLI_SECRET = "8642097531"


def _cli_scenarios() -> list[tuple[str, list[str], dict[str, bytes]]]:
    """(name, args, files to create: placeholder -> bytes). ``{dir}`` in args is the scenario's folder."""
    run = ["run", BANK, "--goal", "fraud"]
    s: list[tuple[str, list[str], dict[str, bytes]]] = []
    secrets_bodies = {
        "not_utf8": b"account: \xff\xfe\n", "deep_3000": b"a: " + b"[" * 3000 + b"]" * 3000,
        "deep_block": b"".join(b" " * i + b"k:\n" for i in range(1500)), "list": b"- 1\n- 2\n",
        "scalar": b"just text\n", "nested_value": b"account: {a: 1}\n", "python_tag": b"a: !!python/name:os.system\n",
        "alias_bomb": b"a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      b"c: [*b,*b,*b,*b,*b,*b,*b]\n",
        "octal_pin": b"pin: 0123\n", "inverted": f"'{CLI_SECRET}': account\n".encode(),
        "inverted_plain": f"{CLI_SECRET}: account\n".encode(), "unknown": b"acount: x\n", "nul": b"a: b\x00\n",
        "tab": b"a:\n\tb: 1\n", "unclosed": b"a: [1, 2\n", "dup": b"account: '1'\naccount: '2'\n",
        "bad_value": f"account: '{CLI_SECRET}x'\n".encode(), "ctrl": b"account: \x07\n", "big_value":
        b"account: '" + b"9" * 500_000 + b"'\n", "multi_doc": b"a: 1\n---\nb: 2\n", "merge": b"<<: {a: 1}\n",
    }
    for name, body in secrets_bodies.items():
        s.append((f"secrets_{name}", [*run, "--secrets", "{dir}/s.yaml"], {"s.yaml": body}))
    s.append(("secrets_huge_50MB", [*run, "--secrets", "{dir}/s.yaml"], {"s.yaml": b"<sparse 50MB>"}))
    s.append(("secrets_fifo", [*run, "--secrets", "{dir}/s.yaml"], {"s.yaml": b"<fifo>"}))
    for path in ("/dev/zero", "/dev/null", "/dev/urandom", "/nonexistent/s.yaml", "/proc/self/mem"):
        s.append((f"secrets_{path}", [*run, "--secrets", path], {}))
    for path in ("{dir}/missing/t.jsonl", "/dev/full", "/proc/version", "{dir}/fifo_out", "/nonexistent/x/t.jsonl"):
        s.append((f"trace_{path}", [*run, "--trace", path], {"fifo_out": b"<fifo>"} if "fifo" in path else {}))
    for option, values in (("--wer", ["nan", "-0.1", "1.5", "inf", "-inf", "x", "1e400", "NaN"]),
                           ("--speed", ["0", "nan", "-1", "101", "inf", "0.01"]),
                           ("--seed", ["x", "1.5"])):
        for value in values:
            extra = ["--realtime"] if option == "--speed" else []
            s.append((f"{option}={value}", [*run, option, value, *extra], {}))
    for arg in (CLI_SECRET, f"{CLI_SECRET}=account", f" {CLI_SECRET} =x", "=x", "account", "account=",
                f"pin={CLI_SECRET}", "bogus=1", f"account={CLI_SECRET}5"):
        s.append((f"--var {arg}", ["run", BANK, "--goal", "transactions", "--var", arg], {}))
    for target in ("{dir}/menu_fifo", "/dev/zero", "{dir}/not_utf8.yaml", "{dir}/deep.yaml", "/nonexistent.yaml"):
        files = {"menu_fifo": b"<fifo>", "not_utf8.yaml": b"\xff\xfe", "deep.yaml": b"a: " + b"[" * 30000}
        s.append((f"menu {target}", ["validate", target], {k: v for k, v in files.items() if k in target}))
        s.append((f"line {target}", [*run, "--line", target], {k: v for k, v in files.items() if k in target}))
    return s


CLI_SCENARIOS = _cli_scenarios()


def cli_scenario(index: int) -> dict[str, Any]:
    from click.testing import CliRunner

    from ivrnav.cli import main

    name, args, files = CLI_SCENARIOS[index]
    with tempfile.TemporaryDirectory() as folder:
        for file, body in files.items():
            path = os.path.join(folder, file)
            if body == b"<fifo>":
                os.mkfifo(path)
            elif body == b"<sparse 50MB>":
                with open(path, "wb") as handle:
                    handle.truncate(50 << 20)
            else:
                Path(path).write_bytes(body)
        argv = [a.replace("{dir}", folder) for a in args]
        try:
            result = CliRunner().invoke(main, argv, catch_exceptions=True)
        except BaseException as exc:  # a finding
            return {"outcome": "exception", "kind": name, "detail": type(exc).__name__}
        output = result.output
        uncaught = result.exception is not None and not isinstance(result.exception, SystemExit)
        expect_menu_error = name.startswith(("menu ", "line "))
        code_ok = result.exit_code in ((1, 2) if expect_menu_error else (2,))
        leaked = CLI_SECRET in output.replace(f"account={CLI_SECRET}5", "")
        return {"outcome": "exception" if uncaught or "Traceback" in output else "ok" if code_ok else "bad_exit",
                "kind": name, "exit_code": result.exit_code, "secret_hit": leaked,
                "message": " ".join(output.split())[-200:],
                "detail": f"{type(result.exception).__name__}: {result.exception}"[:200] if uncaught else ""}


# ------------------------------------------------------------------------------------------ secrets

_WORDS = {0: ["zero", "oh", "o"], 1: ["one", "won"], 2: ["two", "to", "too"], 3: ["three", "tree"],
          4: ["four", "for", "fore"], 5: ["five"], 6: ["six"], 7: ["seven"], 8: ["eight", "ate"], 9: ["nine", "niner"]}
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _pair(n: int) -> str | None:
    if n < 10:
        return None
    if n < 20:
        return _TEENS[n - 10]
    return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _WORDS[n % 10][0])


def _spoken(rng: random.Random, secret: str) -> list[str]:
    """Pieces of a read-back of ``secret``, each piece saying one or more of its digits."""
    form = rng.randrange(7)
    if form == 0:
        return [rng.choice(_WORDS[int(d)]) for d in secret]
    if form == 1:  # pairs where possible
        out, i = [], 0
        while i < len(secret):
            pair = _pair(int(secret[i:i + 2])) if i + 1 < len(secret) else None
            if pair and rng.random() < 0.8:
                out.append(pair)
                i += 2
            else:
                out.append(rng.choice(_WORDS[int(secret[i])]))
                i += 1
        return out
    if form == 2:
        return [rng.choice(["-", " ", ", ", ".", "  "]).join(secret)]
    if form == 3:
        return [secret.translate(_FULL)]
    if form == 4:
        return [rng.choice(["ID", "acct", "No.", "#"]) + secret]
    if form == 5:
        return [secret[i:i + 3] for i in range(0, len(secret), 3)]
    return [_hundreds(secret[i:i + 3]) for i in range(0, len(secret), 3)]


def _hundreds(group: str) -> str:
    """"123" -> "one hundred twenty-three"; a group with a leading zero (or short) digit by digit."""
    if len(group) < 3 or group[0] == "0":
        return " ".join(_WORDS[int(d)][0] for d in group)
    rest = int(group[1:])
    tail = "" if rest == 0 else " " + (_pair(rest) or _WORDS[rest][0])
    return f"{_WORDS[int(group[0])][0]} hundred{tail}"


def secret_case(seed: int, index: int) -> dict[str, Any]:
    from ivrnav.navigate.result import Redactor

    rng = random.Random(seed * 7_919 + index)
    secret = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 12)))
    pieces = _spoken(rng, secret)
    before = rng.choice(["your account number is", "I heard", "you entered", "the number", ""])
    after = rng.choice(["is that correct?", "thank you.", "", "press 1 to confirm"])
    redact = Redactor([secret])
    texts: list[tuple[str, list[tuple[int, int]]]] = []  # text, spans of the pieces to check
    split = len(pieces) > 2 and rng.random() < 0.3  # over two utterances: the first says one piece (<= 3 digits)
    groups = [pieces[:1], pieces[1:]] if split else [pieces]
    for n, group in enumerate(groups):
        text = before + " " if n == 0 and before else ""
        spans = []
        for piece in group:
            spans.append((len(text), len(text) + len(piece)))
            text += piece + " "
        if n == len(groups) - 1:
            text += after
        texts.append((text, spans if n == len(groups) - 1 else []))
    hits, shown = 0, []
    for text, spans in texts:
        out = redact(text)
        assert len(out) == len(text)
        # a piece's digits, or all of a spoken piece, must be masked (a glued "ID" prefix may stay)
        if any(any(ch.isdigit() for ch in out[a:b]) if any(ch.isdigit() for ch in text[a:b])
               else any(ch.isalpha() for ch in out[a:b]) for a, b in spans):
            hits += 1
            shown.append(out)
    return {"outcome": "ok", "kind": "secret", "secret_hit": hits > 0,
            "sample": [secret, *[t for t, _ in texts], *shown] if hits else []}


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--secrets", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.setrecursionlimit(10_000)
    pool = Pool(args.seed)
    started = time.perf_counter()
    menu: dict[str, Any] = {"cases": 0, "ok": 0, "errors": 0, "crashes": 0, "hangs": 0, "slow": 0,
                            "uncaught_exceptions": 0, "out_of_memory": 0, "unpositioned_errors": 0,
                            "long_messages": 0, "by_kind": {}, "max_seconds": 0.0, "findings": []}
    for i in range(args.files):
        r = pool.run(("menu", i))
        menu["cases"] += 1
        kind = r.get("kind", "?")
        menu["by_kind"][kind] = menu["by_kind"].get(kind, 0) + 1
        menu["max_seconds"] = max(menu["max_seconds"], r.get("seconds", 0.0))
        outcome = r["outcome"]
        menu["ok"] += outcome == "ok"
        menu["errors"] += outcome == "error"
        menu["crashes"] += outcome == "crash"
        menu["hangs"] += outcome == "hang"
        menu["uncaught_exceptions"] += outcome == "exception"
        menu["out_of_memory"] += outcome == "oom"
        menu["slow"] += r.get("seconds", 0.0) > SLOW_S
        menu["unpositioned_errors"] += bool(r.get("unpositioned")) + bool(r.get("bad_position"))
        menu["long_messages"] += bool(r.get("long_message"))
        if (outcome not in ("ok", "error") or r.get("unpositioned") or r.get("long_message")
                or r.get("seconds", 0.0) > SLOW_S) and len(menu["findings"]) < 50:
            menu["findings"].append({"case": i, **{k: v for k, v in r.items() if k != "kind"}, "kind": kind})
        if (i + 1) % 1000 == 0:
            print(f"{i + 1} files: {menu['crashes']} crashes, {menu['hangs']} hangs, {menu['slow']} slow, "
                  f"{menu['uncaught_exceptions']} exceptions, {menu['unpositioned_errors']} unpositioned "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    cli: dict[str, Any] = {"scenarios": len(CLI_SCENARIOS), "passed": 0, "failures": [], "secret_hits": 0}
    for i in range(len(CLI_SCENARIOS)):
        r = pool.run(("cli", i))
        cli["secret_hits"] += bool(r.get("secret_hit"))
        if r["outcome"] == "ok" and not r.get("secret_hit"):
            cli["passed"] += 1
        else:
            cli["failures"].append(r)
    print(f"CLI: {cli['passed']}/{cli['scenarios']} scenarios clean, {cli['secret_hits']} secret hits", flush=True)
    sec: dict[str, Any] = {"runs": args.secrets, "secret_hits": 0, "samples": []}
    for i in range(args.secrets):
        r = pool.run(("secret", i))
        if r.get("secret_hit") or r["outcome"] != "ok":
            sec["secret_hits"] += 1
            if len(sec["samples"]) < 20:
                sec["samples"].append(r.get("sample") or r)
    pool.close()
    print(f"secrets: {sec['secret_hits']} hits in {sec['runs']} read-backs", flush=True)
    out = {"seed": args.seed, "seconds": round(time.perf_counter() - started, 1), "menu_files": menu, "cli": cli,
           "secrets": sec, "slow_s": SLOW_S, "hang_s": HANG_S, "python": platform.python_version()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(f"menu files: {menu['cases']} cases, {menu['crashes']} crashes, {menu['hangs']} hangs (> {HANG_S:.0f} s), "
          f"{menu['slow']} slow (> {SLOW_S:.0f} s), {menu['uncaught_exceptions']} uncaught exceptions, "
          f"{menu['out_of_memory']} out of memory, {menu['unpositioned_errors']} unpositioned errors, "
          f"{menu['long_messages']} messages over {LONG_MESSAGE} characters; wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
