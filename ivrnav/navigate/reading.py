"""Reading the line: which menu the words since we acted open, and where the current prompt ends.

Queries only (step 1 of the theory of operation in ``ivrnav.navigate.state``): nothing here changes the
call. The recogniser scores a window of words against the file's prompts, favouring the menus expected
now (the machine's transitions from where the call is); ``decisions`` says which matches to distrust
(a replay too short to be one, the current prompt's own words, a hold's messages); failing a prompt
match, an expected menu may be recognised by the (key, label) offers it makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrnav.navigate import decisions as rules
from ivrnav.navigate import holds
from ivrnav.navigate.offers import read_offers
from ivrnav.navigate.recognise import Match
from ivrnav.navigate.state import Phase

if TYPE_CHECKING:
    from ivrnav.navigate.navigator import Navigator


def recognise(nav: Navigator) -> tuple[Match, int] | None:
    """A menu whose prompt starts at a sentence start of the context, with that token index (read once
    per change of the context and of what it depends on)."""
    ctx = nav.context
    return ctx.read("recognise", (nav.menu, nav.phase, ctx.prompt_start, ctx.carried, expected_now(nav)),
                    lambda: _read_menu(nav))


def _read_menu(nav: Navigator) -> tuple[Match, int] | None:
    ctx = nav.context
    if not ctx.tokens:
        return None
    search_from = prompt_end_guess(nav) if nav.menu is not None and ctx.prompt_start is not None else 0
    starts = [s for s in ctx.sentence_starts() if s >= search_from and s != ctx.prompt_start]
    expected = expected_now(nav)
    current = current_prompt(nav)
    hold = nav.menu if nav.menu and nav.menu_file.menus[nav.menu].hold else None
    for s in reversed(starts[-nav.th.windows :]):
        window = ctx.words(s)
        match = nav.recogniser.decide(window, expected)
        if match is not None:
            if s < ctx.carried and match.menu == nav.menu and still_old_menu(nav):
                continue  # carried words may have been said before our keys: never proof the line ignored them
            if rules.replay_too_short(match, window, nav.menu, still_old_menu(nav), ctx.open, nav.th):
                continue
            going_on = current or _replayed_prompt(nav, s)
            if going_on and match.menu != nav.menu and rules.inside_prompt(window, going_on, nav.th):
                continue  # still the current prompt ("for home delivery, press 3"), not a new menu
            if hold is not None and not rules.leaves_hold(hold, match.menu):
                return None
            if not _hold_exit_warranted(nav, match, window, s):  # issue #16: leaving a hold needs strong evidence
                continue
            return match, s
    # words past the current prompt (or no menu yet), not carried over: is an expected menu offering its
    # options?
    first = next((s for s in starts if s >= ctx.carried), None)
    if first is not None:
        offers = read_offers(ctx.tokens[first:], final_tail=not ctx.open)
        others = expected - ({nav.menu} if ctx.prompt_start is not None and nav.menu else set())
        match = rules.menu_by_offers(nav.menu_file, offers, others, nav.th)
        if match is not None and not _hold_exit_warranted(nav, match, ctx.words(first), first):
            return None
        return (match, first) if match else None
    return None


def _replayed_prompt(nav: Navigator, start: int) -> str:
    """After our keys, the old menu's prompt when what the line said before token ``start`` is that prompt
    going on (it did not take the keys and plays the menu again): its offers ("for technical support", before
    "press 2" is heard) are that prompt, not the menus they name. Otherwise ""."""
    if not still_old_menu(nav):
        return ""
    assert nav.menu is not None
    old = nav.recogniser.prompt_of(nav.menu)
    return old if rules.ignored_keys(nav.context.words(nav.context.carried, start), old, nav.th) else ""


def _hold_exit_warranted(nav: Navigator, match: Match, window: str, start: int) -> bool:
    """Off a hold only on strong evidence (``holds.leaves_hold``: a hold message that quotes another menu's
    opening is the hold going on); elsewhere always."""
    menu = nav.menu_file.menus[nav.menu] if nav.menu is not None else None
    if menu is None or not menu.hold or nav.context.prompt_start is None:
        return True
    played = nav.context.words(nav.context.prompt_start, start)
    return holds.leaves_hold(nav.recogniser, menu, match, window, played)


def expected_now(nav: Navigator) -> frozenset[str]:
    """The menus the line may play next."""
    if nav.menu is None:
        return nav.expected
    if nav.phase is not Phase.LISTENING or nav.context.prompt_start is None:
        return nav.expected | {nav.menu}  # after acting: the target, or the same menu again
    # still in a menu: the line may move on by itself or repeat (the machine's transitions from here)
    return nav.expected | nav.state.expected_after() | {nav.menu}


def still_old_menu(nav: Navigator) -> bool:
    """We acted in a menu and the line has not played a prompt since."""
    return nav.phase is Phase.AWAITING and nav.menu is not None and nav.context.prompt_start is None


def listening_in(nav: Navigator) -> str | None:
    """The menu whose prompt is playing while we have not acted in it yet (its offers name other menus)."""
    listening = nav.phase is Phase.LISTENING and nav.context.prompt_start is not None
    return nav.menu if listening else None


def current_prompt(nav: Navigator) -> str:
    """The current menu's prompt, if it has been heard in this context."""
    return nav.recogniser.prompt_of(nav.menu) if nav.menu and nav.context.prompt_start is not None else ""


def prompt_end_guess(nav: Navigator) -> int:
    """Token index past which the current menu's prompt has (about) been said."""
    assert nav.menu is not None and nav.context.prompt_start is not None
    prompt_len = len(nav.recogniser.prompt_of(nav.menu).split())
    return nav.context.prompt_start + max(1, int(prompt_len * nav.th.prompt_heard_fraction))


def beyond_prompt(nav: Navigator) -> int:
    """Token index where the current menu's prompt has (about) ended: later words are something else."""
    if nav.menu is None or nav.context.prompt_start is None:
        return 0
    after = prompt_end_guess(nav)
    starts = [s for s in nav.context.sentence_starts() if s >= after]
    return starts[0] if starts else len(nav.context.tokens)
