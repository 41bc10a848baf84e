"""Send DTMF keys into a LiveKit room as RFC 4733 events, paced like a person (or an IVR) expects.

``SendDigits.digits`` may hold real secret digits; this module only ever logs the masked form.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ivrnav.menu.template import PAUSES, key_offsets

__all__ = ["DIRECT", "DTMF_CODES", "SIP_BRIDGE", "DtmfSender", "KeyPress", "KeyTransport", "dtmf_code", "key_schedule"]

logger = logging.getLogger("ivrnav.livekit.dtmf")

# RFC 4733 section 3.2 event codes for the 16 keypad keys.
DTMF_CODES: dict[str, int] = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
PUBLISH_TIMEOUT = 5.0  # seconds for one publish_dtmf; a stuck signalling link must not wedge the call


@dataclass(frozen=True, slots=True)
class KeyTransport:
    """How the path to the line carries keys. ``period``: the least time one key occupies it (the next key
    waits); ``tail``: how long after publishing the last key it is really out."""

    name: str
    period: float
    tail: float


# A participant in the room: the server relays each publish_dtmf at once.
DIRECT = KeyTransport("room", 0.0, 0.0)
# livekit-sip plays each digit as a 250 ms RFC 4733 event plus a 250 ms gap and blocks meanwhile
# (media-sdk dtmf.Write): a key published sooner only queues, and the last is on the wire 0.5 s later.
SIP_BRIDGE = KeyTransport("sip", 0.5, 0.5)


def dtmf_code(key: str) -> int:
    """RFC 4733 event code of a keypad key (``0-9``, ``*``, ``#``, ``A-D``)."""
    try:
        return DTMF_CODES[key.upper()]
    except KeyError:
        raise ValueError("not a DTMF key (expected one of 0-9 * # A-D)") from None  # the key may be secret


@dataclass(frozen=True, slots=True)
class KeyPress:
    offset: float  # seconds after the first key
    key: str


def key_schedule(digits: str, inter_digit: float, transport: KeyTransport = DIRECT) -> list[KeyPress]:
    """When each key goes out relative to the first (``key_offsets``: the simulated runner's timing too,
    so simulations and real calls agree), never closer than the transport carries them."""
    offsets, _ = key_offsets(digits, max(inter_digit, transport.period))
    for ch in digits:
        if ch not in PAUSES:
            dtmf_code(ch)  # validate before anything is sent
    return [KeyPress(t, digits[i].upper()) for t, i in offsets]


Publish = Callable[[int, str], Awaitable[None]]


class DtmfSender:
    """Publishes keys with ``publish(code, digit)`` (normally ``room.local_participant.publish_dtmf``).

    ``send`` holds the pacing itself (sleeping on the event loop between keys) so the caller gets control
    back only when the last key is out, which is when the navigator's ``DigitsSent`` is due.
    """

    def __init__(self, publish: Publish, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic, transport: KeyTransport = DIRECT) -> None:
        self._publish = publish
        self.transport = transport
        self._sleep = sleep
        self._clock = clock
        self._lock = asyncio.Lock()  # two overlapping sends would interleave keys

    @classmethod
    def for_participant(cls, participant: object, transport: KeyTransport = DIRECT) -> DtmfSender:
        """A sender for an ``rtc.LocalParticipant``."""

        async def publish(code: int, digit: str) -> None:
            await participant.publish_dtmf(code=code, digit=digit)  # type: ignore[attr-defined]

        return cls(publish, transport=transport)

    async def send(self, digits: str, inter_digit: float, masked: str | None = None) -> list[float]:
        """Send ``digits``; return the clock time each key was published. Returns once the transport has
        carried the last key (``tail``), which is when ``DigitsSent`` is true. Logs ``masked`` only."""
        schedule = key_schedule(digits, inter_digit, self.transport)
        shown = masked if masked is not None else "•" * len(schedule)
        logger.debug("sending DTMF %s (inter-digit %.2f s)", shown, inter_digit)
        sent: list[float] = []
        async with self._lock:
            start = self._clock()
            for press in schedule:
                delay = start + press.offset - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                sent.append(self._clock())
                await asyncio.wait_for(self._publish(DTMF_CODES[press.key], press.key), PUBLISH_TIMEOUT)
            if schedule and self.transport.tail > 0:
                await self._sleep(self.transport.tail)
        return sent
