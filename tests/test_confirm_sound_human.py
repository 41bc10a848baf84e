"""Goals that say nothing a recogniser could match, confirmed the way the map says: by the sound the line
plays after our keys (``confirm: {sound: ringing}``) or by a person answering (``confirm: {human: true}``).

The simulated line reports music and ringing as ``Sounded`` events, as an audio adapter's sound classifier
does; these tests play such lines and check what the result claims."""

from __future__ import annotations

import pytest

from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.events import DigitsSent, Heard, Sounded, Tick
from ivrnav.navigate.intake import Intake
from ivrnav.navigate.navigator import Navigator
from ivrnav.sim.runner import simulate_call

LINE = """
ivrnav: 1
name: line
start: main
line: {wait: 5, repeats: 1}
menus:
  main:
    prompt: Thank you for calling. For sales, press 1. To reach the operator, press 0.
    options:
      - {press: "1", says: sales, to: sales}
      - {press: "0", says: the operator, to: operator}
    line: {invalid: {say: That is not a valid option. Goodbye., hangup: true}}
  sales:
    prompt: "[ringing]"
    line: {sound: ringing, terminal: true}
  operator:
    prompt: Hi, you have reached Dana at the front desk. How can I help you today?
    human: true
"""

MAP = """
ivrnav: 1
name: map
start: main
menus:
  main:
    prompt: Sales is 1, the operator 0.
    listen: [thank you for calling]
    invalid: [not a valid option]
    options:
      - {press: "1", says: sales, to: sales}
      - {press: "0", says: operator, to: operator}
  sales:
    prompt: It rings a salesperson.
    confirm: {sound: ringing}
  operator:
    prompt: A person answers.
    confirm: {human: true}
"""


def _call(map_text: str, line_text: str, goal: str, wer: float = 0.0, seed: int = 0, vars: dict | None = None):
    nav = compile_text(map_text, "map.yaml").menu_file
    line = compile_text(line_text, "line.yaml").menu_file
    return simulate_call(nav, line_file=line, goal=goal, wer=wer, seed=seed, vars=vars, keep_trace=False)


def test_ringing_after_the_maps_key_confirms_a_ringing_goal():
    call = _call(MAP, LINE, "sales")
    assert call.result.reached, call.result.detail
    assert "".join(k for k, _ in call.line_keys) == "1" and call.line_visited[-1] == "sales"
    assert "confirmed: ringing" in call.result.detail


def test_a_ringing_goal_is_not_claimed_where_the_line_plays_music():
    call = _call(MAP, LINE.replace("line: {sound: ringing, terminal: true}", "line: {sound: music, terminal: true}"),
                 "sales")
    assert not call.result.reached, call.result.detail


def test_a_ringing_goal_is_not_claimed_where_the_line_is_silent():
    call = _call(MAP, LINE.replace("line: {sound: ringing, terminal: true}", "line: {sound: silence, terminal: true}"),
                 "sales")
    assert not call.result.reached, call.result.detail


def test_a_goal_may_be_confirmed_by_any_of_several_sounds():
    call = _call(MAP.replace("confirm: {sound: ringing}", "confirm: {sound: [music, ringing]}"),
                 LINE.replace("line: {sound: ringing, terminal: true}", "line: {sound: music, terminal: true}"),
                 "sales")
    assert call.result.reached and "confirmed: music" in call.result.detail, call.result.detail


def test_a_person_answering_confirms_a_human_goal():
    call = _call(MAP, LINE, "operator")
    assert call.result.reached, call.result.detail
    assert "".join(k for k, _ in call.line_keys) == "0" and "a person spoke" in call.result.detail
    assert "Dana" not in call.result.detail  # the result names no words a person said


@pytest.mark.parametrize("seed", range(3))
def test_a_person_answering_is_heard_through_noise(seed):
    call = _call(MAP, LINE, "operator", wer=0.15, seed=seed)
    assert call.result.reached and call.line_visited[-1] == "operator", call.result.detail


def test_the_line_refusing_the_key_is_no_person():
    line = LINE.replace('{press: "0", says: the operator, to: operator}', '{press: "9", says: the operator, '
                        'to: operator}')
    call = _call(MAP, line, "operator")
    assert not call.result.reached, call.result.detail


