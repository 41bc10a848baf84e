"""Embed ivrnav in your own LiveKit agent: navigate the bank's phone menu, then take over the call.

Run it as a worker (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, DEEPGRAM_API_KEY and
IVRNAV_VAR_ACCOUNT in the environment)::

    python examples/embed_navigate_ivr.py start

then dispatch agent "bank-caller" to a room and dial the bank into it with ``create_sip_participant``.
"""

from __future__ import annotations

import os

from livekit.agents import Agent, AgentServer, AgentSession, JobContext, cli
from livekit.plugins import deepgram

from ivrnav.livekit.task import NavigateIVR
from ivrnav.livekit.worker import menu_keyterms
from ivrnav.menu.compiler import compile_file

MENU = compile_file(os.path.join(os.path.dirname(__file__), "..", "menus", "bank.yaml")).menu_file


class BankCaller(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You call the bank about a lost card. Be brief and polite.")

    async def on_enter(self) -> None:
        # Secrets come from the environment, never from a prompt or job metadata.
        result = await NavigateIVR(MENU, goal="agent", vars={"account": os.environ["IVRNAV_VAR_ACCOUNT"]})
        if not result.reached:
            self.session.say(f"Sorry, I could not get through ({result.reason}).")
            self.session.shutdown()
            return
        # A person answered: from here on the LLM talks.
        await self.session.generate_reply(instructions="Greet the agent and report the lost card.")


server = AgentServer()


@server.rtc_session(agent_name="bank-caller")
async def entrypoint(ctx: JobContext) -> None:
    await ctx.connect()
    session: AgentSession = AgentSession(
        stt=deepgram.STT(model="nova-3", interim_results=True, keyterm=menu_keyterms(MENU)),
        llm="openai/gpt-4o-mini",  # LiveKit Inference; any LLM plugin works here
        tts=deepgram.TTS(),
    )
    await session.start(agent=BankCaller(), room=ctx.room)


if __name__ == "__main__":
    cli.run_app(server)
