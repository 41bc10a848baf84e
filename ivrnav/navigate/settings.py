"""Every threshold the navigator and the recogniser use, in one documented frozen object.

Scores are rapidfuzz ratios (0-100) over normalised text; times are seconds. A menu author tunes the
timings that depend on a line's voice through the file's ``defaults:`` (or a menu's own keys):
``prompt_done_quiet`` here comes from ``Settings.prompt_done_quiet``. The rest are properties of the
matching method, not of a line, and are tuned against the benchmark (``python -m bench``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ivrnav.menu.model import Settings


@dataclass(frozen=True, slots=True)
class Thresholds:
    # --- recognising a menu (ivrnav.navigate.recognise)
    head_lengths: tuple[int, ...] = (16, 24, 32, 48, 64)  # characters of a prompt's opening compared
    min_head: int = 16  # fewer characters heard than this: too early to compare openings ...
    short_prompt_slack: int = 2  # ... but an expected prompt this much longer than the window at most is compared whole
    candidate_cutoff: float = 55.0  # openings scoring less are not candidates at all
    expected_bonus: float = 8.0  # added for menus the navigator expects next (tells twin prompts apart)
    accept: float = 80.0  # score needed to recognise an expected menu (bonus included)
    accept_unexpected: float = 88.0  # a menu we did not expect needs more ...
    min_unexpected_window: int = 48  # ... and more characters: generic openings are shared
    margin: float = 6.0  # over the runner-up (unless both have the same prompt)
    listen_accept: float = 88.0  # a listen phrase heard
    listen_accept_unexpected: float = 96.0  # a near miss of a listen phrase does not prove an unexpected menu
    unexpected_goal_evidence: int = 2  # phrases of the goal heard before it is claimed where it was not expected
    listen_slack: int = 12  # characters past an unexpected menu's phrase length it may open the window in
    listen_gap: int = 2  # other words allowed between two words of an expected menu's phrase said in order ...
    listen_missing_from: int = 5  # ... and a phrase of this many words may lose one of them
    # --- where a prompt begins and ends (ivrnav.navigate.context, ivrnav.navigate.decisions)
    windows: int = 4  # how many recent sentence starts are tried as the start of a new prompt
    prompt_heard_fraction: float = 0.7  # past this share of a menu's prompt words, later sentences are new
    continues: float = 85.0  # a window this much inside the current prompt is that prompt going on
    prompt_done_quiet: float = 0.8  # seconds of quiet after a final transcript that mean a prompt has ended
    # --- offers (key, label) of a prompt
    offer_match: float = 70.0  # label score for an offer of a recognised menu's option
    moved_key_label: float = 95.0  # one hearing of a moved key is believed only with a label this exact
    mismatch: float = 60.0  # below this for every option, an offer is not one of the menu's
    unknown_offer_match: float = 80.0  # stricter on prompts the file does not know, once every offer was heard
    unknown_offer_match_early: float = 92.0  # before such a prompt ends ("new service" may precede "service")
    offers_min: int = 2  # offers that must fit an expected menu to recognise it by its offers alone ...
    offers_share: float = 0.6  # ... and the share of the heard offers they must be
    offers_score: float = 90.0  # the score given to a menu recognised by its offers
    # --- the line's reaction to our keys
    invalid_match: float = 85.0  # a menu's `invalid` phrase heard: the line rejected an entry
    ignored_min_chars: int = 16  # characters of the old prompt that must go on before we call keys ignored
    ignored_match: float = 88.0  # the old prompt going on after our keys: the line ignored them
    ignored_quiet_extra: float = 0.3  # seconds beyond `settle` of quiet before pressing ignored keys again
    # --- a goal that ends the call (``confirm: {hangup: true}``, ivrnav.navigate.confirm)
    hangup_silent_within: float = 5.0  # a silent hang-up this soon after the keys toward the goal confirms it
    hangup_match: float = 75.0  # words heard before the hang-up must be the goal's (prompt or listen phrase)
    # --- a goal confirmed by a sound or a person (``confirm: {sound: ..., human: true}``)
    sound_confirm_for: float = 1.0  # seconds of the goal's sound (after our keys) that confirm it
    human_min_words: int = 3  # a person's sentence has at least this many words (not "goodbye")
    # --- a line asked to repeat by silence (no repeat key)
    repeat_wait: float = 2.0  # seconds of quiet after which it will not: the map's key goes (PBXs wait ~5 s)
    # --- the retry ladder
    slow_factor: float = 2.0  # inter-digit multiplier on the "press slower" rung
    # times the ladder presses one action's keys again; new words reset the ladder, so without a bound a line
    # answering our keys with a prompt the map does not know had them pressed every rung for the whole call
    max_presses_again: int = 2


DEFAULT = Thresholds()


@lru_cache(maxsize=256)
def thresholds_for(settings: Settings) -> Thresholds:
    """The thresholds in force where ``settings`` apply (a menu's, or the file's defaults)."""
    if settings.prompt_done_quiet == DEFAULT.prompt_done_quiet:
        return DEFAULT
    return replace(DEFAULT, prompt_done_quiet=settings.prompt_done_quiet)
