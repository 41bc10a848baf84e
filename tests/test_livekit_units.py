"""The LiveKit adapters' pure parts, without a server: DTMF codes and pacing, job metadata, the driver."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from pathlib import Path

import pytest

from ivrnav.livekit.dial import DialError, livekit_settings, result_from_dict, run_livekit_call
from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.dtmf import DTMF_CODES, SIP_BRIDGE, DtmfSender, dtmf_code, key_schedule
from ivrnav.livekit.worker import JobRequestError, WorkerConfig, menu_keyterms, parse_job
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.events import SendDigits
from ivrnav.navigate.navigator import Navigator
from ivrnav.sim.runner import simulate_call
from tests.livekit_fixtures import queued

MENUS = Path(__file__).resolve().parents[1] / "menus"
BANK = str(MENUS / "bank.yaml")
ACCOUNT = "1234567890"


def test_rfc4733_codes() -> None:
    assert [dtmf_code(k) for k in "0123456789*#ABCD"] == list(range(16))
    assert dtmf_code("d") == 15
    with pytest.raises(ValueError, match="not a DTMF key") as excinfo:
        dtmf_code("x")
    assert "'x'" not in str(excinfo.value)  # the key might be part of a secret: never echoed


def test_key_schedule_pacing_and_pauses() -> None:
    sched = key_schedule("12w3W#", 0.15)
    assert [p.key for p in sched] == ["1", "2", "3", "#"]
    assert [round(p.offset, 3) for p in sched] == [0.0, 0.15, 0.8, 1.95]
    assert [p.offset for p in key_schedule("W5", 0.2)] == [1.0]  # a leading pause delays the first key
    with pytest.raises(ValueError):
        key_schedule("1e", 0.1)


async def test_sender_paces_keys_and_logs_only_masked(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    sent: list[tuple[int, str, float]] = []

    async def publish(code: int, digit: str) -> None:
        sent.append((code, digit, clock[0]))

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    sender = DtmfSender(publish, sleep=sleep, clock=lambda: clock[0])
    with caplog.at_level(logging.DEBUG, logger="ivrnav.livekit"):
        await sender.send(ACCOUNT + "#", 0.1, masked="••••••••••#")
    assert [(c, d) for c, d, _ in sent] == [(DTMF_CODES[d], d) for d in ACCOUNT + "#"]
    gaps = [round(b[2] - a[2], 6) for a, b in itertools.pairwise(sent)]
    assert gaps == [0.1] * 10
    assert ACCOUNT not in caplog.text and "••••••••••#" in caplog.text


async def test_sender_over_the_sip_bridge_paces_keys_as_the_bridge_plays_them() -> None:
    """livekit-sip plays each key for 250 ms plus a 250 ms gap: keys are published no closer than that,
    and the send (so ``DigitsSent``) ends only when the bridge has played the last one."""
    clock = [0.0]
    sent: list[tuple[str, float]] = []

    async def publish(code: int, digit: str) -> None:
        sent.append((digit, clock[0]))

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    sender = DtmfSender(publish, sleep=sleep, clock=lambda: clock[0], transport=SIP_BRIDGE)
    await sender.send("12w3", 0.15)
    assert [(d, round(t, 6)) for d, t in sent] == [("1", 0.0), ("2", 0.5), ("3", 1.5)]
    assert round(clock[0], 6) == 2.0  # the last key's tone and gap are over
    # a file asking for slower keys than the bridge's period keeps its own pacing
    assert [p.offset for p in key_schedule("12", 0.8, SIP_BRIDGE)] == [0.0, 0.8]


def test_job_metadata_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    config = WorkerConfig(stt="offline", secrets={"pin": "9876"})
    env = {"IVRNAV_VAR_ACCOUNT": ACCOUNT}
    job = parse_job(json.dumps({"menu": BANK, "goal": "fraud", "vars": {"card_last4": "1111"}}), config, env)
    assert job.goal == "fraud" and job.line_identity == "ivr-line"
    assert job.values == {"account": ACCOUNT, "pin": "9876", "card_last4": "1111"}

    inline = Path(BANK).read_text("utf-8")
    assert parse_job(json.dumps({"menu": inline}), config, {}).goal == "agent"

    with pytest.raises(JobRequestError, match=r"secret var.*account.*IVRNAV_VAR_ACCOUNT") as excinfo:
        parse_job(json.dumps({"menu": BANK, "vars": {"account": ACCOUNT}}), config, {})
    assert ACCOUNT not in str(excinfo.value)
    for bad, message in [("not json", "not JSON"), ("[]", "JSON object"), ("{}", '"menu"'),
                         (json.dumps({"menu": BANK, "goal": "nowhere"}), "not a menu"),
                         (json.dumps({"menu": BANK, "vars": {"colour": "red"}}), "unknown var"),
                         (json.dumps({"menu": BANK, "vars": {"card_last4": "12"}}), "pattern"),
                         (json.dumps({"menu": "ivrnav: 1\nname: x\n"}), "does not compile"),
                         (json.dumps({"menu": "/no/such/menu.yaml"}), "cannot read|does not compile")]:
        with pytest.raises(JobRequestError, match=message):
            parse_job(bad, config, {})


def test_keyterms_come_from_the_menu() -> None:
    terms = menu_keyterms(compile_file(BANK).menu_file)
    assert "report fraud" in terms and "credit card services" in terms and "main menu" in terms
    assert not any(t.startswith("re:") or "\\" in t for t in terms)
    assert len(terms) == len(set(terms)) <= 40


def _navigator(goal: str = "fraud") -> Navigator:
    return Navigator(compile_file(BANK).menu_file, goal, {"account": ACCOUNT, "pin": "9876"})


async def test_driver_reaches_goal_from_transcripts() -> None:
    sent: list[str] = []

    async def send(action: SendDigits) -> None:
        sent.append(action.digits)

    driver = CallDriver(_navigator("main"), send_digits=send, tick=0.02)
    run = asyncio.create_task(driver.run())
    for text in ["Thank you for calling Acme Bank.", "Calls may be monitored or recorded.", "For English, press 1."]:
        driver.transcript(text[:10], False)
        driver.transcript(text, True)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    driver.transcript("Main menu.", True)
    result = await asyncio.wait_for(run, 5)
    assert result.reached and result.final_menu == "main"
    assert sent == ["1"]
    pressed = [p for p in result.path if p.keys]
    assert pressed and pressed[0].sent_at is not None  # DigitsSent was fed back


async def test_driver_turns_failures_into_a_result_without_secrets() -> None:
    async def send(action: SendDigits) -> None:
        raise ConnectionError(f"link dropped while sending {action.digits}")  # a careless message with a secret

    nav = _navigator("verify")
    driver = CallDriver(nav, send_digits=send, tick=0.02)
    run = asyncio.create_task(driver.run())
    for text in ["Thank you for calling Acme Bank.", "Calls may be monitored or recorded.", "For English, press 1."]:
        driver.transcript(text, True)
        await asyncio.sleep(0.05)
    result = await asyncio.wait_for(run, 5)
    assert result.reason == "error" and not result.reached
    assert "ConnectionError" in result.detail
    assert result.to_json().count(ACCOUNT) == 0


async def test_driver_hangup_and_missing_speech_output() -> None:
    driver = CallDriver(_navigator(), send_digits=lambda a: asyncio.sleep(0))
    run = asyncio.create_task(driver.run())
    driver.call_ended("hangup")
    result = await asyncio.wait_for(run, 5)
    assert result.reason == "hangup"


def test_result_round_trips_through_json() -> None:
    result = simulate_call(compile_file(BANK).menu_file, goal="fraud").result
    again = result_from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()


def test_settings_and_trunk_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DialError, match="LIVEKIT_URL, LIVEKIT_API_KEY"):
        livekit_settings({})
    mf = compile_file(BANK).menu_file
    assert run_livekit_call(mf, "fraud", {}, environ={}) == 2
    assert "LIVEKIT_URL" in capsys.readouterr().err
    env = {"LIVEKIT_URL": "ws://127.0.0.1:1", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s" * 32}
    assert run_livekit_call(mf, "fraud", {}, environ=env) == 2
    assert "LIVEKIT_SIP_TRUNK_ID" in capsys.readouterr().err


def test_sip_failures_map_to_result_reasons() -> None:
    from ivrnav.livekit.sipcall import failure_reason

    assert failure_reason(408) == "no_answer"  # livekit-sip's own ringing timeout
    assert failure_reason(500, sip_status=486) == "busy"  # the far end's status wins over the API's
    assert failure_reason(None, sip_status=600) == "busy"
    assert failure_reason(None, sip_status=480) == "no_answer"
    assert failure_reason(412) == "rejected"  # livekit-sip: the callee wants credentials we lack
    assert failure_reason(None, sip_status=603) == "rejected"
    assert failure_reason(None, sip_status=499) == "rejected"  # any other 4xx/6xx refusal
    assert failure_reason(503) == "error" and failure_reason(None) == "error"


async def test_a_line_that_hangs_up_mid_sentence_is_heard_to_its_last_word_and_ends_when_it_left() -> None:
    """A VAD-cut STT finishes an utterance only on the quiet after it, which never comes once the line's audio
    stops: on the BYE its input is ended, its last transcript reaches the navigator, and then the call ends,
    stamped when the line left (not when the STT caught up)."""
    from ivrnav.livekit.ear import LineEar, end_input_when_left, hang_up_once_heard
    from ivrnav.navigate.events import CallEnded, Heard

    clock = [0.0]
    driver = CallDriver(Navigator(compile_file(BANK).menu_file, "fraud", {}), send_digits=lambda a: asyncio.sleep(0),
                        clock=lambda: clock[0])
    driver.begin()

    class HeldUtterance:  # what the STT holds at the BYE: given only when its input ends
        def __init__(self) -> None:
            self.ended = asyncio.Event()

        def end_input(self) -> None:
            self.ended.set()

    stream, left, drained = HeldUtterance(), asyncio.Event(), asyncio.Event()

    async def stt() -> None:
        await stream.ended.wait()
        clock[0] = 3.0  # decoding took a while after the BYE
        driver.transcript("Thank you for calling. Goodbye.", True)
        drained.set()

    from livekit import rtc

    ear, fed_before_the_end = LineEar(driver), []

    async def audio() -> None:  # frames received before the BYE, still queued behind it on a busy machine
        await left.wait()
        for _ in range(5):
            ear.frame(rtc.AudioFrame(bytes(320), 16000, 1, 160))
            fed_before_the_end.append(stream.ended.is_set())
            await asyncio.sleep(0.05)
        await asyncio.sleep(3600)  # then the track stays open, silent

    feeding = asyncio.create_task(audio())
    tasks = [asyncio.create_task(stt()), asyncio.create_task(end_input_when_left(left, feeding, stream, ear)),
             asyncio.create_task(hang_up_once_heard(left, drained, driver))]
    clock[0] = 1.0
    left.set()  # the BYE
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    events = [e for e in queued(driver) if isinstance(e, Heard | CallEnded)]
    assert fed_before_the_end == [False] * 5  # every queued frame reached the STT before its input ended
    assert feeding.cancelled()
    assert [type(e) for e in events] == [Heard, CallEnded] and events[0].text.endswith("Goodbye.")
    assert events[1].at == 1.0  # hung up when the line left


async def test_a_line_that_leaves_while_the_stt_never_finishes_still_ends_the_call() -> None:
    from ivrnav.livekit.ear import hang_up_once_heard
    from ivrnav.navigate.events import CallEnded

    driver = CallDriver(Navigator(compile_file(BANK).menu_file, "fraud", {}), send_digits=lambda a: asyncio.sleep(0))
    left = asyncio.Event()
    left.set()
    await asyncio.wait_for(hang_up_once_heard(left, asyncio.Event(), driver, timeout=0.05), 5)
    assert any(isinstance(e, CallEnded) for e in queued(driver))