def test_a_person_is_not_the_menu_replaying():
    # the line ignores 0 and plays its menu again: those words are a menu of the file, not a person
    line = LINE.replace('{press: "0", says: the operator, to: operator}', '{press: "7", says: the operator, '
                        'to: operator}').replace(
        "line: {invalid: {say: That is not a valid option. Goodbye., hangup: true}}", "line: {unmapped_key: ignore}")
    call = _call(MAP, line, "operator")
    assert not call.result.reached, call.result.detail


# The rules on a virtual clock, event by event ---------------------------------------------------------

def _at_sales() -> Navigator:
    nav = Navigator(compile_text(MAP, "map.yaml").menu_file, "sales")
    nav.handle(Heard("thank you for calling for sales press 1 to reach the operator press 0", True, 0.0, 4.0))
    for t in (4.5, 5.0, 5.5, 6.0):
        actions = nav.handle(Tick(t))
        if actions:
            break
    assert [getattr(a, "digits", None) for a in actions] == ["1"]
    nav.handle(DigitsSent("1", 6.5))
    return nav


def test_ringing_must_go_on_before_it_confirms():
    nav = _at_sales()
    assert not [a for a in nav.handle(Sounded("ringing", 7.0, 7.5)) if type(a).__name__ == "Done"]
    assert nav.wakeup_at() is not None and nav.wakeup_at() <= 8.0  # a wake-up when it will have gone on
    done = nav.handle(Sounded("ringing", 7.0, 8.0))
    assert done and done[0].result.reached


def test_a_sound_that_began_before_our_keys_is_not_the_goals():
    nav = _at_sales()
    assert not nav.handle(Sounded("ringing", 6.0, 9.0))


def test_an_invalid_message_after_the_keys_outweighs_the_ringing():
    nav = _at_sales()
    nav.handle(Heard("that is not a valid option", True, 6.8, 7.0))
    assert not nav.handle(Sounded("ringing", 7.1, 9.0))


def test_intake_drops_sound_reports_it_cannot_trust():
    intake = Intake()
    assert intake.admit(Sounded("music", 1.0, 2.0)).event is not None
    assert intake.admit(Sounded("applause", 1.0, 2.0)).event is None
    assert intake.admit(Sounded("music", 2.0, 1.0)).event is None
    assert intake.admit(Sounded("ringing", float("nan"), 1.0)).event is None


def test_a_menu_the_map_does_not_know_is_no_person():
    # 0 leads to a menu the map has never heard of: it offers keys, so it is not a person answering
    line = LINE.replace("""    prompt: Hi, you have reached Dana at the front desk. How can I help you today?
    human: true""", """    prompt: For billing questions, press 1. For anything else, press 2.
    options:
      - {press: "1", says: billing questions, to: sales}""")
    call = _call(MAP, line, "operator")
    assert not call.result.reached, call.result.detail


def test_the_result_says_when_the_sound_began_and_how_long_it_went_on():
    nav = _at_sales()
    done = nav.handle(Sounded("ringing", 7.0, 8.25))
    assert done[0].result.detail == "reached sales (confirmed: ringing began 0.5 s after the keys and went on for " \
                                    "1.2 s)"


def test_the_result_times_the_sound_from_the_keys_however_long_or_late_it_plays():
    nav = _at_sales()  # the keys went at 6.5 s
    done = nav.handle(Sounded("ringing", 7.0, 14.5))  # rang on for a while before it was reported
    assert done and done[0].result.detail == "reached sales (confirmed: ringing began 0.5 s after the keys and " \
                                             "went on for 7.5 s)"
    nav = _at_sales()
    done = nav.handle(Sounded("ringing", 13.5, 15.0))  # a long pause, then ringing
    assert done and done[0].result.detail == "reached sales (confirmed: ringing began 7.0 s after the keys and " \
                                             "went on for 1.5 s)"


def test_a_sound_exactly_as_long_as_the_threshold_confirms_despite_float_rounding():
    from ivrnav.navigate.settings import DEFAULT

    nav = _at_sales()
    start = 6.7
    assert not nav.handle(Sounded("ringing", start, start + DEFAULT.sound_confirm_for - 0.01))
    done = nav.handle(Sounded("ringing", start, start + DEFAULT.sound_confirm_for - 1e-9))
    assert done and done[0].result.reached


