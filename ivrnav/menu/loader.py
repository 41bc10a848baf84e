"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives us a node tree with marks (line, column) but no Python objects; we build the
objects ourselves so that we can (1) refuse every tag that is not plain YAML data (no Python objects),
(2) bound alias expansion (the "billion laughs" attack expands aliases exponentially), (3) reject duplicate
keys, which PyYAML silently overwrites, and (4) record a position for every value and every mapping key,
keyed by YAML path, for diagnostics.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.constructor import SafeConstructor

from ivrnav.files import InputFileError, read_regular
from ivrnav.menu.diagnostics import Diagnostic, MenuFileError, Severity, YamlPath, quote

_TEXT_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"})  # dates: as written
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's composer with a memoised tag resolver: the resolver is Python and runs a regex per scalar,
    while menu files repeat the same keys and values thousands of times."""

    _resolved: ClassVar[dict[tuple[object, object, object], str]] = {}  # shared by every load

    def resolve(self, kind, value, implicit):  # type: ignore[no-untyped-def]
        key = (kind, value, implicit)
        tag = self._resolved.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolved) < 100_000:
                self._resolved[key] = tag
        return tag


_FAST_LOADER = _FastLoader
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONSTRUCT_ERRORS = (yaml.YAMLError, ValueError, KeyError, TypeError, IndexError, OverflowError, AttributeError)
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
MAX_FILE_BYTES = 8 << 20  # 8 MiB: a 5,000-menu file with full prompts is ~3.5 MiB
MAX_NODES = 200_000  # values built again through aliases; plain values are bounded by the file size
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


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large tree of acyclic objects: a 100,000-menu file
    allocates millions of nodes and each full collection rescans all of them (more than half the load time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) plus 1-based (line, column) of each value and mapping key."""

    data: Any
    file: str
    positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    written: dict[YamlPath, str] = field(default_factory=dict)  # each number, true/false or null as written

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


UNREADABLE = "unreadable"  # the diagnostic code of a file that could not be read at all (not its contents)


