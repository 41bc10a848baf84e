"""The navigator against simulated lines: goals, noise, drift, failures, secrets."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.lint import reachable
from ivrnav.navigate.events import DigitsSent, Heard, SendDigits, Tick
from ivrnav.navigate.navigator import Navigator
from ivrnav.navigate.offers import read_offers, stream_tokens
from ivrnav.sim import drift
from ivrnav.sim.runner import simulate_call

MENUS = sorted(Path(__file__).resolve().parent.parent.joinpath("menus").glob("*.yaml"))
BANK = Path(__file__).resolve().parent.parent / "menus" / "bank.yaml"


def _goals(menu_file):
    return sorted(g for g in reachable(menu_file) if g != menu_file.start)


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.stem)
def test_every_reachable_goal_without_noise(path):
    mf = compile_file(path).menu_file
    failures = []
    for goal in _goals(mf):
        call = simulate_call(mf, goal=goal, keep_trace=False)
        if not call.result.reached or call.line_visited[-1] != goal:
            failures.append((goal, call.result.reason, call.result.detail))
    assert not failures


@pytest.mark.parametrize("path", MENUS, ids=lambda p: p.stem)
def test_goals_at_15_percent_word_error_rate(path):
    """Over many seeds at 15% WER: the benchmark target is 99%; the test holds a floor it must not drop under."""
    mf = compile_file(path).menu_file
    goals = _goals(mf)
    rng = random.Random(7)
    runs = [(rng.choice(goals), seed) for seed in range(60)]
    reached = sum(simulate_call(mf, goal=g, wer=0.15, seed=s, keep_trace=False).result.reached for g, s in runs)
    assert reached / len(runs) >= 0.9, f"{reached}/{len(runs)}"


def test_the_line_really_got_the_route_keys():
    mf = compile_file(BANK).menu_file
    call = simulate_call(mf, goal="transactions", vars={"account": "1234567890", "pin": "9876"})
    keys = "".join(k for k, _ in call.line_keys)
    assert call.result.reached
    assert call.line_visited[-1] == "transactions"
    assert "1234567890#" in keys and "9876" in keys


def test_pressing_is_early_not_end_of_turn():
    """The key goes out settle seconds after the wanted option is spoken, long before the prompt ends."""
    mf = compile_file(BANK).menu_file
    call = simulate_call(mf, goal="cards")
    main_heard = next(r for r in call.trace if r["kind"] == "note" and r["text"].startswith("main"))["t"]
    press = next(r for r in call.trace if r["kind"] == "send_digits" and r["t"] > main_heard)
    words = "Main menu. For account balances and recent transactions, press 1. For credit card services, press 2."
    spoken_at = main_heard - 2 / 2.5 + len(words.split()) / 2.5  # 2 words heard before recognition
    prompt_end = main_heard - 0.8 + len(mf.menus["main"].prompt.split()) / 2.5
    assert press["digits"] == "2"
    assert press["t"] < prompt_end - 3
    assert press["t"] <= spoken_at + 0.3 * 4 + mf.defaults.settle + 0.2


def _line(data, name):
    return compile_text(yaml.safe_dump(data), f"{name}.yaml").menu_file


@pytest.mark.parametrize("wer", [0.0, 0.15])
@pytest.mark.parametrize(
    ("variant", "goal", "drift_kind"),
    [
        ("swap", "lost_card", "key_moved"),
        ("reword", "fraud", None),
        ("promo", "cards", None),
        ("new_menu", "lost_card", "unknown_prompt"),
    ],
)
def test_drifted_lines_still_reach_the_goal(variant, goal, drift_kind, wer):
    mf = compile_file(BANK).menu_file
    data = yaml.safe_load(BANK.read_text())
    changed, _ = {
        "swap": lambda: drift.swap_keys(data, menu="main"),
        "reword": lambda: drift.reword(data, menu="main"),
        "promo": lambda: drift.insert_promo(data),
        "new_menu": lambda: drift.new_menu(data, menu="cards"),
    }[variant]()
    line = _line(changed, variant)
    results = [simulate_call(mf, line_file=line, goal=goal, wer=wer, seed=s, keep_trace=False).result for s in range(8)]
    assert sum(r.reached for r in results) >= (8 if wer == 0 else 7)
    if drift_kind and wer == 0:
        assert all(drift_kind in {d.kind for d in r.drift} for r in results)
    if variant == "promo" and wer == 0:  # the promotion is kept verbatim, to add to the file
        assert all(any("manage everything online" in u for u in r.unrecognised) for r in results)
    if variant == "original" or (variant != "promo" and wer == 0):
        assert all(not any("thank you for calling" in u.lower() for u in r.unrecognised) for r in results)


def test_swapped_keys_press_what_the_line_says():
    mf = compile_file(BANK).menu_file
    data = yaml.safe_load(BANK.read_text())
    changed, _ = drift.swap_keys(data, menu="main", rng=random.Random(1))
    line = _line(changed, "swap")
    new_key = next(str(o["press"]) for o in changed["menus"]["main"]["options"] if o["to"] == "cards")
    call = simulate_call(mf, line_file=line, goal="cards")
    assert call.result.reached
    moved = [d for d in call.result.drift if d.kind == "key_moved"]
    assert moved and moved[0].expected == "2" and moved[0].actual == new_key


def _bank_with(changes):
    data = yaml.safe_load(BANK.read_text())
    changes(data)
    return _line(data, "changed")


def test_silent_line_climbs_the_retry_ladder_and_gives_up():
    def silence(data):  # the line answers, then says nothing and ignores every key
        data["menus"]["welcome"] = {"prompt": "Thank you for calling.", "line": {"silent": True}}
        data["globals"] = []
        data["goal"] = "welcome"
        data["line"].update(repeats=1000, unmapped_key="ignore")

    mf = compile_file(BANK).menu_file
    call = simulate_call(mf, line_file=_bank_with(silence), goal="cards")
    result = call.result
    assert not result.reached and result.reason == "no_prompt"
    assert result.timing.ended_at < 10 * mf.defaults.no_prompt_timeout
    assert result.timing.retries >= 2


def test_invalid_entry_loop_ends_with_a_reason():
    mf = compile_file(BANK).menu_file
    call = simulate_call(mf, goal="balances_menu", vars={"account": "5555555555", "pin": "1111"})
    result = call.result
    assert not result.reached
    assert result.reason in {"loop", "hangup"}
    assert result.timing.ended_at < 200
    assert any(r["kind"] == "note" and "rejected" in r["text"] for r in call.trace)


def test_endless_repeat_is_a_loop():
    def repeat_main(data):  # every key at main replays main
        for option in data["menus"]["main"]["options"]:
            option["to"] = "main"

    mf = compile_file(BANK).menu_file
    result = simulate_call(mf, line_file=_bank_with(repeat_main), goal="fraud").result
    assert not result.reached and result.reason == "loop"
    assert "main" in result.detail


def test_hang_up_mid_call():
    def hang_up(data):
        data["menus"]["cards"].setdefault("line", {})["hangup"] = True

    mf = compile_file(BANK).menu_file
    result = simulate_call(mf, line_file=_bank_with(hang_up), goal="lost_card").result
    assert not result.reached and result.reason == "hangup"


def test_call_deadline():
    def long_hold(data):
        data["menus"]["queue"]["line"]["hold"] = 5000
        data["defaults"]["max_call"] = 120
        data["menus"]["queue"]["hold"] = {"max": 4000}

    line = _bank_with(long_hold)
    result = simulate_call(line, goal="agent").result
    assert not result.reached and result.reason == "timeout"
    assert 120 <= result.timing.ended_at < 130


def test_never_presses_on_hold():
    mf = compile_file(BANK).menu_file
    call = simulate_call(mf, goal="agent")
    queue_at = next(r["t"] for r in call.trace if r["kind"] == "note" and r["text"].startswith("queue"))
    agent_at = next(r["t"] for r in call.trace if r["kind"] == "note" and r["text"].startswith("agent"))
    assert agent_at - queue_at > 30
    assert not [r for r in call.trace if r["kind"] == "send_digits" and queue_at <= r["t"] <= agent_at]


def test_secrets_never_leave_the_navigator():
    secrets = {"account": "8642097531", "pin": "2468"}
    mf = compile_file(BANK).menu_file

    def read_back(data):  # a line that reads the account number back, digit by digit
        data["menus"]["balances_pin"]["prompt"] = (
            "You entered eight six four two zero nine seven five three one. Now enter your four digit PIN."
        )
        data["line"]["vars"] = secrets

    line = _bank_with(read_back)
    call = simulate_call(mf, line_file=line, goal="transactions", vars=secrets)
    assert call.result.reached
    blob = repr(call.trace) + call.result.to_json() + repr(call.result)
    for value in secrets.values():
        assert value not in blob
    assert "eight six four two" not in blob.lower()
    assert "••••••••••#" in call.result.digits


def test_send_digits_repr_is_masked():
    action = SendDigits("8642097531#", 0.15, "••••••••••#")
    assert "8642097531" not in repr(action) and "8642097531" not in str(action)


def test_type_ahead_presses_on_recognition():
    mf = compile_file(BANK).menu_file
    nav = Navigator(mf, "main")
    actions = []
    t = 0.0
    for sentence in ("Thank you for calling Acme Bank.", "Calls may be monitored or recorded.",
                     "For English, press 1."):
        words = sentence.split()
        start = t
        for i in range(len(words)):
            t += 0.4
            actions += nav.handle(Heard(" ".join(words[: i + 1]), i == len(words) - 1, start, t))
            if actions:
                break
        if actions:
            break
        actions += nav.handle(Tick(t + 0.3))
        t += 0.3
    assert actions and isinstance(actions[0], SendDigits) and actions[0].digits == "1"
    # pressed while "For English, press 1." was still being said
    assert t < 2.4 + 2.7 + 0.3 * 2 + 0.4 * 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("For billing, press 1. For sales, press two.", [("1", "billing"), ("2", "sales")]),
        ("Press 1 for billing. Press 2 to speak with an agent.", [("1", "billing"), ("2", "speak with an agent")]),
        ("To report fraud press three.", [("3", "report fraud")]),
        ("If you are a provider, press the pound key.", [("#", "are a provider")]),
        ("Para espanol, oprima dos.", [("2", "espanol")]),
        ("For billing press to.", [("2", "billing")]),
    ],
)
def test_reading_offers(text, expected):
    offers = read_offers(stream_tokens([text]))
    assert [(o.key, o.text) for o in offers] == expected


def test_key_pacing_is_shared_by_every_adapter():
    from ivrnav.menu.template import key_offsets

    offsets, length = key_offsets("1w2W#w", 0.15)
    assert [(round(t, 2), i) for t, i in offsets] == [(0.0, 0), (0.65, 2), (1.8, 4)]
    assert round(length, 2) == 2.3  # the trailing pause counts in the length


def test_reaction_inside_an_utterance_that_began_before_the_keys_counts():
    """A streaming STT may not end its utterance at our keys: the line's reaction arrives appended to the
    old prompt's words, with the old start time. The new words must still be heard."""
    mf = compile_file(BANK).menu_file
    nav = Navigator(mf, "cards")
    t = 0.0
    for sentence in ("Thank you for calling Acme Bank.", "Calls may be monitored or recorded."):
        start = t
        t += 0.4 * len(sentence.split())
        nav.handle(Heard(sentence, True, start, t))
    start = t
    old = "For English, press 1."
    words = (old + " Para espanol, oprima dos. Main menu. For account balances and recent transactions,"
             " press 1. For credit card services, press 2. To report fraud, press 3.").split()
    sent = []
    for i in range(len(words)):
        t += 0.4
        for action in nav.handle(Heard(" ".join(words[: i + 1]), False, start, t)):
            if isinstance(action, SendDigits):
                sent.append(action.digits)
                nav.handle(DigitsSent(action.digits, t))
        nav.handle(Tick(t + 0.2))
    assert sent[:1] == ["1"]  # type-ahead at the language menu, inside the utterance
    assert "2" in sent[1:]  # credit card services, heard in the same utterance after the key
