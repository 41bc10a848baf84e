"""The navigator's steps (reading, at_goal, choosing, after_acting, silence) on hand-fed events, virtual clock.

Each test feeds transcripts and ticks as a streaming STT would and asserts what a user sees: the keys sent,
when on the call's clock, and the result.
"""

from __future__ import annotations

from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.events import DigitsSent, Heard, SendDigits, Tick
from ivrnav.navigate.navigator import Navigator

LINE = """
ivrnav: 1
name: Steps line
defaults: {settle: 0.4, no_prompt_timeout: 10, max_visits: 3, max_call: 600}
start: main
goal: support
menus:
  main:
    prompt: Main menu. For billing questions, press 1. For technical support, press 2. For store hours, press 3.
    listen: [main menu]
    options:
      - {press: "1", says: billing questions, to: billing}
      - {press: "2", says: technical support, to: support}
      - {press: "3", says: store hours, to: hours}
  billing:
    prompt: Billing department. To pay a bill, press 1. To return to the main menu, press 9.
    options:
      - {press: "1", says: pay a bill, to: pay}
      - {press: "9", says: main menu, to: main}
  pay:
    prompt: Please enter your payment amount.
  hours:
    prompt: Our stores are open nine to five. Please hold for the next available associate.
    hold: {max: 30}
    next: associate
  associate:
    prompt: Hello, this is the store associate speaking.
  support:
    prompt: Technical support. Please describe your problem after the tone.
"""

OPENING = "Main menu. For billing questions, press 1. For technical support, press 2."
SUPPORT = "Technical support. Please describe your problem after the tone."


class Call:
    """A navigator fed by hand; ``keys`` are the SendDigits it asked for, with the time it asked."""

    def __init__(self, goal: str = "support", line: str = LINE):
        self.nav = Navigator(compile_text(line, "steps.yaml").menu_file, goal)
        self.keys: list[tuple[float, str]] = []

    def feed(self, *events) -> Call:
        for event in events:
            for action in self.nav.handle(event):
                if isinstance(action, SendDigits):
                    self.keys.append((self.nav.now, action.digits))
        return self

    def ticks(self, start: float, end: float, step: float = 0.1) -> Call:
        n = round((end - start) / step)
        return self.feed(*(Tick(start + step * i) for i in range(1, n + 1)))

    @property
    def result(self):
        return self.nav.result


def _pressed_2_in_main() -> Call:
    """Main's prompt streams in one utterance; 2 goes out once 'technical support, press 2' stood settle."""
    call = Call().feed(Heard(OPENING, False, 0.0, 5.0), Heard(OPENING + " For", False, 0.0, 5.2), Tick(5.41))
    assert call.keys == [(5.41, "2")]
    return call.feed(DigitsSent("2", 5.6))


def test_a_key_goes_out_only_after_its_offer_stood_settle_seconds():
    call = Call().feed(Heard(OPENING, False, 0.0, 5.0))  # "... press 2" heard at 5.0
    call.feed(Heard(OPENING + " For", False, 0.0, 5.2), Tick(5.3), Tick(5.39))
    assert call.keys == []  # more words came, but 0.4 s (settle) have not passed
    call.feed(Tick(5.41))
    assert call.keys == [(5.41, "2")]


def test_a_key_the_stt_revises_within_settle_is_never_pressed():
    call = Call().feed(Heard("Main menu. For billing questions, press 1. For technical support, press 3.",
                             False, 0.0, 5.0), Tick(5.2))
    call.feed(Heard(OPENING, False, 0.0, 5.3), Heard(OPENING + " For", False, 0.0, 5.5), Tick(5.6), Tick(5.8))
    assert [k for _, k in call.keys] == ["2"]


