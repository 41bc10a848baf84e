"""The line language of real IVRs (the `line:` sections the simulated line plays) and goal confirmation."""

from __future__ import annotations

import textwrap

from ivrnav.menu.compiler import compile_text
from ivrnav.navigate.events import CallEnded, Heard
from ivrnav.sim.line import SimulatedLine
from ivrnav.sim.runner import simulate_call

BASE = """
ivrnav: 1
name: t
start: main
line: {wait: 5, repeats: 1, inter_digit: 2}
menus:
  main:
    prompt: To do an echo test dial 600. For sales press 1.
    options:
      - {press: "600", says: echo test, to: echo}
      - {press: "1", says: sales, to: sales}
    line: {}
  echo:
    prompt: "[echo]"
    line: {sound: echo}
  sales:
    prompt: Sales, goodbye.
    line: {hangup_after: true}
  other:
    prompt: Other menu.
    line: {terminal: true}
"""


def line_file(main_line: str = "{}", extra: str = ""):
    text = BASE.replace("    line: {}\n", f"    line: {main_line}\n", 1) + textwrap.dedent(extra)
    return compile_text(text, "t.yaml").menu_file


def play(mf, presses=(), until=60.0):
    """Run the line alone: ``presses`` are (key, time); returns (final texts, visited, end reason or None)."""
    line = SimulatedLine(mf)
    line.start(0.0)
    texts, ended = [], None
    pending = sorted(presses, key=lambda p: p[1])
    t = 0.0
    while t < until and not line.ended:
        nxt = line.next_time()
        due = pending[0][1] if pending else None
        t = min(x for x in (nxt, due, until) if x is not None)
        for _at, event in line.advance(t):
            if isinstance(event, Heard) and event.final:
                texts.append(event.text)
            elif isinstance(event, CallEnded):
                ended = event.reason
        while pending and pending[0][1] <= t + 1e-9:
            key, at = pending.pop(0)
            line.press(key, at)
        if nxt is None and not pending:
            break
    return texts, line.visited, ended


def test_multi_digit_option_within_the_inter_digit_timeout():
    _, visited, _ = play(line_file(), [("6", 8.0), ("0", 9.0), ("0", 10.5)])
    assert visited == ["main", "echo"]


def test_a_first_digit_alone_times_out_as_invalid():
    texts, visited, _ = play(line_file(), [("6", 8.0)], until=14)
    assert visited == ["main"]
    assert any("not a valid option" in t for t in texts)


def test_inter_digit_timeout_of_the_menu_overrides_the_line():
    _, visited, _ = play(line_file("{inter_digit: 0.5}"), [("6", 8.0), ("0", 9.0), ("0", 10.0)], until=14)
    assert visited == ["main"]  # 1 s between digits is past the menu's 0.5 s


def test_first_digit_wait_then_short_reprompt():
    texts, _, ended = play(line_file("{first_digit: 2, reprompt: Dial 600 or press 1.}"), until=30)
    assert "Dial 600 or press 1." in texts
    assert ended == "no input"


def test_timeout_message_and_destination():
    texts, visited, _ = play(line_file("{repeats: 0, timeout: {say: Let me take you elsewhere., to: other}}"))
    assert "Let me take you elsewhere." in texts
    assert visited == ["main", "other"]


def test_invalid_key_message_then_hang_up():
    texts, _, ended = play(line_file("{invalid: {say: That is not valid. Goodbye., hangup: true}}"),
                                 [("9", 3.0)])
    assert "That is not valid." in texts and ended == "invalid key"


def test_invalid_key_message_then_another_menu():
    _, visited, _ = play(line_file("{invalid: {say: Returning., to: other}}"), [("9", 3.0)])
    assert visited == ["main", "other"]


def test_any_other_key():
    _, visited, _ = play(line_file("{any_key: other}"), [("9", 3.0)])
    assert visited == ["main", "other"]


def test_free_form_entry_beside_the_options():
    mf = line_file('{entry: {accept: "10[0-9][0-9]", to: other}}')
    assert play(mf, [("1", 8.0), ("0", 8.5), ("0", 9.0), ("5", 9.5)])[1] == ["main", "other"]
    assert play(mf, [("1", 8.0)], until=20)[1] == ["main", "sales"]  # "1" alone is the option, after the wait


