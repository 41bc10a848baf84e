"""What a telephone call's state means for navigation: answered or not, and why a call did not happen.

LiveKit's SIP participant carries its call state in the ``sip.callStatus`` attribute (``dialing``,
``ringing``, ``active``, ``hangup``; livekit-sip sets ``active`` on the 200 OK). Navigation must start on
``active``, never while the phone rings: ringing is silence, and the navigator would take it for a menu
that says nothing. A dial that fails carries the far end's SIP status (or livekit-sip's own verdict, such
as its ringing timeout, as the Twirp status); ``failure_reason`` turns either into one of the result
reasons ``no_answer``, ``busy`` or ``rejected``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from livekit import rtc

__all__ = [
    "CALL_STATUS",
    "DEFAULT_RINGING_TIMEOUT",
    "SIP_STATUS_REASONS",
    "failure_reason",
    "is_answered",
    "wait_answered",
]

CALL_STATUS = "sip.callStatus"
DEFAULT_RINGING_TIMEOUT = 45.0  # seconds a call may ring before it counts as not answered

# SIP final responses (RFC 3261 section 21) and the result reason each means for a caller.
SIP_STATUS_REASONS: Mapping[int, str] = {
    408: "no_answer",  # Request Timeout: also livekit-sip's status when its ringing timeout ends the call
    480: "no_answer",  # Temporarily Unavailable
    487: "no_answer",  # Request Terminated (we cancelled a ringing call)
    486: "busy",  # Busy Here
    600: "busy",  # Busy Everywhere
    603: "rejected",  # Decline
    401: "rejected",  # Unauthorized
    403: "rejected",  # Forbidden
    404: "rejected",  # Not Found
    407: "rejected",  # Proxy Authentication Required
    410: "rejected",  # Gone
    412: "rejected",  # livekit-sip: the callee demands credentials the trunk does not have
    484: "rejected",  # Address Incomplete
    488: "rejected",  # Not Acceptable Here (no common codec)
    604: "rejected",  # Does Not Exist Anywhere
}


def failure_reason(status: int | None, sip_status: int | None = None) -> str:
    """The result reason for a failed dial: the far end's SIP status when known, else the API status."""
    for code in (sip_status, status):
        if code is not None and code in SIP_STATUS_REASONS:
            return SIP_STATUS_REASONS[code]
    for code in (sip_status, status):
        if code is not None and (400 <= code < 500 or 600 <= code < 700):
            return "rejected"
    return "error"


def is_answered(participant: rtc.RemoteParticipant) -> bool:
    """A SIP participant is answered once its call is ``active``; any other participant is there."""
    if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_SIP:
        return True
    return participant.attributes.get(CALL_STATUS) == "active"


async def wait_answered(room: rtc.Room, identity: str | None, timeout: float,
                        step: float = 0.05) -> rtc.RemoteParticipant | str:
    """Wait until the line (``identity``, or the first participant that is not an agent) is answered.
    Returns the participant, or a reason: ``"no_answer"`` (still ringing after ``timeout``) or
    ``"hangup"`` (the line left, or the room closed, before it was answered)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = False
    while True:
        if not room.isconnected():
            return "hangup"
        line = _find_line(room, identity)
        if line is not None:
            seen = True
            if is_answered(line):
                return line
            if line.attributes.get(CALL_STATUS) == "hangup":
                return "hangup"
        elif seen:
            return "hangup"
        if loop.time() >= deadline:
            return "no_answer"
        await asyncio.sleep(step)


def _find_line(room: rtc.Room, identity: str | None) -> rtc.RemoteParticipant | None:
    for p in room.remote_participants.values():
        if identity is not None:
            if p.identity == identity:
                return p
        elif p.kind != rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return p
    return None