def test_a_sound_starting_right_at_the_keys_counts():
    nav = _at_sales()
    done = nav.handle(Sounded("ringing", 6.5 - 1e-9, 8.0))
    assert done and done[0].result.reached


# quiet: the rule and its wording, on a virtual clock --------------------------------------------------

QUIET_MAP = MAP.replace("confirm: {sound: ringing}", "confirm: {quiet: 3}")


def _quiet(nav_time: float, words_at: float | None = None) -> list:
    nav = Navigator(compile_text(QUIET_MAP, "map.yaml").menu_file, "sales")
    nav.handle(Heard("thank you for calling for sales press 1 to reach the operator press 0", True, 0.0, 4.0))
    for t in (4.5, 5.0, 5.5, 6.0):
        if nav.handle(Tick(t)):
            break
    nav.handle(DigitsSent("1", 10.0))
    if words_at is not None:
        nav.handle(Heard("hello", True, words_at - 0.2, words_at))
    return nav.handle(Tick(nav_time))


def test_quiet_confirms_after_exactly_its_seconds_and_says_so():
    assert not _quiet(12.9)
    done = _quiet(13.0 - 1e-9)  # 3 s after the keys, up to float rounding
    assert done and done[0].result.detail == "reached sales (confirmed: the line took the keys and said nothing " \
                                             "for 3 s)"


def test_any_word_after_the_keys_breaks_the_quiet():
    assert not _quiet(14.0, words_at=10.1)
    assert _quiet(14.0, words_at=10.0)  # words that ended as the keys went were said before them


# an entry whose next menu is the goal is the map's way there ----------------------------------------

ENTRY_MAP = """
ivrnav: 1
name: map
start: pin
vars:
  pin: {secret: true, pattern: "[0-9]{4}"}
menus:
  pin:
    prompt: Please enter your four digit PIN, then press pound.
    listen: [enter your four digit pin]
    enter: "{pin}#"
    next: vault
  vault:
    prompt: Hold music.
    confirm: {sound: music}
"""

ENTRY_LINE = """
ivrnav: 1
name: line
start: pin
vars:
  pin: {secret: true}
line: {vars: {pin: "4321"}}
menus:
  pin:
    prompt: Please enter your four digit PIN, then press pound.
    enter: "{pin}#"
    next: vault
  vault:
    prompt: "[music]"
    line: {sound: music, terminal: true}
"""


def test_music_after_an_entry_that_leads_to_the_goal_confirms_it():
    call = _call(ENTRY_MAP, ENTRY_LINE, "vault", vars={"pin": "4321"})
    assert call.result.reached and "confirmed: music" in call.result.detail, call.result.detail
    assert "4321" not in call.result.detail and "4321" not in call.result.to_json()


def test_an_entry_is_the_way_only_to_its_own_next_menu():
    from ivrnav.navigate.confirm import sound_confirmed

    more = """
  desk:
    prompt: Hold music at the front desk.
    confirm: {sound: music}
  waiting:
    prompt: Hold music in the waiting line.
    confirm: {sound: music}
"""
    mf = compile_text(ENTRY_MAP + more, "map.yaml").menu_file

    def music_confirms(goal: str) -> bool:
        return sound_confirmed(mf, goal, expected=frozenset({goal}), awaiting=True, acted_at=6.0,
                               pressed=("pin", "4321#"), sound=Sounded("music", 7.0, 9.0), words="",
                               invalid=()) is not None

    assert music_confirms("vault")  # the PIN entry's next menu
    assert not music_confirms("desk") and not music_confirms("waiting")  # music there too, but not this way


# the rules one condition at a time --------------------------------------------------------------------

def _rule_file():
    return compile_text(MAP, "map.yaml").menu_file


def _sound(kind="ringing", start=7.0, end=8.5, *, pressed=("main", "1"), expected=("sales",), awaiting=True,
           words="", goal="sales"):
    from ivrnav.navigate.confirm import sound_confirmed

    return sound_confirmed(_rule_file(), goal, expected=frozenset(expected), awaiting=awaiting, acted_at=6.5,
                           pressed=pressed, sound=Sounded(kind, start, end), words=words,
                           invalid=("not a valid option",))