def test_silent_sound_menu_stays_and_says_nothing():
    texts, visited, ended = play(line_file(), [("6", 8.0), ("0", 8.2), ("0", 8.4)], until=200)
    assert visited == ["main", "echo"] and ended is None
    assert not [t for t in texts if "echo" in t.lower() and "dial" not in t.lower()]


def test_hang_up_after_a_message():
    texts, _, ended = play(line_file(), [("1", 8.0)])
    assert texts[-1] == "Sales, goodbye." and ended == "hung up after the message"


def test_pause_inside_an_utterance_splits_it():
    mf = compile_text(BASE.replace("To do an echo test dial 600.", "To do an echo test [pause 2] dial 600."),
                      "t.yaml").menu_file
    line = SimulatedLine(mf)
    line.start(0.0)
    finals = [e for _, e in line.advance(30.0) if isinstance(e, Heard) and e.final]
    assert [f.text for f in finals[:2]] == ["To do an echo test", "dial 600."]
    assert finals[1].start - finals[0].end >= 2.0


def test_terminal_and_sound_menus_are_not_dead_ends():
    from ivrnav.menu.compiler import compile_document
    from ivrnav.menu.loader import load_text

    warnings = compile_document(load_text(BASE, "t.yaml")).warnings
    dead = [w for w in warnings if "no way out" in str(w)]
    assert dead == []


CONFIRM = """
ivrnav: 1
name: t
start: main
menus:
  main:
    prompt: For the echo test, press 2.
    options:
      - {press: "2", says: echo test, to: echo}
  echo:
    prompt: Echo.
    confirm: {quiet: 3}
"""

CONFIRM_LINE = CONFIRM.replace("    confirm: {quiet: 3}\n", "    line: {sound: echo}\n")


def test_silent_goal_is_confirmed_by_quiet_after_the_key():
    nav = compile_text(CONFIRM, "map.yaml").menu_file
    line = compile_text(CONFIRM_LINE, "line.yaml").menu_file
    call = simulate_call(nav, line_file=line, goal="echo", keep_trace=False)
    assert call.result.reached and call.line_visited[-1] == "echo"
    assert "said nothing for 3 s" in call.result.detail


def test_no_quiet_confirmation_when_the_line_objects():
    nav = compile_text(CONFIRM, "map.yaml").menu_file
    # the line has no echo behind key 2: it says an invalid message and replays
    line = compile_text(CONFIRM_LINE.replace('{press: "2", says: echo test, to: echo}',
                                             '{press: "3", says: echo test, to: echo}'), "line.yaml").menu_file
    call = simulate_call(nav, line_file=line, goal="echo", keep_trace=False)
    assert not (call.result.reached and call.line_visited[-1] != "echo")



def test_goal_named_in_the_previous_menus_offer_is_not_reached():
    """VoiceXML's "For Stargazer astrophysics news, press 3." names the goal; the goal is the next menu."""
    from bench.real import run, trees

    for name, goal in (("voicexml_menu", "astronews"), ("freeswitch_demo_ivr", "submenu")):
        tree = next(t for t in trees() if t.name == name)
        row = run(tree, goal, "ivrnav", 0.0, 0)
        assert row["claimed"] and row["visited"][-1] == goal, (name, row["visited"])


def test_keys_do_nothing_in_a_sound_menu_unless_they_are_options():
    _, visited, ended = play(line_file(), [("6", 8.0), ("0", 8.2), ("0", 8.4), ("5", 20.0), ("5", 21.0),
                                               ("5", 22.0), ("5", 23.0), ("5", 24.0)], until=120)
    assert visited == ["main", "echo"] and ended is None


def test_line_targets_must_be_menus_with_position():
    import pytest

    from ivrnav.menu.diagnostics import MenuFileError

    with pytest.raises(MenuFileError) as err:
        compile_text(BASE.replace("    line: {}\n", "    line: {any_key: nowhere, timeout: {to: elsewhere}}\n", 1),
                     "bad.yaml")
    text = str(err.value)
    assert "bad.yaml:" in text and "line.any_key 'nowhere' is not a menu" in text
    assert "line.timeout.to 'elsewhere' is not a menu" in text


def test_schema_rejects_unknown_sound():
    import pytest

    from ivrnav.menu.diagnostics import MenuFileError

    with pytest.raises(MenuFileError) as err:
        compile_text(BASE.replace("line: {sound: echo}", "line: {sound: jazz}"), "bad.yaml")
    assert "sound" in str(err.value)
