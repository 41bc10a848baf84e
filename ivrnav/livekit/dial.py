"""``ivrnav run FILE --livekit``: place a real call through LiveKit and an ``ivrnav worker``.

Steps: create a room, dispatch the worker (agent ``ivrnav``) with the menu inline in the job metadata
(so the worker needs no copy of the file), join the room as a hidden observer to receive the worker's
timeline and result (data topics ``ivrnav.timeline`` / ``ivrnav.result``), dial the menu's ``phone``
through a SIP outbound trunk (``create_sip_participant``), print the timeline as it arrives, print the
result, and hang up by deleting the room.

Secrets never travel in metadata: secret vars must be in the worker's environment or secrets file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.duration_pb2 import Duration
from livekit import api, rtc
from rich.console import Console
from rich.markup import escape

from ivrnav.livekit.sipcall import DEFAULT_RINGING_TIMEOUT, failure_reason
from ivrnav.livekit.worker import AGENT_NAME, LISTENING, RESULT_TOPIC, STATE_ATTRIBUTE, TIMELINE_TOPIC
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.result import Drift, NavigationResult, PathEntry, Timing

__all__ = ["DialError", "LiveKitSettings", "dial", "joined_room", "livekit_settings", "ring", "run_livekit_call",
           "sip_trunk"]

API_TIMEOUT = 15.0
CONNECT_TIMEOUT = 20.0
AGENT_JOIN_TIMEOUT = 20.0  # per dispatch: the server asks a worker once and may not ask again
DISPATCH_ATTEMPTS = 2
LINE_IDENTITY = "ivr-line"
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class DialError(RuntimeError):
    """A call could not be placed (settings, server, trunk); the message says what to fix."""


@dataclass(frozen=True)
class LiveKitSettings:
    url: str
    api_key: str
    api_secret: str


def livekit_settings(environ: Mapping[str, str] | None = None) -> LiveKitSettings:
    env = os.environ if environ is None else environ
    names = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise DialError(f"{', '.join(missing)} not set: export the URL and API key/secret of your LiveKit Cloud "
                        "project or self-hosted server (e.g. LIVEKIT_URL=wss://<project>.livekit.cloud)")
    return LiveKitSettings(env["LIVEKIT_URL"], env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"])


def sip_trunk(given: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The SIP outbound trunk to dial through: ``given`` (``--trunk``), else ``LIVEKIT_SIP_TRUNK_ID``."""
    trunk = given or (os.environ if environ is None else environ).get("LIVEKIT_SIP_TRUNK_ID")
    if not trunk:
        raise DialError("no SIP outbound trunk: pass --trunk ST_xxx or set LIVEKIT_SIP_TRUNK_ID "
                        "(create one with `lk sip outbound create`)")
    return trunk


def _unreachable(url: str, exc: BaseException) -> DialError:
    why = str(exc).splitlines()[0] if str(exc) else "no answer"
    return DialError(f"cannot reach the LiveKit server at {url} ({type(exc).__name__}: {why}); is it running, "
                     "and is LIVEKIT_URL right?")


def result_from_dict(data: Mapping[str, Any]) -> NavigationResult:
    """Rebuild the result the worker published (already redacted)."""
    timing = {k: v for k, v in (data.get("timing") or {}).items() if k != "time_to_goal"}
    return NavigationResult(
        reached=bool(data.get("reached")), goal=str(data.get("goal", "")), reason=str(data.get("reason", "")),
        detail=str(data.get("detail", "")), final_menu=data.get("final_menu"),
        path=[PathEntry(**p) for p in data.get("path") or []], digits=str(data.get("digits", "")),
        drift=[Drift(**d) for d in data.get("drift") or []], unrecognised=list(data.get("unrecognised") or []),
        timing=Timing(**timing),
    )


