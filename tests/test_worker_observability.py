"""The worker in production terms, on a loopback livekit-server: one real call (offline speech), then its
Prometheus endpoint, its health endpoint, the call's OpenTelemetry span (in-memory exporter on the
framework's tracer) and its logs (no transcripts at INFO, no secrets anywhere)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import socket
import urllib.request
from collections.abc import AsyncIterator

import pytest
from livekit.agents import telemetry
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ivrnav.livekit.devserver import LoopbackLiveKitServer
from ivrnav.livekit.observe import SPAN_NAME
from ivrnav.livekit.worker import AGENT_NAME, WorkerConfig, local_worker
from tests import livekit_fixtures
from tests.parts import require_speech_models
from tests.test_livekit_e2e import REGISTER_TIMEOUT, Results, call

pytestmark = [pytest.mark.livekit, pytest.mark.speech]

livekit_server = livekit_fixtures.livekit_server
ACCOUNT = "8642097531"  # a secret the worker holds; the fraud route never enters it, but it must never leak


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value from Prometheus text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        m = re.fullmatch(rf"{re.escape(name)}\{{(.*)\}} (\S+)", line)
        if m and all(part in m.group(1).split(",") for part in want.split(",")):
            return float(m.group(2))
    return 0.0


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1 only
        return response.status, response.read().decode()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = telemetry.tracer._tracer_provider
    telemetry.set_tracer_provider(provider)
    yield exporter
    telemetry.tracer.set_provider(previous)


@contextlib.asynccontextmanager
async def observed_worker(server: LoopbackLiveKitServer, monkeypatch: pytest.MonkeyPatch,
                          metrics_port: int) -> AsyncIterator[tuple[Results, object]]:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.setenv(name, "")
    results = Results(f"{AGENT_NAME}-{secrets.token_hex(3)}")
    monkeypatch.setenv("LIVEKIT_AGENT_NAME", results.agent_name)  # the framework's variable names the worker
    config = WorkerConfig(stt="offline", on_result=results.add, secrets={"account": ACCOUNT})
    assert config.agent_name == results.agent_name
    async with local_worker(config, ws_url=server.url, api_key=server.api_key, api_secret=server.api_secret,
                            metrics_port=metrics_port, register_timeout=REGISTER_TIMEOUT) as worker:
        yield results, worker


async def test_worker_metrics_spans_health_and_logs(livekit_server: LoopbackLiveKitServer,
                                                    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    require_speech_models()
    port = free_port()
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="ivrnav")
    async with observed_worker(livekit_server, monkeypatch, port) as (results, worker):
        status, health = await asyncio.to_thread(fetch, f"http://127.0.0.1:{worker.worker_info.http_port}/")
        assert status == 200 and health == "OK"
        _, before = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/metrics")
        result, line = await call(livekit_server, results, "bank.yaml", "fraud")
        assert result.reached, (result.reason, result.detail, line.spoken)
        _, after = await asyncio.to_thread(fetch, f"http://127.0.0.1:{port}/metrics")

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("ivrnav_calls_total", menu="bank.yaml") == 1
    assert delta("ivrnav_goals_reached_total", menu="bank.yaml") == 1
    assert delta("ivrnav_keys_sent_total", menu="bank.yaml") == result.timing.keys_sent >= 2
    assert delta("ivrnav_time_to_goal_seconds_count", menu="bank.yaml") == 1
    assert delta("ivrnav_time_to_goal_seconds_sum", menu="bank.yaml") == pytest.approx(result.timing.time_to_goal)
    assert "ivrnav_failures_total" in after and "ivrnav_drift_total" in after  # declared for dashboards

    navigations = [s for s in spans.get_finished_spans() if s.name == SPAN_NAME]
    assert len(navigations) == 1
    span = navigations[0]
    attrs = dict(span.attributes or {})
    assert attrs["ivrnav.menu"] == "bank.yaml" and attrs["ivrnav.goal"] == "fraud"
    assert attrs["ivrnav.reached"] is True and attrs["ivrnav.keys"] == result.digits
    assert [k for k in result.digits.split() if k != "*"] == ["1", "3"]  # a repeat request is a retry
    assert list(attrs["ivrnav.path"])[-1] == "fraud"
    events = [e.name for e in span.events]
    assert "ivrnav.press" in events and "ivrnav.menu" in events
    heard = [e for e in span.events if e.name == "ivrnav.heard"]
    assert heard and all("ivrnav.text" not in (e.attributes or {}) for e in heard)  # words only as lk.pii.*
    everything = repr([(s.name, dict(s.attributes or {}), [dict(e.attributes or {}) for e in s.events])
                       for s in spans.get_finished_spans()])
    assert ACCOUNT not in everything

    # the navigator's records; the test IVR (ivrnav.livekit.line) logs the prompts it plays, which a clean
    # transcript repeats word for word
    ours = [r for r in caplog.records if r.name.startswith("ivrnav") and not r.name.startswith("ivrnav.livekit.line")]
    info = [r for r in ours if r.levelno >= logging.INFO]
    assert any("fraud" in r.getMessage() for r in info), "the worker logs its calls at INFO"
    words = [getattr(r, "lk.pii.transcript") for r in ours if hasattr(r, "lk.pii.transcript")]
    assert words and all(r.levelno == logging.DEBUG for r in ours if hasattr(r, "lk.pii.transcript"))
    assert not any(w in r.getMessage() for r in info for w in words if len(w) > 15)  # no transcripts at INFO
    assert not any(ACCOUNT in r.getMessage() or ACCOUNT in repr(r.__dict__) for r in caplog.records)
