"""Job metadata is untrusted input: bounded checks before the worker's own process parses any of it.

Anyone who can create a dispatch writes the metadata, and jobs run on threads of the worker process, so a
parser crash (libyaml's composer recurses in C: deep enough nesting overflows the stack, SIGSEGV) or a
catastrophic regular expression (``(a+)+$`` stalls ``re`` while holding the GIL) would take every call of
the worker down with it. So:

1. ``decode(metadata)``: a size limit and a nesting pre-scan, then ``json.loads``.
2. ``vet_inline_menu(text, vars)``: the same size limit and a conservative nesting bound for YAML (flow
   brackets, indentation levels and compact ``- - -`` nesting, counted without parsing), then the menu is
   compiled in a child process with a timeout and memory/CPU limits, and every regex of the menu (var
   patterns, ``re:`` listen phrases, ``line.accept``) is run there against strings that make backtracking
   explode, and the metadata's var values against their patterns. Only a menu that compiled there, in time,
   is compiled again in the worker.

Every refusal is a ``MetadataError`` whose message says what is wrong (never a value of a var); the worker
turns it into a failed ``bad_request`` result and keeps serving.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

MAX_METADATA_BYTES = 128 * 1024  # bundled menus are 5-10 KB of YAML; LiveKit's own metadata limit is lower
MAX_NESTING = 256  # the loader refuses more than 64 levels with a precise message; this bound only keeps
# input that could crash a C parser (thousands of levels) from ever reaching one
COMPILE_TIMEOUT = 15.0  # seconds for the child to start, compile and probe (a bundled menu takes ~0.5 s)
COMPILE_MEMORY = 1 << 30  # bytes of address space for the child
PROBE_LENGTH = 40


class MetadataError(ValueError):
    """Job metadata refused before (or while) parsing it; the message holds no var value."""


# ------------------------------------------------------------------------------------------ metadata


def decode(metadata: str) -> Any:
    """The JSON of dispatch metadata, refused when too large or too deeply nested to parse safely."""
    metadata = metadata or "{}"
    if len(metadata) > MAX_METADATA_BYTES or len(metadata.encode("utf-8", "replace")) > MAX_METADATA_BYTES:
        raise MetadataError(f"job metadata is larger than {MAX_METADATA_BYTES // 1024} KiB")
    depth = _json_depth(metadata)
    if depth > MAX_NESTING:
        raise MetadataError(f"job metadata is nested more than {MAX_NESTING} levels deep")
    try:
        return json.loads(metadata)
    except (json.JSONDecodeError, RecursionError):
        raise MetadataError("job metadata is not JSON") from None


def _json_depth(text: str) -> int:
    """Deepest bracket nesting outside JSON strings (no parsing: a plain linear scan)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def yaml_depth_bound(text: str) -> tuple[int, int, int]:
    """An upper bound of how deep ``text``'s YAML nests, and the 1-based (line, column) where it is deepest.

    Over-counts rather than under-counts: brackets count even inside quotes, each indentation level and each
    compact ``- ``/``? `` indicator counts twice (a sequence item holding a mapping is two levels)."""
    indents: list[int] = []
    flow = 0
    worst = (0, 1, 1)
    for lineno, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip(" ")
        compact = 0
        if flow == 0 and stripped and not stripped.startswith("#"):
            indent = len(line) - len(stripped)
            while indents and indents[-1] >= indent:
                indents.pop()
            indents.append(indent)
            i = indent
            while i < len(line) and line[i] in "-?" and (i + 1 == len(line) or line[i + 1] in " \t"):
                compact += 1
                i += 1
                while i < len(line) and line[i] in " \t":
                    i += 1
        block = 2 * (len(indents) + compact)
        if block > worst[0]:
            worst = (block, lineno, 1)
        for col, ch in enumerate(line, 1):
            if ch in "[{":
                flow += 1
                if block + flow > worst[0]:
                    worst = (block + flow, lineno, col)
            elif ch in "]}":
                flow = max(0, flow - 1)
    return worst


# --------------------------------------------------------------------------------------- inline menus


