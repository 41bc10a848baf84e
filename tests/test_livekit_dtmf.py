"""The DTMF sender and the dialler against a real livekit-server on 127.0.0.1 (no speech models needed)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from livekit import rtc

from ivrnav.livekit.devserver import LoopbackLiveKitServer
from ivrnav.livekit.dial import run_livekit_call
from ivrnav.livekit.dtmf import DTMF_CODES, DtmfSender
from ivrnav.menu.compiler import compile_file
from tests import livekit_fixtures
from tests.test_livekit_server import joined, unique_room, wait_for_participant

pytestmark = pytest.mark.livekit

livekit_server = livekit_fixtures.livekit_server

BANK = Path(__file__).resolve().parents[1] / "menus" / "bank.yaml"


async def test_sender_codes_and_pacing_through_the_server(livekit_server: LoopbackLiveKitServer) -> None:
    """Keys through the real server arrive as RFC 4733 codes, in order, from the sender. The
    pacing is the sender's plan on its own clock (a virtual one here): what a wall clock would measure on a
    busy machine is the scheduler, not the sender."""
    room_name = unique_room()
    async with joined(livekit_server, room_name, "navigator") as a, joined(livekit_server, room_name, "line") as b:
        await wait_for_participant(b, "navigator")  # DTMF from a participant b does not know is dropped
        await wait_for_participant(a, "line")
        received: asyncio.Queue[rtc.SipDTMF] = asyncio.Queue()
        b.on("sip_dtmf_received", received.put_nowait)
        clock = [0.0]
        published: list[str] = []

        async def publish(code: int, digit: str) -> None:
            published.append(digit)
            await a.local_participant.publish_dtmf(code=code, digit=digit)

        async def sleep(seconds: float) -> None:
            clock[0] += seconds
            await asyncio.sleep(0)

        sender = DtmfSender(publish, sleep=sleep, clock=lambda: clock[0])
        sent = await asyncio.wait_for(sender.send("12w3W#*", 0.15, masked="12w3W#*"), 10)
        got = [await asyncio.wait_for(received.get(), 10) for _ in range(5)]
    assert [(ev.code, ev.digit) for ev in got] == [(DTMF_CODES[d], d) for d in "123#*"]
    assert published == list("123#*")
    assert all(ev.participant is not None and ev.participant.identity == "navigator" for ev in got)
    # inter-digit 0.15 s, + 0.5 s for w, + 1 s for W: the plan the sender kept
    assert [round(b - a, 6) for a, b in itertools.pairwise(sent)] == [0.15, 0.65, 1.15, 0.15]


def test_dial_without_a_worker_is_a_clear_error(livekit_server: LoopbackLiveKitServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    env = {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key,
           "LIVEKIT_API_SECRET": livekit_server.api_secret, "LIVEKIT_SIP_TRUNK_ID": "ST_test"}
    mf = compile_file(BANK).menu_file
    assert run_livekit_call(mf, "fraud", {}, environ=env, join_timeout=2.0) == 2
    err = capsys.readouterr().err
    assert "no `ivrnav` worker took the call" in err and "Traceback" not in err


def test_dial_with_wrong_secret_and_unreachable_server(livekit_server: LoopbackLiveKitServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    mf = compile_file(BANK).menu_file
    env = {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key,
           "LIVEKIT_API_SECRET": "y" * 48, "LIVEKIT_SIP_TRUNK_ID": "ST_test"}
    assert run_livekit_call(mf, "fraud", {}, environ=env) == 2
    assert "LIVEKIT_API_SECRET" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["LIVEKIT_URL"] = f"ws://127.0.0.1:{port}"
    assert run_livekit_call(mf, "fraud", {}, environ=env) == 2
    assert "cannot reach the LiveKit server" in capsys.readouterr().err
