"""Compile a menu file: schema check, semantic checks, typed model, lint warnings.

Every problem becomes a Diagnostic with file, line, column and YAML path; all of them are collected
before failing, so an author fixes a file in one pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import jsonschema_rs

from ivrnav.menu import regex, template
from ivrnav.menu.diagnostics import Diagnostic, MenuFileError, YamlPath, quote
from ivrnav.menu.loader import Document, load_file, load_text, paused_gc
from ivrnav.menu.model import (
    Confirm,
    LineMenu,
    LineOutcome,
    LineSettings,
    Menu,
    MenuFile,
    Option,
    Phrase,
    Settings,
    Var,
)

_KEYS = re.compile(r"[0-9*#A-D]{1,4}")
SETTING_KEYS = ("inter_digit", "settle", "no_prompt_timeout", "max_visits", "max_call", "prompt_done_quiet")


@cache
def schema() -> dict[str, Any]:
    """The normative JSON Schema (draft 2020-12) of DSL version 1."""
    return json.loads(resources.files("ivrnav.menu").joinpath("schema.json").read_text("utf-8"))


@cache
def _fast_validator() -> jsonschema_rs.Draft202012Validator:
    """The same schema in a compiled (Rust) validator: a yes/no answer ~100x faster than ``jsonschema``."""
    return jsonschema_rs.Draft202012Validator(schema())


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
    with paused_gc():
        return _compile_document(doc)


def _compile_document(doc: Document) -> Compiled:
    problems = schema_diagnostics(doc)
    if problems:
        raise MenuFileError(problems)
    builder = _ModelBuilder(doc)
    menu_file = builder.build()
    if builder.errors:
        raise MenuFileError(sorted(builder.errors, key=_order))
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
    if _fast_validator().is_valid(doc.data):
        return []  # the common case, in milliseconds even for 5,000 menus
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):  # slow but explainable: only for invalid files
        out.extend(_explain(doc, error))
    unique = {(d.line, d.column, d.message): d for d in out}
    return sorted(unique.values(), key=lambda d: (d.line, d.column))


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float),
               "integer": int}


def _branch_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a failed oneOf, the errors of the branch whose type the value has (a mapping with a bad key inside
    ``hold: {maximum: 600}`` is better reported as that bad key than as "must be true/false or a mapping")."""
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    for index, branch in enumerate(branches):
        kind = _JSON_TYPES.get(branch.get("type", ""))
        if kind is None or not isinstance(error.instance, kind) or isinstance(error.instance, bool) != (
            branch.get("type") == "boolean"
        ):
            continue
        inner = [e for e in error.context or [] if e.relative_schema_path and e.relative_schema_path[0] == index]
        if inner and all(e.validator != "type" or tuple(e.absolute_path) != tuple(error.absolute_path)
                         for e in inner):
            return inner
    return []