async def dial(
    menu_file: MenuFile,
    goal: str,
    values: Mapping[str, str],
    *,
    settings: LiveKitSettings,
    trunk: str,
    on_note: Callable[[dict[str, Any]], None] | None = None,
    agent_name: str = AGENT_NAME,
    room_name: str | None = None,
    join_timeout: float = AGENT_JOIN_TIMEOUT,
    ringing_timeout: float = DEFAULT_RINGING_TIMEOUT,
) -> NavigationResult:
    """Place the call and return the worker's result. Raises ``DialError`` for anything that stops the
    call being placed; always deletes the room (which hangs up the SIP leg)."""
    phone = menu_file.phone
    if not phone:
        raise DialError(f"{menu_file.path} has no `phone`: add the E.164 number to dial")
    room_name = room_name or f"ivrnav-{secrets.token_hex(4)}"
    public = {k: v for k, v in values.items() if k not in menu_file.secret_vars}
    metadata = {"menu": Path(menu_file.path).read_text("utf-8"), "goal": goal, "vars": public,
                "line_identity": LINE_IDENTITY, "room": room_name}
    done: asyncio.Future[NavigationResult] = asyncio.get_running_loop().create_future()

    def on_data(packet: rtc.DataPacket) -> None:
        try:
            data = json.loads(packet.data)
        except (ValueError, UnicodeDecodeError):
            return
        if packet.topic == TIMELINE_TOPIC and on_note is not None:
            on_note(data)
        elif packet.topic == RESULT_TOPIC and not done.done():
            done.set_result(result_from_dict(data))

    async with joined_room(settings, room_name, "ivrnav-dialer", hidden=True, on_data=on_data) as (lk, room):
        # a hidden observer: the worker's session must listen to the phone line, not to us.
        # Dial only once a worker has joined: a call nobody navigates would just ring through.
        for _attempt in range(DISPATCH_ATTEMPTS):
            await asyncio.wait_for(lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
                agent_name=agent_name, room=room_name, metadata=json.dumps(metadata))), API_TIMEOUT)
            if await _agent_joined(room, join_timeout):
                break
        else:
            raise DialError(f"no `{agent_name}` worker took the call within "
                            f"{DISPATCH_ATTEMPTS * join_timeout:.0f} s; is one running against this "
                            "server (`ivrnav worker`)?")
        failed = await ring(lk, phone, trunk=trunk, room_name=room_name, name=menu_file.name,
                            max_call=menu_file.defaults.max_call, ringing_timeout=ringing_timeout)
        if failed is not None:
            reason, detail = failed
            return NavigationResult(reached=False, goal=goal, final_menu=None, reason=reason, detail=detail)
        limit = menu_file.defaults.max_call * 1.1 + 60
        try:
            return await asyncio.wait_for(done, limit)
        except TimeoutError:
            raise DialError(f"no result from an `{agent_name}` worker within {limit:.0f} s; is one running "
                            "against this server?") from None


@contextlib.asynccontextmanager
async def joined_room(settings: LiveKitSettings, room_name: str, identity: str, *, hidden: bool,
                      on_data: Callable[[rtc.DataPacket], None] | None = None,
                      ) -> AsyncIterator[tuple[api.LiveKitAPI, rtc.Room]]:
    """Create ``room_name`` and join it as ``identity`` (``hidden``: an observer that publishes nothing;
    otherwise a participant that may publish keys). Yields the API client and the room; always deletes the
    room after (which hangs up a SIP leg in it). Raises ``DialError`` when the server cannot be used."""
    room = rtc.Room()
    if on_data is not None:
        room.on("data_received", on_data)
    try:
        lk = api.LiveKitAPI(settings.url, settings.api_key, settings.api_secret)
    except ValueError as exc:
        raise DialError(str(exc)) from None
    try:
        try:
            await asyncio.wait_for(lk.room.create_room(api.CreateRoomRequest(name=room_name)), API_TIMEOUT)
        except api.TwirpError as exc:
            raise DialError(f"LiveKit refused to create a room ({exc.status} {exc.code}: {exc.message}); check "
                            "LIVEKIT_API_KEY and LIVEKIT_API_SECRET") from None
        except Exception as exc:  # aiohttp connection errors, timeouts, bad URLs
            raise _unreachable(settings.url, exc) from None
        try:
            grants = (api.VideoGrants(room_join=True, room=room_name, hidden=True, can_publish=False) if hidden
                      else api.VideoGrants(room_join=True, room=room_name))
            token = (api.AccessToken(settings.api_key, settings.api_secret).with_identity(identity)
                     .with_grants(grants).to_jwt())
            await asyncio.wait_for(room.connect(settings.url, token), CONNECT_TIMEOUT)
            yield lk, room
        except (rtc.ConnectError, TimeoutError) as exc:
            raise _unreachable(settings.url, exc) from None
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(lk.room.delete_room(api.DeleteRoomRequest(room=room_name)), API_TIMEOUT)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(room.disconnect(), API_TIMEOUT)
        with contextlib.suppress(Exception):
            await lk.aclose()


