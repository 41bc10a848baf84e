"""Confirming a goal that says nothing the recogniser could match (an echo test, music, a transfer).

A map may say how such a goal is confirmed (``confirm:`` on the goal menu). This module holds that rule
apart from the navigator's decision loop, as two pure functions of the navigator's state: whether the goal
is confirmed now, and when it next could be (so event-driven adapters schedule a wake-up).

Each rule needs our keys to have been the map's own way to the goal, all sent, and then:

* ``quiet``: the line said nothing at all (no invalid message, no other prompt) for ``quiet`` seconds;
* ``sound``: the adapter's sound classifier reported the named sound (``Sounded``: ringing, music) beginning
  after the keys and going on for ``sound_confirm_for`` seconds, with no invalid message;
* ``human``: a finished sentence of ``human_min_words`` words that is no menu of the file, offers no keys and
  is no invalid message (a person answering: "hi, you've reached Dana, how can I help");
* ``hangup``: the line hung up, silently or after the goal's own words.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import Sounded
from ivrnav.navigate.offers import BOUNDARY, label_score, read_offers, sentences_of
from ivrnav.navigate.recognise import Match, Recogniser, said_in_order
from ivrnav.navigate.settings import DEFAULT, Thresholds
from ivrnav.text import normalise

QUIET_EPSILON = 1e-6  # time comparisons must not stall on float rounding (0.7999 vs 0.8)


def quiet_due(menu_file: MenuFile, goal: str, expected: frozenset[str], acted_at: float) -> float | None:
    """When the goal would be confirmed by silence after our keys, or None if that rule does not apply."""
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or menu.confirm.quiet is None or goal not in expected:
        return None
    return acted_at + menu.confirm.quiet


def quiet_confirmed(menu_file: MenuFile, goal: str, *, expected: frozenset[str], awaiting: bool, acted_at: float,
                    last_words_at: float, now: float, pressed: tuple[str | None, str] | None = None) -> str | None:
    """How the goal is confirmed (a sentence for the result), or None while it is not (yet).

    ``pressed``: (menu, keys) of the last keys sent. Silence proves only that the line took *some* keys, so
    it confirms the goal only when those keys are the map's own way there: after a key heard on the line
    instead (a moved key, perhaps misheard), a silent wrong branch would look the same.
    """
    if not awaiting:
        return None
    if pressed is not None and not _maps_to(menu_file, pressed, goal):
        return None
    due = quiet_due(menu_file, goal, expected, acted_at)
    if due is None or last_words_at > acted_at + QUIET_EPSILON or now + QUIET_EPSILON < due:
        return None
    quiet = due - acted_at
    return f"reached {goal} (confirmed: the line took the keys and said nothing for {quiet:g} s)"


def hangup_confirmed(menu_file: MenuFile, goal: str, *, expected: frozenset[str], awaiting: bool, acted_at: float,
                     now: float, pressed: tuple[str | None, str] | None, words: str, invalid: tuple[str, ...],
                     th: Thresholds) -> str | None:
    """How a goal that ends the call (``confirm: {hangup: true}``) is confirmed by the line hanging up, or None.

    Strong evidence only: our keys were the map's own way to the goal and all sent, and since them the line
    either said nothing and hung up within ``hangup_silent_within`` s (a released call), or said words that
    are the goal's own listen phrases (its closing message, heard through noise) and no invalid message. A
    goal without listen phrases has only its author's description as a prompt: only silence counts there.
    """
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or not menu.confirm.hangup:
        return None
    if not awaiting or goal not in expected or pressed is None or not _maps_to(menu_file, pressed, goal):
        return None
    after = now - acted_at
    if not words:
        if after > th.hangup_silent_within + QUIET_EPSILON:
            return None
        return f"reached {goal} (confirmed: the line took the keys and hung up {after:.1f} s later, saying nothing)"
    if _says_invalid(words, invalid, th):
        return None
    if not any(p.regex.search(words) if p.regex is not None else fuzz.partial_ratio(normalise(p.text), words)
               >= th.hangup_match for p in menu.listen):
        return None
    return f"reached {goal} (confirmed: the line said the goal's words and hung up)"


def sound_confirmed(menu_file: MenuFile, goal: str, *, expected: frozenset[str], awaiting: bool, acted_at: float,
                    pressed: tuple[str | None, str] | None, sound: Sounded | None, words: str,
                    invalid: tuple[str, ...], th: Thresholds = DEFAULT) -> str | None:
    """How the goal is confirmed by the sound its ``confirm.sound`` names, or None while it is not (yet).

    ``sound``: the latest sound report; one that began before our keys was playing in the menu before (hold
    music there is not the goal's). ``words``: what the line said since the keys (an invalid message there
    means the keys were refused, whatever plays next).
    """
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or sound is None or sound.kind not in menu.confirm.sound:
        return None
    if not awaiting or goal not in expected or pressed is None or not _maps_to(menu_file, pressed, goal):
        return None
    if sound.start + QUIET_EPSILON < acted_at or sound.end - sound.start + QUIET_EPSILON < th.sound_confirm_for:
        return None
    if words and _says_invalid(words, invalid, th):
        return None
    return (f"reached {goal} (confirmed: {sound.kind} began {sound.start - acted_at:.1f} s after the keys and "
            f"went on for {sound.end - sound.start:.1f} s)")


def sound_due(menu_file: MenuFile, goal: str, sound: Sounded | None, th: Thresholds = DEFAULT) -> float | None:
    """When the sound being reported would have gone on long enough to confirm the goal (a wake-up)."""
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or sound is None or sound.kind not in menu.confirm.sound:
        return None
    return sound.start + th.sound_confirm_for


def human_confirmed(menu_file: MenuFile, goal: str, *, expected: frozenset[str], awaiting: bool,
                    pressed: tuple[str | None, str] | None, sentences: list[list[str]], recognised_other: bool,
                    invalid: tuple[str, ...], th: Thresholds = DEFAULT) -> str | None:
    """How the goal is confirmed by a person speaking (``confirm: {human: true}``), or None.

    ``sentences``: the finished sentences the line said since our keys. A person's sentence is no menu of
    the file (``recognised_other``: the recogniser placed the words in another menu), offers no keys and is
    no invalid message; the result names no words (a person may repeat what we entered).
    """
    menu = menu_file.menus.get(goal)
    if menu is None or menu.confirm is None or not menu.confirm.human or recognised_other:
        return None
    if not awaiting or goal not in expected or pressed is None or not _maps_to(menu_file, pressed, goal):
        return None
    for words in sentences:
        if len(words) < th.human_min_words or read_offers([*words, BOUNDARY]):
            continue
        if _says_invalid(" ".join(words), invalid, th):
            return None  # the keys were refused
        return f"reached {goal} (confirmed: a person spoke, {len(words)} words that are no menu and offer no keys)"
    return None


def _says_invalid(words: str, invalid: tuple[str, ...], th: Thresholds) -> bool:
    """One of the menu's invalid messages is in ``words``: the line refused our keys."""
    return any(fuzz.partial_ratio(normalise(p), words) >= th.invalid_match for p in invalid)


