"""The menu file as a `transitions` state machine: the runtime state of every call on that file.

States are the menus plus the call's lifecycle: ``dialling`` (before the first prompt), ``unknown`` (the line
plays a prompt the file does not know), ``reached`` and ``failed``. Triggers are ``press_<key>`` for options
(``press_star``, ``press_pound`` for ``*`` and ``#``), ``advance`` for a line that moves on by itself,
``enter`` / ``say`` for data entry and speech, ``answer`` from dialling to the start menu, ``arrive`` from
any menu to reached (the navigator fires it only at its goal), ``fail`` from anywhere, and ``relocate``
for drift: the line went somewhere the file did not predict (from any state to the state given as ``to``).

One machine is built per compiled file (``call_machine``, cached on the ``MenuFile``) and shared by every
call on it. A call is a ``CallModel``: a small object holding ``state`` and the transitions it took. It is
*not* registered with ``Machine.add_model`` (3-5 ms and ~150 KiB per model on a 500-menu file); triggers
are fired on it through ``machine.events[name].trigger(model, at=...)``, which costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import EventData, Machine, MachineError

from ivrnav.menu.derived import per_file
from ivrnav.menu.model import MenuFile, exits

DIALLING, UNKNOWN, REACHED, FAILED = "dialling", "unknown", "reached", "failed"
LIFECYCLE = (DIALLING, UNKNOWN, REACHED, FAILED)
_KEY_NAMES = {"*": "star", "#": "pound"}
_EXIT_TRIGGERS = {"next": "advance", "enter": "enter", "say": "say"}


def trigger_for(keys: str) -> str:
    return "press_" + "_".join(_KEY_NAMES.get(k, k) for k in keys)


@dataclass(frozen=True, slots=True)
class Step:
    """One transition a call took: ``trigger`` fired in ``source`` led to ``dest`` at ``at`` seconds."""

    trigger: str
    source: str
    dest: str
    at: float


@dataclass(slots=True)
class CallModel:
    """A call's position on the machine. Never registered with the machine: triggers are fired on it."""

    state: str = DIALLING
    steps: list[Step] = field(default_factory=list)


class CallMachine:
    """The shared machine of one menu file, with the lookup tables the navigator needs derived from it."""

    def __init__(self, menu_file: MenuFile):
        self.menu_file = menu_file
        transitions: list[dict[str, object]] = [{"trigger": "answer", "source": DIALLING, "dest": menu_file.start}]
        for name, menu in menu_file.menus.items():
            for e in exits(menu_file, menu):
                trigger = trigger_for(e.keys) if e.kind == "option" else _EXIT_TRIGGERS[e.kind]
                transitions.append({"trigger": trigger, "source": name, "dest": e.to})
            for option in menu_file.options_of(menu):
                if option.repeat:  # the line plays the same menu again
                    transitions.append({"trigger": trigger_for(option.keys), "source": name, "dest": name})
            transitions.append({"trigger": "arrive", "source": name, "dest": REACHED})
        transitions.append({"trigger": "fail", "source": "*", "dest": FAILED})
        # internal transition whose destination comes with the event (``to=``): any state may be the line's
        transitions.append({"trigger": "relocate", "source": "*", "dest": None, "after": _relocate})
        self.machine = Machine(model=None, states=[*LIFECYCLE, *menu_file.menus], transitions=transitions,
                               initial=DIALLING, auto_transitions=False, ignore_invalid_triggers=False,
                               send_event=True, after_state_change=[_record])
        # (source, trigger) -> dest, from the machine itself: what the navigator expects after acting
        self.dest: dict[tuple[str, str], str] = {}
        for name, event in self.machine.events.items():
            for source, ts in event.transitions.items():
                for t in ts:
                    if t.dest is not None and source not in (REACHED, FAILED):
                        self.dest.setdefault((source, name), t.dest)
        self.successors: dict[str, frozenset[str]] = {}
        for (source, trigger), dest in self.dest.items():
            if trigger not in ("fail", "arrive") and dest not in LIFECYCLE:
                self.successors[source] = self.successors.get(source, frozenset()) | {dest}

    def fire(self, model: CallModel, trigger: str, at: float, to: str | None = None) -> bool:
        """Fire ``trigger`` on ``model`` (``to``: the destination of ``relocate``). False, and the state
        unchanged, when the trigger does not apply in the model's state."""
        event = self.machine.events.get(trigger)
        if event is None:
            return False
        try:
            return bool(event.trigger(model, at=at, to=to))
        except MachineError:
            return False

    def expects(self, state: str, trigger: str) -> str | None:
        """Where ``trigger`` leads from ``state`` according to the file (None: nowhere the file knows)."""
        return self.dest.get((state, trigger))

    def next_of(self, state: str) -> frozenset[str]:
        """Every menu the file says can follow ``state``."""
        return self.successors.get(state, frozenset())


def _record(event: EventData) -> None:
    model = event.model
    model.steps.append(Step(event.event.name, event.transition.source, model.state, event.kwargs.get("at", 0.0)))


def _relocate(event: EventData) -> None:
    to = event.kwargs.get("to")
    if to is None or to == event.model.state:
        return
    event.machine.set_state(to, event.model)


@per_file
def call_machine(menu_file: MenuFile) -> CallMachine:
    """The machine of ``menu_file``, built once and shared by every call on it (files hash by identity)."""
    return CallMachine(menu_file)


def build_machine(menu_file: MenuFile) -> tuple[Machine, CallModel]:
    """The shared machine of ``menu_file`` and a fresh call on it (for tools and tests)."""
    return call_machine(menu_file).machine, CallModel()
