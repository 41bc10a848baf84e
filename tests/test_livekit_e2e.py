"""End to end on a real livekit-server (127.0.0.1): the ivrnav worker (offline Whisper STT, in-process)
and the simulated line as a LiveKit participant (Piper TTS audio) in one room.

Nothing is faked between them: the line speaks audio, the worker's session transcribes it, the
navigator presses keys with publish_dtmf, the server relays them as sip_dtmf_received, the line reacts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from ivrnav.livekit.devserver import LoopbackLiveKitServer
from ivrnav.livekit.dtmf import DTMF_CODES
from ivrnav.livekit.line_participant import LineParticipant, LineReport
from ivrnav.livekit.worker import AGENT_NAME, WorkerConfig, local_worker
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.result import NavigationResult
from tests import livekit_fixtures
from tests.parts import require_speech_models

pytestmark = [pytest.mark.livekit, pytest.mark.speech]

livekit_server = livekit_fixtures.livekit_server
story = livekit_fixtures.story

MENUS = Path(__file__).resolve().parents[1] / "menus"
REGISTER_TIMEOUT = 30.0
API_TIMEOUT = 10.0
DISPATCH_ATTEMPTS = 3
AGENT_JOIN_TIMEOUT = 20.0
LINE_IDENTITY = "ivr-line"


@pytest.fixture(scope="module", autouse=True)
def speech_models() -> None:
    require_speech_models()


def line_token(server: LoopbackLiveKitServer, room: str, identity: str = LINE_IDENTITY) -> str:
    grants = api.VideoGrants(room_join=True, room=room)
    return api.AccessToken(server.api_key, server.api_secret).with_identity(identity).with_grants(grants).to_jwt()


class Results:
    """Results handed over from the worker's job threads, and the agent name that worker serves."""

    def __init__(self, agent_name: str) -> None:
        self._lock = threading.Lock()
        self.by_room: dict[str, NavigationResult] = {}
        self.agent_name = agent_name

    def add(self, result: NavigationResult, metadata: dict[str, Any]) -> None:
        with self._lock:
            self.by_room[str(metadata.get("room"))] = result

    async def wait(self, room: str, timeout: float) -> NavigationResult:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if room in self.by_room:
                    return self.by_room[room]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no navigation result for room {room} within {timeout:.0f} s")


@contextlib.asynccontextmanager
async def running_worker(server: LoopbackLiveKitServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Results]:
    # AgentServer.run writes LIVEKIT_* into os.environ; monkeypatch restores them afterwards.
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.setenv(name, "")
    # A name of its own per worker: the server may still count a previous test's closed worker as serving
    # the shared name and hand it this test's job.
    results = Results(f"{AGENT_NAME}-{secrets.token_hex(3)}")
    config = WorkerConfig(stt="offline", on_result=results.add, agent_name=results.agent_name)
    async with local_worker(config, ws_url=server.url, api_key=server.api_key, api_secret=server.api_secret,
                            register_timeout=REGISTER_TIMEOUT):
        yield results


async def dispatch(server: LoopbackLiveKitServer, room: str, menu: str, goal: str, agent_name: str) -> None:
    """Dispatch the worker to ``room`` and wait until its agent has joined.

    The server asks a worker once and does not ask again when the answer is lost or negative (seen here,
    rarely, right after a worker registers on a busy machine: "no servers available"), so an agent that
    has not joined after a while is dispatched again, as an operator's dispatcher would."""
    metadata = json.dumps({"menu": menu, "goal": goal, "line_identity": LINE_IDENTITY, "room": room})
    async with api.LiveKitAPI(server.url, server.api_key, server.api_secret) as lk:
        await asyncio.wait_for(lk.room.create_room(api.CreateRoomRequest(name=room)), API_TIMEOUT)
        for _attempt in range(DISPATCH_ATTEMPTS):
            await asyncio.wait_for(
                lk.agent_dispatch.create_dispatch(
                    api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=metadata)
                ),
                API_TIMEOUT,
            )
            deadline = time.monotonic() + AGENT_JOIN_TIMEOUT
            while time.monotonic() < deadline:
                listed = await asyncio.wait_for(
                    lk.room.list_participants(api.ListParticipantsRequest(room=room)), API_TIMEOUT
                )
                if any(p.identity.startswith("agent-") for p in listed.participants):
                    return
                await asyncio.sleep(0.5)
            for existing in await asyncio.wait_for(lk.agent_dispatch.list_dispatch(room), API_TIMEOUT):
                if existing.agent_name == agent_name:
                    await asyncio.wait_for(lk.agent_dispatch.delete_dispatch(existing.id, room), API_TIMEOUT)
    raise AssertionError(f"no agent joined room {room} after {DISPATCH_ATTEMPTS} dispatches\n"
                         f"--- livekit-server log ---\n{server.log_tail(40)}")


async def call(
    server: LoopbackLiveKitServer, results: Results, menu: str, goal: str, *, leave_after_keys: int | None = None,
    timeout: float = 75.0,
) -> tuple[NavigationResult, LineReport]:
    room = f"ivrnav-e2e-{secrets.token_hex(4)}"
    mf = compile_file(MENUS / menu).menu_file
    # wait_caller is generous: on a busy 2-core machine the job thread loads Whisper before it subscribes
    line = LineParticipant(mf, url=server.url, token=line_token(server, room), leave_after_keys=leave_after_keys,
                           max_duration=timeout, wait_caller=90)
    line_task = asyncio.create_task(line.run())
    try:
        await dispatch(server, room, str(MENUS / menu), goal, results.agent_name)
        result = await results.wait(room, timeout + 90)
    except AssertionError as exc:  # say what the server saw: a failure here is otherwise opaque
        raise AssertionError(f"{exc}\n--- livekit-server log ---\n{server.log_tail(60)}") from None
    finally:
        line.leave_after = 0.0  # ask the line to leave if it is still there
        try:
            report = await asyncio.wait_for(line_task, 30)
        except Exception as exc:
            raise AssertionError(f"line failed: {exc}\n--- livekit-server log ---\n{server.log_tail(60)}") from exc
    return result, report


