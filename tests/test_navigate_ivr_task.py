"""``NavigateIVR`` inside a real livekit-agents ``AgentSession`` (our offline Whisper STT, no room): the
STT check, the call's key terms set and restored, IVR detection paused and restored or stopped, and the
person at the goal handed over in the parent agent's chat context.

The session gets no audio here: the line's transcripts are STT stream events handed to the task as its
STT node does (``NavigateIVR.hear_speech``), without times (as from an STT that gives none).
Keys go to a recording DTMF sender."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("livekit.agents")

import livekit.plugins.silero  # noqa: F401  (plugins register on the main thread)
from livekit import rtc
from livekit.agents import Agent, AgentSession
from livekit.agents import stt as lk_stt

from ivrnav.livekit.dtmf import DtmfSender
from ivrnav.livekit.stt_options import call_keyterms, limit_for
from ivrnav.livekit.task import NavigateIVR, NavigateIVRSetupError
from ivrnav.menu.compiler import compile_file
from tests.parts import require_speech_models

MENUS = Path(__file__).resolve().parents[1] / "menus"
BANK = compile_file(MENUS / "bank.yaml").menu_file
SECRETS = {"account": "1234567890", "pin": "9876"}
GREETING = "Thanks for calling Acme Bank, my name is Dana. How can I help you today?"


@pytest.fixture(scope="module")
def whisper() -> Any:
    require_speech_models()
    from ivrnav.speech.stt import load_whisper

    return load_whisper()


def offline_stt(model: Any) -> Any:
    from ivrnav.speech.stt import WhisperSTT

    return WhisperSTT(vad="energy", model=model)


class Call:
    """One session whose agent awaits a ``NavigateIVR``; records keys, the result or the error."""

    def __init__(self, session: AgentSession, make_task: Callable[[rtc.Room, DtmfSender], NavigateIVR]) -> None:
        self.session = session
        self.room = rtc.Room()  # never connected: the task only listens to its events
        self.keys: list[str] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.task: NavigateIVR | None = None
        self.done = asyncio.Event()
        self.during: dict[str, Any] = {}
        call = self

        async def publish(code: int, digit: str) -> None:
            call.keys.append(digit)

        class Host(Agent):
            def __init__(self) -> None:
                super().__init__(instructions="You call the bank.", llm=None)

            async def on_enter(self) -> None:
                call.task = make_task(call.room, DtmfSender(publish))
                try:
                    call.result = await call.task
                except Exception as exc:
                    call.error = exc
                finally:
                    call.done.set()

        self.agent = Host()

    async def start(self) -> None:
        await self.session.start(agent=self.agent)

    async def ready(self, timeout: float = 10.0) -> None:
        """Until the task listens (its on_enter has run): earlier words would go unheard."""
        async def wait() -> None:
            while self.task is None or self.task._driver is None:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), timeout)

    def hear(self, text: str, final: bool = True) -> None:
        assert self.task is not None
        self.task.hear_speech(speech(text, final))

    async def until_keys(self, n: int, timeout: float = 10.0) -> None:
        async def wait() -> None:
            while len(self.keys) < n:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), timeout)

    async def finish(self, timeout: float = 15.0) -> None:
        await asyncio.wait_for(self.done.wait(), timeout)
        await asyncio.sleep(0.1)  # let the framework hand the parent agent back its activity


def speech(text: str, final: bool = True) -> lk_stt.SpeechEvent:
    kind = lk_stt.SpeechEventType.FINAL_TRANSCRIPT if final else lk_stt.SpeechEventType.INTERIM_TRANSCRIPT
    return lk_stt.SpeechEvent(type=kind, alternatives=[lk_stt.SpeechData(language="en", text=text)])


async def reach_agent(call: Call) -> None:
    """The bank's line up to the representative: keys 1 (English) then a wait in the queue."""
    call.hear("Thank you for calling Acme Bank. Calls may be monitored or recorded.")
    await asyncio.sleep(0.3)
    call.hear("For English, press 1.")
    await call.until_keys(1)
    call.hear("Main menu. For account balances and recent transactions, press 1. For all other questions, press 0.")
    await call.until_keys(2)


