"""Production observability of real calls: Prometheus metrics and OpenTelemetry spans.

Metrics live in prometheus_client's default registry, which the livekit-agents worker serves on
``/metrics`` when started with ``prometheus_port`` (``ivrnav worker --metrics-port``); labels are the menu
file (``bank.yaml``; bounded by the files a deployment serves) and, for failures and drift, the reason or
kind. Spans go through livekit-agents' tracer (``livekit.agents.telemetry.tracer``), so they join the
session's trace and reach whatever provider the application set with ``telemetry.set_tracer_provider``.

Nothing secret is recorded: keys are the masked digits, details the navigator's redacted text, and the
line's words only as the framework's PII attribute (``lk.pii.transcript``), which its span processors
drop before any exporter that may not receive conversational content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from livekit.agents.telemetry import tracer
from opentelemetry import trace
from prometheus_client import Counter, Histogram

from ivrnav.menu.model import MenuFile
from ivrnav.navigate.navigator import Note
from ivrnav.navigate.result import NavigationResult

__all__ = ["SPAN_NAME", "menu_label", "navigation_span", "record_result"]

SPAN_NAME = "ivrnav.navigate"
TIME_BUCKETS = (5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0, 1800.0)

CALLS = Counter("ivrnav_calls", "Navigations finished (reached or not)", ["menu"])
REACHED = Counter("ivrnav_goals_reached", "Navigations that reached their goal", ["menu"])
FAILURES = Counter("ivrnav_failures", "Navigations that did not reach their goal, by reason", ["menu", "reason"])
TIME_TO_GOAL = Histogram("ivrnav_time_to_goal_seconds", "Call time until the goal was reached", ["menu"],
                         buckets=TIME_BUCKETS)
RETRIES = Counter("ivrnav_retries", "Retry-ladder steps taken (wait, press again, slower, operator)", ["menu"])
DRIFT = Counter("ivrnav_drift", "Differences between the line and its menu file, by kind", ["menu", "kind"])
KEYS = Counter("ivrnav_keys_sent", "DTMF keys sent", ["menu"])


def menu_label(menu_file: MenuFile | None) -> str:
    """The metric label of a menu file: its file name, or its ``name`` for inline (metadata) menus."""
    if menu_file is None:
        return "unknown"
    path = menu_file.path or ""
    return Path(path).name if path and not path.startswith("<") else menu_file.name


def record_result(menu_file: MenuFile | None, result: NavigationResult) -> None:
    """Count one finished navigation."""
    menu = menu_label(menu_file)
    CALLS.labels(menu).inc()
    timing = result.timing
    if result.reached:
        REACHED.labels(menu).inc()
        if timing.time_to_goal is not None:
            TIME_TO_GOAL.labels(menu).observe(timing.time_to_goal)
    else:
        FAILURES.labels(menu, result.reason or "unknown").inc()
    if timing.retries:
        RETRIES.labels(menu).inc(timing.retries)
    if timing.keys_sent:
        KEYS.labels(menu).inc(timing.keys_sent)
    for drift in result.drift:
        DRIFT.labels(menu, drift.kind).inc()


def result_attributes(result: NavigationResult) -> dict[str, Any]:
    timing = result.timing
    attrs: dict[str, Any] = {
        "ivrnav.reached": result.reached,
        "ivrnav.reason": result.reason,
        "ivrnav.detail": result.detail,  # redacted by the navigator
        "ivrnav.final_menu": result.final_menu or "",
        "ivrnav.keys": result.digits,  # secret entries masked
        "ivrnav.keys_sent": timing.keys_sent,
        "ivrnav.retries": timing.retries,
        "ivrnav.drift": len(result.drift),
        "ivrnav.drift_kinds": sorted({d.kind for d in result.drift}),
        "ivrnav.path": [p.menu for p in result.path],
    }
    if timing.time_to_goal is not None:
        attrs["ivrnav.time_to_goal"] = timing.time_to_goal
    return attrs


class NavigationSpan:
    """The span of one navigation: notes become events, the result its attributes and status."""

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def note(self, note: Note) -> None:
        if note.kind == "heard":  # the line's words: only as the framework's PII attribute
            self.span.add_event("ivrnav.heard", {"ivrnav.at": note.at, "lk.pii.transcript": note.text})
        else:
            self.span.add_event(f"ivrnav.{note.kind}", {"ivrnav.at": note.at, "ivrnav.text": note.text})

    def finish(self, result: NavigationResult) -> None:
        self.span.set_attributes(result_attributes(result))
        if result.reached:
            self.span.set_status(trace.Status(trace.StatusCode.OK))
        else:
            self.span.set_status(trace.Status(trace.StatusCode.ERROR, result.reason))


@contextmanager
def navigation_span(menu_file: MenuFile, goal: str) -> Iterator[NavigationSpan]:
    attributes = {"ivrnav.menu": menu_label(menu_file), "ivrnav.menu_name": menu_file.name, "ivrnav.goal": goal}
    with tracer.start_as_current_span(SPAN_NAME, attributes=attributes) as span:
        yield NavigationSpan(span)