def choices(keys: list[str] | str) -> list[str]:
    """The keys of a call, exactly (no repeat key tolerated: the driver reads STT lag as lag, not as the
    prompt's end; see ``ivrnav.livekit.linetime``)."""
    return keys.split() if isinstance(keys, str) else list(keys)


def pacing(report: LineReport) -> list[float]:
    return [b.at - a.at for a, b in zip(report.keys, report.keys[1:], strict=False)]


async def test_bank_fraud(livekit_server: LoopbackLiveKitServer, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_worker(livekit_server, monkeypatch) as results:
        bank, bank_line = await call(livekit_server, results, "bank.yaml", "fraud")
    assert bank.reached, (bank.reason, bank.detail, bank_line.spoken)
    assert bank.reason == "reached" and bank.final_menu == "fraud"
    assert choices(bank.digits) == ["1", "3"], story(bank, bank_line)
    assert [k.digit for k in bank_line.keys] == bank.digits.split()  # the line received exactly what was sent
    assert choices([k.digit for k in bank_line.keys]) == ["1", "3"]
    assert [k.code for k in bank_line.keys] == [DTMF_CODES[k.digit] for k in bank_line.keys]
    assert not bank_line.bad_codes
    assert bank_line.visited[-1] == "fraud"


async def test_pharmacy_hours(livekit_server: LoopbackLiveKitServer, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_worker(livekit_server, monkeypatch) as results:
        pharmacy, pharmacy_line = await call(livekit_server, results, "pharmacy.yaml", "hours")
    assert pharmacy.reached, (pharmacy.reason, pharmacy.detail, pharmacy_line.spoken)
    assert choices(pharmacy.digits) == ["1", "3"], story(pharmacy, pharmacy_line)
    assert [k.digit for k in pharmacy_line.keys] == pharmacy.digits.split()
    assert [k.code for k in pharmacy_line.keys] == [DTMF_CODES[k.digit] for k in pharmacy_line.keys]
    assert pharmacy_line.visited[-1] == "hours"


async def test_line_that_leaves_mid_call_ends_with_hangup(livekit_server: LoopbackLiveKitServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_worker(livekit_server, monkeypatch) as results:
        # The bank line leaves as soon as it has the first key: the navigator has pressed 1 and waits for
        # "fraud" (a point in the call, not in wall-clock time, so a slow machine reaches it too).
        result, line = await call(livekit_server, results, "bank.yaml", "fraud", leave_after_keys=1, timeout=40)
    assert line.ended == "left"
    assert not result.reached
    assert result.reason == "hangup", (result.reason, result.detail)
    assert result.digits == "1"


async def test_line_participant_against_unreachable_server_is_a_clear_error() -> None:
    import socket

    from livekit import rtc

    with socket.socket() as sock:  # a free port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mf = compile_file(MENUS / "bank.yaml").menu_file
    token = api.AccessToken("devkey", "x" * 32).with_identity("ivr-line").with_grants(
        api.VideoGrants(room_join=True, room="r")).to_jwt()
    line = LineParticipant(mf, url=f"ws://127.0.0.1:{port}", token=token, synthesize=lambda text, rate: _silence())
    with pytest.raises(rtc.ConnectError, match=r"(?i)refused"):
        await asyncio.wait_for(line.run(), 30)


def _silence() -> Any:
    import numpy as np

    return np.zeros(160, dtype=np.int16)


async def test_dial_out_without_sip_service_is_a_clear_error(livekit_server: LoopbackLiveKitServer,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`ivrnav run --livekit` with a worker in place: the server has no SIP service (no Redis), so placing
    the call fails, and says so, and the room is cleaned up."""
    from ivrnav.livekit.dial import run_livekit_call

    env = {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key,
           "LIVEKIT_API_SECRET": livekit_server.api_secret, "LIVEKIT_SIP_TRUNK_ID": "ST_test"}
    mf = compile_file(MENUS / "bank.yaml").menu_file
    async with running_worker(livekit_server, monkeypatch) as results:
        status = await asyncio.to_thread(run_livekit_call, mf, "fraud", {}, environ=env,
                                         agent_name=results.agent_name)
    assert status == 2
    err = capsys.readouterr().err
    assert "dialling +18005550100 through trunk ST_test failed" in err and "Traceback" not in err


RINGING_FILE = """
ivrnav: 1
name: Front desk
start: main
menus:
  main:
    prompt: Thank you for calling the front desk. To reach the reception, press 1.
    options:
      - {press: "1", says: reach the reception, to: reception}
  reception:
    prompt: It rings the reception.
    confirm: {sound: ringing}
    line: {sound: ringing, terminal: true}
"""


async def test_ringing_heard_over_livekit_confirms_a_ringing_goal(livekit_server: LoopbackLiveKitServer,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    # the line plays ringback once 1 is pressed; the worker's classifier hears it in the room's audio
    menu = tmp_path / "front_desk.yaml"
    menu.write_text(RINGING_FILE)
    async with running_worker(livekit_server, monkeypatch) as results:
        result, line = await call(livekit_server, results, str(menu), "reception", timeout=40)
    assert result.reached, (result.reason, result.detail, line.spoken)
    assert "confirmed: ringing" in result.detail
    assert [k.digit for k in line.keys] == ["1"] and line.visited[-1] == "reception"