def _new_session(stt: Any, **kwargs: Any) -> AgentSession:
    return AgentSession(stt=stt, llm=None, **kwargs)


async def test_goal_person_is_handed_over_and_key_terms_are_set_then_restored(whisper: Any) -> None:
    session = _new_session(offline_stt(whisper), stt_context_options={"keyterms": ["Acme"]})
    call = Call(session, lambda room, dtmf: NavigateIVR(BANK, "agent", SECRETS, room=room, dtmf=dtmf, answered=True))
    await call.start()
    try:
        await call.ready()
        during = list(session.keyterms)
        route_terms = call_keyterms(BANK, "agent", limit_for("faster-whisper"))
        assert during[: len(route_terms)] == route_terms and "Acme" in during  # ours first, the app's kept
        assert during[:3] == ["press 0", "representative", "operator"]  # the route to the agent: "0" first
        await reach_agent(call)
        call.hear("All of our representatives are currently assisting other customers.")
        await asyncio.sleep(0.3)
        call.hear(GREETING[:30], final=False)  # reached on the interim; the final follows
        await asyncio.sleep(0.3)
        call.hear(GREETING)
        await call.finish()
        assert call.error is None and call.result.reached and call.result.goal == "agent"
        assert call.task is not None and call.task.goal_transcript == GREETING
        said = [(m.role, m.text_content) for m in call.agent.chat_ctx.messages()]
        assert ("user", GREETING) in said  # merged into the parent agent's chat context
        assert not any("press 1" in (text or "") for _, text in said)  # the IVR's prompts are not
        assert list(session.keyterms) == ["Acme"]
    finally:
        await session.aclose()


async def test_ivr_detection_is_paused_during_the_task_and_stopped_once_a_person_answers(
    whisper: Any, caplog: pytest.LogCaptureFixture
) -> None:
    session = _new_session(offline_stt(whisper))
    call = Call(session, lambda room, dtmf: NavigateIVR(BANK, "agent", SECRETS, room=room, dtmf=dtmf, answered=True))
    await call.start()
    try:
        await session._start_ivr_detection()  # what ivr_detection=True / an AMD "machine-ivr" verdict do
        assert "send_dtmf_events" in {t.id for t in session.tools}
        await call.ready()
        with caplog.at_level(logging.ERROR):
            # the same prompt over and over: the framework's loop detector would ask our LLM-less task
            # for a reply ("trying to generate reply without an LLM model")
            for _ in range(3):
                call.hear("Thank you for calling Acme Bank. Calls may be monitored or recorded.")
                await asyncio.sleep(0.15)
            assert "send_dtmf_events" not in {t.id for t in session.tools}
            call.hear("For English, press 1.")
            await call.until_keys(1)
            call.hear("Main menu. For all other questions, press 0.")
            await call.until_keys(2)
            call.hear(GREETING)
            await call.finish()
        assert "without an LLM" not in caplog.text
        assert call.result.reached
        assert session._ivr_activity is None and "send_dtmf_events" not in {t.id for t in session.tools}
    finally:
        await session.aclose()


async def test_ivr_detection_started_mid_call_is_paused_too(whisper: Any, caplog: pytest.LogCaptureFixture) -> None:
    """An AMD verdict (or the session's start-up) may start IVR detection after the task began."""
    session = _new_session(offline_stt(whisper))
    call = Call(session, lambda room, dtmf: NavigateIVR(BANK, "agent", SECRETS, room=room, dtmf=dtmf, answered=True))
    await call.start()
    try:
        await call.ready()
        call.hear("Thank you for calling Acme Bank. Calls may be monitored or recorded.")
        await asyncio.sleep(0.2)
        call.hear("For English, press 1.")
        await call.until_keys(1)
        await session._start_ivr_detection()  # mid-call
        with caplog.at_level(logging.ERROR):
            for _ in range(4):  # what the framework's loop detector reacts to
                call.hear("Please listen carefully, as our menu options have recently changed.")
                await asyncio.sleep(0.15)
            assert "send_dtmf_events" not in {t.id for t in session.tools}
            call.hear("Main menu. For all other questions, press 0.")
            await call.until_keys(2)
            call.hear(GREETING)
            await call.finish()
        assert "without an LLM" not in caplog.text
        assert call.result is not None and call.result.reached
    finally:
        await session.aclose()


