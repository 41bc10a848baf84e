"""Real parts the tests need (a livekit-server, offline speech models): without one, a test skips
locally but fails in CI (``CI=true``), because a CI run that silently skipped them would prove nothing."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_part(what: str, reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_speech_models() -> None:
    from ivrnav.speech.models import missing_reason

    reason = missing_reason()
    if reason is not None:
        missing_part("offline speech models", reason)
