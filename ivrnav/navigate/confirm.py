"""Confirming a goal that says nothing the recogniser could match (an echo test, music, a transfer).

A map may say how such a goal is confirmed (``confirm:`` on the goal menu). This module holds that rule
apart from the navigator's decision loop, as two pure functions of the navigator's state: whether the goal
is confirmed now, and when it next could be (so event-driven adapters schedule a wake-up).

Only ``quiet`` is decided here: the keys that lead to the goal were sent and the line then said nothing at
all (no invalid message, no other prompt) for ``quiet`` seconds. Ringing, music and a person speaking need
audio classification or recognised words, which reach the navigator as ordinary recognition.
"""

from __future__ import annotations

from ivrnav.menu.model import MenuFile

QUIET_EPSILON = 1e-6  # time comparisons must not stall on float rounding (0.7999 vs 0.8)


def quiet_due(menu_file: MenuFile, goal: str, expected: frozenset[str], acted_at: float) -> float | None:
    """When the goal would be confirmed by silence after our keys, or None if that rule does not apply."""
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or menu.confirm.quiet is None or goal not in expected:
        return None
    return acted_at + menu.confirm.quiet


def quiet_confirmed(menu_file: MenuFile, goal: str, *, expected: frozenset[str], awaiting: bool, acted_at: float,
                    last_words_at: float, now: float) -> str | None:
    """How the goal is confirmed (a sentence for the result), or None while it is not (yet)."""
    if not awaiting:
        return None
    due = quiet_due(menu_file, goal, expected, acted_at)
    if due is None or last_words_at > acted_at + QUIET_EPSILON or now + QUIET_EPSILON < due:
        return None
    quiet = due - acted_at
    return f"reached {goal} (confirmed: the line took the keys and said nothing for {quiet:g} s)"
