"""The call state: where the call is on the file's machine, the navigator's phase, and the retry ladder.

Theory of operation
-------------------
An adapter feeds events (``Heard`` transcripts, ``Sounded`` music or ringing, ``DigitsSent``, ``Tick``,
``CallEnded``) to
``Navigator.handle`` and carries out the actions it returns (``SendDigits``, ``Say``, ``Done``). The
navigator never sleeps, never reads a clock (times come with the events) and never touches the network,
so every behaviour below is tested on a virtual clock.

*Where the call is* is the state of a ``CallModel`` on the menu file's compiled ``transitions`` machine
(``ivrnav.menu.machine``; one machine per file, shared by every call). The call starts in ``dialling``;
recognising a menu fires the exit we took (``answer``, ``press_2``, ``advance``, ...) when the line went
where the file says, or ``relocate`` when it did not (drift); a prompt the file does not know is state
``unknown``; the goal fires ``arrive`` (state ``reached``), any failure ``fail``. The menus expected next
are the machine's transitions from the current state.

Every event passes through one funnel (``Navigator.handle``): the intake filter first (``Navigator._admit``,
one call: an event it returns None for is dropped), then ``PHASES`` below says whether the event is legal
in the current phase and which phase it leads to. An illegal event
(``DigitsSent`` that was never asked for, anything after ``Done``) is ignored: it changes nothing, never
raises, and is counted in the record with a note (kind ``ignored``) the first time of its kind. Then the
decision step runs:

1. ``context`` keeps the utterances heard since the navigator last acted (keys or speech) and looks for
   where a prompt may begin (utterance and sentence starts); the recogniser says which menu opens there,
   favouring the menus it expects next (``reading``). ``at_goal`` decides whether the line is at the goal:
   its prompt recognised and not merely named in another menu's offer, or the goal's declared
   confirmation (quiet, hang-up, sound, a person) after the map's keys to it (rules in ``confirm``).
2. A recognised menu: the goal ends the call with success; a hold or human menu is only listened to;
   otherwise the planned route (cheapest path to the goal, re-planned whenever the line goes somewhere
   unexpected) names the exit to take. For an option it reads the prompt's (key, label) offers as they
   arrive and presses the key the line gives the wanted label, ``settle`` seconds after that pair was
   heard and stayed unchanged (at once on ``type_ahead`` menus). A key that differs from the file's is
   pressed and reported as drift. Entries (``enter``) and speech (``say``) go once the prompt has ended
   (``choosing``).
3. After acting (phase ``awaiting``) it expects the exit's target. Another menu means drift and a new plan;
   the same menu again is another visit (``max_visits`` bounds loops); words that only continue the old
   prompt mean the line ignored the keys, which are pressed again when it goes quiet. A prompt that no
   menu matches is read for offers of any label that leads closer to the goal (``after_acting``).
4. Silence climbs the retry ladder (``LADDER``): wait, press again, press slower, operator key, give up
   (``silence``, which also lists the deadlines an event-driven adapter wakes up for).

The rules themselves are pure functions in ``decisions``; every threshold is in ``settings.Thresholds``;
``record`` keeps the redacted path, drift and notes: secret values never leave the navigator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ivrnav.menu.machine import REACHED, UNKNOWN, CallMachine, CallModel, trigger_for
from ivrnav.navigate.events import CallEnded, DigitsSent, Event, Heard, Sounded, Tick


class Phase(Enum):
    LISTENING = "listening"  # waiting to recognise a menu, or in one and deciding
    SENDING = "sending"  # keys requested, adapter still sending them
    AWAITING = "awaiting"  # acted; waiting for the line's reaction
    DONE = "done"


# phase -> event type -> the phase the event leads to (before the decision step). An event type missing
# from a phase's row is illegal there: ignored and recorded, never an exception.
PHASES: dict[Phase, dict[type[Event], Phase]] = {
    Phase.LISTENING: {Heard: Phase.LISTENING, Sounded: Phase.LISTENING, Tick: Phase.LISTENING,
                      CallEnded: Phase.DONE},
    Phase.SENDING: {Heard: Phase.SENDING, Sounded: Phase.SENDING, Tick: Phase.SENDING, DigitsSent: Phase.AWAITING,
                    CallEnded: Phase.DONE},
    Phase.AWAITING: {Heard: Phase.AWAITING, Sounded: Phase.AWAITING, Tick: Phase.AWAITING, CallEnded: Phase.DONE},
    Phase.DONE: {},
}


@dataclass(frozen=True, slots=True)
class Rung:
    """One rung of the retry ladder: the first of ``tries`` that applies is done; none: nothing this time."""

    tries: tuple[str, ...]
    counts_as_retry: bool = True


# The retry ladder, climbed one rung per ``no_prompt_timeout`` of silence (new words reset it):
#   wait         note it and wait once more
#   again        press the last keys again (or the file's repeat key, if we have not pressed yet)
#   slower       the last keys again with pauses between them ("1w2w3#") at twice the inter-digit time
#   repeat_key   the file's global ``repeat`` option, to hear the menu again
#   operator     the global option that reaches a person
#   give_up      end the call: ``no_prompt``
LADDER: tuple[Rung, ...] = (
    Rung(("wait",), counts_as_retry=False),
    Rung(("again", "repeat_key")),
    Rung(("slower", "repeat_key")),
    Rung(("operator",)),
    Rung(("give_up",)),
)


def rung(n: int) -> Rung:
    """Rung ``n`` (1-based); past the top, the last."""
    return LADDER[min(n, len(LADDER)) - 1]


class CallState:
    """The call's position on the machine and the navigator's phase; the only place either changes."""

    def __init__(self, machine: CallMachine, start_time: float):
        self.machine = machine
        self.model = CallModel()
        self._menus = machine.menu_file.menus
        self.phase = Phase.LISTENING
        self.exit: str | None = None  # the trigger of the file's exit we took from the current state
        self.menu_at = start_time  # when the current menu was recognised
        self._steps_read = 0

    @property
    def where(self) -> str:
        return self.model.state

    @property
    def menu(self) -> str | None:
        """The menu the call is in, None before the first prompt, on an unknown prompt, and once over."""
        state = self.model.state
        return state if state in self._menus else None

    def on_event(self, event: Event) -> bool:
        """Apply ``PHASES``; False: the event is illegal in this phase."""
        after = PHASES[self.phase].get(type(event))
        if after is None:
            return False
        self.phase = after
        return True

    def took(self, trigger: str | None) -> None:
        """We acted at the current state by the file's exit ``trigger`` (None: not one of the file's)."""
        self.exit = trigger

    def took_keys(self, keys: str) -> None:
        self.took(trigger_for(keys))

    def arrive_at(self, menu: str, at: float) -> None:
        """The line plays ``menu``: fire the exit we took if the file predicts it, else ``relocate``."""
        for trigger in (self.exit, "answer", "advance"):
            if trigger and self.machine.expects(self.where, trigger) == menu:
                self.machine.fire(self.model, trigger, at)
                break
        else:
            self.machine.fire(self.model, "relocate", at, to=menu)
        self.exit = None
        self.menu_at = at

    def lost(self, at: float) -> None:
        """The line plays a prompt the file does not know."""
        if self.model.state != UNKNOWN:
            self.machine.fire(self.model, "relocate", at, to=UNKNOWN)
        self.exit = None

    def end(self, reached: bool, at: float) -> None:
        self.phase = Phase.DONE
        if reached:
            self.machine.fire(self.model, "arrive", at)
        if self.model.state != REACHED:
            self.machine.fire(self.model, "fail", at)

    def expected_after(self, state: str | None = None) -> frozenset[str]:
        """Every menu the file says can follow ``state`` (default: the current one)."""
        return self.machine.next_of(state or self.where)

    def drain_steps(self) -> list:
        fresh = self.model.steps[self._steps_read :]
        self._steps_read = len(self.model.steps)
        return fresh
