"""Is the line at the goal? The call's facts put to the confirmation rules of ``ivrnav.navigate.confirm``.

A goal is claimed only when the line is there: its prompt recognised (and not merely named in another
menu's offer, nor heard once where the map does not predict it), or the confirmation the goal's menu
declares (``confirm: quiet | hangup | sound | human``) after the map's own keys to it. Each function
answers with the result's detail text, or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrnav.navigate import confirm, reading
from ivrnav.navigate.offers import sentences_of
from ivrnav.navigate.recognise import Match
from ivrnav.navigate.state import Phase

if TYPE_CHECKING:
    from ivrnav.navigate.navigator import Navigator


def _pressed(nav: Navigator) -> tuple[str | None, str] | None:
    """(menu, keys) of our last keys, None when we have not pressed or last spoke."""
    return nav.last_action[:2] if nav.last_action else None


def _invalid_here(nav: Navigator) -> tuple[str, ...]:
    return nav.menu_file.menus[nav.menu].invalid if nav.menu else ()


def by_silence_or_sound(nav: Navigator) -> str | None:
    """``confirm: quiet`` (the line went quiet after our keys) or ``confirm: sound`` (it plays ringing or
    music long enough)."""
    awaiting = nav.phase is Phase.AWAITING
    confirmed = confirm.quiet_confirmed(nav.menu_file, nav.goal, expected=nav.expected, awaiting=awaiting,
                                        acted_at=nav.acted_at, last_words_at=nav.hearing.last_words_at,
                                        now=nav.now, pressed=_pressed(nav))
    if confirmed or nav.sound is None:
        return confirmed
    return confirm.sound_confirmed(nav.menu_file, nav.goal, expected=nav.expected, awaiting=awaiting,
                                   acted_at=nav.acted_at, pressed=_pressed(nav), sound=nav.sound,
                                   words=nav.context.words(nav.context.carried), invalid=_invalid_here(nav),
                                   th=nav.th)


def by_hangup(nav: Navigator, phase: Phase) -> str | None:
    """``confirm: hangup``: the line ended the call after our keys to the goal (``phase``: before the end)."""
    ctx = nav.context
    return confirm.hangup_confirmed(nav.menu_file, nav.goal, expected=nav.expected,
                                    awaiting=phase is Phase.AWAITING, acted_at=nav.acted_at, now=nav.now,
                                    pressed=_pressed(nav), words=ctx.words(ctx.carried), invalid=_invalid_here(nav),
                                    th=nav.th)


def by_person(nav: Navigator, found: tuple[Match, int] | None) -> str | None:
    """``confirm: {human: true}``: a person answered after our keys to the goal; ``found``: what was recognised."""
    goal = nav.menu_file.menus[nav.goal]
    if goal.confirm is None or not goal.confirm.human or nav.phase is not Phase.AWAITING:
        return None
    ctx = nav.context
    sentences = [words for words in sentences_of(ctx.tokens[ctx.carried :]) if words]
    if ctx.interim is not None and sentences:
        sentences = sentences[:-1]  # a sentence still being spoken may yet turn into an offer
    return confirm.human_confirmed(nav.menu_file, nav.goal, expected=nav.expected, awaiting=True,
                                   pressed=_pressed(nav), sentences=sentences,
                                   recognised_other=found is not None and found[0].menu != nav.goal,
                                   invalid=_invalid_here(nav), th=nav.th)


def trusted(nav: Navigator, found: tuple[Match, int] | None) -> tuple[Match, int] | None:
    """A recognised menu, unless it is the goal only named in another menu's offer (or the naming sentence
    goes on), or the goal where the map does not predict it on one phrase (wait for a second)."""
    if found is None:
        return None
    ctx = nav.context
    match, start = found
    if confirm.offered_only(nav.menu_file, nav.goal, match.menu, ctx.tokens[start:], interim=ctx.interim is not None,
                            awaiting=nav.phase is Phase.AWAITING, pressed=_pressed(nav),
                            offered_by=reading.listening_in(nav), th=nav.th):
        return None
    if confirm.unexpected_goal_unproven(nav.recogniser, nav.goal, match, ctx.words(start),
                                        ctx.words(reading.beyond_prompt(nav)), reading.expected_now(nav), nav.th):
        return None
    return found
