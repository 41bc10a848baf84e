"""The navigator's decision rules, one by one (ivrnav.navigate.decisions): pure functions, so each rule is
pinned at its thresholds' edges. Named for the behaviour a caller relies on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rapidfuzz import fuzz

from ivrnav.menu.compiler import compile_text
from ivrnav.menu.model import Option
from ivrnav.navigate import decisions as rules
from ivrnav.navigate.offers import Offer, label_score
from ivrnav.navigate.plan import distances_to
from ivrnav.navigate.recognise import Match
from ivrnav.navigate.settings import DEFAULT

TH = DEFAULT

TREE = """
ivrnav: 1
name: tree
start: main
goal: refills
globals:
  - {press: "0", says: [representative], to: agent}
  - {press: "*", says: repeat, repeat: true}
menus:
  main:
    prompt: Main menu. For pharmacy, press 1. For store hours, press 2.
    options:
      - {press: "1", says: pharmacy, to: pharmacy}
      - {press: "2", says: store hours, to: hours}
      - {press: "8", says: start over, to: main}
  pharmacy:
    prompt: Pharmacy. For a pharmacist, press 2. For the main menu, press 9. For refills, press 1.
    options:
      - {press: "2", says: pharmacist, to: pharmacist}
      - {press: "9", says: main menu, to: main}
      - {press: "1", says: [prescription refills, refills], to: refills}
  hours:
    prompt: We are open every day from eight to eight.
  refills:
    prompt: Refills. Please enter your prescription number.
  pharmacist:
    prompt: Please hold for a pharmacist.
    hold: true
  agent:
    prompt: Please hold for a representative.
    hold: true
