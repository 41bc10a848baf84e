"""``ivrnav worker``: a livekit-agents worker that navigates phone menus for explicitly dispatched jobs.

Theory of operation
-------------------
LiveKit does the queueing and scaling: start more workers to serve more calls. A job is dispatched to
agent name ``ivrnav`` (``CreateAgentDispatchRequest``) with JSON metadata::

    {"menu": "menus/bank.yaml" | "<inline YAML text>", "goal": "agent",
     "vars": {"card_last4": "4821"}, "line_identity": "ivr-line"}

``vars`` may only hold *non-secret* values: dispatch metadata is visible to anyone who can list rooms
or dispatches, so a secret var there is refused. Secrets come from the worker's own environment
(``IVRNAV_VAR_<NAME>``) or its ``--secrets`` file. ``line_identity`` names the participant that is the
phone line (the SIP participant), so the worker listens to it and not to an observer.

The job joins the room, starts an ``AgentSession`` (STT: Deepgram nova-3 with interim results and the
menu's phrases as key terms, or offline Whisper; TTS only for ``say:`` steps) whose agent awaits
``NavigateIVR``. Every timeline note is published on data topic ``ivrnav.timeline`` and the result on
``ivrnav.result`` (both JSON, already redacted), then the job ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobExecutorType, TurnHandlingOptions, room_io
from livekit.agents.worker import ServerEnvOption

from ivrnav.livekit import jobmeta
from ivrnav.livekit.observe import record_result
from ivrnav.livekit.stt_options import deepgram_stt
from ivrnav.livekit.task import NavigateIVR
from ivrnav.menu import regex
from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.menu.model import MenuFile
from ivrnav.menu.vocabulary import menu_keyterms
from ivrnav.navigate.navigator import NavigationError, Note
from ivrnav.navigate.result import NavigationResult, strict_json

__all__ = [
    "AGENT_NAME",
    "RESULT_TOPIC",
    "TIMELINE_TOPIC",
    "JobRequestError",
    "WorkerConfig",
    "build_server",
    "menu_keyterms",
    "parse_job",
]

logger = logging.getLogger("ivrnav.livekit.worker")

AGENT_NAME = "ivrnav"
TIMELINE_TOPIC = "ivrnav.timeline"
RESULT_TOPIC = "ivrnav.result"
DEFAULT_LINE_IDENTITY = "ivr-line"
CONNECT_TIMEOUT = 20.0
PUBLISH_TIMEOUT = 5.0
# The agent's participant attribute that says its session listens (dial() places the call only then).
STATE_ATTRIBUTE, LISTENING = "ivrnav.state", "listening"
PREWARM_TIMEOUT = 180.0


class JobRequestError(ValueError):
    """Bad dispatch metadata (no menu, unknown var, a secret in metadata); the message holds no secret."""


@dataclass
class WorkerConfig:
    stt: Literal["deepgram", "offline"] = "deepgram"
    secrets: Mapping[str, str] = field(default_factory=dict)  # values from --secrets FILE
    # LIVEKIT_AGENT_NAME, as for any livekit-agents worker; "ivrnav" by default
    agent_name: str = field(default_factory=lambda: os.environ.get("LIVEKIT_AGENT_NAME") or AGENT_NAME)
    # Called on the job's thread with every finished job's result (tests, embedding).
    on_result: Callable[[NavigationResult, dict[str, Any]], None] | None = None


@dataclass
class JobRequest:
    menu_file: MenuFile
    goal: str
    values: dict[str, str]
    line_identity: str
    metadata: dict[str, Any]


def _load_menu(menu: str, given: object = None) -> MenuFile:
    # Inline YAML always has a newline or the version key; a path never does.
    inline = "\n" in menu or menu.lstrip().startswith("ivrnav:")
    try:
        if inline:  # untrusted: compiled first in a bounded child process (issue #16)
            jobmeta.vet_inline_menu(menu, given if isinstance(given, dict) else None)
        compiled = compile_text(menu, "<metadata>") if inline else compile_file(menu)
    except MenuFileError as exc:
        first = exc.errors[0] if exc.errors else None
        raise JobRequestError(f"menu in job metadata does not compile: {first}") from None
    except OSError as exc:
        raise JobRequestError(f"cannot read menu {menu!r}: {type(exc).__name__}") from None
    except jobmeta.MetadataError as exc:
        raise JobRequestError(str(exc)) from None
    return compiled.menu_file


def worker_values(menu_file: MenuFile, secrets: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The worker's own values for the menu's vars: ``--secrets`` file, then ``IVRNAV_VAR_<NAME>``."""
    values = {k: str(v) for k, v in secrets.items() if k in menu_file.vars}
    for name in menu_file.vars:
        env = environ.get(f"IVRNAV_VAR_{name.upper()}")
        if env is not None:
            values[name] = env
    return values


