"""A whole telephone call on this machine: ``ivrnav call-local menus/bank.yaml --goal agent``.

The loopback telephone (``devsip.LoopbackTelephone``: redis, livekit-server, livekit-sip on 127.0.0.1)
carries the call. An ``ivrnav worker`` (offline Whisper/Piper) navigates from the caller's room; the menu
file's simulated IVR (``LineParticipant``) answers in its own room, reached through an inbound trunk and
dispatch rule for the menu's ``phone``. ``dial()`` is the very code of ``ivrnav run --livekit``: only the
trunk differs. Audio crosses as G.711 RTP and keys as RFC 4733 events, through livekit-sip both ways.

``callee`` picks who is at the number: ``"ivr"`` (the menu's line answers), ``"nobody"`` (the number is
routed to a room nobody is in: it rings until the ringing timeout), ``"refuses"`` (the callee's trunk
demands credentials the caller does not have: livekit-sip rejects the INVITE) or ``"busy"`` (the call
goes through a second outbound trunk to a ``BusyPhone``, a SIP endpoint on 127.0.0.1 that answers
``busy_status``, 486 Busy Here by default; livekit-sip hands the caller that SIP status).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit import api

from ivrnav.livekit.busyphone import BusyPhone
from ivrnav.livekit.devsip import LOOPBACK, LineRoute, LoopbackTelephone
from ivrnav.livekit.dial import LiveKitSettings, dial
from ivrnav.livekit.line_participant import LineParticipant, LineReport
from ivrnav.livekit.sipcall import DEFAULT_RINGING_TIMEOUT
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.result import NavigationResult

__all__ = ["Callee", "LocalCall", "answering_line", "local_call"]

Callee = Literal["ivr", "nobody", "refuses", "busy"]
LINE_IDENTITY = "ivr"
LINE_WAIT = 30.0


@dataclass
class LocalCall:
    result: NavigationResult
    line: LineReport | None  # what the IVR heard and did (None when nobody answered)
    ivr_room: str
    notes: list[dict[str, Any]] = field(default_factory=list)  # the navigator's timeline, as the dialer got it


def _token(phone: LoopbackTelephone, room: str, identity: str) -> str:
    grants = api.VideoGrants(room_join=True, room=room)
    return api.AccessToken(phone.api_key, phone.api_secret).with_identity(identity).with_grants(grants).to_jwt()


async def _refusing_route(phone: LoopbackTelephone, number: str) -> LineRoute:
    """A callee whose trunk wants a password our outbound trunk does not have (a real SIP 407)."""
    async with phone.api() as lk:
        trunk = await lk.sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(trunk=api.SIPInboundTrunkInfo(
            name=f"refuses {number}", numbers=[number], allowed_addresses=[f"{LOOPBACK}/32"],
            auth_username="ivrnav", auth_password=secrets.token_hex(12))))
    return LineRoute(number, "", trunk.sip_trunk_id, "")


async def _hang_up_when_the_line_leaves(phone: LoopbackTelephone, line: LineParticipant,
                                        line_task: asyncio.Task[LineReport],
                                        dial_task: asyncio.Task[NavigationResult], ivr_room: str) -> None:
    """Wait for the first of the two ends to finish. An IVR that hangs up (or leaves) closes its room, so
    livekit-sip ends the SIP call with a BYE as a real line would; a participant merely leaving the room
    would leave the call up, silent. An IVR that could not even start ends the dial with its error."""
    await _until_hung_up(line, line_task, dial_task)
    if dial_task.done():
        return
    if line_task.done() and line_task.exception() is not None:
        dial_task.cancel()
        line_task.result()  # raises: say why
    await _close_room(phone, ivr_room)


async def _until_hung_up(line: LineParticipant, *tasks: asyncio.Future[Any]) -> None:
    """Until the line hangs up (its room may close: it need not have disconnected yet) or a task ends."""
    hung_up = asyncio.ensure_future(line.hung_up.wait())
    try:
        await asyncio.wait({hung_up, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hung_up.cancel()


async def _close_room(phone: LoopbackTelephone, room: str) -> None:
    async with phone.api() as lk:
        with contextlib.suppress(api.TwirpError):
            await lk.room.delete_room(api.DeleteRoomRequest(room=room))


async def local_call(
    phone: LoopbackTelephone,
    menu_file: MenuFile,
    goal: str,
    values: Mapping[str, str],
    *,
    agent_name: str,
    callee: Callee = "ivr",
    on_note: Callable[[dict[str, Any]], None] | None = None,
    on_line_event: Callable[[str, str], None] | None = None,
    line_vars: Mapping[str, str] | None = None,
    leave_after: float | None = None,
    leave_after_keys: int | None = None,
    ringing_timeout: float = DEFAULT_RINGING_TIMEOUT,
    synthesize: Callable[[str, int], Any] | None = None,
    busy_status: int = 486,
) -> LocalCall:
    """Dial ``menu_file``'s phone through the loopback telephone with a running ``agent_name`` worker."""
    number = menu_file.phone or "+18005550100"
    ivr_room = f"ivr-{secrets.token_hex(4)}"
    busy: BusyPhone | None = None
    route: LineRoute | None = None
    if callee == "busy":
        busy = BusyPhone(busy_status).start()
        trunk = await phone.outbound_trunk_to(busy.address, "ivrnav-busy")
    else:
        trunk = await phone.outbound_trunk()
        route = await (_refusing_route(phone, number) if callee == "refuses" else phone.route(number, ivr_room))
    line: LineParticipant | None = None
    notes: list[dict[str, Any]] = []
    line_task: asyncio.Task[LineReport] | None = None
    dial_task: asyncio.Task[NavigationResult] | None = None
    try:
        if callee == "ivr":
            line = LineParticipant(menu_file, url=phone.url, token=_token(phone, ivr_room, LINE_IDENTITY),
                                   vars=dict(line_vars) if line_vars is not None else None, leave_after=leave_after,
                                   leave_after_keys=leave_after_keys, max_duration=menu_file.defaults.max_call,
                                   wait_caller=ringing_timeout + 120,
                                   on_event=on_line_event, synthesize=synthesize)
            line_task = asyncio.create_task(line.run(), name="ivrnav-line")
        settings = LiveKitSettings(phone.url, phone.api_key, phone.api_secret)

        def note(data: dict[str, Any]) -> None:
            notes.append(data)
            if on_note is not None:
                on_note(data)

        dial_task = asyncio.create_task(dial(menu_file, goal, values, settings=settings, trunk=trunk, on_note=note,
                                             agent_name=agent_name, ringing_timeout=ringing_timeout))
        if line_task is not None:
            await _hang_up_when_the_line_leaves(phone, line, line_task, dial_task, ivr_room)
        result = await dial_task
        report: LineReport | None = None
        if line is not None and line_task is not None:
            line.leave_after = 0.0  # the navigator is done: the IVR leaves if it has not hung up
            report = await asyncio.wait_for(line_task, LINE_WAIT)
        return LocalCall(result, report, ivr_room, notes)
    finally:
        if dial_task is not None and not dial_task.done():
            dial_task.cancel()
            with contextlib.suppress(BaseException):
                await dial_task
        if line_task is not None and not line_task.done():
            line_task.cancel()
            with contextlib.suppress(BaseException):
                await line_task
        if busy is not None:
            busy.stop()
            with contextlib.suppress(Exception):
                async with phone.api() as lk:
                    await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk))
        if route is not None:
            with contextlib.suppress(Exception):
                await phone.unroute(route)


