"""When a recognised menu is held back because the line only *named* it (``confirm.offered_only``).

"To reach the billing department, dial 600" names the billing menu but is the menu before it: a goal, or a
menu the current prompt offers, counts as reached only when its phrases are heard outside such offers. These
tests call the rule with the token stream a navigator passes (``|`` ends a sentence; a stream that does not end
on one is still being spoken) and check the verdict: True, held back (only offered, or not known yet); False,
the recognition stands."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.confirm import offered_only
from ivrnav.navigate.offers import BOUNDARY, label_score
from ivrnav.text import tokens

MAP = """
ivrnav: 1
name: map
start: main
vars:
  pin: {secret: true, pattern: "[0-9]{4}"}
menus:
  main:
    prompt: Welcome to Acme. To reach the billing department, dial 600. For the weather, press 5.
    listen: [welcome to acme]
    options:
      - {press: "600", says: billing department, to: billing}
      - {press: "5", says: weather, to: weather}
      - {press: "0", says: operator, to: operator}
  billing:
    prompt: Billing, payments and refunds.
    listen: [reached the billing department]
    options:
      - {press: "1", says: pay your bill, to: payments}
      - {press: "12", says: ask for a refund, to: payments}
  payments:
    prompt: Payments.
  weather:
    prompt: Today's weather.
    listen: [the forecast for today]
  operator:
    prompt: A person answers.
    confirm: {human: true}
  other:
    prompt: Other enquiries.
    listen: [other enquiries]
  pin:
    prompt: Your PIN.
    listen: [enter your four digit pin]
    enter: "{pin}#"
    next: billing
  reason:
    prompt: Your reason.
    listen: [say the reason for your call]
    say: lost card
    next: billing
"""

TOWARD_BILLING = {"awaiting": True, "pressed": ("main", "600")}  # our keys toward billing were sent


def _file():
    return compile_text(MAP, "map.yaml").menu_file


def _stream(said: str, *, finished: bool = True) -> list[str]:
    """The tokens of sentences separated by ``|``; the last one still being spoken unless ``finished``."""
    out: list[str] = []
    for sentence in said.split("|"):
        out += [*tokens(sentence), BOUNDARY]
    return out if finished else out[:-1]


def _held_back(goal: str, said: str, *, name: str | None = None, finished: bool = True, **kw) -> bool:
    mf = _file()
    # the name as the recogniser reports it: the map's own string, not the caller's goal
    name = next(n for n in mf.menus if n == (name or goal))
    return offered_only(mf, goal, name, _stream(said, finished=finished), interim=not finished, **kw)


# the goal named in the menu before it ------------------------------------------------------------------

def test_the_goal_heard_outside_offers_in_a_later_sentence_is_recognised():
    assert not _held_back("billing", "thank you for calling | you have reached the billing department")


def test_an_empty_sentence_does_not_end_the_search_for_the_goals_words():
    # the stream the navigator passes may start on a boundary (or hold two in a row)
    assert not _held_back("billing", " | you have reached the billing department")
    assert not _held_back("billing", "thank you for calling | | you have reached the billing department")


def test_a_sentence_that_opens_like_a_label_is_taken_for_an_offer_whose_key_was_not_heard():
    assert _held_back("billing", "to reach the billing department")
    assert _held_back("billing", "for the billing department")
    assert not _held_back("billing", "you have reached the billing department")


def test_a_sentence_naming_the_goal_is_not_claimed_until_it_ends():
    said = "thank you for calling | you have reached the billing department"
    assert _held_back("billing", said, finished=False)  # "... dial 600" may yet follow
    assert not _held_back("billing", said)


def test_after_our_keys_toward_the_goal_an_unfinished_sentence_naming_it_is_claimed():
    # a streaming recogniser may end the utterance only with the prompt: the keys were sent, so believe it
    said = "thank you for calling | you have reached the billing department"
    assert not _held_back("billing", said, finished=False, **TOWARD_BILLING)


def test_the_menu_before_the_goal_replaying_the_offer_we_took_is_not_the_goal():
    assert _held_back("billing", "to reach the billing department dial 600", **TOWARD_BILLING)


def test_after_our_keys_the_goal_may_name_itself_in_a_sentence_with_other_offers():
    said = "you have reached the billing department for the weather press 2 for news press 9"
    assert not _held_back("billing", said, **TOWARD_BILLING)


def test_keys_that_lead_elsewhere_or_were_not_sent_are_no_keys_toward_the_goal():
    said = "you have reached the billing department for the weather press 2 for news press 9"
    assert _held_back("billing", said, awaiting=True, pressed=("main", "5"))  # 5 is the weather
    assert _held_back("billing", said, pressed=("main", "600"))  # chosen, not sent (awaiting defaults to False)


# the goal's own options on offer: its own prompt --------------------------------------------------------

def test_the_goals_own_option_on_a_multi_digit_key_marks_its_own_prompt():
    assert not _held_back("billing", "you have reached the billing department to ask for a refund press 12")


def test_an_offer_of_another_key_is_no_own_option_whichever_side_of_the_goals_key_it_is():
    assert _held_back("billing", "you have reached the billing department to pay your bill press 0")
    assert _held_back("billing", "you have reached the billing department to pay your bill press 2")


def test_the_goals_own_option_in_any_finished_sentence_marks_its_own_prompt():
    # the own option in the second finished sentence; the sentence naming the goal is still being spoken
    said = "thank you for calling | to pay your bill press 1 | you have reached the billing department"
    assert not _held_back("billing", said, finished=False)


OWN_OPTION_MAP = """
ivrnav: 1
name: map
start: main
menus:
  main:
    prompt: For help, press 4.
    options:
      - {press: "4", says: help, to: helpdesk}
  helpdesk:
    prompt: The help desk.
    listen: [welcome to the help desk]
    options:
      - {press: "2", says: technical support, to: support}
  support:
    prompt: Support.
