"""``python -m bench.sip``: a phone call over SIP against the room-only path, on one loopback stack.

Both paths use the same livekit-server, the same in-process ``ivrnav worker`` (offline Whisper) and the
same simulated IVR (``LineParticipant``, Piper audio). The *room* path puts the IVR in the navigator's
room (keys relayed by the server as ``sip_dtmf_received``); the *SIP* path dials it through livekit-sip
(outbound trunk -> SIP/RTP on 127.0.0.1 -> inbound trunk -> the IVR's room; keys as RFC 4733 events).

Measured per call: **key delivery delay** (from the moment the navigator starts sending a key string to
the IVR receiving its first key; both clocks are this process's monotonic clock, since worker and IVR
run here) and **time to goal** (navigator seconds from the answer to the goal, and the whole call's
wall time from dialling to the result). Results and SIP/room ratios go to bench/results/sip.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import secrets
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from livekit import api

from ivrnav.livekit.devsip import LoopbackTelephone
from ivrnav.livekit.dial import LINE_IDENTITY
from ivrnav.livekit.line_participant import LineParticipant
from ivrnav.livekit.localcall import local_call
from ivrnav.livekit.worker import AGENT_NAME, WorkerConfig, local_worker
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.result import NavigationResult

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "sip.json"
DOCS = ROOT / "docs" / "benchmarks.md"
HEADING = "## SIP against the room-only path"
CALLS = (("bank.yaml", "fraud"), ("pharmacy.yaml", "hours"))


class KeySends(logging.Handler):
    """When the navigator starts sending each key string (the driver logs ``keys <masked>`` then)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self._guard = threading.Lock()  # not ``self.lock``: logging.Handler holds that one around emit()
        self.starts: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("keys "):
            with self._guard:
                self.starts.append(time.monotonic())

    def take(self) -> list[float]:
        with self._guard:
            out, self.starts = self.starts, []
        return out


def first_key_delays(sends: list[float], received: list[float]) -> list[float]:
    """For each send, the delay until the IVR's first key received after it started."""
    delays = []
    for start in sends:
        later = [t for t in received if t >= start]
        if later:
            delays.append(later[0] - start)
    return delays


async def room_call(phone: LoopbackTelephone, agent: str, results: dict[str, NavigationResult], menu: str,
                    goal: str, keys_at: list[float]) -> NavigationResult:
    """The IVR in the navigator's own room: no SIP at all."""
    room = f"bench-room-{secrets.token_hex(4)}"
    mf = compile_file(ROOT / "menus" / menu).menu_file
    token = (api.AccessToken(phone.api_key, phone.api_secret).with_identity(LINE_IDENTITY)
             .with_grants(api.VideoGrants(room_join=True, room=room)).to_jwt())
    line = LineParticipant(mf, url=phone.url, token=token, wait_caller=120, max_duration=300,
                           on_event=lambda kind, _t: keys_at.append(time.monotonic()) if kind == "key" else None)
    task = asyncio.create_task(line.run())
    meta = json.dumps({"menu": str(ROOT / "menus" / menu), "goal": goal, "line_identity": LINE_IDENTITY,
                       "room": room})
    async with phone.api() as lk:
        await lk.room.create_room(api.CreateRoomRequest(name=room))
        await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name=agent, room=room,
                                                                               metadata=meta))
        deadline = time.monotonic() + 300
        while room not in results and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        line.leave_after = 0.0
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        with contextlib.suppress(Exception):
            await lk.room.delete_room(api.DeleteRoomRequest(room=room))
    if room not in results:
        return NavigationResult(reached=False, goal=goal, reason="timeout", detail="no result from the worker")
    return results[room]


@contextlib.asynccontextmanager
async def _worker(phone: LoopbackTelephone, on_result: Any) -> Any:
    name = f"{AGENT_NAME}-bench-{secrets.token_hex(3)}"
    async with local_worker(WorkerConfig(stt="offline", agent_name=name, on_result=on_result),
                            ws_url=phone.url, api_key=phone.api_key, api_secret=phone.api_secret):
        yield name


