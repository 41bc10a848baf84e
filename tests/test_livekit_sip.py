"""Telephone calls over real SIP/RTP on 127.0.0.1: the loopback telephone (redis-server, livekit-server with
Redis, livekit-sip), the ivrnav worker (offline Whisper) dialling through an outbound trunk, and the menu's
simulated IVR answering in its own room behind an inbound trunk and dispatch rule.

Everything between the navigator and the IVR is the real path of a phone call: the worker's keys are
``publish_dtmf`` -> livekit-sip -> RFC 4733 over RTP -> livekit-sip -> ``sip_dtmf_received`` at the IVR; the
IVR's prompts are Piper audio -> G.711 RTP -> the worker's STT. Assertions are on what the line received and
what the result says, never on wall-clock durations.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from livekit import rtc

from ivrnav.livekit import line_participant, localcall
from ivrnav.livekit.devsip import LoopbackTelephone
from ivrnav.livekit.dial import DialError
from ivrnav.livekit.dtmf import DTMF_CODES, SIP_BRIDGE
from ivrnav.livekit.localcall import LocalCall, local_call
from ivrnav.livekit.sipcall import SIP_STATUS_REASONS
from ivrnav.livekit.worker import AGENT_NAME, WorkerConfig, local_worker
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.result import NavigationResult
from tests import livekit_fixtures
from tests.parts import require_speech_models

# One event loop and one worker for the module: with Redis, livekit-server v1.13.5 did not hand jobs to a
# second worker registered (under a new agent name) after the first one closed ("no servers available").
pytestmark = [pytest.mark.livekit, pytest.mark.speech, pytest.mark.asyncio(loop_scope="module")]

MENUS = Path(__file__).resolve().parents[1] / "menus"
REGISTER_TIMEOUT = 60.0
NPI, TAX_ID = "1467582930", "364812907"  # insurer.yaml's line vars: the IVR accepts exactly these


@pytest.fixture(scope="module", autouse=True)
def speech_models() -> None:
    require_speech_models()


telephone = livekit_fixtures.telephone


class Agent:
    """The module's worker: its agent name, and the navigator's own result for each caller room."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.by_room: dict[str, NavigationResult] = {}

    def add(self, result: NavigationResult, metadata: dict[str, Any]) -> None:
        with self.lock:
            self.by_room[str(metadata.get("room"))] = result

    async def result_for_last_call(self, timeout: float = 60) -> NavigationResult:
        """The worker's result of the most recent call (it reports after the dialer has hung up)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            with self.lock:
                if self.by_room:
                    return list(self.by_room.values())[-1]
            await asyncio.sleep(0.2)
        raise AssertionError("the worker reported no result")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def agent(telephone: LoopbackTelephone) -> AsyncIterator[Agent]:
    """An offline-speech worker with the insurer's secret, under an agent name of its own."""
    with pytest.MonkeyPatch.context() as mp:  # AgentServer.run writes LIVEKIT_* into os.environ
        for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
            mp.setenv(name, "")
        me = Agent(f"{AGENT_NAME}-{secrets.token_hex(3)}")
        config = WorkerConfig(stt="offline", secrets={"tax_id": TAX_ID}, agent_name=me.name, on_result=me.add)
        async with local_worker(config, ws_url=telephone.url, api_key=telephone.api_key,
                                api_secret=telephone.api_secret, register_timeout=REGISTER_TIMEOUT):
            yield me


async def call(phone: LoopbackTelephone, agent: Agent, menu: str, goal: str,
               values: dict[str, str] | None = None, **kwargs: Any) -> LocalCall:
    mf = compile_file(MENUS / menu).menu_file
    try:
        return await asyncio.wait_for(local_call(phone, mf, goal, values or {}, agent_name=agent.name, **kwargs), 300)
    except (AssertionError, TimeoutError, DialError) as exc:
        raise AssertionError(f"{exc!r}\n{phone.log_tail(80)}") from None


def story(outcome: LocalCall) -> str:
    return livekit_fixtures.story(outcome.result, outcome.line, outcome.notes)


def spacing(line: Any) -> list[float]:
    return [round(b.at - a.at, 3) for a, b in zip(line.keys, line.keys[1:], strict=False)]


async def test_insurer_provider_menu_through_a_secret_entry(telephone: LoopbackTelephone,
                                                            agent: Agent) -> None:
    """The provider path: press 2, the NPI (a public var, sent in the dispatch) and the tax ID (a secret the
    worker holds), each followed by #."""
    outcome = await call(telephone, agent, "insurer.yaml", "provider_main", {"npi": NPI})
    result, line = outcome.result, outcome.line
    assert line is not None
    assert result.reached, story(outcome)
    assert result.final_menu == "provider_main" and line.visited[-1] == "provider_main"
    # every key the navigator sent crossed the bridge as an RFC 4733 event (code and digit agree), in order
    entered = "".join(k.digit for k in line.keys)
    assert entered == result.digits.replace(" ", "").replace("•" * len(TAX_ID), TAX_ID), result.digits
    assert [k.code for k in line.keys] == [DTMF_CODES[d] for d in entered]
    assert not line.bad_codes
    assert all(k.sender and k.sender.startswith("sip_") for k in line.keys)  # from the SIP bridge, not the room
    # the secret entry reached the IVR exactly once, whole, and last
    assert entered.endswith(NPI + "#" + TAX_ID + "#") and entered.count(TAX_ID) == 1, entered
    assert TAX_ID not in result.to_json()  # the secret never reaches the result
    # within an entry the bridge plays a key every 500 ms (250 ms tone + 250 ms gap): keys published at the
    # file's 150 ms would arrive bunched behind each other, not spaced at the bridge's period
    tax_id_gaps = spacing(line)[-len(TAX_ID) - 1:]
    assert min(tax_id_gaps) >= SIP_BRIDGE.period * 0.6, tax_id_gaps


