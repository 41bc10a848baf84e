"""The navigator under duplicated, hostile and oversized input (issue #16): what a flaky STT provider, a
broken adapter or a hostile hold message sends must not steer the call, stall it or break its JSON."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from ivrnav.menu.compiler import compile_file
from ivrnav.menu.lint import reachable
from ivrnav.menu.model import exits
from ivrnav.navigate import holds
from ivrnav.navigate.events import CallEnded, DigitsSent, Done, Heard, SendDigits, Tick
from ivrnav.navigate.intake import LIMITS, Intake
from ivrnav.navigate.navigator import Navigator
from ivrnav.navigate.result import NavigationResult, Timing, strict_json
from ivrnav.sim.hostile import run_call, run_fuzz

ROOT = Path(__file__).resolve().parent.parent
MENUS = sorted((ROOT / "menus").glob("*.yaml"))
BANK = ROOT / "menus" / "bank.yaml"


def _strict(data) -> str:
    return json.dumps(data, allow_nan=False)


def _goals(menu_file):
    return sorted(g for g in reachable(menu_file) if g != menu_file.start)


def _hold_goals(menu_file):
    return sorted({e.to for m in menu_file.menus.values() if m.hold for e in exits(menu_file, m.name)}
                  & reachable(menu_file))


# ------------------------------------------------------------------------------------ repeated finals


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.stem)
def test_every_goal_when_every_final_is_delivered_twice(path):
    mf = compile_file(path).menu_file
    failures = []
    for goal in _goals(mf):
        call = run_call(mf, goal, duplicate_finals=True)
        if not call.result.reached or call.line_visited[-1] != goal:
            failures.append((goal, call.result.reason, call.result.detail))
    assert not failures


def test_a_final_delivered_again_is_dropped_but_a_later_repeat_is_heard():
    intake = Intake()
    first = Heard("For billing, press 1.", True, 0.0, 2.0)
    assert intake.admit(first).event == first
    # the provider sends it again: other case, no punctuation, times a little later but overlapping
    assert intake.admit(Heard("FOR BILLING PRESS ONE", True, 0.1, 2.1)).event is None
    # bare (no interim), right after: a reconnect's redelivery
    assert intake.admit(Heard("for billing, press 1", True, 2.5, 2.5)).event is None
    # the line repeats its menu after silence: interims, then the same final, later
    interim = Heard("For billing,", False, 9.0, 9.8)
    again = Heard("For billing, press 1.", True, 9.0, 11.0)
    assert intake.admit(interim).event == interim
    assert intake.admit(again).event == again
    # and a bare repeat long after is heard too (an STT that sends only finals)
    late = Heard("For billing, press 1.", True, 20.0, 22.0)
    assert intake.admit(late).event == late
    assert intake.dropped["repeated_final"] == 2


def test_an_interim_of_an_utterance_already_final_is_dropped():
    intake = Intake()
    intake.admit(Heard("Main menu.", True, 0.0, 1.0))
    assert intake.admit(Heard("Main", False, 0.0, 0.5)).event is None
    assert intake.admit(Heard("Main", False, 5.0, 5.4)).event is not None  # a new utterance


# --------------------------------------------------------------------------------------- bad times


def _bank_after_language_key() -> tuple[Navigator, float]:
    nav = Navigator(compile_file(BANK).menu_file, "cards")
    t = 0.0
    prompts = ("Thank you for calling Acme Bank.", "Calls may be monitored or recorded.", "For English, press 1.")
    for sentence in prompts:
        start, t = t, t + 0.4 * len(sentence.split())
        for action in nav.handle(Heard(sentence, True, start, t)):
            if isinstance(action, SendDigits):
                nav.handle(DigitsSent(action.digits, t + 0.2))
    assert nav.masked_digits == ["1"]
    return nav, t


def test_a_transcript_ending_at_nan_does_not_fire_the_retry_ladder():
    nav, t = _bank_after_language_key()
    nav.handle(Heard("Main menu.", True, t + 1, math.nan))
    pressed = [a for k in range(1, 11) for a in nav.handle(Tick(t + 1 + 0.1 * k)) if isinstance(a, SendDigits)]
    # without the intake the retry ladder pressed 1 again 0.1 s later; the 10 s no-prompt timeout is far away
    assert nav.ladder == 0 and "1" not in [a.digits for a in pressed]
    assert any(n.kind == "input" and "non-finite" in n.text for n in nav.drain_notes())


def test_an_infinite_tick_does_not_end_the_call_and_results_are_strict_json():
    nav, _ = _bank_after_language_key()
    assert nav.handle(Tick(math.inf)) == [] and nav.handle(Tick(math.nan)) == []
    assert nav.result is None
    done = nav.handle(CallEnded("hangup", math.inf))
    assert isinstance(done[0], Done)
    data = done[0].result.to_dict()
    assert math.isfinite(data["timing"]["ended_at"])
    _strict(data)


def test_result_and_trace_writers_never_emit_nan_or_infinity():
    result = NavigationResult(reached=False, goal="x", reason="timeout", timing=Timing(0.0, math.inf, math.nan))
    text = result.to_json()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text)["timing"]["ended_at"] is None
    assert strict_json({"t": -math.inf, "kind": "tick"}) == '{"t": null, "kind": "tick"}'


# --------------------------------------------------------------------------------- oversized input


def _huge(text: str, size: int) -> str:
    return (text + " ") * (size // (len(text) + 1) + 1)


def test_a_one_megabyte_transcript_costs_a_bounded_amount_and_its_end_is_heard():
    nav = Navigator(compile_file(BANK).menu_file, "cards")
    filler = _huge("La la la, music plays.", 1 << 20)
    text = filler + "Thank you for calling Acme Bank."
    nav.handle(Heard(text, True, 0.0, 60.0))
    assert nav.intake.chars_passed <= LIMITS.max_utterance_chars
    assert len(nav.context.tokens) <= 2 * LIMITS.max_utterance_words + 1  # words and sentence ends
    assert nav.menu == "welcome"  # the end of the utterance is what counts


def test_sixteen_growing_interims_of_a_megabyte_cost_a_bounded_amount():
    nav = Navigator(compile_file(BANK).menu_file, "cards")
    text = _huge("Thank you for calling Acme Bank. Calls may be monitored or recorded.", 1 << 20)
    most = 0
    for step in range(1, 17):
        nav.handle(Heard(text[: len(text) * step // 16], step == 16, 0.0, float(step)))
        most = max(most, len(nav.context.tokens))
    assert nav.intake.chars_passed <= 16 * LIMITS.max_utterance_chars  # 8.5 MB without the bound
    assert most <= 2 * LIMITS.max_utterance_words + 1  # words and sentence ends
    assert nav.intake.dropped["oversized"] == 16


def test_the_context_stays_bounded_on_a_long_hold():
    """Thousands of hold messages without an action: the context keeps only the latest, and the agent who
    finally answers is still recognised."""
    mf = compile_file(BANK).menu_file
    nav = Navigator(mf, "agent")
    nav.handle(Heard("Please hold for the next available representative.", True, 0.0, 3.0))
    assert nav.menu == "queue"
    t = 3.0
    for i in range(5000):
        t += 0.2  # a hostile rate: 5,000 messages inside the queue's 1,200 s hold_max
        nav.handle(Heard(f"Your call is important to us, message {i} of our hold loop.", True, t - 0.15, t))
        assert len(nav.context.final_tokens) <= LIMITS.max_context_tokens + 20
    assert nav.menu == "queue" and nav.result is None
    done = nav.handle(Heard("Thanks for calling Acme Bank, my name is Dana. How can I help you today?", True, t + 1,
                            t + 6))
    assert done and done[0].result.reached


# ------------------------------------------------------------------------------------------ holds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hold_messages_quoting_other_menus_do_not_end_the_hold(seed):
    total_holds = exits_ = messages = 0
    failures = []
    for path in MENUS:
        mf = compile_file(path).menu_file
        for goal in _hold_goals(mf):
            call = run_call(mf, goal, seed=seed, hold_messages=True, duplicate_finals=seed == 2)
            total_holds += call.holds
            exits_ += call.unwarranted_hold_exits
            messages += call.hold_messages
            if not call.result.reached or call.line_visited[-1] != goal:
                failures.append((path.stem, goal, call.result.reason))
    assert total_holds >= 5 and messages >= 10
    assert exits_ == 0  # without holds.leaves_hold: 6 with seed 0
    assert not failures


def test_leaving_a_hold_needs_more_than_a_quoted_opening():
    mf = compile_file(BANK).menu_file
    nav = Navigator(mf, "agent")
    queue, rec = mf.menus["queue"], nav.recogniser
    quote = "thanks for calling acme bank my name is something you can also find on our website"
    real = "thanks for calling acme bank my name is dana how can i help you today"
    match = rec.decide("thanks for calling acme bank my name", frozenset({"agent"}))
    assert match is not None and match.menu == "agent"  # the recogniser alone would leave the hold
    assert not holds.leaves_hold(rec, queue, match, quote)
    assert holds.leaves_hold(rec, queue, match, real)
    assert not holds.leaves_hold(rec, queue, match, real, played=real + " please stay on the line")  # played before
    again = rec.decide("please hold for the next available representative", frozenset({"queue"}))
    assert again is not None and not holds.leaves_hold(rec, queue, again, "please hold for the next available")


# ------------------------------------------------------------------------------------- bounded fuzz


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.stem)
def test_fuzzed_streams_end_with_strict_json_and_bounded_work(path):
    mf = compile_file(path).menu_file
    rng = random.Random(path.stem)
    for seed in range(2):
        run = run_fuzz(mf, rng.choice(_goals(mf)), seed, 1500, huge=150_000)
        assert run.results, "every navigator ends with a result"
        for result in run.results:
            _strict(result.to_dict())
            assert result.reason
        assert run.max_chars <= LIMITS.max_utterance_chars
        assert run.max_context <= LIMITS.max_context_tokens + LIMITS.max_utterance_words + 1
        assert run.dropped["repeated_final"] > 0 and run.dropped["oversized"] > 0


# ------------------------------------------------------------------------------------- secrets files


def test_secrets_file_values_are_strings_as_written(tmp_path):
    """One reader for ``run --secrets``, ``discover --secrets`` and the worker's secrets file."""
    from ivrnav.cli_inputs import InputFileError, load_secrets
    from ivrnav.livekit.worker import load_secrets_file as worker_load

    path = tmp_path / "secrets.yaml"
    path.write_text("pin: 0123\naccount: 0012345678\ncode: 1e3\nanswer: no\nquoted: '0123'\n")
    expected = {"pin": "0123", "account": "0012345678", "code": "1e3", "answer": "no", "quoted": "0123"}
    assert load_secrets(str(path)) == expected  # YAML 1.1 read pin as 83, code as 1000.0, answer as False
    assert worker_load(path) == expected
    path.write_text("pin: [1, 2]\n")
    with pytest.raises(InputFileError, match="each var needs one value") as info:
        load_secrets(str(path))
    assert "1, 2" not in str(info.value)


def test_a_pin_with_a_leading_zero_from_a_secrets_file_reaches_the_line(tmp_path):
    """``ivrnav run --secrets``: the line (whose demo values are 0012345678 / 0123) takes the keys as written."""
    import yaml
    from click.testing import CliRunner

    from ivrnav.cli import main

    data = yaml.safe_load(BANK.read_text())
    data["line"]["vars"] = {"account": "0012345678", "pin": "0123"}
    line = tmp_path / "bank_line.yaml"
    line.write_text(yaml.safe_dump(data))
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("account: 0012345678\npin: 0123\n")
    out = CliRunner().invoke(main, ["run", str(BANK), "--line", str(line), "--goal", "transactions", "--secrets",
                                    str(secrets), "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["reached"] and "0123" not in out.output and "0012345678" not in out.output
