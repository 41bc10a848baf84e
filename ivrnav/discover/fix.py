"""``ivrnav fix``: turn what calls found (drift in their traces) into an edit of the menu file.

Only the values that change are rewritten, in place, by their positions in the YAML text: the author's
comments, layout, quoting style and key order stay as they were. What the traces show:

* ``key_moved``: the line offers an option's label on another key. The option's ``press`` becomes the
  line's key; when a sibling held that key, the two are swapped (an IVR that moves one option usually
  swapped them), and the edit says so.
* a reworded prompt: a menu recognised by its offers or listen phrases while its prompt, as heard, no
  longer sounds like the file's. The prompt becomes the hearing (the first one; STT errors and all: the
  author should read it).
* new menus: prompts no menu matched, kept verbatim by the navigator. They are proposed as a commented
  block at the end of the file, since only the author knows where they belong.

The edited text must compile before it is offered.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from ivrnav.menu.compiler import compile_text
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.text import normalise

REWORDED = 70.0  # below this rapidfuzz ratio, a recognised menu's heard prompt is a rewording
MAX_TRACE_BYTES = 64 << 20


class FixError(ValueError):
    """A trace or menu file that cannot be used; the message names the file."""


@dataclass
class Findings:
    moved: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (menu, file key, line key)
    reworded: dict[str, str] = field(default_factory=dict)  # menu -> first heard prompt
    new_prompts: list[str] = field(default_factory=list)
    traces: int = 0


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets in the file's text
    end: int
    text: str
    why: str


def read_traces(paths: Iterable[str | os.PathLike[str]], prompts: dict[str, str]) -> Findings:
    """What the traces of ``ivrnav run --trace`` say about the line, against the file's ``prompts``."""
    found = Findings()
    for path in paths:
        p = Path(path)
        try:
            if not p.is_file():
                raise FixError(f"{p}: not a regular file")
            if p.stat().st_size > MAX_TRACE_BYTES:
                raise FixError(f"{p}: larger than {MAX_TRACE_BYTES >> 20} MiB; is it a trace?")
            lines = p.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise FixError(f"{p}: cannot read: {type(exc).__name__}") from None
        records = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise FixError(f"{p}:{n}: not a JSON-lines trace of `ivrnav run --trace`") from None
        result = next((r for r in reversed(records) if r.get("kind") == "result"), None)
        if result is None:
            raise FixError(f"{p}: no result record; was the call finished?")
        found.traces += 1
        for d in result.get("drift", []):
            if d.get("kind") == "key_moved" and d.get("menu") and d.get("expected") and d.get("actual"):
                found.moved[(d["menu"], d["expected"], d["actual"])] += 1
        for text in result.get("unrecognised", []):
            if text not in found.new_prompts:
                found.new_prompts.append(text)
        _reworded(records, prompts, found)
    return found


def _reworded(records: list[dict], prompts: dict[str, str], found: Findings) -> None:
    """Menus recognised by offers or listen phrases whose heard prompt does not sound like the file's."""
    menu: str | None = None
    by = ""
    heard: list[str] = []

    def close() -> None:
        if menu and heard and menu in prompts and menu not in found.reworded:
            said = " ".join(heard)
            # recognised by its offers: the wording no longer matched at all; by listen phrases: check it
            if by == "offers" or fuzz.ratio(normalise(prompts[menu]), normalise(said)) < REWORDED:
                found.reworded[menu] = said

    for r in records:
        if r.get("kind") == "note" and r.get("note") == "menu":
            close()
            by = str(r.get("text", "")).partition(" (by ")[2].split(",")[0]
            text = str(r.get("text", ""))
            name, _, how = text.partition(" (by ")
            menu = name if how.startswith(("offers", "listen")) else None
            heard = []
        elif r.get("kind") == "note" and r.get("note") in ("press", "say", "done"):
            close()
            menu, heard = None, []
        elif r.get("kind") == "heard" and r.get("final") and menu:
            heard.append(str(r.get("text", "")))
    close()


def propose(map_path: str | os.PathLike[str], found: Findings) -> tuple[str, str, list[str]]:
    """``(old text, new text, what changed)`` for the menu file at ``map_path``."""
    path = Path(map_path)
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(root, yaml.MappingNode):
        raise FixError(f"{path}: not a menu file")
    edits: list[Edit] = []
    menus = _get(root, "menus")
    for (menu, old, new), count in sorted(found.moved.items()):
        options = _get(_get(menus, menu), "options")
        if not isinstance(options, yaml.SequenceNode):
            continue
        presses = [(_get(o, "press"), o) for o in options.value]
        mine = next((p for p, _ in presses if p is not None and str(p.value) == old), None)
        if mine is None:
            continue
        why = f"{menu}: the line offers this option on {new} ({count} call{'s' if count != 1 else ''})"
        edits.append(_replace(text, mine, new, why))
        holder = next((p for p, _ in presses if p is not None and str(p.value) == new), None)
        if holder is not None and (menu, new, old) not in found.moved:
            edits.append(_replace(text, holder, old, f"{menu}: swapped with the moved option (check it)"))
    for menu, said in sorted(found.reworded.items()):
        prompt = _get(_get(menus, menu), "prompt")
        if prompt is not None:
            edits.append(_replace(text, prompt, said, f"{menu}: the line now words its prompt this way"))
    new_text = _apply(text, edits)
    changes = [e.why for e in edits]
    if found.new_prompts:
        block = ["", "# ivrnav fix: the line played prompts this file does not know. Add them where they belong:"]
        for i, prompt in enumerate(found.new_prompts, 1):
            block += [f"#   new_menu_{i}:", f"#     prompt: {json.dumps(prompt, ensure_ascii=False)}"]
        new_text = new_text.rstrip("\n") + "\n" + "\n".join(block) + "\n"
        changes.append(f"{len(found.new_prompts)} prompt(s) the file does not know, proposed as comments")
    if new_text != text:
        try:
            compile_text(new_text, str(path))
        except MenuFileError as exc:
            raise FixError(f"{path}: the proposed edit would not compile: {exc.diagnostics[0]}") from None
    return text, new_text, changes


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _replace(text: str, node: yaml.Node, value: str, why: str) -> Edit:
    start, end = node.start_mark.index, node.end_mark.index
    while end > start and text[end - 1] in " \n\r\t":  # a block scalar's mark includes its trailing newlines
        end -= 1
    return Edit(start, end, json.dumps(value, ensure_ascii=False), why)


def _apply(text: str, edits: list[Edit]) -> str:
    out = text
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out
