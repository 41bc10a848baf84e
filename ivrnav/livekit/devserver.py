"""Run a throwaway ``livekit-server`` bound to 127.0.0.1, for tests and local demos.

Theory of operation
-------------------
``LoopbackLiveKitServer`` writes a config file that keeps every packet on loopback, starts the pinned
``livekit-server`` binary (built by ``scripts/install-livekit-server``), waits until its HTTP port
answers, and exposes ``url``/``api_key``/``api_secret``. On exit it terminates the process (then kills
it) and deletes its temporary directory.

Why each config key (checked against livekit-server v1.13.5, which decodes the file in strict mode, so
an unknown key is a startup error rather than a silent no-op):

* ``bind_addresses: [127.0.0.1]``: signalling/HTTP listens on loopback only.
* ``rtc.node_ip: 127.0.0.1`` + ``rtc.use_external_ip: false``: the server never asks a STUN server for
  its public IP and advertises 127.0.0.1 in its ICE candidates.
* ``rtc.enable_loopback_candidate: true`` + ``rtc.ips.includes: [127.0.0.1/32]``: pion skips loopback
  interfaces by default; without these the UDP mux would bind the machine's other addresses and
  clients would get no usable candidate.
* ``rtc.udp_port``: one UDP port (a mux) instead of a 10,000-port range.
* ``rtc.tcp_port``: ICE over TCP (the fallback when UDP fails). The server opens this listener on all
  interfaces (it ignores ``bind_addresses`` for it; candidates still only advertise 127.0.0.1), so
  ``ice_tcp=False`` writes ``tcp_port: 0`` to switch it off where even a listening socket matters.
* ``rtc.stun_servers: [127.0.0.1:<closed port>]``: otherwise the server hands clients Google/Twilio
  public STUN servers and the client's WebRTC stack would contact them.
* ``turn.enabled: false``, no ``webhook``, no ``prometheus_port``: nothing else to reach.
* ``redis.address`` only when given (``redis_address=``, a loopback ``redis-server``): the SIP service
  (``ivrnav.livekit.devsip``) talks to livekit-server through Redis; without it the server runs alone.
* ``agents.target_load: 2.0``: a worker on a busy machine still gets jobs (see ``_render_config``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path
from types import TracebackType

__all__ = [
    "LiveKitServerError",
    "LiveKitServerMissing",
    "LoopbackLiveKitServer",
    "find_livekit_server",
]

ENV_BINARY = "IVRNAV_LIVEKIT_SERVER"
INSTALL_SCRIPT = "scripts/install-livekit-server"
LOOPBACK = "127.0.0.1"
# Bare environment names livekit-server v1.13.5 reads as flags (cmd/server/main.go), besides LIVEKIT_*.
_SERVER_ENV_OVERRIDES = frozenset({"NODE_IP", "UDP_PORT", "REDIS_HOST", "REDIS_PASSWORD"})

# ivrnav/livekit/devserver.py -> repo root is three levels up.
_REPO_ROOT = Path(__file__).resolve().parents[2]
_TOOLS_BINARY = _REPO_ROOT / ".tools" / "bin" / "livekit-server"


class LiveKitServerError(RuntimeError):
    """The server failed to start, died, or did not answer in time."""


class LiveKitServerMissing(LiveKitServerError):
    """No ``livekit-server`` binary could be found."""


def find_livekit_server(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Locate the binary: explicit path, then $IVRNAV_LIVEKIT_SERVER, then .tools/bin, then PATH.

    An explicit path or environment variable that points nowhere is an error (not a fallback), so a
    typo never silently runs some other server found on PATH.
    """
    for source, value in (("argument", explicit), (f"${ENV_BINARY}", os.environ.get(ENV_BINARY))):
        if value:
            path = Path(value).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path
            raise LiveKitServerMissing(
                f"livekit-server binary given by {source} does not exist or is not executable: {path}. "
                f"Build it with `{INSTALL_SCRIPT}` (installs to {_TOOLS_BINARY})."
            )
    if _TOOLS_BINARY.is_file() and os.access(_TOOLS_BINARY, os.X_OK):
        return _TOOLS_BINARY
    on_path = shutil.which("livekit-server")
    if on_path:
        return Path(on_path)
    raise LiveKitServerMissing(
        f"livekit-server not found (looked at ${ENV_BINARY}, {_TOOLS_BINARY}, PATH). "
        f"Build it with `{INSTALL_SCRIPT}` (needs Go >= 1.26) or set {ENV_BINARY}."
    )