async def test_ivr_detection_is_restored_when_the_goal_is_not_reached(whisper: Any) -> None:
    session = _new_session(offline_stt(whisper))
    call = Call(session, lambda room, dtmf: NavigateIVR(BANK, "agent", SECRETS, room=room, dtmf=dtmf, answered=True))
    await call.start()
    try:
        await session._start_ivr_detection()
        ivr = session._ivr_activity
        await call.ready()
        call.hear("Thank you for calling Acme Bank. Calls may be monitored or recorded.")
        await asyncio.sleep(0.2)
        call.room.emit("participant_disconnected", types.SimpleNamespace(identity="ivr-line"))
        await call.finish()
        assert call.result.reason == "hangup" and not call.result.reached
        assert session._ivr_activity is ivr and "send_dtmf_events" in {t.id for t in session.tools}
        assert ivr._on_user_input_transcribed in session._events["user_input_transcribed"]
    finally:
        await session.aclose()


async def test_a_session_without_a_streaming_interim_stt_is_a_clear_error() -> None:
    session = AgentSession(llm=None)  # e.g. a realtime-model session: no STT of its own
    call = Call(session, lambda room, dtmf: NavigateIVR(BANK, "agent", SECRETS, room=room, dtmf=dtmf, answered=True))
    await call.start()
    try:
        await call.finish()
        assert isinstance(call.error, NavigateIVRSetupError)
        assert "needs an STT" in str(call.error) and "stt=" in str(call.error)
    finally:
        await session.aclose()


def test_a_given_stt_without_interim_results_is_refused_at_construction() -> None:
    deepgram = pytest.importorskip("livekit.plugins.deepgram")
    stt = deepgram.STT(api_key="dummy", model="nova-3", interim_results=False)  # no connection until streamed
    with pytest.raises(NavigateIVRSetupError, match="gives no interim results"):
        NavigateIVR(BANK, "agent", SECRETS, stt=stt)


def _example() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("embed_example", MENUS.parent / "examples" / "embed_navigate_ivr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_example_agent_returns_hangup_and_ends_its_session(whisper: Any, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("livekit.plugins.deepgram")
    example = _example()
    # the session must stay open when the line leaves, so the task can return "hangup"
    assert example.ROOM_OPTIONS.close_on_disconnect is False
    monkeypatch.setenv("IVRNAV_VAR_ACCOUNT", SECRETS["account"])
    keys: list[str] = []

    async def publish(code: int, digit: str) -> None:
        keys.append(digit)

    room = rtc.Room()
    agent = example.BankCaller(room=room, dtmf=DtmfSender(publish), answered=True)
    session = _new_session(offline_stt(whisper))
    closed = asyncio.Event()
    session.on("close", lambda _ev: closed.set())
    await session.start(agent=agent)
    try:
        await asyncio.sleep(0.2)
        task = session.current_agent
        assert isinstance(task, NavigateIVR)
        task.hear_speech(speech("Thank you for calling Acme Bank. Calls may be monitored or recorded."))
        await asyncio.sleep(0.2)
        room.emit("participant_disconnected", types.SimpleNamespace(identity="ivr-line"))
        await asyncio.wait_for(closed.wait(), 15)
        assert agent.result is not None and agent.result.reason == "hangup"
    finally:
        await session.aclose()
