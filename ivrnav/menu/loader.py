"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives us a node tree with marks (line, column) but no Python objects; we build the
objects ourselves so that we can (1) refuse every tag that is not plain YAML data (no Python objects),
(2) bound alias expansion (the "billion laughs" attack expands aliases exponentially), (3) reject duplicate
keys, which PyYAML silently overwrites, and (4) record a position for every value and every mapping key,
keyed by YAML path, for diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ivrnav.menu.diagnostics import Diagnostic, MenuFileError, Severity, YamlPath

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a 5,000-menu file is ~600 KiB
MAX_NODES = 200_000  # values built after alias expansion
MAX_DEPTH = 64

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",  # read back as the text the author wrote
}


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) plus 1-based (line, column) of each value and mapping key."""

    data: Any
    file: str
    positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: YamlPath, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` (of its key when ``key``), else of its nearest known ancestor."""
        table = self.key_positions if key else self.positions
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.positions:
                return self.positions[path]
        return (1, 1)

    def diagnostic(
        self, path: YamlPath, message: str, *, severity: Severity = Severity.ERROR, key: bool = False,
        code: str = "",
    ) -> Diagnostic:
        line, column = self.where(path, key=key)
        return Diagnostic(severity, message, self.file, line, column, path, code)


class _LoadProblem(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None, path: YamlPath = ()):
        self.message, self.mark, self.path = message, mark, path


def load_file(path: str | Path) -> Document:
    """Read and parse a menu file; raises MenuFileError naming file, line and column on any problem."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MenuFileError([Diagnostic(Severity.ERROR, f"cannot read file: {exc.strerror}", name, 1, 1)]) from None
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str = "<string>") -> Document:
    if len(raw) > MAX_FILE_BYTES:
        _fail(name, f"file is larger than {MAX_FILE_BYTES // 1024} KiB; menu files are small text files", 1, 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _offset_position(raw, exc.start)
        _fail(name, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); is this a binary file?", line, col)
    return load_text(text, name)


def load_text(text: str, name: str = "<string>") -> Document:
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _offset_position(text.encode(), len(text[:nul].encode()))
        _fail(name, "file contains a NUL character; is this a binary file?", line, col)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        _fail(name, "file is empty; a menu file needs at least `ivrnav: 1`, `name`, `start` and `menus`", 1, 1)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        context = f" {exc.context}" if exc.context else ""
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        _fail(name, f"YAML syntax error: {problem}{context}", line, col)
    except yaml.YAMLError as exc:  # e.g. a stream with several documents
        _fail(name, f"YAML error: {exc}", 1, 1)
    doc = Document(data=None, file=name)
    try:
        doc.data = _Builder(doc).build(node, (), 0)
    except _LoadProblem as problem:
        line, col = (problem.mark.line + 1, problem.mark.column + 1) if problem.mark else (1, 1)
        raise MenuFileError(
            [Diagnostic(Severity.ERROR, problem.message, name, line, col, problem.path)]
        ) from None
    return doc


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.count = 0
        self.scalars = SafeConstructor()

    def build(self, node: yaml.Node, path: YamlPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _LoadProblem(
                f"document expands to more than {MAX_NODES} values (aliases nested too deep? "
                "a 'billion laughs' file); refusing to load",
                node.start_mark,
                path,
            )
        if depth > MAX_DEPTH:
            raise _LoadProblem(f"nesting deeper than {MAX_DEPTH} levels", node.start_mark, path)
        if node.tag not in _PLAIN_TAGS:
            raise _LoadProblem(
                f"tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed: menu files hold "
                "plain data only (no Python objects)",
                node.start_mark,
                path,
            )
        self.doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        try:
            return self.scalars.construct_object(node, deep=False)
        except yaml.YAMLError as exc:
            raise _LoadProblem(f"bad value: {exc}", node.start_mark, path) from None

    def _mapping(self, node: yaml.MappingNode, path: YamlPath, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _LoadProblem("merge keys (<<) are not supported in menu files", key_node.start_mark, path)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _LoadProblem("mapping keys must be plain names", key_node.start_mark, path)
            key = self.build(key_node, (*path, "<key>"), depth + 1)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise _LoadProblem(f"mapping key {key!r} must be a name", key_node.start_mark, path)
            key = key if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                first = self.doc.key_positions.get((*path, key))
                where = f" (first at line {first[0]})" if first else ""
                raise _LoadProblem(f"duplicate key {key!r}{where}", key_node.start_mark, (*path, key))
            child = (*path, key)
            self.doc.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        self.doc.positions.pop((*path, "<key>"), None)
        return result


def _offset_position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


def _fail(name: str, message: str, line: int, col: int) -> None:
    raise MenuFileError([Diagnostic(Severity.ERROR, message, name, line, col)])
