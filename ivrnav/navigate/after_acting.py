"""After acting (phase ``awaiting``), when no menu is recognised: what did the line do with our keys?

Step 3 of the theory of operation (``ivrnav.navigate.state``): it rejected an entry (its invalid
message: noted, the same menu expected again), ignored the keys (the old prompt goes on: press again
once it is quiet), did not repeat the menu we waited for (press the map's key), or plays a prompt no
menu matches, which is read for an offer of a label that leads closer to the goal. Such a prompt is kept
verbatim (redacted) once it has ended: it may improve the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrnav.menu.model import Option
from ivrnav.navigate import choosing, reading
from ivrnav.navigate import decisions as rules
from ivrnav.navigate.events import Action
from ivrnav.navigate.offers import BOUNDARY, read_offers
from ivrnav.navigate.plan import NoRoute, distances_to, plan
from ivrnav.navigate.result import PathEntry
from ivrnav.navigate.state import Phase

if TYPE_CHECKING:
    from ivrnav.navigate.navigator import Navigator


def unrepeated(nav: Navigator) -> list[Action] | None:
    """The line did not repeat the menu we asked it to (no repeat key): the map's key, once it stayed quiet.
    None: not waiting for a repeat (any more)."""
    if nav.repeat_due is None:
        return None
    name, wanted, when = nav.repeat_due
    if nav.phase is not Phase.AWAITING or nav.menu != name or nav.hearing.last_words_at > nav.acted_at:
        nav.repeat_due = None  # the line said something: recognition and the ladder take it from here
        return None
    if nav.now + rules.EPSILON < when:
        return None
    nav.repeat_due = None
    return nav.press(nav.menu_file.menus[name], wanted.keys, wanted, "file key (the line did not repeat)")


def reaction(nav: Navigator) -> list[Action] | None:
    """No menu recognised since we acted: the line ignored us, rejected an entry, or plays a new prompt.
    None: nothing to say about the words (yet)."""
    ctx = nav.context
    fresh = ctx.tokens[ctx.carried :]
    if not fresh:
        return None
    window = " ".join(t for t in fresh if t != BOUNDARY)
    old = nav.menu_file.menus[nav.menu] if nav.menu else None
    if old is not None and old.invalid and rules.rejected_entry(window, old.invalid, nav.th):
        if not ctx.reaction_noted:
            ctx.reaction_noted = True
            nav.note("retry", f"line rejected the entry at {old.name}")
            nav.timing.retries += 1
            nav.expected = frozenset({old.name})
        return None
    if old is not None and rules.ignored_keys(window, nav.recogniser.prompt_of(old.name), nav.th):
        # The old prompt goes on: the line did not take the keys. Press again once it is quiet.
        if not ctx.reaction_noted:
            ctx.reaction_noted = True
            nav.add_drift("ignored_keys", old.name, "the line kept playing the prompt after the keys", None, None)
        if rules.press_again_now(ctx.open, nav.quiet(), old.settings.settle, nav.th):
            nav.timing.retries += 1
            nav.state.phase = Phase.LISTENING
            nav.expected = frozenset({old.name})
            ctx.prompt_start = ctx.carried
            ctx.reaction_noted = False
            return choosing.act(nav) or []
        return []
    return unknown_prompt(nav, ctx.carried)


def unknown_prompt(nav: Navigator, start: int = 0) -> list[Action] | None:
    """A prompt no menu matches: look for an offer of a label that leads closer to the goal."""
    ctx = nav.context
    if start >= len(ctx.tokens):
        return None
    offers = read_offers(ctx.tokens[start:], final_tail=not ctx.open)
    if not offers:
        _keep_unrecognised(nav, start)
        return None
    ended = not ctx.open and nav.quiet() >= nav.th.prompt_done_quiet
    found = rules.unknown_prompt_offer(nav.menu_file, offers, _lookahead(nav),
                                       distances_to(nav.menu_file, nav.goal), _route_options(nav), ended,
                                       nav.bad_offers, nav.th)
    if found is None:
        _keep_unrecognised(nav, start)
        return None
    offer, option, source = found
    # a key heard only as a homophone ("press the to leave a message": "to" read as 2) is not the line's
    # word against the file's: the file's key, as in a recognised menu (rules.wanted_key)
    key = offer.key if offer.certain else option.keys
    if not choosing.ready(nav, key, option, nav.settings.settle):
        return []
    nav.record.keep_unrecognised(" ".join(ctx.texts()))
    nav.add_drift("unknown_prompt", None, f"unknown prompt offered {rules.label(option)!r} on key {key} "
                  f"(file: {source}.{option.keys})", option.keys, key)
    nav.state.lost(nav.now)
    nav.path.append(PathEntry(None, nav.now, "label"))
    nav.state.phase = Phase.LISTENING
    nav.last_offer = (offer.key, offer.text)
    if nav.last_action is not None and nav.last_action[0] is not None:
        nav.distrusted.add(nav.last_action[0])  # its key led to a prompt we did not expect
    actions = nav.press(None, key, option, f"for {rules.label(option)!r} on an unknown prompt", source)
    if key == option.keys:
        # the line offered the label on the map's own key: as good as being in ``source`` (a silent goal
        # behind it is confirmed as after the map's own keys)
        nav.last_action = (source, key, key)
    return actions


def _route_options(nav: Navigator) -> list[Option]:
    """The option the route would take at each menu we expected to hear."""
    wanted = []
    for name in nav.expected:
        try:
            route = plan(nav.menu_file, name, nav.goal, nav.avoid)
        except (NoRoute, KeyError):
            continue
        if route.steps and route.steps[0].exit.option is not None:
            wanted.append(route.steps[0].exit.option)
    return wanted


def _lookahead(nav: Navigator) -> list[str]:
    """Menus whose options may be on offer now: what we expected, then the rest of the file."""
    first = sorted(nav.expected)
    return first + [n for n in nav.menu_file.menus if n not in nav.expected]


def _keep_unrecognised(nav: Navigator, start: int = 0) -> None:
    """Keep a prompt no menu matched, verbatim (redacted), once it has ended: it may improve the file."""
    ctx = nav.context
    if ctx.unknown_noted or ctx.open or not ctx.finals:
        return
    if nav.quiet() < nav.th.prompt_done_quiet:
        return
    words = ctx.words(start)
    if not words:
        return
    if rules.inside_prompt(words, reading.current_prompt(nav), nav.th):
        return  # only the end of the current menu's own prompt
    ctx.unknown_noted = True
    text = nav.redact(" ".join(ctx.texts()) if start == 0 else words)
    nav.unrecognised.append(text)
    nav.note("drift", f"unrecognised prompt: {text}")
