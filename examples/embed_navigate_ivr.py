"""Embed ivrnav in your own LiveKit agent: navigate the bank's phone menu, then take over the call.

Run it as a worker (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, DEEPGRAM_API_KEY and
IVRNAV_VAR_ACCOUNT in the environment; ``pip install 'ivrnav[livekit,deepgram]'``)::

    python examples/embed_navigate_ivr.py start

then dispatch agent "bank-caller" to a room and dial the bank into it with ``create_sip_participant``.
"""

from __future__ import annotations

import os
from pathlib import Path

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, cli, room_io
from livekit.plugins import deepgram

from ivrnav.livekit.stt_options import deepgram_stt
from ivrnav.livekit.task import NavigateIVR
from ivrnav.menu.compiler import compile_file
from ivrnav.navigate.result import NavigationResult

MENU = compile_file(Path(__file__).resolve().parent.parent / "menus" / "bank.yaml").menu_file
GOAL = "agent"

# close_on_disconnect=False: when the bank hangs up, NavigateIVR must see it and return reason "hangup"
# (the framework would otherwise close the session under the task); the agent then ends the session itself.
ROOM_OPTIONS = room_io.RoomOptions(close_on_disconnect=False)


class BankCaller(Agent):
    def __init__(self, **navigate: object) -> None:
        super().__init__(instructions="You call the bank about a lost card. Be brief and polite.")
        self._navigate = navigate  # extra NavigateIVR arguments (tests pass a room and a DTMF sender)
        self.result: NavigationResult | None = None

    async def on_enter(self) -> None:
        # Secrets come from the environment, never from a prompt or job metadata.
        self.result = await NavigateIVR(MENU, goal=GOAL, vars={"account": os.environ["IVRNAV_VAR_ACCOUNT"]},
                                        **self._navigate)  # type: ignore[arg-type]
        if not self.result.reached:
            if self.result.reason != "hangup":
                await self.session.say(f"Sorry, I could not get through ({self.result.reason}).")
            self.session.shutdown()
            return
        # A person answered; what they said ("my name is Dana") is now in this agent's chat context.
        await self.session.generate_reply(instructions="Greet the agent by name and report the lost card.")


server = AgentServer()


@server.rtc_session(agent_name="bank-caller")
async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    session: AgentSession = AgentSession(
        # Deepgram tuned for this IVR: nova-3, interim results, numerals, route-first key terms, the
        # menu's language, training opt-out (NavigateIVR also sets the key terms for the call's duration).
        stt=deepgram_stt(MENU, GOAL),
        llm="openai/gpt-4o-mini",  # LiveKit Inference; any LLM plugin works here
        tts=deepgram.TTS(),
    )
    await session.start(agent=BankCaller(), room=ctx.room, room_options=ROOM_OPTIONS)


if __name__ == "__main__":
    cli.run_app(server)
