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


STORE = "Our stores are open late. Parking is free downtown. Gift cards never expire."


def test_each_sentence_gives_its_most_contentful_run_and_the_best_two_are_kept():
    # per sentence the run with the most letters in content words: "stores are open" (10), "is free downtown"
    # (12), "cards never expire" (16); the two best, best first. No hearings: every run counts as heard.
    assert distinctive_phrases(STORE, [], []) == ["cards never expire", "is free downtown"]
    # the last run of a sentence is a candidate too; "welcome to the" has one content word only
    assert distinctive_phrases("Welcome to the big savings event.", [], []) == ["big savings event"]
    assert distinctive_phrases("Thank you for calling us.", [], []) == []  # no run of two content words


def test_runs_most_hearings_say_come_first_and_half_of_them_is_enough():
    uptown = STORE.replace("downtown", "uptown")
    # "is free downtown" is in one hearing of two, "parking is free" in both: support before content
    assert distinctive_phrases(STORE, [STORE, uptown], []) == ["cards never expire", "parking is free"]
    two = "Parking is free downtown. Gift cards never expire."
    garbled = "Parking is free downtown. Gift cards do not."
    assert distinctive_phrases(two, [two, garbled], []) == ["is free downtown", "cards never expire"]
    assert distinctive_phrases(two, [two, garbled, garbled], []) == ["is free downtown"]  # 1 of 3 is not enough


def test_prompts_of_four_words_get_a_phrase_shorter_ones_none():
    assert distinctive_phrases("Please hold the line.", [], []) == ["hold the line"]
    assert distinctive_phrases("Please hold now.", [], []) == []


def test_runs_with_numbers_or_keys_are_never_taken_and_each_rule_skips_one_run_only():
    assert distinctive_phrases("Call 18005550100 before noon.", [], []) == []  # every run has the number
    # a run with a number, one without enough content words, one another prompt says: the next runs still count
    assert distinctive_phrases("Open 24 hours for fresh bread daily.", [], []) == ["fresh bread daily"]
    assert distinctive_phrases("For sales, press 1. Our stores are open late.", [], []) == ["stores are open"]
    assert distinctive_phrases("Our stores are open late today.", [], ["our stores are closed"]) == \
        ["open late today"]


def test_a_run_another_prompt_says_at_the_bar_is_not_the_menus_own():
    # "cats rats" scores exactly 80 (partial ratio) against "cats dogs rats": at the bar, not its own
    assert distinctive_phrases("Big cats dogs rats.", [], ["cats rats"]) == ["big cats dogs"]
    assert distinctive_phrases("Big cats dogs rats.", [], ["cars dots arts"]) == ["cats dogs rats"]  # 78.6: its own
    assert distinctive_phrases("Store hours vary.", [], []) == []  # three words: recognised whole


def test_ties_keep_what_was_said_first():
    assert distinctive_phrases("Cats dogs rats bats.", [], []) == ["cats dogs rats"]  # two runs of 12 letters
    assert distinctive_phrases("Fresh bread baked. Hot drinks served.", [], []) == ["fresh bread baked",
                                                                                    "hot drinks served"]