def test_the_old_prompt_the_stt_keeps_appending_after_our_keys_is_not_the_line_ignoring_them():
    call = _pressed_2_in_main()
    rest = OPENING + " For store hours, press 3."  # the same utterance (begun at 0) goes on: said before our keys
    call.feed(Heard(rest, False, 0.0, 6.5), Heard(rest, True, 0.0, 7.0)).ticks(7.0, 11.0)
    call.feed(Heard(SUPPORT, True, 11.5, 14.0), Tick(14.1))
    assert [k for _, k in call.keys] == ["2"]
    assert call.result.reached and call.result.final_menu == "support"


def test_keys_the_line_ignored_are_pressed_again_once_it_is_quiet():
    call = _pressed_2_in_main()
    # a new utterance after our keys: the old prompt goes on from where it was
    call.feed(Heard("For technical support, press 2.", True, 6.0, 8.0)).ticks(8.0, 9.5)
    assert [k for _, k in call.keys] == ["2", "2"]
    assert call.keys[1][0] < 8.0 + 10  # on the quiet after the prompt, not the retry ladder's silence
    assert [d.kind for d in call.nav.drift] == ["ignored_keys"]


def test_the_goal_named_in_the_replayed_menu_is_not_claimed():
    """The line did not take 2 and plays main again; the STT ends an utterance at the pause after 'for
    technical support', before 'press 2': that names the goal in an offer, the line is not there."""
    call = _pressed_2_in_main()
    call.feed(Heard("Main menu. For billing questions, press 1. For technical support", True, 6.0, 9.0))
    call.ticks(9.0, 9.5)
    assert call.result is None
    assert call.nav.menu == "main"


def test_an_offer_split_over_two_utterances_is_one_offer():
    call = _pressed_2_in_main()
    call.feed(Heard("Main menu. For billing questions, press 1. For technical support", True, 6.0, 9.0),
              Heard("press 2.", True, 9.3, 10.0)).ticks(10.0, 11.0)
    assert [k for _, k in call.keys] == ["2", "2"]  # the label heard again, on its key: pressed again
    assert call.result is None


def test_a_menu_whose_offers_do_not_fit_it_is_taken_back():
    """Main recognised by its 'main menu' opening, but the offers are another menu's: main leaves the path,
    the map's key for main is not pressed, and the prompt is kept as unrecognised."""
    prompt = "Main menu. For pizza delivery, press 1. For pasta to go, press 2. For drinks, press 4."
    words = prompt.split(" ")
    call = Call()
    for n in range(2, len(words) + 1):  # streamed word by word, as an STT's interims
        call.feed(Heard(" ".join(words[:n]), n == len(words), 0.0, 0.4 * n))
    assert "main (by" in call.nav.notes[0].text  # it was recognised from the opening
    call.ticks(0.4 * len(words), 0.4 * len(words) + 1.5)
    assert call.keys == []
    assert call.nav.menu is None
    assert [p.menu for p in call.nav.path] == []
    assert call.nav.unrecognised == [" ".join(words)]


def test_a_hold_ends_the_call_at_its_max():
    call = Call(goal="associate")
    call.feed(Heard("Main menu. For billing questions, press 1. For technical support, press 2. For store hours,"
                    " press 3.", False, 0.0, 7.0), Heard(OPENING + " For store hours, press 3. For", False, 0.0, 7.2))
    call.ticks(7.2, 7.8)
    assert [k for _, k in call.keys] == ["3"]
    call.feed(DigitsSent("3", 8.0), Heard("Our stores are open nine to five. Please hold for the next available "
                                          "associate.", True, 8.5, 12.0))
    assert call.nav.menu == "hours"  # recognised at 12.0
    call.ticks(12.0, 12.0 + 29.0, step=1.0)
    assert call.result is None  # on hold, silence is no reason to retry
    assert len(call.keys) == 1
    call.ticks(12.0 + 29.0, 12.0 + 31.0, step=0.5)
    assert call.result is not None and call.result.reason == "hold_timeout"
    assert not call.result.reached


