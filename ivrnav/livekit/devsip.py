"""A telephone on one machine: redis-server, livekit-server with Redis and livekit-sip, all on 127.0.0.1.

Theory of operation
-------------------
``LoopbackTelephone`` starts the three parts (free ports, a temporary directory, logs there) and wires a
call path through real SIP/RTP: an *outbound trunk* whose address is the local livekit-sip's own SIP
port, so a ``create_sip_participant`` in the caller's room makes livekit-sip send an INVITE to itself;
for each number the IVR answers, an *inbound trunk* for that number and a *direct dispatch rule* put the
incoming leg into the IVR's room, where ``LineParticipant`` (``ivrnav line --livekit``) plays the menu.
Audio crosses as G.711 RTP and keys as RFC 4733 telephone-events, both ways through the bridge.

livekit-sip keeps an inbound call ringing until someone in the target room subscribes to its audio, so
the IVR "answers" by joining; a number whose room stays empty rings until a timeout, and a number with
no inbound trunk is rejected with a SIP error: both are real call outcomes, not simulated ones.

Loopback settings of livekit-sip (checked against v1.8.0's ``pkg/config``): ``listen_ip`` and
``nat_1_to_1_ip`` 127.0.0.1 (its default address choice skips loopback interfaces and would advertise
the machine's LAN address in SDP and Contact), never ``use_external_ip`` (that asks public STUN servers),
no ``health_port``/``prometheus_port`` (those listen on every interface). Its RTP sockets bind 0.0.0.0
(livekit-sip has no setting for that) but only ever exchange packets with 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from livekit import api

from ivrnav.livekit.devserver import (
    LOOPBACK,
    LiveKitServerError,
    LiveKitServerMissing,
    LoopbackLiveKitServer,
    _free_port,
)

__all__ = ["CALLER_NUMBER", "LineRoute", "LoopbackTelephone", "SipPartMissing", "find_livekit_sip"]

ENV_SIP_BINARY = "IVRNAV_LIVEKIT_SIP"
INSTALL_SCRIPT = "scripts/install-livekit-sip"
CALLER_NUMBER = "+15550100999"  # the number our outbound trunk calls from
RTP_PORTS = 200  # livekit-sip keeps a closed call's RTP port draining for a while: room for many calls
API_TIMEOUT = 15.0

_REPO_ROOT = Path(__file__).resolve().parents[2]
_TOOLS_SIP = _REPO_ROOT / ".tools" / "bin" / "livekit-sip"


class SipPartMissing(LiveKitServerMissing):
    """livekit-sip or redis-server is not installed."""


def find_livekit_sip(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The livekit-sip binary: explicit path, $IVRNAV_LIVEKIT_SIP, .tools/bin, then PATH."""
    for source, value in (("argument", explicit), (f"${ENV_SIP_BINARY}", os.environ.get(ENV_SIP_BINARY))):
        if value:
            path = Path(value).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path
            raise SipPartMissing(f"livekit-sip given by {source} is not an executable file: {path}")
    if _TOOLS_SIP.is_file() and os.access(_TOOLS_SIP, os.X_OK):
        return _TOOLS_SIP
    on_path = shutil.which("livekit-sip")
    if on_path:
        return Path(on_path)
    raise SipPartMissing(f"livekit-sip not found (looked at ${ENV_SIP_BINARY}, {_TOOLS_SIP}, PATH); build it "
                         f"with `{INSTALL_SCRIPT}`")


def _find_redis() -> Path:
    found = shutil.which("redis-server")
    if not found:
        raise SipPartMissing(f"redis-server not found on PATH; `{INSTALL_SCRIPT}` installs Debian's redis-server")
    return Path(found)


def _free_udp_range(size: int, attempts: int = 50) -> tuple[int, int]:
    """A block of ``size`` UDP ports (even start) of which a sample is free right now."""
    for _ in range(attempts):
        start = 20000 + 2 * secrets.randbelow(20000)
        ok = True
        for port in (start, start + size // 2, start + size - 1):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((LOOPBACK, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return start, start + size - 1
    raise LiveKitServerError("no free block of UDP ports for RTP")


class _Child:
    """A child process writing to a log file in ``workdir``; terminate-then-kill on stop."""

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=workdir, env=env, start_new_session=True)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "<no log>"
        with self.log_path.open("r", encoding="utf-8", errors="replace") as fh:
            return "".join(line if len(line) <= 400 else line[:400] + " …\n" for line in deque(fh, maxlen=lines))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)