"""


def test_an_offer_counts_as_the_goals_own_option_from_a_label_as_close_as_the_bar():
    mf = compile_text(OWN_OPTION_MAP, "map.yaml").menu_file

    def held_back(label: str) -> bool:  # the help desk named only in an offer, then an offer of key 2
        said = _stream(f"to reach the help desk press 4 | for {label} press 2")
        return offered_only(mf, "helpdesk", "helpdesk", said)

    assert label_score("technical support", tuple(tokens("billing support"))) == 70.0  # at the bar
    assert label_score("technical support", tuple(tokens("remote support"))) == pytest.approx(69.44, abs=0.01)
    assert not held_back("billing support")  # its own option: this is the help desk's prompt
    assert held_back("remote support")  # another menu's offer, naming the help desk


# how closely the goal's phrase must be heard ------------------------------------------------------------

CLOSE_MAP = """
ivrnav: 1
name: map
start: main
menus:
  main:
    prompt: For sales, press 1.
    options:
      - {press: "1", says: sales, to: sales}
  sales:
    prompt: Orders and quotes.
    listen: [reached the sales counter]
"""


def test_the_goals_phrase_misheard_counts_from_the_evidence_bar_up():
    mf = compile_text(CLOSE_MAP, "map.yaml").menu_file

    def held_back(said: str) -> bool:
        return offered_only(mf, "sales", "sales", _stream(said))

    phrase = "reached the sales counter"
    assert fuzz.partial_ratio(phrase, "you have reached the cells counter") == 88.0  # at the bar
    assert fuzz.partial_ratio(phrase, "reached the sales enter") == pytest.approx(87.80, abs=0.01)
    assert not held_back("you have reached the sails counter")  # a word misheard, well above the bar
    assert not held_back("you have reached the cells counter")
    assert held_back("reached the sales enter")  # just below it: no mention of the goal


# which menus the rule holds back ------------------------------------------------------------------------

def test_a_silent_goals_prompt_is_never_a_mention():
    # "A person answers." is the map author's description, not words the line says: the person rule decides
    assert _held_back("operator", "a person answers")


def test_a_goal_without_listen_phrases_is_recognised_by_its_prompt():
    assert not _held_back("payments", "payments")


@pytest.mark.parametrize("goal", ["pin", "reason"])
def test_an_entry_prompts_own_instructions_are_no_offer(goal):
    said = {"pin": "please enter your four digit pin then press pound", "reason": "say the reason for your call"}
    assert not _held_back(goal, said[goal])


@pytest.mark.parametrize("goal", ["billing", "weather"])
def test_a_menu_the_current_menu_does_not_offer_is_not_held_back(goal):
    # the recogniser placed "other enquiries" in a menu that is neither the goal nor behind the current menu
    assert not _held_back(goal, "for other enquiries press 9", name="other", offered_by="main")
    assert _held_back(goal, "for the forecast for today press 5", name="weather", offered_by="main")  # one it does


def test_nothing_the_map_does_not_have_is_held_back():
    mf = _file()
    said = _stream("for other enquiries press 9")
    assert not offered_only(mf, "billing", "nowhere", said)
    assert not offered_only(mf, "billing", "other", said, offered_by="nowhere")
