"""Acting in a recognised menu (phase ``listening``): take the planned exit when the line allows it.

Step 2 of the theory of operation (``ivrnav.navigate.state``). For an option: read the prompt's (key,
label) offers as they arrive, press the key the line gives the wanted label once that pair has stood
``settle`` seconds (at once on a trusted ``type_ahead`` menu); a key that differs from the file's is
drift; a label the prompt never said clearly is asked for once more before the file's key is pressed
blind. Offers that contradict the menu un-recognise it. Entries and speech go once the prompt has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrnav.menu.model import Menu, Option
from ivrnav.navigate import after_acting, reading
from ivrnav.navigate import decisions as rules
from ivrnav.navigate.context import Pending
from ivrnav.navigate.events import Action
from ivrnav.navigate.offers import Offer, mentions_keys, read_offers
from ivrnav.navigate.settings import thresholds_for
from ivrnav.navigate.state import Phase

if TYPE_CHECKING:
    from ivrnav.navigate.navigator import Navigator


def act(nav: Navigator) -> list[Action]:
    """The planned exit from the current menu, if the line allows taking it now ([]: not yet)."""
    if nav.menu is None or nav.phase is not Phase.LISTENING:
        return []
    menu = nav.menu_file.menus[nav.menu]
    if menu.passive:
        nav.expected = nav.state.expected_after() or nav.expected
        return []
    route = nav.plan_route()
    if route is None or not route.steps:
        return nav.finish(False, "no_route", f"no route from {nav.menu!r} to {nav.goal!r}")
    e = route.steps[0].exit
    nav.expected = frozenset({e.to})
    if e.kind == "next":
        # the line moves on by itself; if what follows is a prompt no menu matches, read it for offers
        return after_acting.unknown_prompt(nav, reading.beyond_prompt(nav)) or []
    if e.kind in ("enter", "say"):
        if not (menu.type_ahead or _prompt_done(nav, menu)):
            return []
        nav.state.took(e.kind)
        if e.kind == "say":
            return nav.say(menu)
        return nav.send_entry(menu, menu.enter or "")
    assert e.option is not None
    return _choose_option(nav, menu, e.option)


def _prompt_done(nav: Navigator, menu: Menu) -> bool:
    ctx = nav.context
    return rules.prompt_done(ctx.open, bool(ctx.finals), nav.quiet(), menu.settings.settle,
                             thresholds_for(menu.settings))


def _choose_option(nav: Navigator, menu: Menu, wanted: Option) -> list[Action]:
    if menu.type_ahead and menu.name not in nav.distrusted:
        return nav.press(menu, wanted.keys, wanted, "type-ahead")
    ctx = nav.context
    exits = nav.menu_file.options_of(menu)
    options = [o for o in exits if o.says]
    start = ctx.prompt_start or 0
    heard = ctx.read("offers", (menu.name, wanted, ctx.prompt_start), lambda: _read_offers(nav, options, wanted))
    if heard is None:  # only what was said while this prompt should play
        return _unrecognise(nav, menu)
    offers, key = heard
    ended = rules.label_unheard(ctx.open, bool(ctx.finals), nav.quiet(), menu.settings.settle,
                                thresholds_for(menu.settings))
    if key is not None and key != wanted.keys:
        # a key the map gives an exit the line never names ("*" to goodbye): a labelled one is weighed by its label
        mapped_elsewhere = any(o.keys == key and o is not wanted and not o.says for o in exits)
        key = rules.weigh_moved_key(offers, options, wanted, key, ended, nav.th, mapped_elsewhere)
        if key is None:
            return []  # one hearing of a moved key: the rest of the prompt may offer the file's key for it
    if key is None:
        if ended:
            return _label_unheard(nav, menu, wanted, start)
        return []
    if not ready(nav, key, wanted, menu.settings.settle):
        return []
    if key != wanted.keys:
        nav.add_drift("key_moved", menu.name, f"{rules.label(wanted)!r} is on key {key}, file says {wanted.keys}",
                      wanted.keys, key)
    return nav.press(menu, key, wanted, f"for {rules.label(wanted)!r}")


def _label_unheard(nav: Navigator, menu: Menu, wanted: Option, start: int) -> list[Action]:
    """The prompt ended without naming the wanted label clearly. Hear it once more (repeat key, or the
    line's own repeat) before trusting the file's key blindly, unless the line named no key at all: a
    repeat of a prompt that offers nothing tells nothing (an unannounced key)."""
    if not mentions_keys(nav.context.tokens[start:]):
        return nav.press(menu, wanted.keys, wanted, "file key (the line names no keys)")
    if nav.unheard.get(menu.name, 0) > 0:
        return nav.press(menu, wanted.keys, wanted, "file key (label not heard twice)")
    nav.unheard[menu.name] = 1
    repeat = rules.repeat_option(nav.menu_file.options_of(menu))
    nav.note("retry", f"did not hear {rules.label(wanted)!r} clearly; asking the line to repeat")
    nav.timing.retries += 1
    if repeat is not None:
        return nav.press(menu, repeat.keys, repeat, "to hear the menu again")
    # no repeat key: wait for the line to repeat the menu by itself (after_acting.unrepeated)
    nav.state.phase = Phase.AWAITING
    nav.expected = frozenset({menu.name})
    nav.acted_at = nav.now
    nav.reset_context()
    nav.repeat_due = (menu.name, wanted, nav.now + nav.th.repeat_wait)
    return []


def _read_offers(nav: Navigator, options: list[Option], wanted: Option) -> tuple[list[Offer], str | None] | None:
    """The offers heard since this menu's prompt began and the key they give the wanted option; None when
    the offers heard while the prompt should play contradict the menu."""
    ctx = nav.context
    start = ctx.prompt_start or 0
    if rules.contradicts(read_offers(ctx.tokens[start : reading.beyond_prompt(nav)]), options, nav.th):
        return None
    offers = read_offers(ctx.tokens[start:], final_tail=not ctx.open)
    return offers, rules.wanted_key(offers, options, wanted, nav.th)


def ready(nav: Navigator, key: str, option: Option, settle: float) -> bool:
    """Whether a chosen key may go now; choosing a new key starts its wait."""
    ctx = nav.context
    if ctx.pending is None or ctx.pending.keys != key:
        ctx.pending = Pending(key, nav.now, option, len(ctx.tokens))
        return False
    return rules.settled(ctx.pending.since, nav.now, settle) and rules.confirmed(
        ctx.pending.heard_tokens, len(ctx.tokens), not ctx.open)


def _unrecognise(nav: Navigator, menu: Menu) -> list[Action]:
    """The line's offers contradict ``menu``: it was not that menu after all; undo its recognition."""
    nav.note("drift", f"the line's offers do not fit {menu.name}: not that menu after all")
    nav.visits[menu.name] -= 1
    if nav.drift and nav.drift[-1].kind == "unexpected_menu" and nav.drift[-1].actual == menu.name:
        nav.drift.pop()
    if nav.path and nav.path[-1].menu == menu.name:
        nav.path.pop()
    nav.state.lost(nav.now)
    nav.context.prompt_start = None
    nav.expected = nav.expected_before
    nav.state.phase = Phase.AWAITING
    return after_acting.unknown_prompt(nav) or []