def _explain(doc: Document, error: jsonschema.ValidationError) -> list[Diagnostic]:
    path: YamlPath = tuple(error.absolute_path)
    where = _describe(path)
    validator, instance = error.validator, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in error.schema.get("properties", {})]
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return [
            doc.diagnostic((*path, k), f"unknown key {quote(k)} in {where}{_suggest(k, allowed)}"
                           f"{_comma_hint(k, instance[k]) or hint}", key=True)
            for k in extras
        ]
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [doc.diagnostic(path, f"{where} is missing required key {m!r}") for m in missing]
    if "propertyNames" in error.schema_path and isinstance(instance, str):
        kind = {"menus": "menu name", "vars": "variable name"}.get(str(path[-1]) if path else "", "name")
        return [doc.diagnostic((*path, instance), f"{kind} {quote(instance)} is not valid: use letters, digits and "
                               "underscores, not starting with a digit", key=True)]
    if validator == "oneOf" and "x-expected" in error.schema:
        inner = _branch_errors(error)
        if inner:
            return [d for e in inner for d in _explain(doc, e)]
        return [doc.diagnostic(path, f"{where} must be {error.schema['x-expected']}, got {_show(instance)}")]
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [doc.diagnostic(path, f"{where} must be {_article(expected)}, got {_show(instance)}")]
    if validator == "pattern" and path and path[-1] == "press" and isinstance(instance, str):
        return [doc.diagnostic(path, f"{where} {_show(instance)} {_press_problem(instance)}")]
    if validator == "pattern":
        return [doc.diagnostic(path, f"{where} {_show(instance)} {_pattern_meaning(path, error.validator_value)}")]
    if validator == "const":
        extra = " (the DSL version this ivrnav reads)" if path == ("ivrnav",) else ""
        return [doc.diagnostic(path, f"{where} must be {error.validator_value!r}{extra}, got {_show(instance)}")]
    if validator == "enum":
        choices = ", ".join(repr(c) for c in error.validator_value)
        return [doc.diagnostic(path, f"{where} must be one of {choices}, got {_show(instance)}")]
    limit = error.validator_value
    if validator == "minimum":
        return [doc.diagnostic(path, f"{where} must be at least {limit}, got {_show(instance)}")]
    if validator == "maximum":
        return [doc.diagnostic(path, f"{where} must be at most {limit}, got {_show(instance)}")]
    if validator == "exclusiveMinimum":
        return [doc.diagnostic(path, f"{where} must be more than {limit}, got {_show(instance)}")]
    if validator in {"minLength", "minItems", "minProperties"}:
        what = {"menus": "define at least one menu"}.get(str(path[-1]) if path else "", "")
        return [doc.diagnostic(path, f"{where} is empty{': ' + what if what else ''}")]
    if validator == "maxLength":
        return [doc.diagnostic(path, f"{where} is longer than {limit} characters")]
    return [doc.diagnostic(path, f"{where} is not valid here")]


def _comma_hint(key: str, value: Any) -> str:
    """``{says: start, stop or move service}``: YAML read the text after the comma as another key."""
    if value is None and " " in key.strip():
        return ("; in a {...} mapping a comma separates keys, so quote text that contains commas, "
                'e.g. says: "start, stop or move service"')
    return ""


def _press_problem(keys: str) -> str:
    from ivrnav.menu.model import KEYS

    bad = sorted({ch for ch in keys if ch not in KEYS}, key=keys.index)
    if not keys:
        return 'is empty: press takes 1-4 keys of 0-9 * # A-D, e.g. "1" or "#"'
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        return f"is not a phone key sequence: {shown} {'is not a key' if len(bad) == 1 else 'are not keys'}; " \
            "press takes 1-4 of 0-9 * # A-D"
    return f"has {len(keys)} keys: press takes at most 4 (use `enter` on a data-entry menu for longer entries)"


