"""Listen phrases a draft writes for its menus: words of the prompt that no other prompt says."""

from __future__ import annotations

from ivrnav.discover.phrases import distinctive_phrases
from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.events import DigitsSent, Heard, SendDigits, Tick
from ivrnav.navigate.navigator import Navigator

ECHO = ("You are about to enter an echo test. In this mode everything you say will be repeated back to you. "
        "You may end the test by pressing the pound key.")
MAIN = "To execute an echo test dial 600. To check voice mail dial 8500. Press the pound key to disconnect."


def test_phrases_are_the_prompts_own_words_from_sentences_that_offer_no_key():
    phrases = distinctive_phrases(ECHO, [ECHO], [MAIN])
    assert 1 <= len(phrases) <= 2
    for phrase in phrases:
        assert phrase in ECHO.lower().replace(".", "")
        assert "echo test" not in phrase  # main says it too
        assert "pound" not in phrase and not any(ch.isdigit() for ch in phrase)  # the offer sentence is out
    assert distinctive_phrases(MAIN, [MAIN], [ECHO]) == []  # every sentence offers a key


def test_a_phrase_most_hearings_lack_is_not_taken_and_short_prompts_get_none():
    garbled = "You are about to enter an echo test. In this mode everything you bay will be repeated to you."
    phrases = distinctive_phrases(ECHO, [garbled, garbled, ECHO], [MAIN])
    assert all(p in garbled.lower() for p in phrases)  # only what most hearings say
    assert distinctive_phrases("Comedian Mail. Mailbox?", ["Comedian Mail. Mailbox?"], [MAIN]) == []
    assert distinctive_phrases(ECHO, [ECHO], [ECHO.replace("say", "sae")]) == []  # another prompt nearly says it


DRAFT = f"""
ivrnav: 1
name: Echo draft
start: main
goal: echo
menus:
  main:
    prompt: {MAIN}
    options:
      - {{press: "600", says: execute an echo test, to: echo}}
  echo:
    prompt: {ECHO}
    listen: {distinctive_phrases(ECHO, [ECHO], [MAIN])!r}
"""


def test_a_draft_menu_whose_opening_was_misheard_is_recognised_by_its_phrases():
    """The opening "You congratulations about and to enter an echo test" fails the prompt match; the
    phrases, heard later in the prompt, recognise the expected menu (it used to be an unknown prompt)."""
    mf = compile_text(DRAFT, "echo-draft.yaml").menu_file
    assert compile_text(DRAFT, "echo-draft.yaml").warnings == ()
    for listen, reached in ((True, True), (False, False)):
        menu_file = mf if listen else compile_text(DRAFT.replace("    listen:", "    # listen:"), "d.yaml").menu_file
        nav = Navigator(menu_file, "echo")
        keys = [a.digits for e in (Heard(MAIN, True, 0.0, 8.0), Tick(9.0)) for a in nav.handle(e)
                if isinstance(a, SendDigits)]
        assert keys == ["600"]
        nav.handle(DigitsSent("600", 9.5))
        nav.handle(Heard("You congratulations about and to enter an um echo test. In this mode everything you say "
                         "be repeated back to you.", True, 10.0, 16.0))
        nav.handle(Tick(17.5))
        assert (nav.result is not None and nav.result.reached) is reached