"""


@pytest.fixture(scope="module")
def tree():
    return compile_text(TREE, "tree.yaml").menu_file


def offer(key: str, label: str, complete: bool = True, certain: bool = True) -> Offer:
    return Offer(key, tuple(label.split()), complete, certain)


def at(**changes):
    return replace(DEFAULT, **changes)


# --- labels --------------------------------------------------------------------------------------------------

def test_an_options_label_is_its_first_phrase_or_else_its_keys():
    assert rules.label(Option("1", ("billing", "bills"))) == "billing"
    assert rules.label(Option("#")) == "#"


def test_an_offer_is_scored_by_the_options_best_phrase():
    option = Option("1", ("zzz qqq", "billing"))
    assert rules.best_label_score(option, offer("1", "billing")) == 100.0
    assert rules.best_label_score(Option("1", ("billing",)), offer("1", "zzz qqq")) < 50


# --- which menu is playing -------------------------------------------------------------------------------------

def test_words_inside_the_current_prompt_are_that_prompt_going_on():
    prompt = "main menu for pharmacy press 1 for store hours press 2"
    window = "for store hours press 2"
    score = fuzz.partial_ratio(window, prompt)
    assert rules.inside_prompt(window, prompt, TH)
    assert rules.inside_prompt(window, prompt, at(continues=score))
    assert not rules.inside_prompt(window, prompt, at(continues=score + 0.01))
    assert not rules.inside_prompt(window, "", at(continues=0))  # no current prompt: nothing to continue


def test_a_menu_is_recognised_by_its_offers_on_its_own_keys(tree):
    offers = [offer("1", "prescription refills"), offer("2", "pharmacist")]
    match = rules.menu_by_offers(tree, offers, ["main", "pharmacy"], TH)
    assert match is not None and (match.menu, match.score, match.by) == ("pharmacy", TH.offers_score, "offers")
    assert rules.menu_by_offers(tree, offers, ["main"], TH) is None  # only expected menus
    moved = [offer("2", "prescription refills"), offer("1", "pharmacist")]
    assert rules.menu_by_offers(tree, moved, ["pharmacy"], TH) is None  # labels fit, keys do not


def test_offers_on_other_keys_do_not_recognise_a_menu(tree):
    higher = [offer("5", "prescription refills"), offer("6", "pharmacist")]
    lower = [offer("#", "prescription refills"), offer("*", "pharmacist")]
    assert rules.menu_by_offers(tree, higher, ["pharmacy"], TH) is None
    assert rules.menu_by_offers(tree, lower, ["pharmacy"], TH) is None


def test_one_offer_is_not_enough_to_recognise_a_menu(tree):
    assert rules.menu_by_offers(tree, [offer("1", "prescription refills")], ["pharmacy"], TH) is None
    assert rules.menu_by_offers(tree, [offer("1", "prescription refills")], ["pharmacy"], at(offers_min=1)) is not None


def test_most_offers_must_be_the_menus_to_recognise_it(tree):
    offers = [offer("1", "prescription refills"), offer("2", "pharmacist"), offer("3", "zzz"), offer("4", "qqq")]
    assert rules.menu_by_offers(tree, offers, ["pharmacy"], at(offers_share=0.5)) is not None
    assert rules.menu_by_offers(tree, offers, ["pharmacy"], at(offers_share=0.51)) is None
    score = label_score("pharmacist", ("pharmacist",))
    assert rules.menu_by_offers(tree, offers[:2], ["pharmacy"], at(offers_share=0.5, offer_match=score + 1)) is None


def test_an_exact_label_match_counts_at_the_threshold(tree):
    exact = [offer("2", "pharmacist")]
    assert rules.menu_by_offers(tree, exact, ["pharmacy"], at(offers_min=1, offer_match=100.0)) is not None


def test_more_fitting_offers_beat_the_first_expected_menu(tree):
    offers = [offer("1", "pharmacy"), offer("2", "store hours"), offer("8", "start over"), offer("9", "main menu"),
              offer("2", "pharmacist")]
    for order in (["main", "pharmacy"], ["pharmacy", "main"]):
        match = rules.menu_by_offers(tree, offers, order, at(offers_share=0.4))
        assert match is not None and match.menu == "main", order


def test_the_menu_with_most_fitting_offers_wins(tree):
    offers = [offer("1", "pharmacy"), offer("2", "store hours"), offer("2", "pharmacist")]
    match = rules.menu_by_offers(tree, offers, ["pharmacy", "main"], at(offers_share=0.5))
    assert match is not None and match.menu == "main"
    match = rules.menu_by_offers(tree, offers, ["main", "pharmacy"], at(offers_share=0.5))
    assert match is not None and match.menu == "main"


def test_offers_that_fit_none_of_the_options_contradict_the_menu():
    options = [Option("1", ("pharmacy",)), Option("2", ("store hours",))]
    strangers = [offer("1", "lost luggage"), offer("2", "flight status")]
    assert rules.contradicts(strangers, options, TH)
    assert rules.contradicts([*strangers, offer("3", "baggage claim")], options, TH)
    assert not rules.contradicts(strangers[:1], options, TH)  # one offer is too little evidence
    assert not rules.contradicts(strangers, [], TH)
    assert not rules.contradicts([offer("1", "lost luggage"), offer("2", "store hours")], options, TH)
    incomplete = [offer("1", "lost luggage"), offer("2", "flight status", complete=False)]
    assert not rules.contradicts(incomplete, options, TH)  # only complete offers count
    best = max(label_score("store hours", ("lost", "luggage")), label_score("pharmacy", ("lost", "luggage")),
               label_score("store hours", ("flight", "status")), label_score("pharmacy", ("flight", "status")))
    assert rules.contradicts(strangers, options, at(mismatch=best + 0.01))
    assert not rules.contradicts(strangers, options, at(mismatch=best))


def test_only_another_menu_ends_a_hold():
    assert rules.leaves_hold("queue", "agent")
    assert rules.leaves_hold("hold", "main")
    assert not rules.leaves_hold("queue", "queue")
    assert not rules.leaves_hold("queue", "".join(["que", "ue"]))  # the same name, however it was built


def test_a_hold_ends_at_its_maximum_or_the_calls():
    assert rules.hold_deadline(10.0, 60.0, 1800.0) == 70.0
    assert rules.hold_deadline(10.0, None, 1800.0) == 1810.0
    assert rules.hold_timed_out(70.0, 10.0, 60.0, 1800.0)
    assert rules.hold_timed_out(80.0, 10.0, 60.0, 1800.0)
    assert not rules.hold_timed_out(69.99, 10.0, 60.0, 1800.0)


# --- when a prompt has ended -----------------------------------------------------------------------------------

def test_a_prompt_has_ended_after_quiet_following_a_final():
    q = TH.prompt_done_quiet
    assert rules.prompt_done(False, True, q, 0.4, TH)
    assert not rules.prompt_done(False, True, q - 0.01, 0.4, TH)
    assert not rules.prompt_done(True, True, 10, 0.4, TH)  # an utterance is still going
    assert not rules.prompt_done(False, False, 10, 0.4, TH)  # nothing final heard
    assert not rules.prompt_done(False, True, 1.0, 1.5, TH)  # a longer settle waits longer
    assert rules.prompt_done(False, True, 1.5, 1.5, TH)


def test_the_wanted_label_counts_as_unheard_a_settle_after_the_prompt_ended():
    q = TH.prompt_done_quiet
    assert rules.label_unheard(False, True, 0.4 + q, 0.4, TH)
    assert rules.label_unheard(False, True, 5.0, 0.4, TH)
    assert not rules.label_unheard(False, True, 0.4 + q - 0.01, 0.4, TH)
    assert not rules.label_unheard(True, True, 10, 0.4, TH)
    assert not rules.label_unheard(False, False, 10, 0.4, TH)


# --- which key to press -------------------------------------------------------------------------------------------

OPTIONS = [Option("1", ("pharmacy",), "pharmacy"), Option("2", ("store hours",), "hours")]


def test_the_key_the_line_gives_the_wanted_label_is_pressed():
    wanted = OPTIONS[1]
    assert rules.wanted_key([offer("1", "pharmacy"), offer("2", "store hours")], OPTIONS, wanted, TH) == "2"
    assert rules.wanted_key([offer("5", "store hours")], OPTIONS, wanted, TH) == "5"  # the line moved it
    assert rules.wanted_key([offer("1", "pharmacy")], OPTIONS, wanted, TH) is None
    assert rules.wanted_key([], OPTIONS, wanted, TH) is None
    assert rules.wanted_key([offer("2", "store hours")], [], wanted, TH) is None


def test_the_last_offer_of_the_wanted_label_wins():
    offers = [offer("2", "store hours"), offer("7", "store hours")]
    assert rules.wanted_key(offers, OPTIONS, OPTIONS[1], TH) == "7"


def test_a_label_still_being_said_is_not_pressed_yet():
    assert rules.wanted_key([offer("2", "store hours", complete=False)], OPTIONS, OPTIONS[1], TH) is None


def test_a_weak_label_match_is_not_the_wanted_option():
    score = label_score("store hours", ("store", "hour"))
    assert rules.wanted_key([offer("2", "store hour")], OPTIONS, OPTIONS[1], at(offer_match=score)) == "2"
    assert rules.wanted_key([offer("2", "store hour")], OPTIONS, OPTIONS[1], at(offer_match=score + 0.01)) is None


def test_an_offer_that_fits_another_option_better_is_not_the_wanted_one():
    options = [Option("1", ("store hours today",)), Option("2", ("store hours",))]
    assert rules.wanted_key([offer("1", "store hours today")], options, options[1], at(offer_match=0)) is None


def test_a_homophone_key_that_contradicts_the_file_keeps_the_files_key():
    wanted = OPTIONS[1]
    assert rules.wanted_key([offer("8", "store hours", certain=False)], OPTIONS, wanted, TH) == "2"
    assert rules.wanted_key([offer("1", "store hours", certain=False)], OPTIONS, wanted, TH) == "2"
    assert rules.wanted_key([offer("2", "store hours", certain=False)], OPTIONS, wanted, TH) == "2"
    assert rules.wanted_key([offer("8", "store hours", certain=True)], OPTIONS, wanted, TH) == "8"


def test_a_chosen_key_waits_settle_seconds_and_a_confirming_transcript():
    assert rules.settled(1.0, 1.4, 0.4)
    assert not rules.settled(1.0, 1.39, 0.4)
    assert rules.confirmed(10, 11, False)
    assert not rules.confirmed(10, 10, False)
    assert rules.confirmed(10, 10, True)
    assert not rules.confirmed(10, 9, False)  # an interim revised shorter confirms nothing


def test_a_wait_that_lasted_its_length_up_to_rounding_is_over():
    assert rules.settled(0.0, 0.0, rules.EPSILON)
    assert not rules.settled(0.0, 0.0, 2 * rules.EPSILON)
    # the wake-up scheduled for "quiet since the last words" lands a rounding error short of it
    last = 43.125954198473315
    assert rules.prompt_done(False, True, (last + 0.8) - last, 0.4, TH)
    assert rules.label_unheard(False, True, (last + 0.4 + 0.8) - last, 0.4, TH)
    assert not rules.label_unheard(False, True, 1.19, 0.4, TH)


# --- unknown prompts ----------------------------------------------------------------------------------------------

def _unknown(tree, offers, *, ended=True, on_route=(), bad=(), lookahead=("main", "pharmacy"), th=TH):
    distance = distances_to(tree, "refills")
    return rules.unknown_prompt_offer(tree, offers, list(lookahead), distance, list(on_route), ended, set(bad), th)


def test_an_unknown_prompt_offering_a_label_closer_to_the_goal_is_taken(tree):
    found = _unknown(tree, [offer("4", "store hours"), offer("5", "pharmacy")])
    assert found is not None
    got, option, source = found
    assert (got.key, option.to, source) == ("5", "pharmacy", "main")


def test_an_unknown_prompt_never_leads_away_from_the_goal(tree):
    assert _unknown(tree, [offer("4", "store hours")]) is None
    assert _unknown(tree, [offer("4", "representative")]) is None  # a hold with no way on


def test_the_offer_closest_to_the_goal_wins(tree):
    found = _unknown(tree, [offer("5", "pharmacy"), offer("6", "prescription refills")])
    assert found is not None and found[0].key == "6" and found[2] == "pharmacy"


def test_mid_prompt_only_the_routes_option_with_a_near_exact_label(tree):
    pharmacy = tree.menus["main"].options[0]
    assert _unknown(tree, [offer("5", "pharmacy")], ended=False) is None  # not on the route
    found = _unknown(tree, [offer("5", "pharmacy")], ended=False, on_route=[pharmacy])
    assert found is not None and found[0].key == "5"
    score = label_score("pharmacy", ("pharmacies",))
    near = [offer("5", "pharmacies")]
    assert _unknown(tree, near, ended=False, on_route=[pharmacy], th=at(unknown_offer_match_early=score)) is not None
    assert _unknown(tree, near, ended=False, on_route=[pharmacy],
                    th=at(unknown_offer_match_early=score + 0.01, unknown_offer_match=0)) is None
    assert _unknown(tree, near, ended=True, th=at(unknown_offer_match=score)) is not None
    strict = at(unknown_offer_match=score + 0.01, unknown_offer_match_early=0)
    assert _unknown(tree, near, ended=True, th=strict) is None


def test_an_offer_that_misled_us_is_not_taken_again(tree):
    assert _unknown(tree, [offer("5", "pharmacy")], bad=[("5", "pharmacy")]) is None
    assert _unknown(tree, [offer("5", "pharmacy")], bad=[("6", "pharmacy")]) is not None


def test_an_incomplete_offer_on_an_unknown_prompt_waits(tree):
    assert _unknown(tree, [offer("5", "pharmacy", complete=False)]) is None


def test_only_menus_looked_at_are_searched(tree):
    assert _unknown(tree, [offer("5", "pharmacy")], lookahead=["pharmacy"]) is None


def test_ties_go_to_the_better_label(tree):
    assert label_score("pharmacy", ("the", "pharmacy")) >= TH.unknown_offer_match  # both labels qualify
    found = _unknown(tree, [offer("5", "the pharmacy"), offer("6", "pharmacy")])
    assert found is not None and found[0].key == "6"
    found = _unknown(tree, [offer("6", "pharmacy"), offer("5", "the pharmacy")])
    assert found is not None and found[0].key == "6"


def test_of_two_equal_offers_the_first_heard_wins(tree):
    found = _unknown(tree, [offer("5", "pharmacy"), offer("6", "pharmacy")])
    assert found is not None and found[0].key == "5"


def test_an_unknown_prompt_never_goes_back_up_the_tree(tree):
    assert _unknown(tree, [offer("4", "main menu")], lookahead=["pharmacy"]) is None
    assert _unknown(tree, [offer("4", "start over")], lookahead=["main"]) is None  # nor round in a circle


def test_an_option_leading_away_or_nowhere_does_not_hide_the_next_option(tree):
    found = _unknown(tree, [offer("6", "prescription refills")], lookahead=["pharmacy"])
    assert found is not None and found[0].key == "6"


def test_a_later_complete_offer_is_still_read(tree):
    found = _unknown(tree, [offer("4", "pharmacy", complete=False), offer("5", "pharmacy")])
    assert found is not None and found[0].key == "5"
    found = _unknown(tree, [offer("4", "pharmacy"), offer("5", "pharmacy")], bad=[("4", "pharmacy")])
    assert found is not None and found[0].key == "5"


# --- the line's reaction ----------------------------------------------------------------------------------------------

def test_an_invalid_phrase_means_the_entry_was_rejected():
    phrase = "That is not a valid account number"
    assert rules.rejected_entry("sorry that is not a valid account number please try again", [phrase], TH)
    assert not rules.rejected_entry("thank you please hold", [phrase], TH)
    assert not rules.rejected_entry("anything", [], TH)
    window = "that is not a valid number"
    score = fuzz.partial_ratio(phrase.lower(), window)
    assert rules.rejected_entry(window, [phrase], at(invalid_match=score))
    assert not rules.rejected_entry(window, [phrase], at(invalid_match=score + 0.01))


def test_the_old_prompt_going_on_means_the_keys_were_ignored():
    prompt = "main menu for pharmacy press 1 for store hours press 2"
    assert rules.ignored_keys("for store hours press 2", prompt, TH)
    assert not rules.ignored_keys("refills please enter your number", prompt, TH)
    short = "press 2"  # too short to tell
    assert not rules.ignored_keys(short, prompt, TH)
    assert rules.ignored_keys(short, prompt, at(ignored_min_chars=len(short)))
    assert not rules.ignored_keys(short, prompt, at(ignored_min_chars=len(short) + 1))
    window = "for store hour press 2"
    score = fuzz.partial_ratio(window, prompt)
    assert rules.ignored_keys(window, prompt, at(ignored_match=score))
    assert not rules.ignored_keys(window, prompt, at(ignored_match=score + 0.01))


def test_ignored_keys_are_pressed_again_once_the_line_is_quiet():
    extra = TH.ignored_quiet_extra
    assert rules.press_again_now(False, 0.4 + extra, 0.4, TH)
    assert rules.press_again_now(False, 5.0, 0.4, TH)
    assert not rules.press_again_now(False, 0.4 + extra - 0.01, 0.4, TH)
    assert not rules.press_again_now(True, 10, 0.4, TH)


def test_the_operator_is_the_global_that_names_a_person(tree):
    operator = rules.operator_option(tree)
    assert operator is not None and operator.keys == "0" and operator.to == "agent"
    bare = compile_text(TREE.replace("says: [representative], ", ""), "bare.yaml").menu_file
    zero = rules.operator_option(bare)
    assert zero is not None and zero.keys == "0"  # no words: a global 0 that goes somewhere
    others = compile_text(TREE.replace('  - {press: "0", says: [representative], to: agent}\n',
                                       '  - {press: "#", says: [main menu], to: main}\n'
                                       '  - {press: "9", says: [store hours], to: hours}\n'
                                       '  - {press: "0", to: agent}\n'), "others.yaml").menu_file
    zero = rules.operator_option(others)
    assert zero is not None and zero.keys == "0"  # only key 0 stands for a person without words
    agent = compile_text(TREE.replace('press: "0", says: [representative]', 'press: "9", says: [an agent]'),
                         "agent.yaml").menu_file
    found = rules.operator_option(agent)
    assert found is not None and found.keys == "9"
    none = compile_text(TREE.replace('  - {press: "0", says: [representative], to: agent}\n', ""), "n.yaml").menu_file
    assert rules.operator_option(none) is None


@pytest.mark.parametrize("word", ["operator", "representative", "agent", "someone"])
def test_every_word_for_a_person_finds_the_operator(tree, word):
    mf = compile_text(TREE.replace('press: "0", says: [representative]', f'press: "8", says: [talk to {word}]'),
                      "w.yaml").menu_file
    found = rules.operator_option(mf)
    assert found is not None and found.keys == "8"


def test_the_repeat_option_is_found_among_options(tree):
    repeat = rules.repeat_option(tree.options_of("main"))
    assert repeat is not None and repeat.keys == "*"
    assert rules.repeat_option(tree.menus["main"].options) is None


def test_mid_prompt_the_routes_option_is_found_after_other_options(tree):
    refills = tree.menus["pharmacy"].options[2]
    found = _unknown(tree, [offer("6", "prescription refills")], ended=False, on_route=[refills],
                     lookahead=["pharmacy"])
    assert found is not None and found[0].key == "6"


def test_offers_fitting_two_menus_equally_keep_the_first_looked_at():
    twins = compile_text("""