def parse_job(metadata: str, config: WorkerConfig, environ: Mapping[str, str] | None = None) -> JobRequest:
    """Validate dispatch metadata and combine its vars with the worker's secrets."""
    try:
        data = jobmeta.decode(metadata)  # size and nesting bounded before json.loads (issue #16)
    except jobmeta.MetadataError as exc:
        raise JobRequestError(str(exc)) from None
    if not isinstance(data, dict):
        raise JobRequestError("job metadata must be a JSON object")
    menu = data.get("menu")
    if not isinstance(menu, str) or not menu.strip():
        raise JobRequestError('job metadata needs "menu": a menu file path or inline YAML')
    mf = _load_menu(menu, data.get("vars"))
    goal = data.get("goal") or mf.goal
    if not isinstance(goal, str) or goal not in mf.menus:
        raise JobRequestError(f"goal {goal!r} is not a menu of {mf.name!r}")
    given = data.get("vars") or {}
    if not isinstance(given, dict):
        raise JobRequestError('"vars" must be an object of name: value')
    unknown = sorted(set(given) - set(mf.vars))
    if unknown:
        raise JobRequestError(f"unknown var(s) in job metadata: {', '.join(map(str, unknown))}")
    secret = sorted(n for n in given if n in mf.secret_vars)
    if secret:
        # Refuse rather than ignore: the value has already leaked to whoever can read dispatches.
        raise JobRequestError(
            f"secret var(s) {', '.join(secret)} must not be sent in job metadata; give them to the worker "
            f"({', '.join('IVRNAV_VAR_' + n.upper() for n in secret)} or --secrets FILE)"
        )
    values = worker_values(mf, config.secrets, os.environ if environ is None else environ)
    values.update({str(k): str(v) for k, v in given.items()})
    for name, value in values.items():
        pattern = mf.vars[name].pattern
        if pattern and not regex.fullmatch(pattern, value):  # RE2: a hostile pattern cannot stall the job
            raise JobRequestError(f"value of var {name!r} does not match its pattern {pattern!r}")
    identity = data.get("line_identity") or DEFAULT_LINE_IDENTITY
    return JobRequest(mf, goal, values, str(identity), data)


def make_stt(kind: str, menu_file: MenuFile, goal: str | None) -> Any:
    """The call's STT. Deepgram: the route to ``goal``'s key terms first within its limit, digits as
    numerals, the route's language, the training opt-out (ivrnav.livekit.stt_options). Offline: Whisper
    with the menu's key terms."""
    if kind == "offline":
        from ivrnav.speech.stt import WhisperSTT

        # file order, as the offline speech benchmark measured it: Whisper's prompt keeps its *last* tokens
        # when too long, so a route-first order would not put the route first there
        return WhisperSTT(keyterms=menu_keyterms(menu_file))
    return deepgram_stt(menu_file, goal)


def make_tts(kind: str) -> Any:
    if kind == "offline":
        from ivrnav.speech.tts import PiperTTS

        return PiperTTS()
    from livekit.plugins import deepgram

    return deepgram.TTS()


class _Host(Agent):
    """The job's agent: runs one ``NavigateIVR`` and reports its result."""

    def __init__(self, task: Callable[[], NavigateIVR], done: Callable[[NavigationResult], Any]) -> None:
        super().__init__(instructions="Navigate the phone menu silently.", llm=None)
        self._task = task
        self._done = done

    async def on_enter(self) -> None:
        result = await self._task()
        await self._done(result)


def _note_json(note: Note) -> bytes:
    return strict_json({"kind": "note", "at": round(note.at, 3), "note": note.kind, "text": note.text}).encode()


def _error_result(goal: str, reason: str, detail: str) -> NavigationResult:
    return NavigationResult(reached=False, goal=goal, reason=reason, detail=detail)


