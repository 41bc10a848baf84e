"""A telephone that is always busy: a tiny SIP user agent server on 127.0.0.1 (UDP).

Every INVITE gets ``100 Trying`` and then one final response, ``486 Busy Here`` unless told otherwise
(``600 Busy Everywhere``, ``603 Decline``, ...), as a busy or refusing phone answers; CANCEL, BYE and
OPTIONS get ``200 OK``, ACK nothing. A real endpoint for the loopback telephone's outbound trunk: the
SIP exchange with livekit-sip is genuine, so whatever livekit-sip reports for it is what a caller would
see from a busy number on a real network.

Responses copy the request's Via headers (all, in order), From, Call-ID and CSeq, and its To with a tag
of ours (RFC 3261 section 8.2.6). One thread, one socket; ``with BusyPhone() as phone: phone.address``.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import Iterable
from types import TracebackType

__all__ = ["REASONS", "BusyPhone", "SipRequest", "parse_request", "response"]

LOOPBACK = "127.0.0.1"
REASONS = {100: "Trying", 200: "OK", 486: "Busy Here", 480: "Temporarily Unavailable", 600: "Busy Everywhere",
           603: "Decline", 405: "Method Not Allowed"}
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length", "m": "contact"}
MAX_DATAGRAM = 65535


class SipRequest:
    """A parsed SIP request: method, URI, and headers (lower-case full names, each a list of values)."""

    def __init__(self, method: str, uri: str, headers: dict[str, list[str]]) -> None:
        self.method, self.uri, self.headers = method, uri, headers

    def first(self, name: str) -> str:
        values = self.headers.get(name, [])
        return values[0] if values else ""


def parse_request(data: bytes) -> SipRequest | None:
    """The request in a datagram, or None when it is not one (a response, garbage)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("SIP/2.0"):
        return None
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # a folded continuation line
            last = next(reversed(headers))
            headers[last][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = COMPACT.get(key, key)
        values = [value.strip()] if key != "via" else [v.strip() for v in value.split(",")]
        headers.setdefault(key, []).extend(values)
    return SipRequest(parts[0].upper(), parts[1], headers)


def response(request: SipRequest, code: int, to_tag: str | None = None) -> bytes:
    """A response to ``request`` with status ``code``; ``to_tag`` is added to To (not on 100 Trying)."""
    to = request.first("to")
    if to_tag and ";tag=" not in to:
        to = f"{to};tag={to_tag}"
    lines: Iterable[str] = [
        f"SIP/2.0 {code} {REASONS.get(code, 'Unknown')}",
        *(f"Via: {via}" for via in request.headers.get("via", [])),
        f"From: {request.first('from')}",
        f"To: {to}",
        f"Call-ID: {request.first('call-id')}",
        f"CSeq: {request.first('cseq')}",
        "Server: ivrnav-busyphone",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class BusyPhone:
    """A SIP UAS on 127.0.0.1 answering every INVITE with ``status`` (486 Busy Here by default)."""

    def __init__(self, status: int = 486) -> None:
        if not 400 <= status < 700:
            raise ValueError(f"a busy phone answers with a 4xx-6xx final response, not {status}")
        self.status = status
        self.invites: list[SipRequest] = []  # what it was sent, for tests
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._tags: dict[str, str] = {}  # Call-ID -> our To tag (a retransmitted INVITE gets the same one)

    @property
    def port(self) -> int:
        assert self._sock is not None, "not started"
        return int(self._sock.getsockname()[1])

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self) -> BusyPhone:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        self._thread = threading.Thread(target=self._serve, name="ivrnav-busyphone", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.sendto(b"", sock.getsockname())  # wake the thread
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> BusyPhone:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while self._sock is sock:
            try:
                data, peer = sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                return
            request = parse_request(data)
            if request is None or peer[0] != LOOPBACK:
                continue
            for reply in self._answer(request):
                with contextlib.suppress(OSError):
                    sock.sendto(reply, peer)

    def _answer(self, request: SipRequest) -> list[bytes]:
        if request.method == "INVITE":
            self.invites.append(request)
            tag = self._tags.setdefault(request.first("call-id"), secrets.token_hex(4))
            return [response(request, 100), response(request, self.status, tag)]
        if request.method == "ACK":
            return []
        if request.method in ("CANCEL", "BYE", "OPTIONS"):
            return [response(request, 200, secrets.token_hex(4))]
        return [response(request, 405, secrets.token_hex(4))]