def _wait(what: str, child: _Child, ready: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive():
            raise LiveKitServerError(f"{what} exited during startup (code {child.proc.returncode}). "
                                     f"Last log lines:\n{child.log_tail()}")
        if ready():  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            raise LiveKitServerError(f"{what} not ready within {timeout:.0f} s. Last log lines:\n{child.log_tail()}")
        time.sleep(0.05)


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _sip_options_answered(port: int) -> bool:
    """Whether a SIP OPTIONS sent over UDP gets any SIP response (the signalling listener is up)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(0.5)
        local = sock.getsockname()[1]
        tag = secrets.token_hex(4)
        msg = (f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {LOOPBACK}:{local};branch=z9hG4bK{tag};rport\r\n"
               "Max-Forwards: 70\r\n"
               f"From: <sip:probe@{LOOPBACK}>;tag={tag}\r\nTo: <sip:probe@{LOOPBACK}:{port}>\r\n"
               f"Call-ID: probe-{tag}@{LOOPBACK}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        try:
            sock.sendto(msg.encode(), (LOOPBACK, port))
            reply = sock.recv(2048)
        except OSError:
            return False
    return reply.startswith(b"SIP/2.0 ")


@dataclass(frozen=True)
class LineRoute:
    """A number the loopback telephone delivers into a room."""

    number: str
    room: str
    trunk_id: str
    rule_id: str


class LoopbackTelephone:
    """redis-server + livekit-server (with Redis) + livekit-sip on 127.0.0.1, and the trunks between them.

    ``with LoopbackTelephone() as phone:`` then ``await phone.outbound_trunk()`` (the trunk to dial with)
    and ``await phone.route(number, room)`` for each number an IVR in ``room`` answers.
    """

    def __init__(self, *, server_binary: str | os.PathLike[str] | None = None,
                 sip_binary: str | os.PathLike[str] | None = None, startup_timeout: float = 30.0,
                 log_level: str = "info") -> None:
        self._server_binary = server_binary
        self._sip_binary = sip_binary
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self.server: LoopbackLiveKitServer | None = None
        self.sip_port = 0
        self.redis_port = 0
        self.rtp_ports = (0, 0)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._redis: _Child | None = None
        self._sip: _Child | None = None
        self._outbound: str | None = None

    # ----- parts ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def api_key(self) -> str:
        assert self.server is not None
        return self.server.api_key

    @property
    def api_secret(self) -> str:
        assert self.server is not None
        return self.server.api_secret

    def start(self) -> LoopbackTelephone:
        sip_binary = find_livekit_sip(self._sip_binary)
        redis_binary = _find_redis()
        self._tmp = tempfile.TemporaryDirectory(prefix="ivrnav-telephone-")
        work = Path(self._tmp.name)
        try:
            self.redis_port = _free_port(socket.SOCK_STREAM)
            self._redis = _Child("redis-server", [str(redis_binary), "--bind", LOOPBACK, "--port",
                                                  str(self.redis_port), "--save", "", "--appendonly", "no",
                                                  "--dir", str(work), "--protected-mode", "yes"], work)
            _wait("redis-server", self._redis, lambda: _redis_pong(self.redis_port), self.startup_timeout)
            self.server = LoopbackLiveKitServer(self._server_binary, redis_address=f"{LOOPBACK}:{self.redis_port}",
                                                startup_timeout=self.startup_timeout)
            self.server.start()
            self._start_sip(sip_binary, work)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_sip(self, binary: Path, work: Path) -> None:
        assert self.server is not None
        self.sip_port = _free_port(socket.SOCK_DGRAM)
        self.rtp_ports = _free_udp_range(RTP_PORTS)
        config = work / "livekit-sip.yaml"
        config.write_text("\n".join([
            f"api_key: {self.server.api_key}",
            f"api_secret: {self.server.api_secret}",
            f"ws_url: {self.server.url}",
            "redis:",
            f"  address: {LOOPBACK}:{self.redis_port}",
            f"sip_port: {self.sip_port}",
            f"listen_ip: {LOOPBACK}",
            f"nat_1_to_1_ip: {LOOPBACK}",
            "use_external_ip: false",
            f"rtp_port: {self.rtp_ports[0]}-{self.rtp_ports[1]}",
            # livekit-sip refuses calls ("cpu exhausted", 503) once the machine is 90% busy; a loopback
            # telephone shares its cores with the caller, the IVR and the tests, so it never refuses.
            "max_cpu_utilization: 1.0",
            "logging:",
            f"  level: {self.log_level}",
            "",
        ]), encoding="utf-8")
        config.chmod(0o600)  # it holds the API secret
        # livekit-sip reads its key/secret/URL and config from these when set; a developer's shell must not.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "SIP_CONFIG"))}
        self._sip = _Child("livekit-sip", [str(binary), "--config", str(config)], work, env)
        _wait("livekit-sip", self._sip, lambda: _sip_options_answered(self.sip_port), self.startup_timeout)

    def stop(self) -> None:
        """Stop livekit-sip, livekit-server and redis (in that order) and remove the temp dir."""
        for child in (self._sip,):
            if child is not None:
                child.stop()
        if self.server is not None:
            self.server.stop()
        if self._redis is not None:
            self._redis.stop()
        self._sip = self._redis = None
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None
        self._outbound = None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of each part's log, for a failure message."""
        parts = []
        if self._sip is not None:
            parts.append(f"--- livekit-sip ---\n{self._sip.log_tail(lines)}")
        if self.server is not None:
            parts.append(f"--- livekit-server ---\n{self.server.log_tail(lines)}")
        if self._redis is not None and not self._redis.alive():
            parts.append(f"--- redis-server ---\n{self._redis.log_tail(10)}")
        return "\n".join(parts)

    def sip_log(self) -> str:
        return self._sip.log_path.read_text("utf-8", errors="replace") if self._sip is not None else ""

    def __enter__(self) -> LoopbackTelephone:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ----- trunks ---------------------------------------------------------------------------------

    def api(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.url, self.api_key, self.api_secret)

    async def outbound_trunk(self) -> str:
        """The outbound trunk whose address is our own livekit-sip (created once)."""
        if self._outbound is None:
            trunk = api.SIPOutboundTrunkInfo(name="ivrnav-loopback", address=f"{LOOPBACK}:{self.sip_port}",
                                             numbers=[CALLER_NUMBER], transport=api.SIP_TRANSPORT_UDP)
            async with self.api() as lk:
                made = await lk.sip.create_outbound_trunk(api.CreateSIPOutboundTrunkRequest(trunk=trunk))
            self._outbound = made.sip_trunk_id
        return self._outbound

    async def outbound_trunk_to(self, address: str, name: str = "ivrnav-loopback-elsewhere") -> str:
        """An outbound trunk to another SIP endpoint on loopback (``host:port``), e.g. a ``BusyPhone``."""
        if not address.startswith(f"{LOOPBACK}:"):
            raise ValueError(f"the loopback telephone only calls {LOOPBACK}, not {address}")
        trunk = api.SIPOutboundTrunkInfo(name=name, address=address, numbers=[CALLER_NUMBER],
                                         transport=api.SIP_TRANSPORT_UDP)
        async with self.api() as lk:
            made = await lk.sip.create_outbound_trunk(api.CreateSIPOutboundTrunkRequest(trunk=trunk))
        return made.sip_trunk_id

    async def route(self, number: str, room: str) -> LineRoute:
        """Deliver calls to ``number`` into ``room``: an inbound trunk for it and a direct dispatch rule."""
        async with self.api() as lk:
            trunk = await lk.sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name=f"ivr {number}", numbers=[number],
                                              allowed_addresses=[f"{LOOPBACK}/32"])))
            rule = await lk.sip.create_dispatch_rule(api.CreateSIPDispatchRuleRequest(
                name=f"ivr {number}", trunk_ids=[trunk.sip_trunk_id],
                rule=api.SIPDispatchRule(dispatch_rule_direct=api.SIPDispatchRuleDirect(room_name=room))))
        return LineRoute(number, room, trunk.sip_trunk_id, rule.sip_dispatch_rule_id)

    async def unroute(self, route: LineRoute) -> None:
        async with self.api() as lk:
            with contextlib.suppress(api.TwirpError):
                await lk.sip.delete_dispatch_rule(api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=route.rule_id))
            with contextlib.suppress(api.TwirpError):
                await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=route.trunk_id))