def _free_port(kind: int) -> int:
    """Ask the kernel for a free loopback port of the given socket type.

    There is a small race between closing this socket and the server binding the port; callers retry
    startup on a bind failure.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _distinct_free_ports() -> tuple[int, int, int, int]:
    """HTTP (tcp), ICE/TCP (tcp), ICE/UDP (udp), dummy STUN (udp, left closed): all different numbers."""
    seen: set[int] = set()
    ports: list[int] = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_DGRAM):
        port = _free_port(kind)
        while port in seen:
            port = _free_port(kind)
        seen.add(port)
        ports.append(port)
    return ports[0], ports[1], ports[2], ports[3]


def _render_config(*, http: int, ice_tcp: int, ice_udp: int, stun: int, key: str, secret: str,
                   redis: str | None = None) -> str:
    """The server config; ``ice_tcp=0`` disables ICE/TCP (the server's default would be 7881)."""
    # Hand-written YAML keeps the module free of a yaml dependency and the output easy to read in logs.
    return "\n".join(
        # Jobs go to workers by affinity (target_load - the worker's reported CPU load): on a busy machine a
        # worker's load exceeds the default 0.7 once it has reported it, and it gets no job ("no servers
        # available"). Loopback dev servers share their cores with everything else, so every worker keeps
        # a positive affinity.
        ([f"redis:\n  address: {redis}"] if redis else [])
        + ["agents:", "  target_load: 2.0"]
        + [
            f"port: {http}",
            "bind_addresses:",
            f"  - {LOOPBACK}",
            "rtc:",
            f"  node_ip: {LOOPBACK}",
            "  use_external_ip: false",
            "  enable_loopback_candidate: true",
            "  ips:",
            "    includes:",
            f"      - {LOOPBACK}/32",
            f"  udp_port: {ice_udp}",
            f"  tcp_port: {ice_tcp}",
            "  stun_servers:",
            f"    - {LOOPBACK}:{stun}",
            "turn:",
            "  enabled: false",
            "keys:",
            f"  {key}: {secret}",
            "logging:",
            "  level: info",
            "  pion_level: error",
            "",
        ]
    )


class LoopbackLiveKitServer:
    """A ``livekit-server`` child process that only uses 127.0.0.1.

    Use as ``with LoopbackLiveKitServer() as lk:`` or ``async with``; ``start()``/``stop()`` (and
    ``astart()``/``astop()``) are available for fixtures that manage the lifetime themselves.
    """

    def __init__(
        self,
        binary: str | os.PathLike[str] | None = None,
        *,
        api_key: str = "devkey",
        api_secret: str | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
        ice_tcp: bool = True,
        redis_address: str | None = None,
    ) -> None:
        self._binary_arg = binary
        self.redis_address = redis_address
        self.api_key = api_key
        # livekit-server logs an error for secrets under 32 characters; 48 hex chars keeps the log clean.
        self.api_secret = api_secret if api_secret is not None else secrets.token_hex(24)
        if len(self.api_secret) < 32:
            raise ValueError("api_secret must be at least 32 characters (livekit-server's minimum)")
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.ice_tcp = ice_tcp
        self.binary: Path | None = None
        self.port: int = 0
        self.rtc_tcp_port: int = 0
        self.rtc_udp_port: int = 0
        self.stun_port: int = 0
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Path | None = None

    # ----- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """WebSocket URL for ``rtc.Room.connect`` and agents workers."""
        return f"ws://{LOOPBACK}:{self.port}"

    @property
    def http_url(self) -> str:
        """HTTP URL for ``livekit.api.LiveKitAPI`` (it also accepts the ws:// form)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return self._log_file

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the server log, for error messages."""
        if self._log_file is None or not self._log_file.exists():
            return "<no log>"
        with self._log_file.open("r", encoding="utf-8", errors="replace") as fh:
            # a line can carry a whole SDP offer (kilobytes): keep each readable
            return "".join(line if len(line) <= 400 else line[:400] + " …\n" for line in deque(fh, maxlen=lines))

    def start(self, attempts: int = 3) -> LoopbackLiveKitServer:
        """Start the server and block until its HTTP port answers (or raise LiveKitServerError)."""
        if self._proc is not None:
            raise LiveKitServerError("server already started")
        self.binary = find_livekit_server(self._binary_arg)
        last_error: LiveKitServerError | None = None
        # Free-port picking races with other processes; a bind failure gets fresh ports.
        for _ in range(attempts):
            try:
                self._start_once()
                return self
            except LiveKitServerError as exc:
                last_error = exc
                self._cleanup()
                if "address already in use" not in str(exc):
                    break
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Terminate (then kill) the process and remove the temp dir. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # A SIGTERM that lands while the server is still starting can be lost (it then never exits)
            # and with participants connected the server waits for them; the server treats a second
            # signal as "force", so: terminate, terminate again, then kill.
            for signal_once, wait in ((proc.terminate, 1.0), (proc.terminate, self.stop_timeout)):
                signal_once()
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
        self._cleanup()

    async def astart(self) -> LoopbackLiveKitServer:
        # The startup wait blocks; keep the event loop free for other tasks meanwhile.
        return await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> LoopbackLiveKitServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LoopbackLiveKitServer:
        return await self.astart()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.astop()

    # ----- internals ------------------------------------------------------------------------------

    def _start_once(self) -> None:
        assert self.binary is not None
        self._tmpdir = tempfile.TemporaryDirectory(prefix="ivrnav-livekit-")
        tmp = Path(self._tmpdir.name)
        self.port, self.rtc_tcp_port, self.rtc_udp_port, self.stun_port = _distinct_free_ports()
        if not self.ice_tcp:
            self.rtc_tcp_port = 0
        config = tmp / "livekit.yaml"
        config.write_text(
            _render_config(
                http=self.port,
                ice_tcp=self.rtc_tcp_port,
                ice_udp=self.rtc_udp_port,
                stun=self.stun_port,
                key=self.api_key,
                secret=self.api_secret,
                redis=self.redis_address,
            ),
            encoding="utf-8",
        )
        config.chmod(0o600)  # it holds the API secret
        self._log_file = tmp / "livekit-server.log"
        # The server maps LIVEKIT_<CONFIG_KEY> and a few bare names onto CLI flags that override the config
        # file (e.g. LIVEKIT_KEYS, LIVEKIT_RTC_TCP_PORT, NODE_IP); a developer's shell must not change it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_") and k not in _SERVER_ENV_OVERRIDES}
        with self._log_file.open("wb") as log:
            self._proc = subprocess.Popen(
                [str(self.binary), "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp,
                start_new_session=True,  # a Ctrl-C in the test runner is handled by stop(), not twice
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self.log_tail()
                reason = "address already in use" if "address already in use" in tail else f"exit code {code}"
                raise LiveKitServerError(
                    f"livekit-server ({self.binary}) exited during startup ({reason}). Last log lines:\n{tail}"
                )
            if self._http_ok():
                return
            if time.monotonic() > deadline:
                raise LiveKitServerError(
                    f"livekit-server did not answer on {self.http_url} within {self.startup_timeout:.0f} s. "
                    f"Last log lines:\n{self.log_tail()}"
                )
            time.sleep(0.05)

    def _http_ok(self) -> bool:
        # GET / answers "OK" once the HTTP/WebSocket service is up; a raw socket avoids proxy env vars
        # (urllib would honour HTTP_PROXY and could send the probe off-machine).
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.5) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                reply = sock.recv(64)
        except OSError:
            return False
        return reply.startswith(b"HTTP/1.") and b" 200 " in reply

    def _cleanup(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=self.stop_timeout)
        self._proc = None
        if self._tmpdir is not None:
            with contextlib.suppress(OSError):
                self._tmpdir.cleanup()
            self._tmpdir = None