def test_an_offer_on_an_unknown_prompt_that_misled_us_is_not_taken_again():
    welcome = "Welcome to Acme. For technical support, press 5."
    billing = "Billing department. To pay a bill, press 1. To return to the main menu, press 9."
    call = Call().feed(Heard(welcome, True, 0.0, 4.0)).ticks(4.0, 5.0)
    assert [k for _, k in call.keys] == ["5"]  # the label that leads to the goal, on the line's key
    call.feed(DigitsSent("5", 5.2), Heard(billing, False, 6.0, 9.0), Heard(billing, True, 6.0, 10.0))
    call.ticks(10.0, 11.0)
    assert [k for _, k in call.keys] == ["5", "9"]  # 5 led to billing: back to the main menu
    call.feed(DigitsSent("9", 11.2), Heard(welcome, True, 12.0, 16.0)).ticks(16.0, 18.0)
    assert [k for _, k in call.keys] == ["5", "9"]  # the same offer again is not believed
    assert call.nav.unrecognised[-1] == welcome


def test_a_menu_taken_back_after_our_keys_leaves_no_drift_no_visit_and_no_path_entry():
    call = _pressed_2_in_main()
    prompt = "Main menu. For pizza delivery, press 1. For pasta to go, press 2. For drinks, press 4."
    words = prompt.split(" ")
    for n in range(2, len(words) + 1):
        call.feed(Heard(" ".join(words[:n]), n == len(words), 6.0, 6.0 + 0.4 * n))
    call.ticks(6.0 + 0.4 * len(words), 6.0 + 0.4 * len(words) + 1.5)
    texts = [n.text for n in call.nav.notes if n.at > 5.6]
    assert texts[0].startswith("main (by")  # recognised again from its opening: an unexpected menu, at first
    assert any("not that menu after all" in t for t in texts)
    assert [k for _, k in call.keys] == ["2"]
    assert [p.menu for p in call.nav.path] == ["main"]  # the first, real visit only
    assert call.nav.visits["main"] == 1
    assert [d.kind for d in call.nav.drift] == []
    assert call.nav.unrecognised == [prompt]


def test_a_label_not_heard_clearly_is_waited_for_once_then_the_maps_key_goes():
    """No repeat key in the file: the navigator waits for the line to repeat the menu; when it stays quiet,
    it presses the map's key. One retry is counted."""
    call = Call()
    garbled = "Main menu. For billing questions, press 1. For tech and all, press 2. For store hours, press 3."
    call.feed(Heard(garbled, True, 0.0, 7.0)).ticks(7.0, 10.0)
    assert call.keys == []  # the prompt ended at 7.0 without the label: waiting for the line to repeat it
    assert call.nav.timing.retries == 1
    call.ticks(10.0, 12.0)  # repeat_wait (2 s) of quiet after asking: it will not repeat
    assert call.keys == [(10.2, "2")]
    assert call.nav.timing.retries == 1
    assert "did not repeat" in next(n.text for n in call.nav.notes if n.kind == "press")


def test_a_menu_with_no_way_on_to_the_goal_fails_the_call_with_no_route():
    call = Call(goal="pay").feed(Heard(SUPPORT, True, 0.0, 4.0)).ticks(4.0, 5.0)
    assert call.nav.path[0].menu == "support"
    assert call.result is not None and not call.result.reached
    assert call.result.reason == "no_route"
    assert call.keys == []


def test_a_line_that_answers_each_retry_with_an_unknown_prompt_gets_the_keys_again_only_twice():
    """New words reset the retry ladder; a line that meets our 2 (and every 'pressing 2 again') with a prompt
    the map does not know ("Change to which folder?") used to have 2 pressed every other rung for the whole
    call (72 keys in a 30-minute call in bench.real). The ladder presses one action's keys again twice."""
    call = _pressed_2_in_main()
    t = 6.0
    for _ in range(6):
        call.feed(Heard("Change to which folder?", True, t, t + 1.5))
        call.ticks(t + 1.5, t + 22.0)
        if call.keys and call.keys[-1][0] > t:
            call.feed(DigitsSent("2", call.nav.now + 0.1))
        t += 22.0
        if call.result is not None:
            break
    assert [k for _, k in call.keys] == ["2", "2", "2"]  # the decided key, then twice again
    assert call.result is None or call.result.reason == "no_prompt"


