"""The call state: the file's machine is where the navigator believes the call is; the phase table and
its treatment of illegal events; the retry ladder; thresholds a menu author tunes from `defaults:`."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.machine import DIALLING, LIFECYCLE, UNKNOWN, CallModel, call_machine
from ivrnav.menu.model import exits
from ivrnav.navigate.events import CallEnded, DigitsSent, Done, Heard, SendDigits, Tick
from ivrnav.navigate.navigator import Navigator
from ivrnav.navigate.settings import DEFAULT, thresholds_for
from ivrnav.navigate.state import LADDER, PHASES, Phase
from ivrnav.sim.runner import make_runner

BANK = Path(__file__).resolve().parent.parent / "menus" / "bank.yaml"


def _bank():
    return compile_file(BANK).menu_file


# --- the machine -----------------------------------------------------------------------------------------

def test_one_machine_per_file_shared_by_every_call_and_no_model_registered():
    mf = _bank()
    a, b = Navigator(mf, "cards"), Navigator(mf, "fraud")
    assert a.state.machine is b.state.machine is call_machine(mf)
    assert a.state.model is not b.state.model
    assert call_machine(mf).machine.models == []  # calls are fired on, never added with add_model


def test_a_file_keeps_its_machine_while_many_other_files_are_in_use_and_frees_it_when_dropped():
    import gc
    import weakref

    mf = _bank()
    first = call_machine(mf)
    others = [compile_text(BANK.read_text(), str(BANK)).menu_file for _ in range(80)]  # more than any small LRU
    for other in others:
        Navigator(other, "cards")
    assert Navigator(mf, "cards").state.machine is first  # not rebuilt for the next call
    gone = weakref.ref(call_machine(others[0]))
    del others, other
    gc.collect()
    assert gone() is None  # a dropped file's machine goes with it


def test_a_call_on_the_machine_is_small():
    mf = _bank()
    call_machine(mf)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    models = [CallModel() for _ in range(1000)]
    per_model = (tracemalloc.get_traced_memory()[0] - before) / len(models)
    tracemalloc.stop()
    assert per_model < 1024


def test_machine_states_and_expected_next_menus_come_from_the_file():
    mf = _bank()
    machine = call_machine(mf)
    assert set(machine.machine.states) == set(mf.menus) | set(LIFECYCLE)
    for name in mf.menus:
        assert machine.next_of(name) == {e.to for e in exits(mf, name)} | (
            {name} if any(o.repeat for o in mf.options_of(name)) else set())
    assert machine.expects(DIALLING, "answer") == mf.start
    assert machine.expects("main", "press_2") == "cards"


def test_a_trigger_the_state_does_not_have_changes_nothing():
    mf = _bank()
    machine, model = call_machine(mf), CallModel()
    assert machine.fire(model, "answer", 0.0)
    assert not machine.fire(model, "press_7", 1.0)  # welcome has no key 7
    assert not machine.fire(model, "no_such_trigger", 1.0)
    assert model.state == mf.start and len(model.steps) == 1


def test_where_the_navigator_believes_the_call_is_is_the_machine_state():
    mf = _bank()
    runner = make_runner(mf, goal="transactions", vars={"account": "1234567890", "pin": "9876"})
    seen = []
    while runner.step():
        nav = runner.nav
        assert nav.menu == (nav.state.model.state if nav.state.model.state in mf.menus else None)
        seen.append(nav.state.model.state)
    steps = runner.nav.state.model.steps
    assert steps[0].trigger == "answer" and steps[-1].dest == "reached"
    assert all(s.trigger != "relocate" for s in steps)  # the line did what the file says
    for s in steps[1:-1]:  # each step is one of the file's exits
        assert call_machine(mf).expects(s.source, s.trigger) == s.dest
    assert runner.line.visited[-1] == "transactions"


def test_a_line_that_goes_elsewhere_relocates_the_call():
    import yaml

    from ivrnav.sim import drift
    from ivrnav.sim.runner import simulate_call

    mf = _bank()
    data = yaml.safe_load(BANK.read_text())
    changed, _ = drift.new_menu(data, menu="cards")
    line = compile_text(yaml.safe_dump(changed), "line.yaml").menu_file
    call = simulate_call(mf, line_file=line, goal="lost_card")
    moves = [(r["trigger"], r["source"], r["dest"]) for r in call.trace if r["kind"] == "transition"]
    assert call.result.reached
    assert ("relocate", "main", UNKNOWN) in moves and moves[-1] == ("arrive", "lost_card", "reached")


# --- the funnel and the phase table -----------------------------------------------------------------------

def test_phase_table_has_a_row_for_every_phase_and_ends_on_call_ended():
    assert set(PHASES) == set(Phase)
    assert PHASES[Phase.DONE] == {}
    for phase in (Phase.LISTENING, Phase.SENDING, Phase.AWAITING):
        assert PHASES[phase][CallEnded] is Phase.DONE
    assert PHASES[Phase.SENDING][DigitsSent] is Phase.AWAITING
    assert DigitsSent not in PHASES[Phase.LISTENING] and DigitsSent not in PHASES[Phase.AWAITING]


def test_keys_reported_sent_that_were_never_asked_for_are_ignored_and_noted():
    nav = Navigator(_bank(), "cards")
    assert nav.handle(DigitsSent("5", 0.5)) == []
    assert nav.handle(DigitsSent("5", 0.6)) == []
    notes = nav.drain_notes()
    assert [n.kind for n in notes] == ["ignored"]  # noted once, counted every time
    assert "DigitsSent while listening" in notes[0].text
    assert nav.record.ignored["DigitsSent while listening"] == 2
    assert nav.phase is Phase.LISTENING and nav.path == [] and nav.acted_at == 0.0


def test_events_after_done_are_ignored_and_recorded_never_raised():
    nav = Navigator(_bank(), "cards")
    (done,) = nav.handle(CallEnded("hangup", 1.0))
    assert isinstance(done, Done) and nav.phase is Phase.DONE
    result = nav.result
    for event in (Heard("Main menu.", True, 1.0, 2.0), Tick(3.0), DigitsSent("1", 3.0), CallEnded("again", 4.0)):
        assert nav.handle(event) == []
    assert nav.result is result and result.reason == "hangup" and result.timing.ended_at == 1.0
    kinds = [n.text for n in nav.drain_notes() if n.kind == "ignored"]
    assert kinds == ["Heard while done: ignored", "Tick while done: ignored", "DigitsSent while done: ignored",
                     "CallEnded while done: ignored"]
    assert nav.wakeup_at() is None


def test_the_intake_filter_is_the_first_thing_every_event_passes():
    class Dropping(Navigator):
        def _admit(self, event):
            return None if isinstance(event, Heard) else event

    nav = Dropping(_bank(), "cards")
    assert nav.handle(Heard("Thank you for calling Acme Bank.", True, 0.0, 2.0)) == []
    assert nav.context.tokens == [] and nav.drain_notes() == []


# --- the retry ladder --------------------------------------------------------------------------------------

LADDER_FILE = """
ivrnav: 1
name: ladder
start: ask
goal: thanks
defaults: {no_prompt_timeout: 10, inter_digit: 0.15}
globals:
  - {press: "0", says: operator, to: operator}