def _pattern_meaning(path: YamlPath, pattern: str) -> str:
    if path and path[-1] == "press":
        return "is not a key: press takes 1-4 of 0-9 * # A-D"
    if path and path[-1] == "phone":
        return "is not an E.164 number such as \"+18005550100\""
    if "[A-Za-z_]" in pattern:
        return "is not a valid name: use letters, digits and underscores, not starting with a digit"
    return f"does not match {quote(pattern)}"


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
    return {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false"}.get(type(value), "a value of another kind")


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return _kind(value) if value else ("an empty mapping" if isinstance(value, dict) else "an empty list")
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(value)


def _article(kind: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
             "integer": "a whole number", "boolean": "true or false"}
    return " or ".join(names.get(k, k) for k in kind.split(" or "))


SUGGEST_BUDGET = 20  # fuzzy "did you mean" lookups per file: 10,000 bad references x 10,000 menus is 10^8
SUGGEST_NAMES = 2000  # more menus than this: no fuzzy suggestion (each lookup costs milliseconds)


def _not_a_menu(name: str, names: frozenset[str], fuzzy: bool = True) -> str:
    if len(names) > 8:
        return _suggest(name, _sorted_names(names)) if fuzzy and len(names) <= SUGGEST_NAMES else ""
    return _suggest(name, sorted(names)) or f"; menus are: {', '.join(sorted(names))}"


@lru_cache(maxsize=4)
def _sorted_names(names: frozenset[str]) -> list[str]:
    return sorted(names)


def _regex_problem(pattern: str, exc: regex.RegexProblem) -> str:
    return f"{_quote_pattern(pattern)} {exc}"


def _quote_pattern(pattern: str) -> str:
    shown = pattern if len(pattern) <= 80 else f"{pattern[:76]}… ({len(pattern):,} characters)"
    return f'"{shown}"'


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        self.suggestions = SUGGEST_BUDGET

    def _hint(self, name: str, names: frozenset[str]) -> str:
        self.suggestions -= 1
        return _not_a_menu(name, names, fuzzy=self.suggestions >= 0)

    def error(self, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.errors.append(self.doc.diagnostic(path, message, key=key))

    def build(self) -> MenuFile:
        data = self.data
        names = frozenset(data["menus"])
        variables = self._vars()
        defaults = self._settings(data.get("defaults", {}), Settings())
        globals_ = tuple(
            self._option(raw, ("globals", i), names, owner="global option")
            for i, raw in enumerate(data.get("globals", []))
        )
        self._duplicate_keys(globals_, ("globals",), "globals")
        menus = {
            name: self._menu(name, raw, names, variables, defaults) for name, raw in data["menus"].items()
        }
        for key in ("start", "goal"):
            if key in data and data[key] not in names:
                self.error((key,), f"{key} {quote(data[key])} is not a menu{self._hint(data[key], names)}")
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
            language=data.get("language", "en-US"),
        )

    def _vars(self) -> dict[str, Var]:
        out = {}
        for name, raw in self.data.get("vars", {}).items():
            pattern = raw.get("pattern")
            if pattern is not None:
                try:
                    compiled = regex.compile_user(pattern)
                except regex.RegexProblem as exc:
                    self.error(("vars", name, "pattern"), f"var {name!r}: pattern {_regex_problem(pattern, exc)}")
                    compiled = None
                default = raw.get("default")
                if compiled and default is not None and not compiled.fullmatch(default):
                    # Never echo the value: a default may be a test secret.
                    self.error(("vars", name, "default"),
                               f"var {name!r}: default does not match its pattern {_quote_pattern(pattern)}")
            out[name] = Var(name, bool(raw.get("secret", False)), pattern, raw.get("description", ""),
                            raw.get("default"))
        return out

    def _settings(self, raw: dict[str, Any], base: Settings) -> Settings:
        values = {k: raw[k] for k in SETTING_KEYS if k in raw}
        return Settings(**{**{k: getattr(base, k) for k in SETTING_KEYS}, **values})

    def _option(self, raw: dict[str, Any], path: YamlPath, names: frozenset[str], *, owner: str) -> Option:
        keys = raw["press"]
        if not isinstance(keys, str):  # a number: the digits as written, never Python's str() of it
            keys = self.doc.written.get((*path, "press"), str(keys))
            if not _KEYS.fullmatch(keys):
                self.error((*path, "press"), f"press {quote(keys)} is not a phone key sequence: press takes 1-4 of "
                           f"0-9 * # A-D; quote keys to keep them as written, e.g. press: \"{keys[:8]}\"")
        says = raw.get("says", ())
        says = (says,) if isinstance(says, str) else tuple(says)
        to = raw.get("to")
        repeat = raw.get("repeat", False)
        label = f"{owner} {keys!r}" + (f" ({_clip(says[0])})" if says else "")
        if to is not None and to not in names:
            self.error((*path, "to"), f"{label} goes to {quote(to)}, which is not a menu{self._hint(to, names)}")
        if to is None and not repeat:
            why = "; `repeat: false` does nothing" if "repeat" in raw else ""
            self.error(path, f"{label} leads nowhere: give it `to: MENU` or `repeat: true`{why}")
        if to is not None and repeat:
            self.error((*path, "repeat"), f"{label} has both `to` and `repeat: true`; a key either goes to a "
                       "menu or repeats this one")
        return Option(keys, says, to, bool(repeat), owner == "global option")

    def _duplicate_keys(self, options: tuple[Option, ...], path: YamlPath, owner: str) -> None:
        seen: dict[str, int] = {}
        for i, option in enumerate(options):
            if option.keys in seen:
                first = seen[option.keys]
                line = self.doc.where((*path, first, "press"))[0]
                self.error((*path, i, "press"), f"{owner}: key {option.keys!r} is used by two options "
                           f"({_dotted((*path[-1:], first))} at line {line} and {_dotted((*path[-1:], i))}); "
                           "a key can lead to only one place")
            else:
                seen[option.keys] = i

    def _menu(self, name: str, raw: dict[str, Any], names: frozenset[str], variables: dict[str, Var],
              defaults: Settings) -> Menu:
        path: YamlPath = ("menus", name)
        options = tuple(self._option(o, (*path, "options", i), names, owner=f"menu {name!r}: option")
                        for i, o in enumerate(raw.get("options", [])))
        self._duplicate_keys(options, (*path, "options"), f"menu {name!r}")
        nxt = raw.get("next")
        if nxt is not None and nxt not in names:
            self.error((*path, "next"), f"menu {name!r}: next {quote(nxt)} is not a menu{self._hint(nxt, names)}")
        for field_name, digits in (("enter", True), ("say", False)):
            if field_name in raw:
                self._template(raw[field_name], (*path, field_name), variables, digits=digits, menu=name)
        actions = [k for k in ("options", "enter", "say") if k in raw and (k != "options" or raw[k])]
        if len(actions) > 1:
            self.error((*path, actions[1]), f"menu {name!r} has both {' and '.join(f'`{k}`' for k in actions)}: "
                       "a menu either offers options, takes a key entry (`enter`) or takes speech (`say`)",
                       key=True)
        hold = raw.get("hold", False)
        hold_max = hold.get("max") if isinstance(hold, dict) else None
        for flag, what, why in (("human", "a human", "a person answers"),
                                ("hold", "a hold", "the navigator never presses there")):
            if raw.get(flag) is not None and raw.get(flag) is not False and actions:
                self.error((*path, actions[0]), f"menu {name!r} is {what} (`{flag}`): {why}, so it cannot have "
                           f"`{actions[0]}`", key=True)
        if ("enter" in raw or "say" in raw) and nxt is None:
            field_name = "enter" if "enter" in raw else "say"
            what = "a key entry" if field_name == "enter" else "speech"
            self.error((*path, field_name), f"menu {name!r} takes {what} (`{field_name}`) but has no `next`: "
                       "name the menu the line plays after it", key=True)
        listen = raw.get("listen", ())
        listen = (listen,) if isinstance(listen, str) else tuple(listen)
        phrases = tuple(self._phrase(p, (*path, "listen", i), name) for i, p in enumerate(listen))
        invalid = raw.get("invalid", ())
        invalid = (invalid,) if isinstance(invalid, str) else tuple(invalid)
        if not raw.get("prompt") and not phrases and not raw.get("human"):
            self.error(path, f"menu {name!r} has neither `prompt` nor `listen`: nothing identifies it; add the "
                       "words the line says here", key=True)
        line = raw.get("line", {})
        for where, pattern in ((("line", "accept"), line.get("accept")),
                               (("line", "entry", "accept"), (line.get("entry") or {}).get("accept"))):
            if pattern is not None:
                try:
                    regex.compile_user(pattern)
                except regex.RegexProblem as exc:
                    self.error((*path, *where), f"menu {name!r}: {'.'.join(where)} {_regex_problem(pattern, exc)}")
        for target_path in (("any_key",), ("entry", "to"), ("timeout", "to"), ("invalid", "to")):
            target: Any = line
            for part in target_path:
                target = target.get(part) if isinstance(target, dict) else None
            if target is not None and target not in names:
                self.error((*path, "line", *target_path), f"menu {name!r}: line.{'.'.join(target_path)} "
                           f"{target!r} is not a menu{_not_a_menu(target, names)}")
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
                accept=line.get("accept"), unmapped_key=line.get("unmapped_key"),
                silent=bool(line.get("silent", False)),
                hangup=bool(line.get("hangup", False)),
                first_digit=line.get("first_digit"), inter_digit=line.get("inter_digit"),
                reprompt=line.get("reprompt"), repeats=line.get("repeats"),
                timeout=_outcome(line.get("timeout")), invalid=_outcome(line.get("invalid")),
                max_invalid=line.get("max_invalid"), any_key=line.get("any_key"),
                entry_accept=(line.get("entry") or {}).get("accept"), entry_to=(line.get("entry") or {}).get("to"),
                sound=line.get("sound"), hangup_after=bool(line.get("hangup_after", False)),
                terminal=bool(line.get("terminal", False)),
            ),
            description=raw.get("description", ""),
            language=raw.get("language"),
            confirm=_confirm(raw.get("confirm")),
        )

    def _phrase(self, text: str, path: YamlPath, menu: str) -> Phrase:
        if text.startswith("re:"):
            try:
                return Phrase(text, regex.compile_user(text[3:], True))
            except regex.RegexProblem as exc:
                self.error(path, f"menu {menu!r}: listen phrase {_regex_problem(text[3:], exc)}")
        return Phrase(text)

    def _template(self, text: str, path: YamlPath, variables: dict[str, Var], *, digits: bool, menu: str) -> None:
        field_name = path[-1]
        try:
            names = template.variables(text, digits=digits)
        except template.TemplateError as exc:
            problem = {"unbalanced '{'": "'{' is never closed by '}'",
                       "unbalanced '}'": "'}' has no opening '{'"}.get(str(exc), str(exc))
            self.error(path, f"menu {menu!r}: {field_name} template {quote(text)}, character {exc.offset + 1}: "
                       f"{problem}")
            return
        undefined = [v for v in dict.fromkeys(names) if v not in variables]  # each once: 100,000 `{a}` is one error
        for var in undefined[:5]:
            if var not in variables:
                known = sorted(variables)
                self.error(path, f"menu {menu!r}: {field_name} template {quote(text)} uses undefined variable "
                           f"{{{var}}}{_suggest(var, known)}"
                           + (f"; defined: {', '.join(known)}" if known else "; declare it under `vars:`"))

    def _line(self, raw: dict[str, Any]) -> LineSettings:
        base = LineSettings()
        fields = ("speaking_rate", "hold", "type_ahead", "unmapped_key", "invalid_message", "repeats", "wait",
                  "pause", "inter_digit")
        values = {k: raw[k] for k in fields if k in raw}
        if "vars" in raw:
            values["vars"] = MappingProxyType({k: str(v) for k, v in raw["vars"].items()})
        return LineSettings(**{**{k: getattr(base, k) for k in (*fields, "vars")}, **values})


def _outcome(raw: dict[str, Any] | None) -> LineOutcome | None:
    if raw is None:
        return None
    return LineOutcome(say=raw.get("say", ""), to=raw.get("to"), hangup=bool(raw.get("hangup", False)))


def _confirm(raw: dict[str, Any] | None) -> Confirm | None:
    if raw is None:
        return None
    sound = raw.get("sound", ())
    return Confirm(quiet=raw.get("quiet"), sound=(sound,) if isinstance(sound, str) else tuple(sound),
                   human=bool(raw.get("human", False)), hangup=bool(raw.get("hangup", False)))
