"""``NavigateIVR``: phone-menu navigation as a livekit-agents ``AgentTask``.

Await it from an agent's ``on_enter`` or a tool, like ``GetDtmfTask``::

    result = await NavigateIVR("menus/bank.yaml", goal="agent", vars={"account": ...})
    if result.reached:
        ...  # a person (or the wanted step) is on the line: the agent takes over

While it runs, the task listens to the session's transcripts (``user_input_transcribed``, interim and
final), presses keys with ``publish_dtmf`` and speaks ``say:`` steps with the session's TTS. It never
lets the LLM answer the IVR: it has no LLM of its own and drops every user turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from livekit import rtc
from livekit.agents import llm
from livekit.agents.job import get_job_context
from livekit.agents.llm.tool_context import StopResponse
from livekit.agents.voice.agent import AgentTask
from livekit.agents.voice.events import UserInputTranscribedEvent

from ivrnav.livekit.driver import CallDriver
from ivrnav.livekit.dtmf import DIRECT, SIP_BRIDGE, DtmfSender
from ivrnav.livekit.sipcall import DEFAULT_RINGING_TIMEOUT, wait_answered
from ivrnav.menu.compiler import compile_file
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import SendDigits
from ivrnav.navigate.navigator import Navigator, Note
from ivrnav.navigate.result import NavigationResult

__all__ = ["NavigateIVR"]

logger = logging.getLogger("ivrnav.livekit.task")

INSTRUCTIONS = (
    "You are navigating an automated phone menu with keypad tones. You never speak unless the menu asks "
    "for a spoken answer, which is handled for you."
)


class NavigateIVR(AgentTask[NavigationResult]):
    """Navigate the phone menu described by ``menu_file`` to ``goal``; completes with the result.

    ``vars`` are the menu file's values (account numbers, PINs); they never reach a log, the chat
    context or the result. ``line_identity`` names the IVR's participant (a SIP participant in real
    calls); by default the participant the session listens to. ``room`` defaults to the job's room.
    ``on_note`` receives each (redacted) timeline note as it happens.
    """

    def __init__(
        self,
        menu_file: MenuFile | str | Path,
        goal: str | None = None,
        vars: Mapping[str, str] | None = None,
        *,
        line_identity: str | None = None,
        room: rtc.Room | None = None,
        dtmf: DtmfSender | None = None,
        on_note: Callable[[Note], None] | None = None,
        ringing_timeout: float = DEFAULT_RINGING_TIMEOUT,
    ) -> None:
        mf = menu_file if isinstance(menu_file, MenuFile) else compile_file(menu_file).menu_file
        # Built now so a bad goal or var fails at construction, before the call is touched.
        self._navigator = Navigator(mf, goal, vars)
        # llm=None: this task's activity has no LLM, so nothing can be generated on a user turn.
        super().__init__(instructions=INSTRUCTIONS, llm=None)
        self._line_identity = line_identity
        self._room = room
        self._on_note = on_note
        self._ringing_timeout = ringing_timeout
        self._sender: DtmfSender | None = dtmf
        self._answered = False  # until then, words (early media) and departures are not the call's
        self._driver: CallDriver | None = None
        self._run_task: asyncio.Task[None] | None = None

    @property
    def navigator(self) -> Navigator:
        return self._navigator

    # ------------------------------------------------------------------------------------ lifecycle

    async def on_enter(self) -> None:
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

        self._driver = CallDriver(self._navigator, send_digits=send, say=say, on_note=self._on_note)
        self.session.on("user_input_transcribed", self._on_transcribed)
        room.on("participant_disconnected", self._on_participant_disconnected)
        room.on("disconnected", self._on_room_disconnected)
        self._run_task = asyncio.create_task(self._run(), name="ivrnav-navigate")

    async def on_exit(self) -> None:
        self.session.off("user_input_transcribed", self._on_transcribed)
        if self._room is not None:
            self._room.off("participant_disconnected", self._on_participant_disconnected)
            self._room.off("disconnected", self._on_room_disconnected)
        if self._run_task is not None and not self._run_task.done():
            self._run_task.cancel()

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage) -> None:
        raise StopResponse()  # the IVR's words are for the navigator, never a turn to answer

    async def _run(self) -> None:
        assert self._driver is not None and self._room is not None
        # The clock starts when the callee answers (a SIP line's sip.callStatus "active"), never while
        # it rings: ringing is silence the navigator would take for a menu that says nothing.
        line = await wait_answered(self._room, self._line_identity, self._ringing_timeout)
        if isinstance(line, str):
            result = self._driver.unanswered(line, "the call was not answered" if line == "no_answer"
                                             else "the line ended the call before answering")
        else:
            if self._sender is None:  # keys over a SIP bridge go at its pace; in a room, at once
                transport = SIP_BRIDGE if line.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP else DIRECT
                self._sender = DtmfSender.for_participant(self._room.local_participant, transport)
            self._answered = True
            self._driver.begin()
            result = await self._driver.run()
        logger.info("navigation ended: %s (%s)", result.reason, result.detail)
        if not self.done():
            self.complete(result)

    # --------------------------------------------------------------------------------------- events

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if self._driver is not None and self._answered:
            self._driver.transcript(ev.transcript, ev.is_final)

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if self._driver is None or not self._answered:  # before the answer, wait_answered sees it
            return
        if self._line_identity is None or participant.identity == self._line_identity:
            self._driver.call_ended("hangup")

    def _on_room_disconnected(self, *_: object) -> None:
        if self._driver is not None and self._answered:
            self._driver.call_ended("room disconnected")
