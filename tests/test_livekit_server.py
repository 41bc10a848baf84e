"""A real livekit-server on 127.0.0.1: start-up, two participants, DTMF relay, clear failures."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit import api, rtc

from ivrnav.livekit.devserver import LiveKitServerError, LiveKitServerMissing, LoopbackLiveKitServer
from tests import livekit_fixtures
from tests.livekit_fixtures import missing_server

pytestmark = pytest.mark.livekit

# Bring the session fixture into this module (an assignment, so test parameters may reuse the name).
livekit_server = livekit_fixtures.livekit_server

# Every network step gets a bound: a broken server must fail a test, never hang the suite.
CONNECT_TIMEOUT = 15.0
EVENT_TIMEOUT = 10.0  # > the server's 3 s batching of participant-joined updates

# RFC 4733 event codes, as the design fixes them.
DTMF_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}


def make_token(server: LoopbackLiveKitServer, room: str, identity: str) -> str:
    grants = api.VideoGrants(room_join=True, room=room)
    return (
        api.AccessToken(server.api_key, server.api_secret)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(grants)
        .to_jwt()
    )


@contextlib.asynccontextmanager
async def joined(server: LoopbackLiveKitServer, room_name: str, identity: str) -> AsyncIterator[rtc.Room]:
    """Connect one participant; always disconnect, even when the test fails."""
    room = rtc.Room()
    await asyncio.wait_for(room.connect(server.url, make_token(server, room_name, identity)), CONNECT_TIMEOUT)
    try:
        yield room
    finally:
        await asyncio.wait_for(room.disconnect(), CONNECT_TIMEOUT)


async def wait_for_participant(room: rtc.Room, identity: str) -> rtc.RemoteParticipant:
    """Return the remote participant once the room knows it (it may have joined before or after us)."""
    arrived: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()

    def on_connected(p: rtc.RemoteParticipant) -> None:
        if p.identity == identity and not arrived.done():
            arrived.set_result(p)

    room.on("participant_connected", on_connected)
    try:
        for p in room.remote_participants.values():
            on_connected(p)
        return await asyncio.wait_for(arrived, EVENT_TIMEOUT)
    finally:
        room.off("participant_connected", on_connected)


def unique_room() -> str:
    return f"ivrnav-test-{secrets.token_hex(4)}"


async def remote_candidate_addresses(room: rtc.Room) -> set[str]:
    """Addresses of the server's ICE candidates as this client's WebRTC stack saw them."""
    stats = await asyncio.wait_for(room.get_rtc_stats(), EVENT_TIMEOUT)
    return {
        s.remote_candidate.candidate.address
        for s in [*stats.publisher_stats, *stats.subscriber_stats]
        if s.WhichOneof("stats") == "remote_candidate"
    }


async def test_server_answers_and_two_participants_join(livekit_server: LoopbackLiveKitServer) -> None:
    assert livekit_server.running
    assert livekit_server.url.startswith("ws://127.0.0.1:")
    # The server's own start-up line confirms the loopback settings took effect.
    startup = next(line for line in livekit_server.log_tail(200).splitlines() if "starting LiveKit server" in line)
    assert '"nodeIP": "127.0.0.1"' in startup
    assert '"bindAddresses": ["127.0.0.1"]' in startup
    room_name = unique_room()
    async with joined(livekit_server, room_name, "caller") as a, joined(livekit_server, room_name, "ivr") as b:
        assert a.isconnected() and b.isconnected()
        assert a.name == b.name == room_name
        # A participant that publishes nothing is announced to others in the server's 3 s batch.
        seen_by_a = await wait_for_participant(a, "ivr")
        seen_by_b = await wait_for_participant(b, "caller")
        assert seen_by_a.identity == "ivr"
        assert seen_by_b.identity == "caller"

        # The server API on the same port sees both participants too.
        async with api.LiveKitAPI(livekit_server.url, livekit_server.api_key, livekit_server.api_secret) as lk:
            listed = await asyncio.wait_for(
                lk.room.list_participants(api.ListParticipantsRequest(room=room_name)), EVENT_TIMEOUT
            )
        assert sorted(p.identity for p in listed.participants) == ["caller", "ivr"]

        # Media/data transports only ever point at the server's 127.0.0.1 candidates.
        for room in (a, b):
            addresses = await remote_candidate_addresses(room)
            assert addresses == {"127.0.0.1"}, addresses


async def test_publish_dtmf_reaches_other_participant_in_order(livekit_server: LoopbackLiveKitServer) -> None:
    room_name = unique_room()
    digits = "123#*0D"
    async with joined(livekit_server, room_name, "navigator") as a, joined(livekit_server, room_name, "line") as b:
        # The receiving SDK silently drops DTMF from a participant it does not know yet, so the
        # receiver must have seen the sender before the first key (here: immediately, A joined first).
        await wait_for_participant(b, "navigator")
        received: asyncio.Queue[tuple[rtc.SipDTMF, float]] = asyncio.Queue()
        b.on("sip_dtmf_received", lambda ev: received.put_nowait((ev, time.perf_counter())))

        sent_at: list[float] = []
        for digit in digits:
            sent_at.append(time.perf_counter())
            await asyncio.wait_for(a.local_participant.publish_dtmf(code=DTMF_CODES[digit], digit=digit), EVENT_TIMEOUT)

        got: list[tuple[int, str, str | None]] = []
        latencies: list[float] = []
        for i in range(len(digits)):
            ev, at = await asyncio.wait_for(received.get(), EVENT_TIMEOUT)
            got.append((ev.code, ev.digit, ev.participant.identity if ev.participant else None))
            latencies.append(at - sent_at[i])

        assert got == [(DTMF_CODES[d], d, "navigator") for d in digits]
        # Loopback relay is fast; a generous bound still catches a broken (e.g. TURN/timeout) path.
        assert max(latencies) < 2.0, latencies
        # The sender does not get its own DTMF back.
        assert received.empty()


async def test_async_start_and_immediate_stop_are_bounded() -> None:
    # Its own instance: stopping right after start is the case where the server can miss a SIGTERM.
    server = LoopbackLiveKitServer()
    try:
        await asyncio.wait_for(server.astart(), 30)
    except LiveKitServerMissing as exc:
        missing_server(str(exc))
    assert server.running
    log_dir = server.log_path.parent if server.log_path else None
    started = time.monotonic()
    await asyncio.wait_for(server.astop(), 15)
    assert time.monotonic() - started < 10
    assert not server.running
    assert log_dir is not None and not log_dir.exists()  # temp config (it holds the secret) is gone


async def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-livekit-server"
    with pytest.raises(LiveKitServerMissing, match="install-livekit-server") as excinfo:
        LoopbackLiveKitServer(binary=missing).start()
    assert str(missing) in str(excinfo.value)

    # The environment variable is honoured the same way, and never silently falls back to PATH.
    monkeypatch.setenv("IVRNAV_LIVEKIT_SERVER", str(missing))
    with pytest.raises(LiveKitServerMissing, match="IVRNAV_LIVEKIT_SERVER"):
        LoopbackLiveKitServer().start()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_server_fails_in_ci_and_skips_locally(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no binary"):
        missing_server("no binary")


async def test_server_that_dies_at_startup_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "livekit-server"
    fake.write_text("#!/bin/sh\necho 'could not parse config: boom' >&2\nexit 3\n")
    fake.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(LiveKitServerError, match="boom") as excinfo:
        LoopbackLiveKitServer(binary=fake, startup_timeout=10).start()
    assert "exit code 3" in str(excinfo.value)
    assert time.monotonic() - started < 10


async def test_connect_to_closed_port_fails_fast() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, with nothing listening now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = (
        api.AccessToken("devkey", "x" * 32)
        .with_identity("nobody")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .to_jwt()
    )
    room = rtc.Room()
    started = time.monotonic()
    with pytest.raises(rtc.ConnectError) as excinfo:
        await asyncio.wait_for(
            room.connect(f"ws://127.0.0.1:{port}", token, rtc.RoomOptions(connect_timeout=2.0)),
            CONNECT_TIMEOUT,
        )
    assert "refused" in excinfo.value.message.lower()  # the SDK says why, not an empty error
    assert time.monotonic() - started < CONNECT_TIMEOUT
    assert not room.isconnected()