async def run_job(ctx: JobContext, config: WorkerConfig) -> None:
    """The job entrypoint (one call)."""
    await asyncio.wait_for(ctx.connect(), CONNECT_TIMEOUT)
    room = ctx.room
    pending: set[asyncio.Task[Any]] = set()

    async def publish(payload: bytes, topic: str) -> None:
        with contextlib.suppress(Exception):  # a room that is going away must not fail the job
            await asyncio.wait_for(room.local_participant.publish_data(payload, reliable=True, topic=topic),
                                   PUBLISH_TIMEOUT)

    async def report(result: NavigationResult, metadata: dict[str, Any]) -> None:
        logger.info("job %s: %s (%s)", ctx.job.id, result.reason, result.detail)
        await publish(strict_json({"kind": "result", **result.to_dict()}).encode(), RESULT_TOPIC)
        if config.on_result is not None:
            try:
                config.on_result(result, metadata)
            except Exception:
                logger.warning("on_result callback failed", exc_info=False)

    try:  # off the event loop: an inline menu is compiled in a child process first (up to its timeout)
        request = await asyncio.to_thread(parse_job, ctx.job.metadata, config)
    except (JobRequestError, NavigationError) as exc:
        logger.error("job %s refused: %s", ctx.job.id, exc)
        refused = _error_result("", "bad_request", str(exc))
        record_result(None, refused)
        await report(refused, {})
        ctx.shutdown(reason="bad request")
        return
    except Exception as exc:  # issue #16: hostile metadata must end this job with a result, not the worker
        logger.error("job %s refused: unreadable metadata (%s)", ctx.job.id, type(exc).__name__)
        await report(_error_result("", "bad_request", f"job metadata could not be read ({type(exc).__name__})"), {})
        ctx.shutdown(reason="bad request")
        return

    def on_note(note: Note) -> None:
        if note.kind == "heard":  # the line's words (may read back account data): DEBUG only, marked PII
            logger.debug("%7.2fs line", note.at, extra={"lk.pii.transcript": note.text})
        else:  # menus, masked keys, drift, retries
            logger.info("%7.2fs %-5s %s", note.at, note.kind, note.text)
        task = asyncio.ensure_future(publish(_note_json(note), TIMELINE_TOPIC))
        pending.add(task)
        task.add_done_callback(pending.discard)

    finished = asyncio.Event()

    async def done(result: NavigationResult) -> None:
        if pending:
            await asyncio.wait(list(pending), timeout=PUBLISH_TIMEOUT)
        await report(result, request.metadata)
        finished.set()

    def make_task() -> NavigateIVR:
        return NavigateIVR(request.menu_file, request.goal, request.values, line_identity=request.line_identity,
                           room=room, on_note=on_note)

    try:
        make_task()  # fail fast on a missing var / bad goal, before any audio is set up
    except NavigationError as exc:
        refused = _error_result(request.goal, "bad_request", str(exc))
        record_result(request.menu_file, refused)
        await report(refused, request.metadata)
        ctx.shutdown(reason="bad request")
        return

    stt, tts = make_stt(config.stt, request.menu_file, request.goal), make_tts(config.stt)
    if config.stt == "offline":  # load the models off the event loop, before the line starts talking
        await asyncio.to_thread(stt.prewarm)
        await asyncio.to_thread(tts.prewarm)
    # vad=None: the framework's default Silero VAD would only time turns (there are none to take) and, on a
    # busy machine, take the CPU the STT needs to keep up with the line (its own VAD cuts utterances).
    # turn_detection None: without a VAD the default turn detector cannot run (and warns on every call);
    # the navigator takes no turns.
    session: AgentSession = AgentSession(stt=stt, tts=tts, llm=None, vad=None,
                                         turn_handling=TurnHandlingOptions(turn_detection=None))
    options = room_io.RoomOptions(
        participant_identity=request.line_identity,
        # the task must see the line hang up and report "hangup"; we close the session ourselves
        close_on_disconnect=False,
    )
    await session.start(agent=_Host(make_task, done), room=room, room_options=options, record=False)
    with contextlib.suppress(Exception):  # a caller that does not wait for it loses nothing
        await asyncio.wait_for(room.local_participant.set_attributes({STATE_ATTRIBUTE: LISTENING}), PUBLISH_TIMEOUT)
    limit = request.menu_file.defaults.max_call * 1.1 + 30
    try:
        await asyncio.wait_for(finished.wait(), limit)
    except TimeoutError:
        stuck = _error_result(request.goal, "timeout", f"job exceeded {limit:.0f} s")
        record_result(request.menu_file, stuck)
        await report(stuck, request.metadata)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(session.aclose(), 10)
    ctx.shutdown(reason="navigation finished")