@contextlib.asynccontextmanager
async def answering_line(phone: LoopbackTelephone, menu_file: MenuFile, *, number: str,
                         reports: list[LineReport] | None = None, line_vars: Mapping[str, str] | None = None,
                         on_line_event: Callable[[str, str], None] | None = None,
                         wait_caller: float = DEFAULT_RINGING_TIMEOUT + 120) -> AsyncIterator[LineParticipant]:
    """For one call: ``menu_file``'s simulated IVR behind ``number`` on the loopback telephone (an inbound
    trunk and dispatch rule to a room of its own). Its hang-up closes that room, so the caller's SIP leg
    gets a BYE as from a real line. After the call its ``LineReport`` is appended to ``reports``."""
    ivr_room = f"ivr-{secrets.token_hex(4)}"
    route = await phone.route(number, ivr_room)
    line = LineParticipant(menu_file, url=phone.url, token=_token(phone, ivr_room, LINE_IDENTITY),
                           vars=dict(line_vars) if line_vars is not None else None,
                           max_duration=menu_file.defaults.max_call, wait_caller=wait_caller, on_event=on_line_event)
    line_task = asyncio.create_task(line.run(), name="ivrnav-line")

    async def close_room_after_the_line() -> None:
        await _until_hung_up(line, line_task)
        await _close_room(phone, ivr_room)

    closer = asyncio.create_task(close_room_after_the_line())
    try:
        yield line
        line.leave_after = 0.0  # the caller is done: the IVR leaves if it has not hung up
        report = await asyncio.wait_for(asyncio.shield(line_task), LINE_WAIT)
        if reports is not None:
            reports.append(report)
    finally:
        for task in (line_task, closer):
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await phone.unroute(route)


