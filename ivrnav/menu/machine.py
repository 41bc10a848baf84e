"""The menu file as a `transitions` state machine: menus plus the call's lifecycle states.

States are the menus plus ``dialling``, ``reached`` and ``failed``. Triggers are ``press_<key>`` for
options (``press_star``, ``press_pound`` for ``*`` and ``#``), ``advance`` for a line that moves on by
itself, ``enter`` / ``say`` for data entry and speech, ``answer`` from dialling to the start menu,
``arrive`` from the goal to reached, and ``fail`` from anywhere. It documents the tree for tools and
tests (``machine.get_triggers(menu)`` lists what a menu accepts); the navigator keeps its own state.
"""

from __future__ import annotations

from transitions import Machine

from ivrnav.menu.model import MenuFile, exits

LIFECYCLE = ("dialling", "reached", "failed")
_KEY_NAMES = {"*": "star", "#": "pound"}


def trigger_for(keys: str) -> str:
    return "press_" + "_".join(_KEY_NAMES.get(k, k) for k in keys)


class CallModel:
    """The model object the machine drives (transitions adds ``state`` and trigger methods to it)."""

    state: str


def build_machine(menu_file: MenuFile, goal: str | None = None) -> tuple[Machine, CallModel]:
    goal = goal or menu_file.goal
    states = [*LIFECYCLE, *menu_file.menus]
    transitions: list[dict[str, object]] = [{"trigger": "answer", "source": "dialling", "dest": menu_file.start}]
    for name, menu in menu_file.menus.items():
        for e in exits(menu_file, menu):
            trigger = trigger_for(e.keys) if e.kind == "option" else {"next": "advance"}.get(e.kind, e.kind)
            transitions.append({"trigger": trigger, "source": name, "dest": e.to})
        for option in menu_file.options_of(menu):
            if option.repeat:
                transitions.append({"trigger": trigger_for(option.keys), "source": name, "dest": None})
    if goal:
        transitions.append({"trigger": "arrive", "source": goal, "dest": "reached"})
    transitions.append({"trigger": "fail", "source": "*", "dest": "failed"})
    model = CallModel()
    machine = Machine(model=model, states=states, transitions=transitions, initial="dialling",
                      auto_transitions=False, ignore_invalid_triggers=False)
    return machine, model