def vet_inline_menu(text: str, given: Mapping[str, object] | None = None) -> None:
    """Raise ``MetadataError`` unless the inline menu ``text`` compiles in a bounded child process and its
    regexes do not backtrack catastrophically. ``given``: the metadata's (non-secret) var values."""
    if len(text) > MAX_METADATA_BYTES:
        raise MetadataError(f"the inline menu is larger than {MAX_METADATA_BYTES // 1024} KiB")
    depth, line, col = yaml_depth_bound(text)
    if depth > MAX_NESTING:
        raise MetadataError(f"<metadata>:{line}:{col}: the inline menu is nested too deeply (more than "
                            f"{MAX_NESTING // 4} levels); menu files need only a few levels")
    values = {str(k): str(v) for k, v in (given or {}).items()} if isinstance(given, Mapping) else {}
    request = json.dumps({"menu": text, "vars": values})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVRNAV_VAR_", "LIVEKIT_", "DEEPGRAM_"))}
    try:
        done = subprocess.run(  # our own interpreter and module; the menu goes on stdin
            [sys.executable, "-m", "ivrnav.livekit.jobmeta"], input=request, capture_output=True, text=True,
            timeout=COMPILE_TIMEOUT, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        raise MetadataError(f"the inline menu did not compile within {COMPILE_TIMEOUT:g} s (a regular expression "
                            "that backtracks catastrophically?)") from None
    except OSError as exc:
        raise MetadataError(f"could not check the inline menu ({type(exc).__name__})") from None
    if done.returncode < 0:
        raise MetadataError(f"compiling the inline menu crashed its checker (signal {-done.returncode}); refused")
    try:
        verdict = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        why = "out of memory or CPU time" if done.returncode else "no verdict"
        raise MetadataError(f"checking the inline menu failed ({why}, exit {done.returncode})") from None
    if not verdict.get("ok"):
        raise MetadataError(str(verdict.get("error") or "the inline menu was refused"))


def probes(prompts: list[str]) -> list[str]:
    """Strings that make a backtracking regex explode if it can: long runs that almost match, then fail."""
    n = PROBE_LENGTH
    runs = ["a" * n + "!", "1" * n + "x", "a1" * (n // 2) + "!", "word " * n + "!", " " * n + "x", "aB1 _." * n + "\0",
            "-" * n + "\n", "#*" * n + "x"]
    window = " ".join(prompts)[:2000]
    return [*runs, window, window + " " + window + "!"]


def _check(request: dict[str, Any]) -> dict[str, Any]:
    """In the child: compile the menu and run its regexes on the probes (a stall is the parent's timeout)."""
    from ivrnav.menu.compiler import compile_text
    from ivrnav.menu.diagnostics import MenuFileError
    from ivrnav.text import normalise

    try:
        mf = compile_text(request["menu"], "<metadata>").menu_file
    except MenuFileError as exc:
        first = exc.errors[0] if exc.errors else None
        return {"ok": False, "error": f"menu in job metadata does not compile: {first}"}
    patterns: list[re.Pattern[str]] = []
    for var in mf.vars.values():
        if var.pattern:
            patterns.append(re.compile(var.pattern))
    prompts = []
    for menu in mf.menus.values():
        prompts.append(normalise(menu.prompt))
        patterns.extend(p.regex for p in menu.listen if isinstance(p.regex, re.Pattern))
        if menu.line.accept:
            patterns.append(re.compile(menu.line.accept))
    for pattern in patterns:
        for probe in probes(prompts):
            pattern.search(probe)
            pattern.fullmatch(probe)
    for name, value in request.get("vars", {}).items():
        var = mf.vars.get(name)
        if var is not None and var.pattern:
            re.fullmatch(var.pattern, value)
    return {"ok": True}


def _limit_child() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (COMPILE_MEMORY, COMPILE_MEMORY))
        cpu = int(COMPILE_TIMEOUT) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    except (ImportError, ValueError, OSError):  # not on this platform: the parent's timeout still holds
        pass


def main() -> int:
    _limit_child()
    try:
        request = json.loads(sys.stdin.read())
        verdict = _check(request)
    except MemoryError:
        verdict = {"ok": False, "error": "the inline menu needs too much memory to compile"}
    except Exception as exc:  # any other failure is a refusal, never a traceback for the parent to parse
        verdict = {"ok": False, "error": f"the inline menu could not be checked ({type(exc).__name__})"}
    sys.stdout.write(json.dumps(verdict) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