def _maps_to(menu_file: MenuFile, pressed: tuple[str | None, str], goal: str) -> bool:
    menu, keys = pressed
    m = menu_file.menus.get(menu)  # type: ignore[arg-type]  # None for keys sent outside any menu we know
    if m is None:
        return False
    if m.enter is not None and m.next == goal:
        return True  # an entry whose next menu is the goal
    return any(o.keys == keys and o.to == goal for o in menu_file.options_of(menu))


CUE_OPENINGS = frozenset({"for", "to", "if", "para", "press"})  # how an offer's label opens
EVIDENCE_MATCH = 88.0  # a goal phrase this close to a sentence counts as mentioned there
OWN_OPTION_MATCH = 70.0  # an offer of one of the goal's own options (same key, label this close): its own prompt


def offered_only(menu_file: MenuFile, goal: str, name: str, tokens: list[str], *, interim: bool = False,
                 awaiting: bool = False, pressed: tuple[str | None, str] | None = None,
                 offered_by: str | None = None, th: Thresholds = DEFAULT) -> bool:
    """Whether ``name`` (the goal, or a menu ``offered_by`` offers) was recognised only from another menu's
    offer of it (or not yet known).

    ``offered_by``: the menu the navigator is in and has not acted in yet. Its prompt names the menus its
    options lead to ("To hear the sample submenu, press 6"): such a menu, like the goal, is recognised only
    from words heard outside offers.

    "For Stargazer astrophysics news, press 3" names the goal but is the menu before it: a goal is claimed
    only when its phrases are heard outside such offers (or inside offers of the goal's own options). While
    the sentence that names the goal is still interim ("for stargazer astrophysics news", "press 3" not yet
    said) it cannot be told, so the claim waits for the sentence to end, unless our keys toward the goal
    were sent (a streaming STT may end the utterance only with the prompt). ``interim``: the last sentence of
    ``tokens`` is still being spoken. Before our keys toward the goal were sent (``awaiting`` with ``pressed``
    the map's way there), a sentence that opens like a label ("for ...", "to ...") is taken for an offer even
    when the key was not heard. After them the goal may name itself in a sentence with offers ("say your
    name and then press the pound key"), unless the offered key is the one we just pressed (the menu before
    it, replaying).
    """
    if name not in menu_file.menus:
        return False
    if name != goal and not (offered_by is not None and offered_by in menu_file.menus
                             and any(o.to == name for o in menu_file.options_of(offered_by))):
        return False
    menu = menu_file.menus[name]
    if menu.enter is not None or menu.say is not None:
        return False  # an entry prompt's own instructions read like offers ("enter the six character code")
    if menu.confirm is not None and not menu.listen:
        return True  # a silent goal's prompt is the map author's description, not words the line says
    phrases = [p for p in menu.listen if p.regex is None]
    regexes = [p.regex for p in menu.listen if p.regex is not None]
    head = normalise(menu.prompt)[:48]
    sentences = sentences_of(tokens)
    done = sentences[:-1] if interim else sentences
    if any(_offers_own_option(menu_file, name, words) for words in done):
        return False  # the goal's own options are on offer: this is its own prompt
    toward = awaiting and pressed is not None and _maps_to(menu_file, pressed, name)
    # before our keys toward it, an unfinished sentence may still turn out to be an offer: only finished ones
    for words in sentences if toward else done:
        text = " ".join(words)
        if not text:
            continue
        hit = any(r.search(text) for r in regexes) or any(
            fuzz.partial_ratio(normalise(p.text), text) >= EVIDENCE_MATCH or said_in_order(normalise(p.text), words,
                                                                                          th)
            for p in phrases) or (
            bool(head) and fuzz.partial_ratio(head, text) >= EVIDENCE_MATCH)
        if not hit:
            continue
        offers = read_offers([*words, BOUNDARY])
        if toward:
            replayed = pressed is not None and any(o.key == pressed[1] for o in offers)
            if not replayed:
                return False  # mentioned outside the offer of the keys we pressed
        elif not offers and words[0] not in CUE_OPENINGS:
            return False  # mentioned outside offers
    # the recogniser's fuzzy match is not enough for a goal: its phrases must be heard, in a finished sentence,
    # outside offers (a noisy interim "to join the conference" is not "you are in the conference")
    return True