def test_a_whole_prompt_shorter_than_an_opening_is_recognised_when_expected():
    """'The weather.' (11 characters) is shorter than the openings compared (16): heard in full after the key
    that leads to it, it is the goal (it used to be an unknown prompt, and the call failed)."""
    line = """
ivrnav: 1
name: Short prompts
start: menu
menus:
  menu:
    prompt: For sports, press 1. For weather, press 2.
    options:
      - {press: "1", says: sports, to: sports}
      - {press: "2", says: weather, to: weather}
  sports: {prompt: Sports news.}
  weather: {prompt: The weather.}
"""
    nav = Navigator(compile_text(line, "short.yaml").menu_file, "weather")
    keys = [a.digits for e in (Heard("For sports, press 1.", True, 0.0, 1.6), Heard("For weather, press 2.", True,
                                                                                      1.9, 3.5), Tick(4.0))
            for a in nav.handle(e) if isinstance(a, SendDigits)]
    assert keys == ["2"]
    nav.handle(DigitsSent("2", 4.1))
    nav.handle(Heard("The weat", False, 4.3, 4.8))
    assert nav.result is None  # a part of the prompt is not the prompt
    nav.handle(Heard("The weather.", True, 4.3, 5.1))
    assert nav.result is not None and nav.result.reached and nav.result.final_menu == "weather"
    other = Navigator(compile_text(line, "short.yaml").menu_file, "weather")
    for e in (Heard("For sports, press 1.", True, 0.0, 1.6), Heard("For weather, press 2.", True, 1.9, 3.5),
              Tick(4.0), DigitsSent("2", 4.1), Heard("Sports news.", True, 4.3, 5.1), Tick(6.0)):
        other.handle(e)
    assert other.result is None or not other.result.reached  # another short prompt is not the goal


CARRY_LINE = """
ivrnav: 1
name: Carried words
defaults: {settle: 0.4, no_prompt_timeout: 10}
start: main
menus:
  main:
    prompt: Main menu. For billing, press 1. For support, press 2. To hear the main menu again, press star.
    listen: [main menu]
    options:
      - {press: "1", says: billing, to: billing}
      - {press: "2", says: support, to: support}
      - {press: "*", says: hear the main menu again, repeat: true}
  billing: {prompt: Billing. Please enter your account number.}
  support: {prompt: Technical support. Please describe your problem after the tone.}
"""


def test_the_rest_of_the_prompt_we_acted_in_arriving_late_is_not_the_line_playing_it_again():
    """Seen over LiveKit on a loaded machine: the STT finished the utterance we pressed 2 in ("... To hear the
    main menu again, press star.") after the key; its last words name main's listen phrase. They were said
    before the key went out: main was taken as played again ('unexpected_menu') and * pressed to hear it."""
    call = Call(line=CARRY_LINE)
    opening = "Main menu. For billing, press 1. For support, press 2."
    call.feed(Heard(opening, False, 0.0, 4.0), Heard(opening + " To", False, 0.0, 4.2), Tick(4.41))
    assert call.keys == [(4.41, "2")]
    call.feed(DigitsSent("2", 4.6), Heard(opening + " To hear the main menu again, press star.", True, 0.0, 6.0))
    call.ticks(6.0, 8.0)
    call.feed(Heard(SUPPORT, True, 6.5, 9.0))
    assert [k for _, k in call.keys] == ["2"]
    assert call.result is not None and call.result.reached and not call.result.drift