async def test_bank_fraud_over_the_telephone(telephone: LoopbackTelephone, agent: Agent) -> None:
    outcome = await call(telephone, agent, "bank.yaml", "fraud")
    result, line = outcome.result, outcome.line
    assert line is not None
    assert result.reached, story(outcome)
    received = [k.digit for k in line.keys]
    assert received == result.digits.split()  # every key sent crossed the bridge, in order
    assert received == ["1", "3"]  # exactly what a prompt reader presses: no "*" for a late transcript
    assert line.visited[-1] == "fraud"


async def test_callee_hanging_up_mid_call_ends_with_hangup(telephone: LoopbackTelephone,
                                                           agent: Agent) -> None:
    """The bank line hangs up (a BYE) as soon as it has the first key: the navigator waits for "fraud".
    The line's own room disconnect is slowed to 30 s, as a busy machine did: the BYE must not wait for it
    (it did, and the navigator pressed the key again into 20 s of silence before it heard the hang-up)."""
    disconnect = rtc.Room.disconnect

    async def slow_for_the_line(room: rtc.Room, *args: Any, **kwargs: Any) -> Any:
        if room.isconnected() and room.local_participant.identity == localcall.LINE_IDENTITY:
            await asyncio.sleep(30)
        return await disconnect(room, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rtc.Room, "disconnect", slow_for_the_line)
        mp.setattr(line_participant, "CONNECT_TIMEOUT", 60.0)  # its own bound on the disconnect: 20 s
        mp.setattr(localcall, "LINE_WAIT", 60.0)  # for the line's report after the call
        outcome = await call(telephone, agent, "bank.yaml", "fraud", leave_after_keys=1)
    assert outcome.line is not None and outcome.line.ended == "left"
    assert not outcome.result.reached
    assert outcome.result.reason == "hangup", story(outcome)
    assert outcome.result.digits == "1" and [k.digit for k in outcome.line.keys] == ["1"], story(outcome)


async def test_number_nobody_answers_is_no_answer_and_nothing_is_pressed_while_it_rings(
        telephone: LoopbackTelephone, agent: Agent) -> None:
    """It rings for 24 s: longer than the bank's 10 s no-prompt wait twice, so a navigator whose clock ran
    during ringing would have pressed '*' (the issue's symptom). It starts only when answered."""
    with agent.lock:
        agent.by_room.clear()
    outcome = await call(telephone, agent, "bank.yaml", "fraud", callee="nobody", ringing_timeout=24)
    assert outcome.line is None
    assert not outcome.result.reached
    assert outcome.result.reason == "no_answer", (outcome.result.reason, outcome.result.detail)
    navigator = await agent.result_for_last_call()
    assert navigator.digits == "" and navigator.timing.keys_sent == 0, navigator.digits
    assert navigator.reason in {"no_answer", "hangup"}, navigator.reason


async def test_call_the_callee_refuses_is_rejected(telephone: LoopbackTelephone,
                                                   agent: Agent) -> None:
    outcome = await call(telephone, agent, "bank.yaml", "fraud", callee="refuses")
    assert not outcome.result.reached
    assert outcome.result.reason == "rejected", (outcome.result.reason, outcome.result.detail)
    assert "+18005550100" in outcome.result.detail


@pytest.mark.parametrize(("status", "reason"), [(486, "busy"), (600, "busy"), (603, "rejected")])
async def test_busy_or_declining_phone(telephone: LoopbackTelephone, agent: Agent, status: int, reason: str) -> None:
    """A real SIP endpoint on 127.0.0.1 answers the INVITE with 100 Trying and ``status``; livekit-sip hands
    the dialler the SIP status (Twirp metadata ``sip_status_code``), which the table maps to the reason."""
    outcome = await call(telephone, agent, "bank.yaml", "fraud", callee="busy", busy_status=status)
    assert outcome.line is None
    assert not outcome.result.reached
    assert outcome.result.reason == reason, (outcome.result.reason, outcome.result.detail)
    assert f"SIP {status}" in outcome.result.detail and "+18005550100" in outcome.result.detail
    assert SIP_STATUS_REASONS[status] == reason



CLOSING = """\
ivrnav: 1
name: Closing clinic
phone: "+18005550188"
start: main
goal: pharmacy
menus:
  main:
    prompt: Thank you for calling the clinic. For appointments, press 1. For the pharmacy, press 2.
    options:
      - {press: "1", says: appointments, to: appointments}
      - {press: "2", says: pharmacy, to: pharmacy}
  appointments:
    prompt: Our appointment desk is open from nine to five. Goodbye.
    line: {hangup_after: true}
  pharmacy:
    prompt: The pharmacy is closed today, please call again tomorrow. Goodbye.
    listen: ["the pharmacy is closed today"]
    confirm: {hangup: true}
    line: {hangup_after: true}
"""


async def test_a_goal_the_line_says_and_then_hangs_up_on_is_reached_over_the_telephone(
        telephone: LoopbackTelephone, agent: Agent, tmp_path: Path) -> None:
    """A closing message as a goal (what discovery drafts write: ``confirm: {hangup: true}``): reached with the
    one key, whatever the line's BYE does to the words still in the STT."""
    path = tmp_path / "closing.yaml"
    path.write_text(CLOSING)
    outcome = await asyncio.wait_for(local_call(telephone, compile_file(path).menu_file, "pharmacy", {},
                                                agent_name=agent.name), 300)
    assert outcome.line is not None and outcome.line.visited[-1] == "pharmacy", story(outcome)
    assert [k.digit for k in outcome.line.keys] == ["2"], story(outcome)
    assert outcome.result.reached and outcome.result.final_menu == "pharmacy", story(outcome)
