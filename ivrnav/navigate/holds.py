"""When may the navigator believe the line has left a hold?

Hold messages talk about the rest of the line ("Main menu. For account balances ... is also online",
"Thanks for calling Acme Bank, my name is ..."): a quoted opening is enough for the recogniser, which
names a menu from its first 16 characters, and leaving a hold on such a quote claims a goal that was not
reached or abandons a queue. So an exit from a hold needs the evidence a goal claim deserves, decided by
``leaves_hold`` alone: the new menu's prompt heard well beyond its opening, or its listen phrases heard in
full, and the words not being the hold's own messages (its prompt, or what it already played).
"""

from __future__ import annotations

import math
import re

from rapidfuzz import fuzz

from ivrnav.menu.model import Menu
from ivrnav.navigate.recognise import Match, Recogniser
from ivrnav.text import normalise

STRONG_PROMPT_WORDS = 12  # at least this much of the new prompt must be heard (all of a shorter prompt) ...
STRONG_PROMPT_SHARE = 0.85  # ... and this share of a longer one: a quote is an opening, not most of a prompt
HEARD_SHARE = 0.85  # of those words, as an STT drops some
STRONG_PROMPT_SCORE = 78.0  # word-level similarity to the prompt so far (unrelated English shares few words)
STRONG_LISTEN_SCORE = 90.0  # a plain listen phrase heard in full, give or take an STT slip
QUOTED_SHARE = 0.4  # a quote holds at most this much of a prompt's opening: listen phrases there prove nothing
OPENING_CHARS = 24  # words that open like a menu's prompt ...
OPENING_SCORE = 80.0  # ... this closely are that prompt (or a quote of it), never a person talking freely
OWN_MESSAGE_SCORE = 90.0  # this close to the hold's prompt or to what it already played: a hold message again


def leaves_hold(recogniser: Recogniser, hold: Menu, match: Match, window: str, played: str = "") -> bool:
    """Is ``window`` (normalised words from where a new prompt may begin) strong evidence that the line left
    the hold ``hold`` for ``match.menu``? ``played`` is what the line said earlier on this hold."""
    if match.menu == hold.name:
        return False  # the hold announcing itself again is no exit (nor another visit)
    own = recogniser.prompt_of(hold.name)
    if own and fuzz.partial_ratio(window, own) >= OWN_MESSAGE_SCORE:
        return False
    if played and fuzz.partial_ratio(window, played) >= OWN_MESSAGE_SCORE:
        return False  # a message this hold has already played (hold messages loop)
    menu = recogniser.menu_file.menus[match.menu]
    prompt = recogniser.prompt_of(match.menu)
    if _prompt_heard(prompt, window):
        return True
    if prompt and fuzz.ratio(window[:OPENING_CHARS], prompt[:OPENING_CHARS]) >= OPENING_SCORE:
        return False  # the words open like the recorded prompt: only the rest of that prompt proves no quote
    if match.by == "offers":
        return True  # two or more of its options offered on the file's keys: already beyond any opening
    return _listen_heard(menu, window, prompt)


def _prompt_heard(prompt: str, window: str) -> bool:
    """Well beyond the opening, and still the prompt so far (a quote goes on with other words). Compared word
    by word: two unrelated sentences share many letters but few words."""
    if not prompt:
        return False
    said, heard = prompt.split(), window.split()
    need = min(len(said), max(STRONG_PROMPT_WORDS, math.ceil(len(said) * STRONG_PROMPT_SHARE)))
    if len(heard) < need * HEARD_SHARE:
        return False
    upto = min(len(heard), len(said))
    return fuzz.ratio(heard[:upto], said[:upto]) >= STRONG_PROMPT_SCORE


def _listen_heard(menu: Menu, window: str, prompt: str) -> bool:
    """A listen phrase heard in full that a quote of the prompt's opening would not hold: one the prompt says
    only in its second half, or not at all (what a person says)."""
    for phrase in menu.listen:
        if phrase.regex is not None:
            if not isinstance(phrase.regex, re.Pattern) or phrase.regex.search(window) is None:
                continue
            found = phrase.regex.search(prompt)
            at = found.start() if found else None
        else:
            text = normalise(phrase.text)
            if not text or len(window) < len(text) or fuzz.partial_ratio(text, window) < STRONG_LISTEN_SCORE:
                continue
            where = fuzz.partial_ratio_alignment(text, prompt)
            at = where.dest_start if where is not None and where.score >= STRONG_LISTEN_SCORE else None
        if at is None or at >= len(prompt) * QUOTED_SHARE:
            return True
    return False