async def main_async(repeats: int) -> dict[str, Any]:
    sends = KeySends()
    logging.getLogger("ivrnav.livekit.driver").addHandler(sends)
    logging.getLogger("ivrnav.livekit.driver").setLevel(logging.INFO)
    rows: list[dict[str, Any]] = []
    results: dict[str, NavigationResult] = {}
    lock = threading.Lock()

    def on_result(result: NavigationResult, metadata: dict[str, Any]) -> None:
        with lock:
            results[str(metadata.get("room"))] = result

    for _ in range(repeats):
        for menu, goal in CALLS:
            for path in ("room", "sip"):
                # A fresh telephone and worker per call: under Redis, livekit-server v1.13.5 handed no job
                # to a worker registered after another closed, and one call's slow shutdown must not
                # weigh on the next. Startup (< 1 s and a worker registration) is outside the timings.
                with LoopbackTelephone() as phone:
                    async with _worker(phone, on_result) as name:
                        keys_at: list[float] = []
                        sends.take()
                        started = time.monotonic()
                        if path == "sip":
                            mf = compile_file(ROOT / "menus" / menu).menu_file
                            call = await local_call(phone, mf, goal, {}, agent_name=name, on_line_event=lambda k, _t,
                                                    acc=keys_at: acc.append(time.monotonic()) if k == "key" else None)
                            result = call.result
                        else:
                            result = await room_call(phone, name, results, menu, goal, keys_at)
                        wall = time.monotonic() - started
                delays = first_key_delays(sends.take(), keys_at)
                row = {"path": path, "menu": menu, "goal": goal, "reached": result.reached,
                       "reason": result.reason, "detail": result.detail, "keys": len(keys_at),
                       "key_delay": delays, "time_to_goal": result.timing.goal_at, "call_wall": round(wall, 3)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return summarise(rows)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by: dict[str, dict[str, Any]] = {}
    for path in ("room", "sip"):
        mine = [r for r in rows if r["path"] == path]
        delays = [d for r in mine for d in r["key_delay"]]
        ttg = [r["time_to_goal"] for r in mine if r["reached"] and r["time_to_goal"] is not None]
        by[path] = {"calls": len(mine), "reached": sum(r["reached"] for r in mine),
                    "key_delay_median": _median(delays), "key_delay_max": round(max(delays), 3) if delays else None,
                    "time_to_goal_median": _median(ttg), "call_wall_median": _median([r["call_wall"] for r in mine])}

    def ratio(key: str) -> float | None:
        a, b = by["sip"][key], by["room"][key]
        return round(a / b, 2) if a and b else None

    per_menu = {}
    for menu, goal in CALLS:
        ttg = {r["path"]: r["time_to_goal"] for r in rows if r["menu"] == menu and r["reached"]}
        delay = {p: _median([d for r in rows if r["menu"] == menu and r["path"] == p for d in r["key_delay"]])
                 for p in ("room", "sip")}
        per_menu[f"{menu}:{goal}"] = {
            "time_to_goal": {p: round(ttg[p], 3) if p in ttg else None for p in ("room", "sip")},
            "time_to_goal_ratio": round(ttg["sip"] / ttg["room"], 2) if ttg.get("sip") and ttg.get("room") else None,
            "key_delay_median": delay,
            "keys": {p: sum(r["keys"] for r in rows if r["menu"] == menu and r["path"] == p) for p in ("room", "sip")},
            "key_delay_ratio": round(delay["sip"] / delay["room"], 2) if delay["sip"] and delay["room"] else None}
    return {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
            "calls": rows, "summary": by, "per_menu": per_menu,
            "ratios_sip_over_room": {k: ratio(k) for k in ("key_delay_median", "time_to_goal_median",
                                                           "call_wall_median")}}


def _fmt(value: float | None, unit: str = " s") -> str:
    return "n/a" if value is None else f"{value:.2f}{unit}"


def section(report: dict[str, Any]) -> list[str]:
    """The docs/benchmarks.md section (``bench.report.write_docs`` keeps it when it rewrites the file)."""
    by, ratios = report["summary"], report["ratios_sip_over_room"]
    lines = [HEADING, "",
             "`python -m bench.sip` (raw numbers in `bench/results/sip.json`): the same worker (offline Whisper) and",
             "simulated IVR (Piper) on one loopback livekit-server, the IVR either in the navigator's room (*room*:",
             "keys relayed by the server) or behind livekit-sip (*SIP*: outbound trunk -> SIP/RTP, G.711 and RFC 4733",
             "on 127.0.0.1 -> inbound trunk). Key delay: from the navigator starting a key string to the IVR",
             "receiving its first key. Time to goal: navigator seconds from the answer. One run on the shared 2-core",
             "machine (other jobs running), so single measurements.", "",
             "| path | calls | reached | key delay median | key delay max | time to goal median | call wall median |",
             "|---|---|---|---|---|---|---|"]
    for path in ("room", "sip"):
        b = by[path]
        lines.append(f"| {path} | {b['calls']} | {b['reached']} | {_fmt(b['key_delay_median'])} | "
                     f"{_fmt(b['key_delay_max'])} | {_fmt(b['time_to_goal_median'])} | {_fmt(b['call_wall_median'])} |")
    lines += ["", "| call | time to goal room | time to goal SIP | SIP / room | key delay room | key delay SIP "
              "| SIP / room | keys room / SIP |",
              "|---|---|---|---|---|---|---|---|"]
    for name, m in report.get("per_menu", {}).items():
        t, d = m["time_to_goal"], m["key_delay_median"]
        lines.append(f"| {name} | {_fmt(t['room'])} | {_fmt(t['sip'])} | {_fmt(m['time_to_goal_ratio'], 'x')} | "
                     f"{_fmt(d['room'])} | {_fmt(d['sip'])} | {_fmt(m['key_delay_ratio'], 'x')} | "
                     f"{m['keys']['room']} / {m['keys']['sip']} |")
    lines += ["", "SIP / room: key delay " + _fmt(ratios["key_delay_median"], "x") + ", time to goal "
              + _fmt(ratios["time_to_goal_median"], "x") + ", call wall time " + _fmt(ratios["call_wall_median"], "x")
              + ". A call with more keys than its route needs retried (a key again or a repeat); its time to goal"
              " counts the retries. The bridge adds RTP jitter buffering to the audio (so the STT hears later)",
              "and plays each key as a 250 ms RFC 4733 event plus a 250 ms gap, so an entry of n keys needs",
              "n x 0.5 s on the wire.", ""]
    return lines


def write_section(report: dict[str, Any]) -> None:
    from bench.report import replace_section

    replace_section(DOCS, HEADING, section(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="calls per menu and path")
    args = parser.parse_args()
    report = asyncio.run(main_async(args.repeats))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    write_section(report)
    print(json.dumps({"summary": report["summary"], "ratios_sip_over_room": report["ratios_sip_over_room"]}, indent=2))


if __name__ == "__main__":
    main()