async def ring(lk: api.LiveKitAPI, phone: str, *, trunk: str, room_name: str, name: str, max_call: float,
               ringing_timeout: float = DEFAULT_RINGING_TIMEOUT,
               identity: str = LINE_IDENTITY) -> tuple[str, str] | None:
    """Dial ``phone`` into ``room_name`` through ``trunk`` (the participant ``identity``, shown as ``name``)
    and wait until it answers. None once answered; ``(reason, detail)`` when the far end did not take the
    call (busy, no answer, rejected); ``DialError`` when the failure is ours to fix (trunk, server, SIP)."""
    # The bridge rings for at most ringing_timeout and hangs up after max_call, as the navigator would.
    request = api.CreateSIPParticipantRequest(
        sip_trunk_id=trunk, sip_call_to=phone, room_name=room_name, participant_identity=identity,
        participant_name=name, wait_until_answered=True,
        ringing_timeout=Duration(seconds=math.ceil(ringing_timeout)),
        max_call_duration=Duration(seconds=math.ceil(max_call)))
    try:
        await asyncio.wait_for(lk.sip.create_sip_participant(request), ringing_timeout + API_TIMEOUT)
    except api.TwirpError as exc:
        failed = _call_failure(phone, exc)
        if failed is None:
            raise DialError(f"dialling {phone} through trunk {trunk} failed: {exc.message}") from None
        return failed
    except TimeoutError:
        return "no_answer", f"{phone} did not answer within {ringing_timeout:.0f} s"
    return None


def _call_failure(phone: str, exc: api.TwirpError) -> tuple[str, str] | None:
    """``(reason, detail)`` for a call the far end did not take (busy, no answer, rejected), or None when
    the failure is ours to fix (trunk, server, SIP service)."""
    raw = exc.metadata.get("sip_status_code") if exc.metadata else None
    sip_status = int(raw) if raw and str(raw).isdigit() else None
    if sip_status is None and exc.status not in (408, 412):  # livekit-sip's ringing timeout / auth refusal
        return None
    shown = f"SIP {sip_status}" if sip_status else f"status {exc.status}"
    return failure_reason(exc.status, sip_status), f"calling {phone}: {exc.message} ({shown})"


async def _agent_joined(room: rtc.Room, timeout: float) -> bool:
    """Whether an agent participant whose session listens is (or becomes) present in ``room`` within
    ``timeout`` seconds: joining is not enough, its speech pipeline must be up before the phone rings."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if any(p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT and p.attributes.get(STATE_ATTRIBUTE) == LISTENING
               for p in room.remote_participants.values()):
            return True
        await asyncio.sleep(0.25)
    return False


def run_livekit_call(
    menu_file: MenuFile,
    goal: str,
    values: Mapping[str, str],
    *,
    trunk: str | None = None,
    as_json: bool = False,
    environ: Mapping[str, str] | None = None,
    agent_name: str = AGENT_NAME,
    join_timeout: float = AGENT_JOIN_TIMEOUT,
) -> int:
    """The ``ivrnav run --livekit`` command: returns the exit status (0 reached, 1 not, 2 cannot call)."""
    out = Console(highlight=False, soft_wrap=True)  # one timeline line per line, also when piped
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    env = os.environ if environ is None else environ
    try:
        settings = livekit_settings(env)
        trunk = sip_trunk(trunk, env)
        for name in sorted(set(values) & set(menu_file.secret_vars)):
            err.print(f"[yellow]note:[/] secret var {name} is not sent to the worker; it must have "
                      f"IVRNAV_VAR_{name.upper()} or --secrets")

        def show(note: dict[str, Any]) -> None:
            if not as_json:
                out.print(f"[dim]{float(note.get('at', 0)):7.2f}s[/] {note.get('note', ''):>5}  "
                          + escape(str(note.get("text", ""))))

        if not as_json:
            out.print(f"[bold]{menu_file.name}[/]: calling {menu_file.phone} to reach [bold]{goal}[/]")
        result = asyncio.run(dial(menu_file, goal, values, settings=settings, trunk=trunk, on_note=show,
                                  agent_name=agent_name, join_timeout=join_timeout))
    except DialError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted (room deleted)")
        return 130
    if as_json:
        sys.stdout.write(result.to_json(indent=2) + "\n")
    elif result.reached:
        out.print(f"[bold green]REACHED[/] {result.goal} ({result.timing.keys_sent} keys; keys sent: "
                  f"{result.digits or 'none'})")
    else:
        out.print(f"[bold red]FAILED[/] ({result.reason}) {result.detail}")
    return EXIT_OK if result.reached else EXIT_FAIL
