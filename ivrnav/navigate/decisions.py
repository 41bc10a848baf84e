"""The navigator's decision rules: pure functions from what was heard (offers, windows, quiet time) and the
file to a decision. No state, no clock: every input is an argument and every threshold comes from
``ivrnav.navigate.settings.Thresholds``, so each rule is tested on its own (tests/test_decisions.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from rapidfuzz import fuzz

from ivrnav.menu.model import MenuFile, Option
from ivrnav.navigate.offers import Offer, label_score
from ivrnav.navigate.recognise import Match
from ivrnav.navigate.settings import Thresholds

EPSILON = 1e-9  # seconds: a wait that has lasted exactly its length is over


def label(option: Option) -> str:
    return option.says[0] if option.says else option.keys


def best_label_score(option: Option, offer: Offer) -> float:
    return max(label_score(s, offer.label) for s in option.says)


# --- which menu is playing ------------------------------------------------------------------------------

def inside_prompt(window: str, prompt: str, th: Thresholds) -> bool:
    """The window is (a part of) ``prompt`` going on, not a new menu ("for home delivery, press 3")."""
    return bool(prompt) and fuzz.partial_ratio(window, prompt) >= th.continues


def menu_by_offers(menu_file: MenuFile, offers: list[Offer], expected: Iterable[str], th: Thresholds) -> Match | None:
    """An expected menu whose options the line offers with the file's keys, when the prompt's wording was
    too garbled (or reworded) to match: most offers must be that menu's, on its keys."""
    if len(offers) < th.offers_min:
        return None
    best: tuple[int, str] | None = None
    for name in expected:
        options = [o for o in menu_file.options_of(name) if o.says]
        hits = sum(1 for offer in offers
                   if any(o.keys == offer.key and best_label_score(o, offer) >= th.offer_match for o in options))
        if hits >= th.offers_min and hits >= th.offers_share * len(offers) and (best is None or hits > best[0]):
            best = (hits, name)
    return Match(best[1], th.offers_score, "offers") if best else None


def contradicts(offers: list[Offer], options: list[Option], th: Thresholds) -> bool:
    """Two or more complete offers heard and none of them is an option of this menu: we recognised it
    wrongly (a shared opening such as "please listen carefully, as our options have changed")."""
    complete = [o for o in offers if o.complete]
    if len(complete) < th.offers_min or not options:
        return False
    return all(max(best_label_score(o, offer) for o in options) < th.mismatch for offer in complete)


def replay_too_short(match: Match, window: str, acted_in: str | None, awaiting: bool, spoken: bool,
                     th: Thresholds) -> bool:
    """After our keys, the menu we acted in is recognised again from a short opening still being spoken
    (``spoken``): too early to say. The same menu again means the line did not take the keys, a claim as strong
    as an unexpected menu; twin openings ("please enter the conference number" / "... conference pin number")
    tell apart only further on. A finished short prompt is judged as it is."""
    return (awaiting and spoken and match.menu == acted_in and match.by == "prompt"
            and len(window) < th.min_unexpected_window)


def leaves_hold(hold_menu: str, recognised: str) -> bool:
    """On hold, a recognised menu ends the hold unless it is the hold's own announcement again ("please
    continue to hold"), which is the hold going on, not another visit."""
    return recognised != hold_menu


def hold_timed_out(now: float, held_since: float, hold_max: float | None, max_call: float) -> bool:
    return now >= hold_deadline(held_since, hold_max, max_call)


def hold_deadline(held_since: float, hold_max: float | None, max_call: float) -> float:
    return held_since + (hold_max if hold_max is not None else max_call)


# --- when a prompt has ended ----------------------------------------------------------------------------

def prompt_done(utterance_open: bool, heard_final: bool, quiet: float, settle: float, th: Thresholds) -> bool:
    """The prompt has ended: no utterance in progress, at least one final heard, and quiet since."""
    return not utterance_open and heard_final and quiet + EPSILON >= max(settle, th.prompt_done_quiet)


def label_unheard(utterance_open: bool, heard_final: bool, quiet: float, settle: float, th: Thresholds) -> bool:
    """The prompt ended (and stayed quiet a little longer) without naming the wanted label clearly."""
    done = prompt_done(utterance_open, heard_final, quiet, settle, th)
    return done and quiet + EPSILON >= settle + th.prompt_done_quiet


# --- which key to press ----------------------------------------------------------------------------------

def wanted_key(offers: list[Offer], options: list[Option], wanted: Option, th: Thresholds) -> str | None:
    """The key the line gives the wanted option's label (the last such offer), or None if not heard.

    A key heard as a homophone ("press oh") that contradicts the file is more likely an STT slip than a
    changed line: the file's key is kept then."""
    key = None
    for offer in offers:
        scored = [(best_label_score(o, offer), i) for i, o in enumerate(options)]
        if not scored:
            continue
        score, best = max(scored)
        if options[best] is wanted and score >= th.offer_match and offer.complete:
            key = offer.key if offer.certain or offer.key == wanted.keys else wanted.keys
            if len(key) > len(wanted.keys) and key.startswith(wanted.keys):
                key = wanted.keys  # "press 1 two listen ...": a cue word heard as a digit joined the key
    return key


