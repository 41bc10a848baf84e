"""Speech-recognition settings built from a menu file: key terms ordered by use within the provider's
limit, the route's language, and the real Deepgram plugin's options (constructed offline, dummy key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivrnav.livekit.stt_options import (
    call_keyterms,
    call_language,
    deepgram_options,
    deepgram_stt,
    fit_keyterms,
    route_menus,
)
from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.vocabulary import KEYTERM_LIMITS, KeytermLimit, estimate_tokens, menu_keyterms

MENUS = Path(__file__).resolve().parents[1] / "menus"
BANK = compile_file(MENUS / "bank.yaml").menu_file
DEEPGRAM = KEYTERM_LIMITS["deepgram"]


def big_menu(pages: int = 16) -> str:
    """More labels than Deepgram takes: a chain of menus (8 departments each, 9 for the next page); the goal
    is behind the last page, so in file order its label comes last."""
    lines = ["ivrnav: 1", "name: Big", "start: page0", "goal: target", "menus:"]
    for n in range(pages):
        last = n == pages - 1
        lines += [f"  page{n}:", f"    prompt: Page {n}.", "    options:"]
        lines += [f"      - {{press: '{k}', says: department {n} {k}, to: dept{n}_{k}}}" for k in range(1, 9)]
        lines += [f"      - {{press: '9', says: {'the wanted department' if last else 'more departments'}, "
                  f"to: {'target' if last else f'page{n + 1}'}}}"]
        lines += [f"  dept{n}_{k}: {{prompt: Department {n} {k}., human: true}}" for k in range(1, 9)]
    lines += ["  target: {prompt: You reached the target., listen: [you reached the target], human: true}"]
    return "\n".join(lines) + "\n"


def test_goal_route_terms_come_first_and_survive_the_cut():
    mf = compile_text(big_menu(), "big.yaml").menu_file
    every = menu_keyterms(mf, 10**6)
    assert len(every) > DEEPGRAM.terms  # more than Deepgram takes
    terms = call_keyterms(mf, "target", DEEPGRAM)
    assert terms[:2] == ["press 9", "more departments"]
    assert "the wanted department" in terms and "you reached the target" in terms
    assert len(terms) <= DEEPGRAM.terms and sum(map(estimate_tokens, terms)) <= DEEPGRAM.tokens
    # without the route, file order: the goal's label (the file's last) is cut
    assert "the wanted department" not in menu_keyterms(mf, DEEPGRAM)


def test_no_menu_of_ours_loses_terms_with_deepgram():
    for path in sorted(MENUS.glob("*.yaml")):
        mf = compile_file(path).menu_file
        assert set(call_keyterms(mf, mf.goal, DEEPGRAM)) == set(menu_keyterms(mf, 10**6)), path.name


def test_bank_route_order():
    assert route_menus(BANK, "fraud") == ["welcome", "language", "main", "fraud"]
    assert call_keyterms(BANK, "fraud", DEEPGRAM)[:5] == ["press 1", "English", "press 3", "report fraud", "main menu"]


def test_language_from_the_menu_file_and_its_branches():
    assert BANK.language == "en-US" and BANK.language_of("spanish") == "es"
    assert call_language(BANK, "fraud") == "en-US"
    assert call_language(BANK, "spanish") == "multi"  # the route crosses English and Spanish menus
    es = compile_text("ivrnav: 1\nname: x\nlanguage: es\nstart: a\nmenus:\n  a: {prompt: Hola., human: true}\n",
                      "es.yaml").menu_file
    assert call_language(es, "a") == "es"


def test_a_bad_language_tag_is_an_error_with_its_position():
    from ivrnav.menu.diagnostics import MenuFileError

    with pytest.raises(MenuFileError) as excinfo:
        compile_text("ivrnav: 1\nname: x\nlanguage: English\nstart: a\nmenus:\n  a: {prompt: Hi., human: true}\n",
                     "bad.yaml")
    assert "bad.yaml:3:11" in str(excinfo.value.errors[0])


def test_fit_leaves_room_for_the_stt_s_own_terms():
    limit = KeytermLimit(terms=4, tokens=100)
    assert fit_keyterms(["a", "b"], ["b", "c", "d", "e"], limit) == ["c", "d"]
    assert fit_keyterms([], ["x" * 40, "y"], KeytermLimit(terms=10, tokens=5)) == ["y"]  # too long: skipped


def test_deepgram_plugin_options_built_from_the_menu_file():
    pytest.importorskip("livekit.plugins.deepgram")
    stt = deepgram_stt(BANK, "fraud", api_key="dummy-key-no-network")
    opts = stt._opts
    assert opts.model == "nova-3" and opts.numerals is True and opts.mip_opt_out is True
    assert opts.interim_results is True and stt.capabilities.interim_results
    assert str(opts.language) == "en-US"
    assert list(opts.keyterm) == deepgram_options(BANK, "fraud")["keyterm"]
    assert list(opts.keyterm)[:2] == ["press 1", "English"]
    spanish = deepgram_stt(BANK, "spanish", api_key="dummy-key-no-network")
    assert str(spanish._opts.language) == "multi"