def build_server(
    config: WorkerConfig,
    *,
    ws_url: str | None = None,
    api_key: str | None = None,
    api_secret: str | None = None,
    host: str = "",
    port: int | None = None,
    metrics_port: int | None = None,
    load_threshold: float | None = None,
    load_fnc: Callable[[], float] | None = None,
) -> AgentServer:
    """An ``AgentServer`` serving ``config.agent_name``. Jobs run on threads of this process: calls are
    I/O bound and the offline models are loaded once and shared.

    ``host``/``port``: the framework's health server (``/`` and ``/worker``); by default all interfaces and
    the framework's port (8081 in production, a free one in dev mode), so an orchestrator's health check can
    reach it. ``metrics_port``: serve Prometheus ``/metrics`` (ivrnav's call metrics and the framework's).
    ``load_fnc``: the load the worker reports (default: the framework's CPU average)."""
    if config.stt == "offline":
        # livekit plugins register themselves on import and insist on the main thread; the offline STT
        # imports Silero lazily on a job thread, so import it here first.
        import livekit.plugins.silero  # noqa: F401
    extra: dict[str, Any] = {}
    if load_threshold is not None:
        extra["load_threshold"] = load_threshold
    elif config.stt == "offline":
        # LiveKit marks a production worker full above 70% CPU; offline Whisper (demos) keeps a small machine
        # that busy and would refuse every job. Dev mode (tests) keeps LiveKit's own default (no limit).
        extra["load_threshold"] = ServerEnvOption(dev_default=math.inf, prod_default=0.99)
    server = AgentServer(
        **extra,
        ws_url=ws_url,
        api_key=api_key,
        api_secret=api_secret,
        host=host,
        **({"port": port} if port is not None else {}),
        prometheus_port=metrics_port,
        load_fnc=load_fnc,
        job_executor_type=JobExecutorType.THREAD,
        num_idle_processes=0,
    )

    async def entrypoint(ctx: JobContext) -> None:
        await run_job(ctx, config)

    server.rtc_session(entrypoint, agent_name=config.agent_name)
    if config.stt == "offline":
        server.setup_fnc = _prewarm_offline
        # loading Whisper on a busy 2-core machine takes far longer than LiveKit's 10 s default
        server.update_options(initialize_process_timeout=PREWARM_TIMEOUT)
    return server


def _prewarm_offline(_proc: object) -> None:
    """Load the offline models (process-wide caches) before the worker takes jobs, not on a call."""
    from ivrnav.speech.stt import load_whisper
    from ivrnav.speech.tts import default_synthesizer

    load_whisper()
    default_synthesizer()


@contextlib.asynccontextmanager
async def local_worker(config: WorkerConfig, *, ws_url: str, api_key: str, api_secret: str,
                       register_timeout: float = 120.0, **options: Any) -> AsyncIterator[AgentServer]:
    """An in-process worker for one machine (a local call, the tests, the benchmarks): built with
    ``build_server`` on 127.0.0.1, reporting no load (livekit-server passes over a worker whose load, the
    machine's CPU, is high, and a shared 2-core machine often is), registered before it is yielded, and
    closed after. ``options`` go to ``build_server`` (``metrics_port=...``)."""
    options.setdefault("host", "127.0.0.1")
    options.setdefault("load_fnc", lambda: 0.0)
    server = build_server(config, ws_url=ws_url, api_key=api_key, api_secret=api_secret, **options)
    registered = asyncio.Event()
    server.on("worker_registered", lambda *_: registered.set())
    task = asyncio.create_task(server.run(devmode=True))
    try:
        await asyncio.wait_for(registered.wait(), register_timeout)
        yield server
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.aclose(), 30)
        task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 10)


def load_secrets_file(path: str | Path) -> dict[str, str]:
    """A YAML mapping of var name to value (the same reader as ``ivrnav run --secrets``), values as written.
    Raises ``ivrnav.files.InputFileError`` with a message that never quotes a value."""
    from ivrnav.cli_inputs import load_secrets

    return load_secrets(str(path))