ivrnav: 1
name: twins
start: a
menus:
  a:
    prompt: Sales. For new orders, press 1. For returns, press 2.
    options:
      - {press: "1", says: new orders, to: b}
      - {press: "2", says: returns, to: b}
  b:
    prompt: Service. For new orders, press 1. For returns, press 2.
    options:
      - {press: "1", says: new orders, to: a}
      - {press: "2", says: returns, to: a}
""", "twins.yaml").menu_file
    offers = [offer("1", "new orders"), offer("2", "returns")]
    for order in (["a", "b"], ["b", "a"]):
        match = rules.menu_by_offers(twins, offers, order, TH)
        assert match is not None and match.menu == order[0]


def test_a_key_heard_joined_to_the_files_key_is_the_files_key():
    wanted = OPTIONS[1]  # store hours on 2
    assert rules.wanted_key([offer("23", "store hours")], OPTIONS, wanted, TH) == "2"  # "press 2 three ..."
    assert rules.wanted_key([offer("32", "store hours")], OPTIONS, wanted, TH) == "32"  # not the file's key first


def test_one_hearing_of_a_moved_key_is_not_believed_without_corroboration():
    wanted = OPTIONS[1]  # store hours on 2
    believed = rules.moved_key_believed
    assert believed([offer("2", "hours")], OPTIONS, wanted, "2", TH)  # the file's key: nothing to weigh
    assert not believed([offer("5", "hours")], OPTIONS, wanted, "5", TH)  # one hearing of a label fragment
    # one certain hearing with the label all but exact is believed (a new key for it), an uncertain one not
    exact = label_score("store hours", ("store", "hours"))
    assert believed([offer("5", "store hours")], OPTIONS, wanted, "5", at(moved_key_label=exact))
    assert not believed([offer("5", "store hours")], OPTIONS, wanted, "5", at(moved_key_label=exact + 0.01))
    assert not believed([offer("5", "store hours", certain=False)], OPTIONS, wanted, "5", TH)
    # the file's key offered for another label: the line reshuffled its keys
    assert believed([offer("5", "hours"), offer("2", "pharmacy")], OPTIONS, wanted, "5", TH)
    assert believed([offer("2", "gift cards"), offer("5", "hours")], OPTIONS, wanted, "5", TH)
    # ... but not while that offer is still being said
    assert not believed([offer("5", "hours"), offer("2", "pharmacy", complete=False)], OPTIONS, wanted, "5", TH)
    # the moved key heard twice for the wanted label (the prompt repeated)
    assert believed([offer("5", "hours"), offer("5", "hours")], OPTIONS, wanted, "5", TH)
    assert not believed([offer("5", "hours"), offer("5", "pharmacy")], OPTIONS, wanted, "5", TH)
    # the heard key is offered for another label too: one of the two hearings is wrong, keep the file's key
    assert not believed([offer("1", "pharmacy"), offer("1", "store hours")], OPTIONS, wanted, "1", TH)
    assert not believed([offer("1", "store hours"), offer("1", "gift cards"), offer("2", "pharmacy")], OPTIONS,
                        wanted, "1", TH)


def test_a_moved_key_is_pressed_when_corroborated_kept_when_taken_else_after_the_prompt():
    wanted = OPTIONS[1]  # store hours on 2
    weigh = rules.weigh_moved_key
    reshuffled = [offer("5", "hours"), offer("2", "pharmacy")]
    assert weigh(reshuffled, OPTIONS, wanted, "5", False, TH) == "5"
    # "press 1 for pharmacy ... press 1 for store hours": 1 is taken, the file's 2 is the better bet at once
    taken = [offer("1", "pharmacy"), offer("1", "store hours")]
    assert weigh(taken, OPTIONS, wanted, "1", False, TH) == "2"
    assert rules.key_taken(taken, OPTIONS, wanted, "1", TH)
    assert not rules.key_taken([offer("1", "pharmacy", complete=False), offer("1", "store hours")], OPTIONS, wanted,
                               "1", TH)
    # one uncorroborated hearing: wait for the prompt's end, then believe it (a key moved to a new number)
    assert weigh([offer("5", "hours")], OPTIONS, wanted, "5", False, TH) is None
    assert weigh([offer("5", "hours")], OPTIONS, wanted, "5", True, TH) == "5"


def test_a_move_onto_a_key_the_map_gives_another_exit_needs_a_second_hearing():
    """Seen on a FreeSWITCH draft at 15% WER: "to call the FreeSWITCH press star" (for "press 1") was one
    certain hearing, so * went out, which the map sends to goodbye. A key the map already uses is no new
    number: one hearing is the STT's slip, the file's key is pressed at the prompt's end; two hearings, or the
    file's key heard for another label (a swap), still move it."""
    wanted = OPTIONS[1]  # store hours on 2; the map also has an unlabelled * (goodbye)
    weigh = rules.weigh_moved_key
    once = [offer("*", "store hours")]
    assert weigh(once, OPTIONS, wanted, "*", False, TH) == "*"  # a new number: believed at once
    assert weigh(once, OPTIONS, wanted, "*", False, TH, mapped_elsewhere=True) is None  # the rest may corroborate
    assert weigh(once, OPTIONS, wanted, "*", True, TH, mapped_elsewhere=True) == "2"  # it did not
    twice = [offer("*", "store hours"), offer("*", "store hours")]
    assert weigh(twice, OPTIONS, wanted, "*", False, TH, mapped_elsewhere=True) == "*"
    reshuffled = [offer("*", "store hours"), offer("2", "pharmacy")]
    assert weigh(reshuffled, OPTIONS, wanted, "*", False, TH, mapped_elsewhere=True) == "*"


def test_after_an_entry_a_twin_opening_of_the_same_menu_waits_for_more_words():
    th = TH
    short, long = "please the conference", "please the conference pin number followed by pound"
    again = Match("confno", 83, "prompt")
    assert rules.replay_too_short(again, short, "confno", True, True, th)
    assert not rules.replay_too_short(again, long, "confno", True, True, th)
    assert not rules.replay_too_short(again, short, "confno", True, False, th)  # a finished short prompt
    assert not rules.replay_too_short(again, short, "confno", False, True, th)  # not acted yet
    assert not rules.replay_too_short(Match("pin", 83, "prompt"), short, "confno", True, True, th)  # another menu
    assert not rules.replay_too_short(Match("confno", 100, "listen"), short, "confno", True, True, th)  # its phrase
    assert not rules.replay_too_short(again, "x" * th.min_unexpected_window, "confno", True, True, th)
