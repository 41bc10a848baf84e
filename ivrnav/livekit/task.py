"""``NavigateIVR``: phone-menu navigation as a livekit-agents ``AgentTask``.

Await it from an agent's ``on_enter`` or a tool, like the framework's ``GetDtmfTask``::

    result = await NavigateIVR("menus/bank.yaml", goal="agent", vars={"account": ...})
    if result.reached:
        ...  # a person (or the wanted step) is on the line: the agent takes over

While it runs, the task listens to the transcripts of its STT (``stt=``, else the session's; it must stream
interim results), presses keys with ``publish_dtmf`` and speaks ``say:`` steps with the session's TTS. It
never lets an LLM answer the IVR: it has no LLM of its own and drops every user turn.

For the call's duration it also:

- sets the session's key terms to the call's (the goal route first, within the STT provider's limit)
  and restores the previous ones after;
- pauses the session's IVR detection (``AgentSession(ivr_detection=True)``, or the one AMD starts on a
  ``machine-ivr`` verdict): its loop and silence handlers would ask for LLM replies this task cannot give,
  and its ``send_dtmf_events`` tool must not press keys next to ours. Afterwards (``ivr_detection_after``):
  by default restored when the goal was not reached (the parent LLM may try), and stopped when it was
  (a person is on the line);
- hands the person over: on reaching a human goal, what they said ("my name is Dana, how can I help") is
  added to the task's chat context as a user message, which the framework merges into the parent agent's,
  and kept in ``NavigateIVR.goal_transcript``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from livekit import rtc
from livekit.agents import llm, utils
from livekit.agents import stt as lk_stt
from livekit.agents.job import get_job_context
from livekit.agents.llm.tool_context import StopResponse
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.agents.voice.agent import AgentTask, ModelSettings

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.dtmf import DIRECT, SIP_BRIDGE, DtmfSender
from ivrnav.livekit.ear import LineEar, end_input_when_left, hang_up_once_heard
from ivrnav.livekit.observe import NavigationSpan, navigation_span, record_result
from ivrnav.livekit.sipcall import DEFAULT_RINGING_TIMEOUT, wait_answered
from ivrnav.livekit.stt_options import call_keyterms, fit_keyterms, limit_for
from ivrnav.menu.compiler import compile_file
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import SendDigits
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult

__all__ = ["NavigateIVR", "NavigateIVRSetupError", "check_stt"]

logger = logging.getLogger("ivrnav.livekit.task")

INSTRUCTIONS = (
    "You are navigating an automated phone menu with keypad tones. You never speak unless the menu asks "
    "for a spoken answer, which is handled for you."
)
HANDOVER_WAIT = 2.0  # seconds to let the person at the goal finish the sentence being transcribed


class NavigateIVRSetupError(RuntimeError):
    """The session cannot run a navigation (no STT, or one without interim results); says what to fix."""


def check_stt(stt: lk_stt.STT | None) -> None:
    """Raise ``NavigateIVRSetupError`` unless ``stt`` streams interim transcripts."""
    hint = ("pass NavigateIVR(..., stt=...) a streaming STT with interim results, e.g. "
            "deepgram.STT(model='nova-3', interim_results=True) or ivrnav.speech.stt.WhisperSTT()")
    if stt is None:
        raise NavigateIVRSetupError(f"NavigateIVR needs an STT and the session has none (a realtime-model "
                                    f"session?): {hint}")
    caps = stt.capabilities
    if not caps.streaming or not caps.interim_results:
        what = "does not stream" if not caps.streaming else "gives no interim results"
        raise NavigateIVRSetupError(
            f"NavigateIVR needs interim transcripts to press as soon as an option is spoken, but STT "
            f"{stt.label!r} {what}: {hint}")


class NavigateIVR(AgentTask[NavigationResult]):
    """Navigate the phone menu described by ``menu_file`` to ``goal``; completes with the result.

    ``vars`` are the menu file's values (account numbers, PINs); they never reach a log, the chat
    context or the result. ``stt``: the STT to listen with (default: the session's); it must give interim
    results. ``chat_ctx``: the task's starting chat context (as for the framework's tasks). ``keyterms``:
    set the call's key terms on the STT for the task's duration. ``ivr_detection_after``: what becomes of
    the session's IVR detection afterwards (``"auto"``: stopped when the goal was reached, else restored).
    ``line_identity`` names the IVR's participant (a SIP participant in real calls); by default the
    participant the session listens to. ``room`` defaults to the job's room. ``on_note`` receives each
    (redacted) timeline note as it happens.
    """

    def __init__(
        self,
        menu_file: MenuFile | str | Path,
        goal: str | None = None,
        vars: Mapping[str, str] | None = None,
        *,
        stt: NotGivenOr[lk_stt.STT] = NOT_GIVEN,
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        keyterms: bool = True,
        ivr_detection_after: Literal["auto", "restore", "stop"] = "auto",
        line_identity: str | None = None,
        room: rtc.Room | None = None,
        dtmf: DtmfSender | None = None,
        on_note: Callable[[Note], None] | None = None,
        handover_wait: float = HANDOVER_WAIT,
        ringing_timeout: float = DEFAULT_RINGING_TIMEOUT,
        answered: bool = False,
    ) -> None:
        mf = menu_file if isinstance(menu_file, MenuFile) else compile_file(menu_file).menu_file
        # Built now so a bad goal or var fails at construction, before the call is touched.
        self._navigator = Navigator(mf, goal, vars)
        if is_given(stt):
            check_stt(stt)  # fail fast, like a bad goal
        # llm=None: this task's activity has no LLM, so nothing can be generated on a user turn.
        super().__init__(instructions=INSTRUCTIONS, llm=None, stt=stt, chat_ctx=chat_ctx)
        self._menu_file = mf
        self._use_keyterms = keyterms
        self._ivr_after = ivr_detection_after
        self._line_identity = line_identity
        self._room = room
        self._on_note = on_note
        self._handover_wait = handover_wait
        self._ringing_timeout = ringing_timeout
        self._sender: DtmfSender | None = dtmf
        self._answered = False  # until then, words (early media) and departures are not the call's
        self._answered_before = answered  # the caller knows the call is up (dialled with wait_until_answered)
        self._driver: CallDriver | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._saved_keyterms: list[str] | None = None
        self._paused_ivr: Any = None  # the session's IVRActivity while we run
        self._paused_tools: list[Any] = []
        self._amd_ivr: bool | None = None  # a pending AMD's "start IVR detection" flag while we run
        self._pausing: asyncio.Future[None] | None = None
        # the line's current utterance, for the hand-over at the goal
        self._utterance = ""
        self._utterance_final = True
        self._final_heard = asyncio.Event()
        self._stream_base = 0.0  # line seconds before the current STT stream's time 0
        self._ear: LineEar | None = None  # the line's audio and transcripts into the driver
        self._line_left = asyncio.Event()  # the line hung up: its last words are flushed out of the STT
        self._stt_drained = asyncio.Event()  # ... and the STT stream has given them
        self._hanging_up: asyncio.Future[None] | None = None
        self.goal_transcript: str = ""
        self._span: NavigationSpan | None = None
        self.setup_error: NavigateIVRSetupError | None = None

    @property
    def navigator(self) -> Navigator:
        return self._navigator

    @property
    def menu_file(self) -> MenuFile:
        return self._menu_file

    # ------------------------------------------------------------------------------------ lifecycle

    def _listening_stt(self) -> lk_stt.STT | None:
        return self.stt if is_given(self.stt) else self.session.stt

    async def on_enter(self) -> None:
        stt = self._listening_stt()
        try:
            check_stt(stt)
        except NavigateIVRSetupError as exc:
            self.setup_error = exc
            self.complete(exc)
            return
        assert stt is not None
        room = self._room or get_job_context().room
        self._room = room
        if self._line_identity is None:
            with contextlib.suppress(RuntimeError):
                linked = self.session.room_io.linked_participant
                self._line_identity = linked.identity if linked else None

        async def send(action: SendDigits) -> None:
            assert self._sender is not None  # set once the line answered, before the first key
            await self._sender.send(action.digits, action.inter_digit, action.masked)

        async def say(text: str) -> None:
            # Not added to the chat context (it may hold a secret) and not interruptible: the IVR talks
            # over us and must not cut the answer short.
            await self.session.say(text, allow_interruptions=False, add_to_chat_ctx=False)

        await self._pause_ivr_detection()
        if self._use_keyterms:
            self._set_keyterms(stt)
        self._driver = CallDriver(self._navigator, send_digits=send, say=say, on_note=self._note)
        self._ear = LineEar(self._driver)
        room.on("participant_disconnected", self._on_participant_disconnected)
        room.on("disconnected", self._on_room_disconnected)
        self._run_task = asyncio.create_task(self._run(), name="ivrnav-navigate")

    async def on_exit(self) -> None:
        if self._room is not None:
            self._room.off("participant_disconnected", self._on_participant_disconnected)
            self._room.off("disconnected", self._on_room_disconnected)
        for task in (self._run_task, self._hanging_up):
            if task is not None and not task.done():
                task.cancel()
        self._restore_keyterms()
        reached = self._driver is not None and self._driver.result is not None and self._driver.result.reached
        await self._resume_ivr_detection(reached)

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage) -> None:
        raise StopResponse()  # the IVR's words are for the navigator, never a turn to answer

    async def stt_node(self, audio: AsyncIterable[rtc.AudioFrame],
                       model_settings: ModelSettings) -> AsyncIterator[lk_stt.SpeechEvent]:
        """The framework's STT node, watched: the navigator gets each transcript with the STT's own times
        and the line audio's level, so a transcript that is late is not read as a late prompt (see
        ``CallDriver``). Our own stream, so its times are seconds of the audio fed here."""
        stt = self._listening_stt()
        assert stt is not None  # on_enter checked
        async with stt.stream(conn_options=self.session.conn_options.stt_conn_options) as stream:
            base = self._driver.line_position if self._driver is not None else 0.0
            self._stream_base = base

            async def forward() -> None:
                async for frame in audio:
                    if self._driver is not None:
                        self.line_frame(frame)
                    stream.push_frame(frame)

            forwarding = asyncio.create_task(forward(), name="ivrnav-stt-input")
            flushing = asyncio.create_task(self._flush_when_left(forwarding, stream), name="ivrnav-stt-flush")
            try:
                async for event in stream:
                    self.hear_speech(event, base)
                    yield event
            finally:
                self._stt_drained.set()
                await utils.aio.cancel_and_wait(flushing, forwarding)

    async def _flush_when_left(self, forwarding: asyncio.Task[None], stream: lk_stt.RecognizeStream) -> None:
        await self._line_left.wait()
        if self._ear is not None:  # the driver's ear knows when the last frame came
            await end_input_when_left(self._line_left, forwarding, stream, self._ear)

    def line_frame(self, frame: rtc.AudioFrame) -> None:
        """One frame of the line's audio (``stt_node`` calls it): its length and level go to the driver, and
        the sound classifier's reports (music, ringing, for ``confirm: {sound: ...}``) once answered."""
        assert self._ear is not None
        self._ear.frame(frame, classify=self._answered)

    async def _run(self) -> None:
        assert self._driver is not None and self._room is not None
        # The clock starts when the callee answers (a SIP line's sip.callStatus "active"), never while
        # it rings: ringing is silence the navigator would take for a menu that says nothing.
        line = (None if self._answered_before
                else await wait_answered(self._room, self._line_identity, self._ringing_timeout))
        # one span per call (the framework's tracer, inside the session's trace) and the worker's metrics
        with navigation_span(self._menu_file, self._navigator.goal) as span:
            self._span = span
            if isinstance(line, str):
                result = self._driver.unanswered(line, "the call was not answered" if line == "no_answer"
                                                 else "the line ended the call before answering")
            else:
                if self._sender is None:  # keys over a SIP bridge go at its pace; in a room, at once
                    sip = line is not None and line.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
                    transport = SIP_BRIDGE if sip else DIRECT
                    self._sender = DtmfSender.for_participant(self._room.local_participant, transport)
                self._answered = True
                self._driver.begin()
                result = await self._driver.run()
            span.finish(result)
        self._span = None
        record_result(self._menu_file, result)
        logger.info("navigation ended: %s (%s)", result.reason, self._navigator.redact(result.detail))
        if result.reached and self._menu_file.menus[result.goal].human:
            await self._hand_over()
        if not self.done():
            self.complete(result)

    async def _hand_over(self) -> None:
        """Put what the person at the goal said into the chat context the parent agent gets back."""
        if not self._utterance_final:
            self._final_heard.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._final_heard.wait(), self._handover_wait)
        text = self._navigator.redact(self._utterance.strip())
        self.goal_transcript = text
        if not text:
            return
        ctx = self.chat_ctx.copy()
        ctx.add_message(role="user", content=text)
        try:
            await self.update_chat_ctx(ctx)
        except Exception:  # a session going away must not lose the result
            logger.warning("could not add the goal's transcript to the chat context", exc_info=False)

    # ------------------------------------------------------------------------------------- key terms

    def _set_keyterms(self, stt: lk_stt.STT) -> None:
        detector = getattr(self.session, "_keyterm_detector", None)
        if detector is None or not stt.capabilities.keyterms:
            return
        limit = limit_for(stt.provider)
        self._saved_keyterms = list(detector.static_keyterms)
        ours = call_keyterms(self._menu_file, self._navigator.goal, limit)
        # an STT puts its own (constructor) key terms before the session's: leave room for them
        own = list(getattr(stt, "_user_keyterm", None) or getattr(stt, "_user_keyterms", None) or [])
        terms = fit_keyterms(own, [*ours, *self._saved_keyterms], limit)
        self.session.update_options(keyterms=terms)
        logger.debug("key terms for the call: %d (%s limit %d)", len(terms), stt.provider, limit.terms)

    def _restore_keyterms(self) -> None:
        if self._saved_keyterms is not None:
            with contextlib.suppress(Exception):
                self.session.update_options(keyterms=self._saved_keyterms)
            self._saved_keyterms = None

    # ------------------------------------------------------------------------------ IVR detection / AMD

    async def _pause_ivr_detection(self) -> None:
        session = self.session
        amd = getattr(session, "amd", None)
        if (amd is not None and self._amd_ivr is None and getattr(amd, "pending", False)
                and hasattr(amd, "_ivr_detection")):
            # a verdict during the call must not start IVR detection next to us
            self._amd_ivr, amd._ivr_detection = amd._ivr_detection, False
        ivr = getattr(session, "_ivr_activity", None)
        if ivr is None or ivr is self._paused_ivr:
            return
        await ivr.aclose()  # unhooks its loop/silence handlers and cancels its silence timer
        self._paused_ivr = ivr
        tools = set(map(id, ivr.tools))
        self._paused_tools = [t for t in session._tools if id(t) in tools]
        session._tools[:] = [t for t in session._tools if id(t) not in tools]
        logger.debug("IVR detection paused for the navigation")

    def _watch_ivr_detection(self) -> None:
        """IVR detection that started after us (a session's start-up race, an AMD verdict): pause it too."""
        late = getattr(self.session, "_ivr_activity", None)
        if late is not None and self._paused_ivr is None and self._pausing is None:
            self._pausing = asyncio.ensure_future(self._pause_ivr_detection())
            self._pausing.add_done_callback(lambda _: setattr(self, "_pausing", None))

    async def _resume_ivr_detection(self, reached: bool) -> None:
        if self._pausing is not None:
            with contextlib.suppress(Exception):
                await self._pausing
        session = self.session
        amd = getattr(session, "amd", None)
        if self._amd_ivr is not None and amd is not None:
            amd._ivr_detection = self._amd_ivr
        self._amd_ivr = None
        ivr, self._paused_ivr = self._paused_ivr, None
        if ivr is None:
            return
        restore = self._ivr_after == "restore" or (self._ivr_after == "auto" and not reached)
        if not restore:
            if getattr(session, "_ivr_activity", None) is ivr:
                session._ivr_activity = None  # a person is on the line: no more IVR handling or key tool
            logger.debug("IVR detection stopped: the goal was reached")
            return
        ivr._loop_detector.reset()
        await ivr.start()
        session._tools.extend(t for t in self._paused_tools if t not in session._tools)
        logger.debug("IVR detection restored after the navigation")

    # --------------------------------------------------------------------------------------- events

    def _note(self, note: Note) -> None:
        if self._span is not None:
            self._span.note(note)
        if self._on_note is not None:
            self._on_note(note)

    def hear_speech(self, ev: lk_stt.SpeechEvent, base: float = 0.0) -> None:
        """One event of the STT stream (``stt_node`` calls it): transcripts go to the navigator, with the
        STT's times (``base``: line seconds before the stream's time 0)."""
        if self._ear is None or not self._answered:
            return  # before the answer: ringing and early media are not the call's
        if ev.alternatives and ev.type in (lk_stt.SpeechEventType.FINAL_TRANSCRIPT,
                                           lk_stt.SpeechEventType.INTERIM_TRANSCRIPT):
            self._watch_ivr_detection()
        heard = self._ear.speech(ev, base)
        if heard is None:
            return
        text, final = heard
        if text:
            self._utterance, self._utterance_final = text, final
        if final:
            self._final_heard.set()

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if self._driver is None or not self._answered:  # before the answer, wait_answered sees it
            return
        the_line = self._line_identity is None or participant.identity == self._line_identity
        if the_line and not self._line_left.is_set():  # the call ends once the STT has the line's last words
            self._line_left.set()
            self._hanging_up = asyncio.ensure_future(hang_up_once_heard(self._line_left, self._stt_drained,
                                                                        self._driver))

    def _on_room_disconnected(self, *_: object) -> None:
        if self._driver is not None and self._answered:
            self._driver.call_ended("room disconnected")
