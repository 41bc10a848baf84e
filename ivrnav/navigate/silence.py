"""Silence, holds and wake-ups: the retry ladder (``state.LADDER``) and when a Tick could matter.

Step 4 of the theory of operation (``ivrnav.navigate.state``): each ``no_prompt_timeout`` of silence
(no words, no action) climbs one rung; new words reset the ladder. A hold menu is silence by design: it
is only bounded by its ``hold_max``. ``next_wakeup`` lists every deadline a rule waits for, so an
event-driven adapter sleeps until the earliest instead of ticking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrnav.menu.model import Settings
from ivrnav.navigate import confirm
from ivrnav.navigate import decisions as rules
from ivrnav.navigate.events import Action
from ivrnav.navigate.settings import thresholds_for
from ivrnav.navigate.state import Phase, rung

if TYPE_CHECKING:
    from ivrnav.navigate.navigator import Navigator


def _quiet_from(nav: Navigator) -> float:
    """Silence counts from the line's last words, our last action or the ladder's last rung."""
    return max(nav.hearing.last_words_at, nav.acted_at, nav.ladder_at)


def _hold_deadline(nav: Navigator) -> float:
    menu = nav.menu_file.menus[nav.menu or ""]
    return rules.hold_deadline(nav.state.menu_at, menu.hold_max, nav.settings.max_call)


def on_silence(nav: Navigator) -> list[Action]:
    """Nothing else to do: a hold bounded by its ``hold_max``, or the next rung once it has been quiet."""
    menu = nav.menu_file.menus[nav.menu] if nav.menu else None
    if menu is not None and menu.hold:
        if rules.hold_timed_out(nav.now, nav.state.menu_at, menu.hold_max, nav.settings.max_call):
            return nav.finish(False, "hold_timeout", f"on hold at {menu.name!r} longer than {menu.hold_max:g} s")
        return []
    settings = nav.menu_settings()
    if nav.context.open or nav.now - _quiet_from(nav) + rules.EPSILON < settings.no_prompt_timeout:
        return []
    nav.ladder += 1
    nav.ladder_at = nav.now
    step = rung(nav.ladder)
    if step.counts_as_retry:
        nav.timing.retries += 1
    for how in step.tries:
        actions = _retry(nav, how, settings)
        if actions is not None:
            return actions
    return []


def _retry(nav: Navigator, how: str, settings: Settings) -> list[Action] | None:
    """Carry out one way of the retry ladder; None: it does not apply here."""
    if how == "wait":
        nav.note("wait", f"no prompt for {settings.no_prompt_timeout:g} s; waiting once more")
        return []
    if how in ("again", "slower"):
        if nav.last_action is None or nav.pressed_again >= nav.th.max_presses_again:
            return None
        nav.pressed_again += 1
        _source, digits, masked = nav.last_action
        slow = how == "slower"
        if slow and len(digits) > 1:
            digits, masked = "w".join(digits), "w".join(masked)
        nav.note("retry", f"pressing {masked} again" + (" slowly" if slow else ""))
        nav.state.phase = Phase.LISTENING
        return nav.send(digits, masked, settings.inter_digit * (nav.th.slow_factor if slow else 1))
    if how == "repeat_key":
        repeat = rules.repeat_option(nav.menu_file.globals)
        if repeat is None:
            return None
        nav.note("retry", f"pressing {repeat.keys} to hear the menu again")
        nav.state.phase = Phase.LISTENING
        nav.state.took_keys(repeat.keys)
        nav.expected = nav.expected | ({nav.menu} if nav.menu else set())
        return nav.send(repeat.keys, repeat.keys, settings.inter_digit)
    if how == "operator":
        operator = rules.operator_option(nav.menu_file)
        if operator is None:
            return None
        nav.note("retry", f"pressing {operator.keys} for an operator")
        nav.state.phase = Phase.LISTENING
        nav.state.took_keys(operator.keys)
        nav.expected = frozenset({operator.to}) if operator.to else nav.expected
        return nav.send(operator.keys, operator.keys, settings.inter_digit)
    assert how == "give_up", how
    return nav.finish(False, "no_prompt", f"the line stayed silent ({nav.ladder - 1} retries)")


def next_wakeup(nav: Navigator) -> float | None:
    """The earliest future deadline any rule waits for (None: only an event can change anything)."""
    if nav.phase is Phase.DONE:
        return None
    settings = nav.menu_settings()
    menu_th = thresholds_for(settings)
    last_words = nav.hearing.last_words_at
    times = [nav.started_at + nav.settings.max_call,
             _quiet_from(nav) + settings.no_prompt_timeout,  # the ladder's next rung
             last_words + nav.th.prompt_done_quiet,  # a prompt heard to its end
             last_words + menu_th.prompt_done_quiet,
             last_words + settings.settle,
             last_words + settings.settle + menu_th.prompt_done_quiet]  # decisions.label_unheard
    if nav.context.pending is not None:
        times.append(nav.context.pending.since + settings.settle)
    if nav.menu and nav.menu_file.menus[nav.menu].hold:
        times.append(_hold_deadline(nav))
    if nav.repeat_due is not None:
        times.append(nav.repeat_due[2])
    if nav.phase is Phase.AWAITING:
        for due in (confirm.quiet_due(nav.menu_file, nav.goal, nav.expected, nav.acted_at),
                    confirm.sound_due(nav.menu_file, nav.goal, nav.sound, nav.th)):
            if due is not None:
                times.append(due)
    future = [t for t in times if t > nav.now]
    return min(future) if future else None
