"""Compile a menu file: schema check, semantic checks, typed model, lint warnings.

Every problem becomes a Diagnostic with file, line, column and YAML path; all of them are collected
before failing, so an author fixes a file in one pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from ivrnav.menu import template
from ivrnav.menu.diagnostics import Diagnostic, MenuFileError, YamlPath
from ivrnav.menu.loader import Document, load_file, load_text
from ivrnav.menu.model import (
    LineMenu,
    LineSettings,
    Menu,
    MenuFile,
    Option,
    Phrase,
    Settings,
    Var,
)

SETTING_KEYS = ("inter_digit", "settle", "no_prompt_timeout", "max_visits", "max_call")


@cache
def schema() -> dict[str, Any]:
    """The normative JSON Schema (draft 2020-12) of DSL version 1."""
    return json.loads(resources.files("ivrnav.menu").joinpath("schema.json").read_text("utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


@dataclass(frozen=True)
class Compiled:
    menu_file: MenuFile
    warnings: tuple[Diagnostic, ...]
    document: Document


def compile_file(path: str | Path) -> Compiled:
    """Load, check and build a menu file. Raises MenuFileError listing every error."""
    return compile_document(load_file(path))


def compile_text(text: str, name: str = "<string>") -> Compiled:
    return compile_document(load_text(text, name))


def compile_document(doc: Document) -> Compiled:
    problems = schema_diagnostics(doc)
    if problems:
        raise MenuFileError(problems)
    builder = _ModelBuilder(doc)
    menu_file = builder.build()
    if builder.errors:
        raise MenuFileError(builder.errors)
    from ivrnav.menu.lint import lint  # lint needs the finished model

    diagnostics = lint(menu_file, doc)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        raise MenuFileError(sorted(diagnostics, key=_order))
    return Compiled(menu_file, tuple(sorted(diagnostics, key=_order)), doc)


def _order(d: Diagnostic) -> tuple[int, int, int]:
    return (0 if d.is_error else 1, d.line, d.column)


# ---------------------------------------------------------------------------------------------- schema


def schema_diagnostics(doc: Document) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        kind = _kind(doc.data)
        return [doc.diagnostic((), f"a menu file is a mapping of keys (ivrnav, name, start, menus), not {kind}")]
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        out.extend(_explain(doc, error))
    unique = {(d.line, d.column, d.message): d for d in out}
    return sorted(unique.values(), key=lambda d: (d.line, d.column))


def _explain(doc: Document, error: jsonschema.ValidationError) -> list[Diagnostic]:
    path: YamlPath = tuple(error.absolute_path)
    where = _describe(path)
    validator, instance = error.validator, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in error.schema.get("properties", {})]
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return [
            doc.diagnostic((*path, k), f"unknown key {k!r} in {where}{_suggest(k, allowed)}{hint}", key=True)
            for k in extras
        ]
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [doc.diagnostic(path, f"{where} is missing required key {m!r}") for m in missing]
    if validator == "propertyNames":
        bad = error.instance if isinstance(error.instance, str) else str(error.instance)
        return [doc.diagnostic(path, f"{bad!r} is not a valid name: use letters, digits and underscores")]
    if validator == "oneOf" and "x-expected" in error.schema:
        return [doc.diagnostic(path, f"{where} must be {error.schema['x-expected']}, got {_show(instance)}")]
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [doc.diagnostic(path, f"{where} must be {_article(expected)}, got {_show(instance)}")]
    if validator == "pattern":
        return [doc.diagnostic(path, f"{where} {_show(instance)} {_pattern_meaning(path, error.validator_value)}")]
    if validator == "const":
        return [doc.diagnostic(path, f"{where} must be {error.validator_value!r}, got {_show(instance)}")]
    if validator == "enum":
        choices = ", ".join(repr(c) for c in error.validator_value)
        return [doc.diagnostic(path, f"{where} must be one of {choices}, got {_show(instance)}")]
    if validator in {"minimum", "maximum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "maxLength"}:
        return [doc.diagnostic(path, f"{where}: {error.message}")]
    return [doc.diagnostic(path, f"{where}: {error.message}")]


def _pattern_meaning(path: YamlPath, pattern: str) -> str:
    if path and path[-1] == "press":
        return "is not a key: press takes 1-4 of 0-9 * # A-D"
    if path and path[-1] == "phone":
        return "is not an E.164 number such as \"+18005550100\""
    if "[A-Za-z_]" in pattern:
        return "is not a valid name: use letters, digits and underscores, not starting with a digit"
    return f"does not match {pattern!r}"


def _describe(path: YamlPath) -> str:
    if not path:
        return "the file"
    if len(path) >= 2 and path[0] == "menus":
        rest = path[2:]
        inner = f" {_dotted(rest)}" if rest else ""
        return f"menu {path[1]!r}{inner}"
    return _dotted(path)


def _dotted(path: YamlPath) -> str:
    from ivrnav.menu.diagnostics import format_path

    return format_path(path)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return _kind(value) if value else ("an empty mapping" if isinstance(value, dict) else "an empty list")
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _article(kind: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
             "integer": "a whole number", "boolean": "true or false"}
    return " or ".join(names.get(k, k) for k in kind.split(" or "))


def _suggest(word: str, choices: list[str]) -> str:
    from rapidfuzz import process

    best = process.extractOne(word, choices, score_cutoff=75) if choices else None
    return f" (did you mean {best[0]!r}?)" if best else ""


# ----------------------------------------------------------------------------------------------- model


class _ModelBuilder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.errors: list[Diagnostic] = []

    def error(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.errors.append(self.doc.diagnostic(path, message, key=key))

    def build(self) -> MenuFile:
        data = self.data
        names = set(data["menus"])
        variables = self._vars()
        defaults = self._settings(data.get("defaults", {}), Settings())
        globals_ = tuple(
            self._option(raw, ("globals", i), names, is_global=True) for i, raw in enumerate(data.get("globals", []))
        )
        self._duplicate_keys(globals_, ("globals",))
        menus = {
            name: self._menu(name, raw, names, variables, defaults) for name, raw in data["menus"].items()
        }
        for key in ("start", "goal"):
            if key in data and data[key] not in names:
                self.error((key,), f"{key} {data[key]!r} is not a menu{_suggest(data[key], sorted(names))}")
        return MenuFile(
            path=self.doc.file,
            name=data["name"],
            start=data["start"],
            goal=data.get("goal"),
            phone=data.get("phone"),
            description=data.get("description", ""),
            vars=MappingProxyType(variables),
            defaults=defaults,
            globals=globals_,
            menus=MappingProxyType(menus),
            line=self._line(data.get("line", {})),
        )

    def _vars(self) -> dict[str, Var]:
        out = {}
        for name, raw in self.data.get("vars", {}).items():
            pattern = raw.get("pattern")
            if pattern is not None:
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    self.error(("vars", name, "pattern"), f"var {name!r}: bad regular expression: {exc}")
                    compiled = None
                default = raw.get("default")
                if compiled and default is not None and not compiled.fullmatch(default):
                    # Never echo the value: a default may be a test secret.
                    self.error(("vars", name, "default"), f"var {name!r}: default does not match its pattern")
            out[name] = Var(name, bool(raw.get("secret", False)), pattern, raw.get("description", ""),
                            raw.get("default"))
        return out

    def _settings(self, raw: dict[str, Any], base: Settings) -> Settings:
        values = {k: raw[k] for k in SETTING_KEYS if k in raw}
        return Settings(**{**{k: getattr(base, k) for k in SETTING_KEYS}, **values})

    def _option(self, raw: dict[str, Any], path: YamlPath, names: set[str], *, is_global: bool = False) -> Option:
        keys = raw["press"]
        keys = str(keys)
        says = raw.get("says", ())
        says = (says,) if isinstance(says, str) else tuple(says)
        to = raw.get("to")
        repeat = bool(raw.get("repeat", False))
        if to is not None and to not in names:
            self.error((*path, "to"), f"option {keys!r} goes to {to!r}, which is not a menu"
                       f"{_suggest(to, sorted(names))}")
        if to is None and not repeat:
            self.error(path, f"option {keys!r} needs `to: MENU` or `repeat: true`")
        if to is not None and repeat:
            self.error((*path, "repeat"), f"option {keys!r} has both `to` and `repeat`; choose one")
        return Option(keys, says, to, repeat, is_global)

    def _duplicate_keys(self, options: tuple[Option, ...], path: YamlPath) -> None:
        seen: dict[str, int] = {}
        for i, option in enumerate(options):
            if option.keys in seen:
                self.error((*path, i, "press"), f"key {option.keys!r} is used twice here "
                           f"(also by option {seen[option.keys] + 1})")
            else:
                seen[option.keys] = i

    def _menu(self, name: str, raw: dict[str, Any], names: set[str], variables: dict[str, Var],
              defaults: Settings) -> Menu:
        path: YamlPath = ("menus", name)
        options = tuple(self._option(o, (*path, "options", i), names) for i, o in enumerate(raw.get("options", [])))
        self._duplicate_keys(options, (*path, "options"))
        nxt = raw.get("next")
        if nxt is not None and nxt not in names:
            self.error((*path, "next"), f"menu {name!r}: next {nxt!r} is not a menu{_suggest(nxt, sorted(names))}")
        for field_name, digits in (("enter", True), ("say", False)):
            if field_name in raw:
                self._template(raw[field_name], (*path, field_name), variables, digits=digits)
        kinds = [k for k in ("options", "enter", "say") if raw.get(k)]
        if len(kinds) > 1:
            self.error(path, f"menu {name!r} has {' and '.join(kinds)}: a menu either offers options, "
                       "takes an entry or takes speech")
        hold = raw.get("hold", False)
        hold_max = hold.get("max") if isinstance(hold, dict) else None
        if raw.get("human") and (raw.get("options") or "enter" in raw or "say" in raw):
            self.error(path, f"menu {name!r} is human: a person answers, so it takes no options, enter or say")
        if hold is not False and (raw.get("options") or "enter" in raw or "say" in raw):
            self.error(path, f"menu {name!r} is a hold: the navigator never presses there, so it takes no "
                       "options, enter or say")
        if ("enter" in raw or "say" in raw) and nxt is None:
            self.error(path, f"menu {name!r} takes an entry but has no `next` menu to expect afterwards")
        listen = raw.get("listen", ())
        listen = (listen,) if isinstance(listen, str) else tuple(listen)
        phrases = tuple(self._phrase(p, (*path, "listen", i)) for i, p in enumerate(listen))
        invalid = raw.get("invalid", ())
        invalid = (invalid,) if isinstance(invalid, str) else tuple(invalid)
        if not raw.get("prompt") and not phrases and not raw.get("human"):
            self.error(path, f"menu {name!r} has neither `prompt` nor `listen`: nothing identifies it")
        line = raw.get("line", {})
        accept = line.get("accept")
        if accept is not None:
            try:
                re.compile(accept)
            except re.error as exc:
                self.error((*path, "line", "accept"), f"bad regular expression: {exc}")
        return Menu(
            name=name,
            prompt=raw.get("prompt", ""),
            listen=phrases,
            options=options,
            enter=str(raw["enter"]) if "enter" in raw else None,
            say=raw.get("say"),
            invalid=invalid,
            next=nxt,
            hold=hold is not False,
            hold_max=hold_max,
            human=bool(raw.get("human", False)),
            type_ahead=bool(raw.get("type_ahead", False)),
            settings=self._settings(raw, defaults),
            line=LineMenu(
                prompt=line.get("prompt"), hold=line.get("hold"), type_ahead=line.get("type_ahead"),
                accept=accept, unmapped_key=line.get("unmapped_key"), silent=bool(line.get("silent", False)),
                hangup=bool(line.get("hangup", False)),
            ),
            description=raw.get("description", ""),
        )

    def _phrase(self, text: str, path: YamlPath) -> Phrase:
        if text.startswith("re:"):
            try:
                return Phrase(text, re.compile(text[3:], re.IGNORECASE))
            except re.error as exc:
                self.error(path, f"bad regular expression {text[3:]!r}: {exc}")
        return Phrase(text)

    def _template(self, text: str, path: YamlPath, variables: dict[str, Var], *, digits: bool) -> None:
        try:
            names = template.variables(text, digits=digits)
        except template.TemplateError as exc:
            self.error(path, f"bad template {text!r} at character {exc.offset + 1}: {exc}")
            return
        for var in names:
            if var not in variables:
                known = sorted(variables)
                self.error(path, f"template {text!r} uses undefined variable {{{var}}}{_suggest(var, known)}"
                           + (f"; defined: {', '.join(known)}" if known else "; declare it under `vars:`"))

    def _line(self, raw: dict[str, Any]) -> LineSettings:
        base = LineSettings()
        fields = ("speaking_rate", "hold", "type_ahead", "unmapped_key", "invalid_message", "repeats", "wait",
                  "pause")
        values = {k: raw[k] for k in fields if k in raw}
        if "vars" in raw:
            values["vars"] = MappingProxyType({k: str(v) for k, v in raw["vars"].items()})
        return LineSettings(**{**{k: getattr(base, k) for k in (*fields, "vars")}, **values})