def test_sound_confirmation_needs_each_of_its_conditions():
    assert _sound()
    assert not _sound(pressed=("main", "0"))  # not the map's way to the goal
    assert not _sound(pressed=None)
    assert not _sound(expected=("operator",))  # the navigator does not expect the goal next
    assert not _sound(awaiting=False)  # keys still being sent
    assert not _sound(goal="operator")  # a goal confirmed by a person, not a sound
    assert not _sound(start=6.4)  # began before the keys
    assert not _sound(end=7.9)  # not long enough yet
    assert _sound(words="please hold while we connect you")  # words that are no invalid message
    assert not _sound(words="sorry that is not a valid option")


def _person(sentences, *, recognised_other=False, pressed=("main", "0"), expected=("operator",), awaiting=True,
            goal="operator"):
    from ivrnav.navigate.confirm import human_confirmed

    return human_confirmed(_rule_file(), goal, expected=frozenset(expected), awaiting=awaiting, pressed=pressed,
                           sentences=[s.split() for s in sentences], recognised_other=recognised_other,
                           invalid=("not a valid option",))


def test_human_confirmation_needs_each_of_its_conditions():
    hello = ["hi this is dana how can i help"]
    assert _person(hello)
    assert not _person(hello, recognised_other=True)  # the words are another menu of the file
    assert not _person(hello, pressed=("main", "1"))
    assert not _person(hello, pressed=None)
    assert not _person(hello, expected=("sales",))
    assert not _person(hello, awaiting=False)
    assert not _person(hello, goal="sales")  # a goal confirmed by a sound, not a person
    assert not _person(hello, goal="sales", pressed=("main", "1"), expected=("sales",))  # even after its keys
    assert not _person(hello, goal="main", pressed=("main", "1"), expected=("main",))  # a goal with no rule
    assert not _person(["goodbye now"])  # fewer than human_min_words
    assert _person(["hello there dana"])  # exactly human_min_words
    assert not _person(["for billing press 1"])  # an offer
    assert not _person(["sorry that is not a valid option"])
    assert _person(["um", "hi this is dana how can i help"])  # a short sentence first, then the person
    assert not _person(["sorry that is not a valid option", "hi this is dana how can i help"])


OWN_MAP = """
ivrnav: 1
name: map
start: main
menus:
  main:
    prompt: For billing, press 2.
    listen: [thank you for calling]
    options:
      - {press: "2", says: billing, to: billing}
  billing:
    prompt: The billing department.
    listen: [billing department]
    options:
      - {press: "1", says: pay your bill, to: pay}
  pay:
    prompt: Payments.
"""


def _offered_only(sentence: str) -> bool:
    from ivrnav.navigate.confirm import offered_only
    from ivrnav.text import tokens

    mf = compile_text(OWN_MAP, "map.yaml").menu_file
    return offered_only(mf, "billing", "billing", tokens(sentence))


def test_a_goal_whose_own_options_are_on_offer_is_at_its_own_prompt():
    # one sentence that names the goal and offers one of the goal's own options: the goal's prompt
    assert not _offered_only("welcome to the billing department to pay your bill press 1")
    # the same words offering another key, or another label: the menu before, naming the goal in its offer
    assert _offered_only("welcome to the billing department to pay your bill press 2")
    assert _offered_only("welcome to the billing department to hear the weather press 1")


def test_an_unexpected_goal_on_a_listen_phrase_needs_as_many_phrases_as_the_threshold():
    from ivrnav.navigate.confirm import unexpected_goal_unproven
    from ivrnav.navigate.recognise import Match, Recogniser
    from ivrnav.navigate.settings import DEFAULT

    listen = "    listen: [re:this is \\w+, how can i help, front desk]"
    mf = compile_text(MAP.replace("    confirm: {human: true}", listen), "map.yaml").menu_file
    recogniser = Recogniser(mf)
    by_listen = Match("operator", 90.0, "listen")

    def unproven(heard: str, expected=("main",), match=by_listen) -> bool:
        return unexpected_goal_unproven(recogniser, "operator", match, heard, heard, frozenset(expected), DEFAULT)

    assert DEFAULT.unexpected_goal_evidence == 2
    assert unproven("sorry this is not a valid option")  # one phrase where the map does not expect the goal
    assert not unproven("hi this is dana how can i help")  # two phrases
    assert not unproven("hi this is dana at the front desk how can i help")  # three
    assert not unproven("sorry this is not a valid option", expected=("operator",))  # where the map expects it
    assert not unproven("sorry this is not a valid option", match=Match("operator", 95.0, "prompt"))
