"""Pytest fixtures for tests that need a real livekit-server on 127.0.0.1.

Use from a test module with ``livekit_server = livekit_fixtures.livekit_server`` (after
``from tests import livekit_fixtures``); a plain ``from ... import livekit_server`` works for pytest too,
but ruff then reports each test parameter of that name as a redefinition (F811).
The binary comes from ``scripts/install-livekit-server``; without it the tests skip locally, but fail
in CI (``CI=true``), because a CI run that silently skipped the LiveKit path would prove nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ivrnav.livekit.devserver import LiveKitServerMissing, LoopbackLiveKitServer
from tests.parts import missing_part


def missing_server(reason: str) -> None:
    """Skip locally, fail in CI (design rule: CI never skips LiveKit tests)."""
    missing_part("livekit-server", reason)


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