menus:
  ask:
    prompt: Please enter your code followed by the pound key.
    enter: "123#"
    type_ahead: true
    next: thanks
  thanks:
    prompt: Thank you.
  operator:
    prompt: Please hold for an operator.
    hold: true
"""


def _silent_after_entry(text: str = LADDER_FILE):
    """Keys sent (acknowledged at once) after the line played `ask` once and then said nothing."""
    nav = Navigator(compile_text(text, "ladder.yaml").menu_file)
    sent: list[tuple[float, SendDigits]] = []
    t = 0.0
    prompt = "Please enter your code followed by the pound key."
    out = nav.handle(Heard(prompt, True, 0.0, 4.0))
    t = 4.0
    while nav.result is None and t < 200:
        for action in out:
            if isinstance(action, SendDigits):
                sent.append((t, action))
                out = nav.handle(DigitsSent(action.digits, t + 0.5))
                break
        else:
            t = round(t + 0.1, 3)
            out = nav.handle(Tick(t))
    return nav, sent


def test_silence_climbs_the_ladder_wait_again_slower_operator_give_up():
    nav, sent = _silent_after_entry()
    assert [a.digits for _, a in sent] == ["123#", "123#", "1w2w3w#", "0"]
    assert [a.inter_digit for _, a in sent] == [0.15, 0.15, 0.3, 0.15]
    assert [n.kind for n in nav.notes if n.kind in ("wait", "retry")] == ["wait", "retry", "retry", "retry"]
    # one rung per no_prompt_timeout (10 s) of silence since the keys went out (0.5 s after each request);
    # the first rung only waits
    assert [t for t, _ in sent] == pytest.approx([4.0, 24.5, 35.0, 45.5], abs=0.11)
    assert nav.result.timing.ended_at == pytest.approx(56.0, abs=0.11)
    assert nav.result.reason == "no_prompt" and nav.result.timing.retries == 4


def test_ladder_without_an_operator_key_gives_up_after_the_slow_retry():
    nav, sent = _silent_after_entry(LADDER_FILE.replace('  - {press: "0", says: operator, to: operator}\n', "")
                                    .replace("globals:\n", "globals: []\n"))
    assert [a.digits for _, a in sent] == ["123#", "123#", "1w2w3w#"]
    assert nav.result.reason == "no_prompt"


def test_the_tables_cannot_be_changed_by_a_call():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        LADDER[0].tries = ("give_up",)  # type: ignore[misc]


def test_expected_next_menus_are_the_machines_transitions_from_the_state():
    from ivrnav.navigate.state import CallState

    mf = _bank()
    state = CallState(call_machine(mf), 0.0)
    assert state.expected_after() == {mf.start}  # dialling: answering leads to the start menu
    state.arrive_at(mf.start, 1.0)
    assert state.expected_after() == call_machine(mf).next_of(mf.start)
    assert state.expected_after("main") == call_machine(mf).next_of("main") != state.expected_after()


def test_the_call_state_moves_only_by_the_machine():
    from ivrnav.navigate.state import CallState

    mf = _bank()
    state = CallState(call_machine(mf), 0.0)
    state.arrive_at("welcome", 1.0)  # answered
    state.lost(2.0)  # the line plays a prompt the file does not know
    state.lost(2.5)  # still that prompt: no new step
    assert state.where == UNKNOWN
    state.arrive_at("main", 3.0)
    state.took_keys("2")
    state.arrive_at("cards", 4.0)  # where the file says key 2 leads
    state.arrive_at("welcome", 5.0)  # nothing we did leads there: drift
    state.end(False, 6.0)
    assert [(s.trigger, s.source, s.dest, s.at) for s in state.drain_steps()] == [
        ("answer", DIALLING, "welcome", 1.0), ("relocate", "welcome", UNKNOWN, 2.0), ("relocate", UNKNOWN, "main", 3.0),
        ("press_2", "main", "cards", 4.0), ("relocate", "cards", "welcome", 5.0), ("fail", "welcome", "failed", 6.0)]
    assert state.drain_steps() == [] and state.phase is Phase.DONE
    for menu in ("main", "welcome"):  # failing works from any state
        other = CallState(call_machine(mf), 0.0)
        other.arrive_at(menu, 1.0)
        other.end(False, 2.0)
        assert other.where == "failed"
    goal = CallState(call_machine(mf), 0.0)
    goal.arrive_at("welcome", 1.0)
    goal.end(True, 2.0)
    assert goal.where == "reached" and [s.trigger for s in goal.drain_steps()] == ["answer", "arrive"]


def test_ladder_table_order():
    assert [r.tries for r in LADDER] == [("wait",), ("again", "repeat_key"), ("slower", "repeat_key"),
                                        ("operator",), ("give_up",)]
    assert [r.counts_as_retry for r in LADDER] == [False, True, True, True, True]


# --- thresholds ---------------------------------------------------------------------------------------------

def test_prompt_done_quiet_is_tuned_from_the_files_defaults():
    slow = LADDER_FILE.replace("defaults: {no_prompt_timeout: 10, inter_digit: 0.15}",
                               "defaults: {no_prompt_timeout: 10, inter_digit: 0.15, prompt_done_quiet: 2.5}")
    mf = compile_text(slow, "slow.yaml").menu_file
    assert mf.defaults.prompt_done_quiet == 2.5
    assert Navigator(mf).th.prompt_done_quiet == 2.5
    assert thresholds_for(compile_text(LADDER_FILE, "l.yaml").menu_file.defaults) is DEFAULT


@pytest.mark.parametrize("quiet", [0.8, 2.5])
def test_an_entry_waits_for_the_prompt_to_end_by_prompt_done_quiet(quiet):
    text = LADDER_FILE.replace("    type_ahead: true\n", "").replace(
        "defaults: {no_prompt_timeout: 10, inter_digit: 0.15}",
        f"defaults: {{no_prompt_timeout: 10, inter_digit: 0.15, prompt_done_quiet: {quiet}}}")
    nav = Navigator(compile_text(text, "q.yaml").menu_file)
    out = nav.handle(Heard("Please enter your code followed by the pound key.", True, 0.0, 4.0))
    t = 4.0
    while not out:
        t = round(t + 0.05, 3)
        out = nav.handle(Tick(t))
    assert out[0].digits == "123#"
    assert quiet <= t - 4.0 + 1e-9 < quiet + 0.1  # 4.8 - 4.0 is 0.7999999999999998: the wait is over at 4.8


# --- holds ---------------------------------------------------------------------------------------------------

HOLD_FILE = """
ivrnav: 1
name: hold
start: queue
goal: agent
menus:
  queue:
    prompt: Please continue to hold, your call is important to us.
    hold: true
    next: agent
  agent:
    prompt: Hello, this is Sam, how can I help you today?
    human: true
"""


def test_a_repeated_hold_announcement_is_the_hold_going_on_not_a_loop():
    """Queues repeat their announcement every few seconds; that is not the caller going round a loop
    (max_visits 3 used to end such calls with reason 'loop' after the fourth announcement)."""
    nav = Navigator(compile_text(HOLD_FILE, "hold.yaml").menu_file)
    t, out = 0.0, []
    for _ in range(6):
        out += nav.handle(Heard("Please continue to hold, your call is important to us.", True, t, t + 4))
        t += 4
        for _ in range(30):
            t += 0.5
            out += nav.handle(Tick(t))
    assert nav.result is None and not out  # still holding, never pressed
    assert nav.state.where == "queue" and nav.visits["queue"] == 1
    out = nav.handle(Heard("Hello, this is Sam, how can I help you today?", True, t, t + 3))
    assert nav.result is not None and nav.result.reached and nav.result.reason == "reached"
    assert [s.trigger for s in nav.state.model.steps] == ["answer", "advance", "arrive"]
