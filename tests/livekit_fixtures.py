"""Pytest fixtures for tests that need a real livekit-server on 127.0.0.1.

Use from a test module with ``livekit_server = livekit_fixtures.livekit_server`` (after
``from tests import livekit_fixtures``); a plain ``from ... import livekit_server`` works for pytest too,
but ruff then reports each test parameter of that name as a redefinition (F811).
The binary comes from ``scripts/install-livekit-server``; without it the tests skip locally, but fail
in CI (``CI=true``), because a CI run that silently skipped the LiveKit path would prove nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ivrnav.livekit.devserver import LiveKitServerMissing, LoopbackLiveKitServer
from ivrnav.livekit.devsip import LoopbackTelephone
from ivrnav.livekit.line_participant import LineReport
from ivrnav.navigate.result import NavigationResult
from tests.parts import missing_part


def story(result: NavigationResult, line: LineReport | None, notes: list[dict[str, Any]] | None = None) -> str:
    """What happened on a call, for a failure message: the navigator's path, drift and timing, its timeline
    notes (what it heard and decided, when given), what the line said and which keys it received when (None:
    no line answered)."""
    heard = [f"  {n.get('at')} {n.get('note')}: {n.get('text')}" for n in notes or ()]
    return "\n".join([f"result: {result.reason} {result.detail} digits={result.digits!r}", *map(str, result.path),
                      *heard,
                      *map(str, result.drift), f"timing: {result.timing}",
                      *(map(str, line.spoken) if line else []),
                      f"line keys: {[(k.digit, round(k.at, 2)) for k in line.keys] if line else None}",
                      f"line ended: {line.ended if line else None}"])


def queued(driver: Any) -> list:
    """The events a ``CallDriver`` has queued for its navigator (taken off the queue)."""
    out = []
    while not driver._events.empty():
        out.append(driver._events.get_nowait())
    return out


def missing_server(reason: str) -> None:
    """Skip locally, fail in CI (design rule: CI never skips LiveKit tests)."""
    missing_part("livekit-server", reason)


@pytest.fixture(scope="module")
def telephone() -> Iterator[LoopbackTelephone]:
    """A loopback telephone (redis-server, livekit-server with Redis, livekit-sip) for one test module."""
    phone = LoopbackTelephone()
    try:
        phone.start()
    except LiveKitServerMissing as exc:  # also livekit-sip / redis-server missing (SipPartMissing)
        missing_part("livekit-sip / redis-server / livekit-server", str(exc))
    try:
        yield phone
    finally:
        phone.stop()


@pytest.fixture(scope="session")
def livekit_server() -> Iterator[LoopbackLiveKitServer]:
    """One loopback livekit-server for the whole test session (startup costs ~0.5 s)."""
    server = LoopbackLiveKitServer()
    try:
        server.start()
    except LiveKitServerMissing as exc:
        missing_server(str(exc))
    try:
        yield server
    finally:
        server.stop()