def weigh_moved_key(offers: list[Offer], options: list[Option], wanted: Option, key: str, ended: bool,
                    th: Thresholds, mapped_elsewhere: bool = False) -> str | None:
    """The key to press for ``wanted`` when the line was heard offering it on ``key``; None: wait for more of the
    prompt. A corroborated move is pressed; a heard key that is also another label's is a mishearing (the file's
    key); an uncorroborated one waits for the prompt's end, then is believed (a key moved to a new number).

    ``mapped_elsewhere``: the map gives ``key`` to another of the menu's exits, one the line never names ("*"
    for goodbye; a labelled one is weighed by its label above): then it is no new number, and one hearing ("to
    call the conference, press star" for "press 1") is the STT's slip unless, by the prompt's end, the move is
    heard twice or the file's key is heard for another label."""
    if moved_key_believed(offers, options, wanted, key, th, one_hearing=not mapped_elsewhere):
        return key
    if key_taken(offers, options, wanted, key, th):
        return wanted.keys
    if not ended:
        return None
    return wanted.keys if mapped_elsewhere else key


def key_taken(offers: list[Offer], options: list[Option], wanted: Option, key: str, th: Thresholds) -> bool:
    """``key`` is also offered (complete) for a label that is not the wanted one."""
    for offer in offers:
        if offer.complete and offer.key == key and options:
            score, best = max((best_label_score(o, offer), i) for i, o in enumerate(options))
            if not (options[best] is wanted and score >= th.offer_match):
                return True
    return False


def moved_key_believed(offers: list[Offer], options: list[Option], wanted: Option, key: str,
                       th: Thresholds, *, one_hearing: bool = True) -> bool:
    """Whether a heard key that contradicts the file's is corroborated: one hearing may be a misheard digit
    or a label fragment ("press 3 for [advanced] options" for "mailbox options"). Believed when the offer
    is certain (a press word) with the wanted label all but exact, when the file's key is offered for
    another label (the line reshuffled its keys), or when the moved key is offered for the wanted label
    twice. Never when the heard key is also offered for another label: one key, two labels, one of them
    misheard ("press 2 for sales ... press 2 for technical support"), and the file's key is the better bet.
    ``one_hearing=False``: a single certain hearing is not enough."""
    if key == wanted.keys:
        return True
    for_wanted = 0
    believed = False
    for offer in offers:
        if not offer.complete:
            continue
        scored = [(best_label_score(o, offer), i) for i, o in enumerate(options)]
        if not scored:
            continue
        score, best = max(scored)
        fits_wanted = options[best] is wanted and score >= th.offer_match
        if offer.key == key and not fits_wanted:
            return False
        if offer.key == wanted.keys and not fits_wanted:
            believed = True
        if offer.key == key and fits_wanted:
            believed = believed or (one_hearing and offer.certain and score >= th.moved_key_label)
            for_wanted += 1
    return believed or for_wanted >= 2


def settled(chosen_at: float, now: float, settle: float) -> bool:
    """A chosen key has stood ``settle`` seconds unchanged."""
    return now - chosen_at + EPSILON >= settle


def confirmed(tokens_when_chosen: int, tokens_now: int, utterance_final: bool) -> bool:
    """A later transcript confirms a chosen key (more words after it, or the utterance's final): a streaming
    STT's interim can guess a half-said digit and keep the guess longer than ``settle``."""
    return utterance_final or tokens_now > tokens_when_chosen


def unknown_prompt_offer(menu_file: MenuFile, offers: list[Offer], lookahead: Iterable[str],
                         distance: dict[str, float], on_route: Collection[Option], ended: bool,
                         bad_offers: Collection[tuple[str, str]],
                         th: Thresholds) -> tuple[Offer, Option, str] | None:
    """On a prompt no menu matches, the offer to take: (offer, the file's option it stands for, that
    option's menu). Mid-prompt only an option the route wants will do, and only a near-exact label; once
    the prompt has ended (every offer heard), any label that leads closer to the goal. Offers that misled
    us before (``bad_offers``) are never taken again. Ties: closest to the goal, then best label."""
    best: tuple[float, float, Offer, Option, str] | None = None
    needed = th.unknown_offer_match if ended else th.unknown_offer_match_early
    for name in lookahead:
        here = distance.get(name, float("inf"))
        for option in menu_file.options_of(name):
            if option.to is None or option.to not in distance or not option.says:
                continue
            if not ended and option not in on_route:
                continue
            if distance[option.to] >= here:
                continue  # leads away from the goal (or back through this menu): not progress
            for offer in offers:
                if not offer.complete or (offer.key, offer.text) in bad_offers:
                    continue
                score = best_label_score(option, offer)
                if score >= needed:
                    candidate = (distance[option.to], -score, offer, option, name)
                    if best is None or candidate[:2] < best[:2]:
                        best = candidate
    return None if best is None else best[2:]


# --- the line's reaction to what we did -------------------------------------------------------------------

def rejected_entry(window: str, invalid: Iterable[str], th: Thresholds) -> bool:
    """The line said one of the menu's ``invalid`` phrases: it rejected our entry."""
    return any(fuzz.partial_ratio(p.lower(), window) >= th.invalid_match for p in invalid)


def ignored_keys(window: str, old_prompt: str, th: Thresholds) -> bool:
    """The old menu's prompt goes on after our keys: the line did not take them."""
    return len(window) >= th.ignored_min_chars and fuzz.partial_ratio(window, old_prompt) >= th.ignored_match


def press_again_now(utterance_open: bool, quiet: float, settle: float, th: Thresholds) -> bool:
    """Ignored keys are pressed again once the line has gone quiet."""
    return not utterance_open and quiet >= settle + th.ignored_quiet_extra


def operator_option(menu_file: MenuFile) -> Option | None:
    """The global option that reaches a person: by its words, else a global ``0`` that goes somewhere."""
    for option in menu_file.globals:
        words = " ".join(option.says).lower()
        if option.to and any(w in words for w in ("operator", "representative", "agent", "someone")):
            return option
    return next((g for g in menu_file.globals if g.keys == "0" and g.to), None)


def repeat_option(options: Iterable[Option]) -> Option | None:
    return next((o for o in options if o.repeat), None)
