"""The JSON Schema is the normative definition of DSL version 1: valid itself, accepts every shipped menu,
rejects the corpus files whose fault is a schema matter, and stays out of the compiler's semantic job."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from ivrnav.menu.compiler import schema

ROOT = Path(__file__).parent.parent
MENUS = sorted((ROOT / "menus").glob("*.yaml"))
BAD = Path(__file__).parent / "bad"

# Files in tests/bad that are plain YAML (PyYAML's safe_load reads them) but break the schema.
SCHEMA_VIOLATIONS = [
    "comma_in_flow_says", "hold_is_string", "hold_max_negative", "line_unmapped_key_bad", "line_vars_not_string",
    "listen_item_not_string", "max_visits_zero", "menu_is_string", "menu_name_invalid", "menus_empty",
    "menus_is_list", "missing_name", "missing_start_and_menus", "options_is_mapping", "phone_not_e164",
    "press_empty", "press_letter_e", "press_list", "press_missing", "press_not_a_key", "press_too_many_keys",
    "prompt_is_list", "setting_negative", "top_level_list", "top_level_string", "type_ahead_not_boolean",
    "unknown_key_defaults", "unknown_key_global", "unknown_key_hold", "unknown_key_line", "unknown_key_line_menu",
    "unknown_key_menu", "unknown_key_option", "unknown_key_top", "unknown_key_var", "var_name_invalid",
    "version_missing", "version_string", "version_wrong",
]

# Files that satisfy the schema: only the compiler's semantic checks (references, templates, regexes,
# duplicates, reachability, structure) can catch them.
SEMANTIC_ONLY = [
    "duplicate_global_keys", "duplicate_press_in_menu", "duplicate_press_int_and_string", "enter_and_say",
    "enter_bad_character", "enter_pound_word", "enter_unbalanced_brace", "enter_undefined_var",
    "enter_without_next", "global_to_undefined", "goal_undefined", "goal_unreachable", "hold_with_options",
    "human_with_options", "line_accept_bad_regex", "listen_bad_regex", "menu_without_prompt_or_listen",
    "next_undefined", "option_with_to_and_repeat", "option_without_to_or_repeat", "options_and_enter",
    "say_undefined_var", "say_without_next", "start_undefined", "three_errors", "to_undefined",
    "var_default_mismatch", "var_pattern_bad_regex",
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_shipped_schema_file_is_the_one_the_compiler_uses():
    import json

    on_disk = json.loads((ROOT / "ivrnav" / "menu" / "schema.json").read_text("utf-8"))
    assert on_disk == schema()


def test_there_are_several_example_menus():
    names = {p.stem for p in MENUS}
    assert {"bank", "pharmacy", "airline", "utility", "insurer"} <= names


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.name)
def test_every_example_menu_is_schema_valid(path: Path, validator: jsonschema.Draft202012Validator):
    data = yaml.safe_load(path.read_text("utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize("name", SCHEMA_VIOLATIONS)
def test_schema_rejects_schema_level_bad_files(name: str, validator: jsonschema.Draft202012Validator):
    data = yaml.safe_load((BAD / f"{name}.yaml").read_text("utf-8"))
    assert not validator.is_valid(data), f"{name}.yaml should break the schema"


@pytest.mark.parametrize("name", SEMANTIC_ONLY)
def test_semantic_bad_files_pass_the_schema(name: str, validator: jsonschema.Draft202012Validator):
    data = yaml.safe_load((BAD / f"{name}.yaml").read_text("utf-8"))
    assert validator.is_valid(data), f"{name}.yaml is meant to be schema-valid (only the compiler catches it)"


def test_classification_covers_only_real_corpus_files():
    files = {p.stem for p in BAD.glob("*.yaml")}
    assert set(SCHEMA_VIOLATIONS) <= files
    assert set(SEMANTIC_ONLY) <= files
    assert not set(SCHEMA_VIOLATIONS) & set(SEMANTIC_ONLY)


@pytest.mark.parametrize(
    ("fragment", "valid"),
    [
        ({"press": "1", "to": "a"}, True),
        ({"press": "#"}, True),
        ({"press": "*9AD"}, True),
        ({"press": 7}, True),
        ({"press": "E"}, False),
        ({"press": "11x"}, False),
        ({"press": "12345"}, False),
        ({"press": ""}, False),
        ({"press": "1", "goto": "a"}, False),
    ],
)
def test_option_key_rules(fragment: dict, valid: bool, validator: jsonschema.Draft202012Validator):
    doc = {"ivrnav": 1, "name": "x", "start": "a", "menus": {"a": {"prompt": "p", "options": [fragment]}}}
    assert validator.is_valid(doc) is valid