def load_file(path: str | Path) -> Document:
    """Read and parse a menu file; raises MenuFileError naming file, line and column on any problem."""
    name = str(path)
    try:
        raw = read_regular(path, MAX_FILE_BYTES, what="menu file")
    except InputFileError as exc:
        raise MenuFileError([Diagnostic(Severity.ERROR, exc.message, name, 1, 1, code=UNREADABLE)]) from None
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str = "<string>", *, echo: bool = True) -> Document:
    if len(raw) > MAX_FILE_BYTES:
        _fail(name, f"file is larger than {MAX_FILE_BYTES >> 20} MiB; menu files are text files of a few KiB to a "
              "few MiB", 1, 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _offset_position(raw, exc.start)
        _fail(name, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); is this a binary file?", line, col)
    return load_text(text, name, echo=echo)


def load_text(text: str, name: str = "<string>", *, echo: bool = True) -> Document:
    """Parse YAML text into a Document. ``echo=False`` keeps values out of messages (a secrets file)."""
    if len(text) > MAX_FILE_BYTES:  # characters: a cheap bound before encoding
        _fail(name, f"file is larger than {MAX_FILE_BYTES >> 20} MiB; menu files are text files of a few KiB to a "
              "few MiB", 1, 1)
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _offset_position(text.encode(), len(text[:nul].encode()))
        _fail(name, "file contains a NUL character; is this a binary file?", line, col)
    if not text.strip():
        _fail(name, "file is empty; a menu file needs at least `ivrnav: 1`, `name`, `start` and `menus`", 1, 1)
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        _fail(name, "file has only comments; a menu file needs at least `ivrnav: 1`, `name`, `start` and `menus`",
              1, 1)
    with paused_gc():
        return _parse(text, name, echo)


def _parse(text: str, name: str, echo: bool) -> Document:
    doc = Document(data=None, file=name)
    try:
        try:
            # libyaml parses ~10x faster (5,000-menu files); errors are explained by the pure-Python parser
            doc.data, found = _EventBuilder(doc, echo).run(_FAST_LOADER(text))
        except yaml.YAMLError:
            doc = Document(data=None, file=name)
            doc.data, found = _EventBuilder(doc, echo).run(yaml.SafeLoader(text))
    except yaml.MarkedYAMLError as exc:
        message, line, col = _explain_syntax(exc, text)
        _fail(name, message, line, col)
    except yaml.reader.ReaderError as exc:  # a control character: positioned by character offset
        line, col = _char_position(text, exc.position)
        what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        _fail(name, f"{what} is not allowed in a YAML file (control characters cannot appear, even in quotes)",
              line, col)
    except yaml.YAMLError:  # not raised by PyYAML's pure-Python parser without a mark; be safe anyway
        _fail(name, "YAML syntax error", 1, 1)
    except _LoadProblem as problem:
        line, col = (problem.mark.line + 1, problem.mark.column + 1) if problem.mark else (1, 1)
        raise MenuFileError([Diagnostic(Severity.ERROR, problem.message, name, line, col, problem.path)]) from None
    if not found:  # e.g. only a byte-order mark, or `...`
        _fail(name, "file is empty; a menu file needs at least `ivrnav: 1`, `name`, `start` and `menus`", 1, 1)
    return doc


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("anchor", "container", "height", "key", "path", "size")

    def __init__(self, container: dict[str, Any] | list[Any], path: YamlPath, anchor: str | None):
        self.container, self.path, self.anchor = container, path, anchor
        self.key: str | None = None  # a mapping's key waiting for its value
        self.size = 1  # values in it, counting those repeated through aliases
        self.height = 0  # levels of collections below it


class _EventBuilder:
    """Plain data, positions and checks built straight from parser events, in one pass with an explicit stack.

    PyYAML's composers (C and Python) recurse once per nesting level: 25,000 nested ``[`` overflow the C
    stack (SIGSEGV) or raise RecursionError. Here depth is counted as events arrive and the file is refused
    at the first value nested deeper than MAX_DEPTH, at its position. No node tree is built (a 100,000-menu
    file has millions of nodes). An alias reuses the anchored value and counts its size, so a "billion
    laughs" file is refused before anything is expanded."""

    def __init__(self, doc: Document, echo: bool = True):
        self.doc = doc
        self.echo = echo  # quote values in messages (not for a secrets file)
        self.scalars = SafeConstructor()
        self.count = 0  # values repeated through aliases
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, size, height)
        self.open_anchors: set[str] = set()

    def run(self, loader: Any) -> tuple[Any, bool]:
        """``(data, found)``: ``found`` is False for a stream without a document."""
        stack: list[_Frame] = []
        root: Any = None
        found = False
        documents = 0
        get_event, resolve = loader.get_event, loader.resolve
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
        ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        positions = self.doc.positions
        try:
            while True:
                event = get_event()
                cls = type(event)
                if cls in ends:
                    frame = stack.pop()
                    if frame.anchor is not None:
                        self.open_anchors.discard(frame.anchor)
                        self.anchors[frame.anchor] = (frame.container, frame.size, frame.height)
                    if stack:
                        parent = stack[-1]
                        parent.size += frame.size
                        parent.height = max(parent.height, frame.height + 1)
                    continue
                if cls is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise _LoadProblem("a second YAML document starts here; a menu file holds exactly one "
                                           "document (remove '---')", event.start_mark)
                    continue
                if event is None or cls is yaml.StreamEndEvent:
                    break
                if cls is not scalar_event and cls is not alias_event and cls is not seq_start \
                        and cls is not map_start:
                    continue  # stream start, document end
                mark = event.start_mark
                depth = len(stack)
                if depth > MAX_DEPTH:
                    raise _LoadProblem(f"values are nested more than {MAX_DEPTH} levels deep; menu files need "
                                       "only a few levels", mark, stack[-1].path[:4])
                parent = stack[-1] if stack else None
                if parent is not None and type(parent.container) is dict and parent.key is None:
                    self._key(parent, event, resolve)  # this event is a mapping key
                    continue
                if parent is None:
                    path: YamlPath = ()
                elif type(parent.container) is dict:
                    path = (*parent.path, parent.key)
                else:
                    path = (*parent.path, len(parent.container))
                positions.setdefault(path, (mark.line + 1, mark.column + 1))
                size, height = 1, 0
                frame = None
                if cls is scalar_event:
                    value = self._scalar(event, path, resolve)
                elif cls is alias_event:
                    value, size, height = self._alias(event, path, depth)
                else:
                    tag = event.tag
                    kind = yaml.SequenceNode if cls is seq_start else yaml.MappingNode
                    if tag is None or tag == "!":
                        tag = resolve(kind, None, event.implicit)
                    if tag not in _PLAIN_TAGS:
                        raise _LoadProblem(_tag_problem(tag), mark, path)
                    value = [] if cls is seq_start else {}
                    frame = _Frame(value, path, event.anchor)
                    if event.anchor is not None:
                        self.open_anchors.add(event.anchor)
                if cls is scalar_event and event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, 0)
                if parent is None:
                    root, found = value, True
                elif type(parent.container) is dict:
                    parent.container[parent.key] = value
                    parent.key = None
                else:
                    parent.container.append(value)
                if frame is not None:
                    stack.append(frame)
                elif parent is not None:
                    parent.size += size
                    parent.height = max(parent.height, height)
        finally:
            loader.dispose()
        return root, found

    def _alias(self, event: Any, path: YamlPath, depth: int) -> tuple[Any, int, int]:
        name = event.anchor
        if name in self.open_anchors:
            raise _LoadProblem(f"alias {quote('*' + name)} refers to the value that contains it: a menu file "
                               "cannot be recursive", event.start_mark, path)
        if name not in self.anchors:
            raise _LoadProblem(f"undefined alias {quote(name)}: no anchor (&name) defines it", event.start_mark, path)
        value, size, height = self.anchors[name]
        self.count += size
        if self.count > MAX_NODES:
            # report it at the top-level key being expanded, not deep inside an anchor's definition
            top = path[:1]
            line, col = self.doc.key_positions.get(top, (event.start_mark.line + 1, event.start_mark.column + 1))
            where = f"the value of {quote(top[0])}" if top else "the document"
            raise _LoadProblem(f"{where} expands to more than {MAX_NODES:,} values through aliases (*name): this "
                               "looks like a 'billion laughs' attack; refusing to load", _mark(line, col), top)
        if depth + height > MAX_DEPTH:
            raise _LoadProblem(f"values are nested more than {MAX_DEPTH} levels deep (through the alias "
                               f"{quote('*' + name)}); menu files need only a few levels", event.start_mark, path)
        return value, size, height

    def _scalar(self, event: Any, path: YamlPath, resolve: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag in _TEXT_TAGS:  # most scalars: the text is the value (no constructor round trip)
            if event.style == '"' and _SURROGATE.search(event.value):  # only an escape can make one
                raise _LoadProblem("an escape such as \\ud800 makes half of a UTF-16 pair, not a character; write "
                                   "the character itself (or \\U0001F600 for one outside the BMP)", event.start_mark,
                                   path)
            return event.value
        if tag not in _PLAIN_TAGS:
            raise _LoadProblem(_tag_problem(tag), event.start_mark, path)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if tag in _NUMBER_TAGS:
            self._check_number(node, path)
        self.doc.written[path] = event.value  # as written: `press: 0.` is not the key "0.0", `pin: yes` not "true"
        try:
            return self.scalars.construct_object(node, deep=False)
        except _CONSTRUCT_ERRORS:  # e.g. `!!int abc`, `!!bool maybe`, `!!int ""`
            kind = {"int": "whole number", "float": "number", "bool": "true/false", "null": "null"}.get(
                tag.rsplit(":", 1)[-1], "value")
            shown = quote(event.value) if self.echo else "the value"
            raise _LoadProblem(f"{shown} is not a valid {kind} (tag {tag.replace('tag:yaml.org,2002:', '!!')})",
                               event.start_mark, path) from None

    def _key(self, frame: _Frame, event: Any, resolve: Any) -> None:
        path, mark = frame.path, event.start_mark
        if type(event) is not yaml.ScalarEvent and type(event) is not yaml.AliasEvent:
            raise _LoadProblem("a mapping key must be a plain name, not a list or mapping", mark, path)
        if type(event) is yaml.AliasEvent:
            key: Any = self._alias(event, (*path, "<key>"), 0)[0]
            if isinstance(key, dict | list):
                raise _LoadProblem("a mapping key must be a plain name, not a list or mapping", mark, path)
        else:
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == "tag:yaml.org,2002:merge":
                raise _LoadProblem("merge keys (<<) are not supported in menu files; write the keys out in full",
                                   mark, path)
            if tag in _NUMBER_TAGS or tag == "tag:yaml.org,2002:bool":
                key = event.value  # a key is a name as written: `010:` is "010", `on:` is "on"
            else:
                key = self._scalar(event, (*path, "<key>"), resolve)
                self.doc.written.pop((*path, "<key>"), None)
            if event.anchor is not None:
                self.anchors[event.anchor] = (key, 1, 0)
        if key is None or key == "":
            raise _LoadProblem("a mapping key is empty (or ~/null); keys must be names", mark, path)
        if not isinstance(key, str | int | float | bool):
            raise _LoadProblem(f"mapping key {quote(key)} must be a name", mark, path)
        key = key if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
        if key in frame.container:
            first = self.doc.key_positions.get((*path, key))
            where = f" (first at line {first[0]}, column {first[1]})" if first else ""
            raise _LoadProblem(f"duplicate key {quote(key)}{where}: each key may appear only once here; YAML "
                               "would silently keep just the last one", mark, (*path, key))
        self.doc.key_positions[(*path, key)] = (mark.line + 1, mark.column + 1)
        frame.key = key

    def _check_number(self, node: yaml.ScalarNode, path: YamlPath) -> None:
        """YAML 1.1 reads ``010`` as 8, ``0x1A`` as 26, ``1:30`` as 90 and ``00`` as 0: an author's keys or
        digits must never change silently, so a number not written in plain decimal is refused."""
        text = node.value.strip()
        if node.tag.endswith(":float"):
            if "nan" in text.lower():  # `.nan`, `!!float nan`: every comparison with NaN is false
                raise _LoadProblem(f"{quote(text)} is 'not a number': write a number", node.start_mark, path)
            if ":" not in text and "_" not in text:
                return
        elif _DECIMAL.fullmatch(text):
            return
        key = path[-1] if path and isinstance(path[-1], str) else None
        if not self.echo:  # a secrets file: its values are the text as written (`pin: 0123` is "0123"), never shown
            return
        try:
            value = self.scalars.construct_object(node, deep=False)
        except _CONSTRUCT_ERRORS:
            return  # not a number at all (`!!int abc`): explained by the caller
        as_written = f'{key}: "{text}"' if key else f'"{text}"'
        raise _LoadProblem(f"{quote(text)} would be read as the number {quote(value)}, not as written (YAML 1.1); "
                           f"quote it to keep it: {as_written}", node.start_mark, path)


def _tag_problem(tag: str) -> str:
    tag = tag.replace("tag:yaml.org,2002:", "!!")
    why = "Python objects are never loaded" if tag.startswith("!!python") else "tags are not supported"
    return f"tag {quote(tag)} is not allowed: menu files hold plain data only ({why})"


def _mark(line: int, col: int) -> yaml.Mark:
    return yaml.Mark("", 0, line - 1, col - 1, None, None)


_TOKEN_NAMES = {
    "<block mapping start>": "a new `key: value` block",
    "<block sequence start>": "a new list",
    "<block end>": "the end of the block",
    "<scalar>": "more text",
    "<stream end>": "the end of the file",
    "<document start>": "'---'",
}


def _plain(problem: str) -> str:
    for token, words in _TOKEN_NAMES.items():
        problem = problem.replace(f"'{token}'", words).replace(token, words)
    return problem


def _explain_syntax(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int, int]:
    """Turn PyYAML's parser jargon into what the author did wrong, at the place the author must fix."""
    problem, context = exc.problem or "", exc.context or ""
    pm, cm = exc.problem_mark, exc.context_mark
    at = (pm.line + 1, pm.column + 1) if pm else (cm.line + 1, cm.column + 1) if cm else (1, 1)
    opened = (cm.line + 1, cm.column + 1) if cm else at
    if "'\\t'" in problem:  # "found character '\\t' that cannot start any token"
        return "tab character: indent YAML with spaces, never tabs", *at
    if "quoted scalar" in context:
        lines = text.split("\n")
        quote = (lines[cm.line][cm.column:cm.column + 1] if cm and cm.line < len(lines) else "") or '"'
        return f"the quoted text starting here is never closed: add the closing {quote}", *opened
    if "flow sequence" in context or "flow mapping" in context:
        bracket, close = ("[", "]") if "sequence" in context else ("{", "}")
        return (f"this '{bracket}' is never closed: expected ',' or '{close}' before line {at[0]}, column {at[1]}",
                *opened)
    if problem.startswith("mapping values are not allowed"):
        return ("unexpected ':' inside a value: put text that contains ': ' in quotes, or check this line's "
                "indentation", *at)
    if "simple key" in context and "could not find expected ':'" in problem:
        return "expected `key: value` on this line, but there is no ':' after the key", *opened
    if problem.startswith("expected <block end>"):
        return (f"bad indentation: this line does not line up with the keys of the block that starts at line "
                f"{opened[0]}, column {opened[1]}", *at)
    if "another document" in problem:
        return "a second YAML document starts here; a menu file holds exactly one document (remove '---')", *at
    if "found undefined alias" in problem:
        return f"{problem.replace('found undefined', 'undefined')}: no anchor (&name) defines it", *at
    where = f" ({context}, line {opened[0]}, column {opened[1]})" if context and cm else ""
    return f"YAML syntax error: {_plain(problem) or 'invalid YAML'}{where}", *at


def _char_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _offset_position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


def _fail(name: str, message: str, line: int, col: int) -> None:
    raise MenuFileError([Diagnostic(Severity.ERROR, message, name, line, col)])