async def _with_worker(phone: LoopbackTelephone, secrets_: Mapping[str, str], body: Callable[[str], Any]) -> Any:
    """Run ``body(agent_name)`` with an in-process offline worker registered on ``phone``."""
    from ivrnav.livekit.worker import AGENT_NAME, WorkerConfig, local_worker

    name = f"{AGENT_NAME}-local-{secrets.token_hex(3)}"
    async with local_worker(WorkerConfig(stt="offline", secrets=dict(secrets_), agent_name=name),
                            ws_url=phone.url, api_key=phone.api_key, api_secret=phone.api_secret):
        return await body(name)


# What the LiveKit SDKs log on every local call while nothing is wrong: the worker's first job before its
# process pool warmed up, and the data channels and handles of participants leaving at the end.
_TEARDOWN_NOISE = ("no warmed process available for job", "data channel '_reliable' closed unexpectedly",
                   "data channel '_lossy' closed unexpectedly", "data channel '_data_track' closed unexpectedly",
                   "Attempted to drop unknown FFI handle")


def _teardown_noise(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(noise in message for noise in _TEARDOWN_NOISE)


def run_local_call(menu_file: MenuFile, goal: str, values: Mapping[str, str], *, as_json: bool = False) -> int:
    """The ``ivrnav call-local`` command: a full call over the loopback telephone. Exit 0 reached, 1 not,
    2 the telephone could not be set up (parts missing: see the message)."""
    import os
    import sys
    import time

    from rich.console import Console
    from rich.markup import escape

    from ivrnav.livekit.devserver import LiveKitServerError

    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    # the file's own line vars let a demo run without --var; given values win
    given = {**dict(menu_file.line.vars), **dict(values)}
    public = {k: v for k, v in given.items() if k not in menu_file.secret_vars}
    hidden = {k: v for k, v in given.items() if k in menu_file.secret_vars}
    logging.basicConfig(level=logging.WARNING if not os.environ.get("IVRNAV_DEBUG") else logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_teardown_noise)
    t0 = time.monotonic()

    def nav(note: dict[str, Any]) -> None:
        if not as_json:
            out.print(f"[dim]{float(note.get('at', 0)):7.2f}s[/] [cyan]{note.get('note', ''):>6}[/]  "
                      + escape(str(note.get("text", ""))))

    def ivr(kind: str, text: str) -> None:
        if not as_json:
            out.print(f"[dim]{time.monotonic() - t0:7.2f}s[/] [magenta]{'ivr ' + kind:>9}[/]  {escape(text)}")

    try:
        with LoopbackTelephone() as phone:
            if not as_json:
                out.print(f"[bold]{menu_file.name}[/]: calling {menu_file.phone} over the loopback telephone "
                          f"(livekit-sip on 127.0.0.1:{phone.sip_port}) to reach [bold]{goal}[/]")
                out.print("[dim]navigator times: seconds since the IVR answered; ivr: since the call began[/]")
            call: LocalCall = asyncio.run(_with_worker(phone, hidden, lambda agent: local_call(
                phone, menu_file, goal, public, agent_name=agent, on_note=nav, on_line_event=ivr)))
    except (LiveKitServerError, OSError) as exc:
        err.print(f"[red]error:[/] the loopback telephone could not start: {escape(str(exc))}")
        return 2
    result = call.result
    if as_json:
        sys.stdout.write(result.to_json(indent=2) + "\n")
    else:
        # the line knows the real digits; mask those the navigator sent as secret (its masked record aligns)
        masked = result.digits.replace(" ", "")
        keys = "".join(k.digit if i < len(masked) and masked[i] != "•" else "•"
                       for i, k in enumerate(call.line.keys if call.line else []))
        out.print(f"IVR received (RFC 4733 over RTP): {keys or 'no keys'}")
        if result.reached:
            out.print(f"[bold green]REACHED[/] {result.goal} ({result.timing.keys_sent} keys; keys sent: "
                      f"{result.digits or 'none'})")
        else:
            out.print(f"[bold red]FAILED[/] ({result.reason}) {escape(result.detail)}")
    return 0 if result.reached else 1