def _offers_own_option(menu_file: MenuFile, goal: str, words: list[str]) -> bool:
    """A sentence offering one of the goal's own options (same key, a label close to the map's)."""
    options = menu_file.options_of(goal)
    return any(o.key == opt.keys and any(label_score(x, o.label) >= OWN_OPTION_MATCH for x in opt.says)
               for o in read_offers([*words, BOUNDARY]) for opt in options)


def unexpected_goal_unproven(recogniser: Recogniser, goal: str, match: Match, window: str, heard: str,
                             expected: frozenset[str], th: Thresholds = DEFAULT) -> bool:
    """The goal recognised where the line was not expected to be, on one listen phrase alone: not claimed (yet).

    Where the map predicts the goal, one phrase is enough. Anywhere else a lone phrase is as likely a garbled
    other prompt ("sorry, this is not a valid option" heard as "sorry, this is prescription a valid option"
    matches a human goal's ``re:this is \\w+``): the claim waits for a second of the goal's phrases (its
    prompt's opening or another listen phrase, in ``heard``: what the line said after the current prompt),
    as a person who answers goes on to say."""
    if match.menu != goal or goal in expected or match.by != "listen":
        return False  # an unexpected prompt match already needs the higher bar and a longer window
    return recogniser.evidence(goal, window, heard) < th.unexpected_goal_evidence
