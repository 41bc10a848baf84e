"""Listen phrases for a draft menu: a few words of its prompt that no other prompt of the line says.

A draft recognises a menu by its prompt's opening, as heard; one mis-heard word at the opening ("You
congratulations about to enter an echo test") and the menu is an unknown prompt. A hand-written map has
listen phrases ("echo test"), heard anywhere in an expected menu's words. The draft's are chosen from the
prompt: runs of words in sentences that offer no key (offer labels name other menus), without digits, with
content words, said in at least half of the menu's hearings, and not said (even nearly) by any other prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from ivrnav.discover.explorer import STOP_WORDS
from ivrnav.discover.observe import offers_in
from ivrnav.text import normalise

KEY_SIGNS = frozenset("*#")
_SENTENCE = re.compile(r"(?<=[.?!;])\s+")
# the explorer's stop words (names of menus) and the other words that say nothing about one prompt
FUNCTION_WORDS = STOP_WORDS | frozenset(["as", "at", "be", "been", "by", "can", "from", "has", "have", "i", "it",
                                          "its", "me", "my", "so", "their", "then", "there", "us", "was", "we",
                                          "will"])


@dataclass(frozen=True, slots=True)
class PhraseRules:
    words: int = 3  # words in a phrase: one wrong word of three still scores above the recogniser's bar
    min_content: int = 2  # words of a phrase that are not function words
    phrases: int = 2  # per menu, from different sentences where it has them
    unlike: float = 80.0  # a phrase scoring this (partial ratio) against another prompt is not its own
    min_prompt_words: int = 4  # shorter prompts are recognised whole


RULES = PhraseRules()


def distinctive_phrases(prompt: str, hearings: Sequence[str], others: Iterable[str],
                        rules: PhraseRules = RULES) -> list[str]:
    """Up to ``rules.phrases`` phrases of ``prompt`` that are its own among ``others`` (the line's other
    prompts), best supported by ``hearings`` first."""
    if len(normalise(prompt).split()) < rules.min_prompt_words:
        return []
    other_texts = [t for t in (normalise(o) for o in others) if t]
    heard = [normalise(h) for h in hearings if h]
    best_per_sentence: list[tuple[float, int, str]] = []
    for sentence in _SENTENCE.split(prompt):
        if offers_in(sentence):
            continue
        words = normalise(sentence).split()
        found: tuple[float, int, str] | None = None
        for gram in zip(*(words[k:] for k in range(rules.words)), strict=False):  # every run of that many words
            if any(ch.isdigit() or ch in KEY_SIGNS for w in gram for ch in w):
                continue  # keys and numbers are what an STT gets wrong most ("asterisk" is written "*")
            content = [w for w in gram if w not in FUNCTION_WORDS]
            if len(content) < rules.min_content:
                continue
            phrase = " ".join(gram)
            if any(fuzz.partial_ratio(phrase, other) >= rules.unlike for other in other_texts):
                continue
            support = sum(phrase in h for h in heard) / len(heard) if heard else 1.0
            candidate = (support, sum(map(len, content)), phrase)
            if found is None or candidate[:2] > found[:2]:
                found = candidate
        if found is not None:
            best_per_sentence.append(found)
    best_per_sentence.sort(key=lambda c: c[:2], reverse=True)
    return [phrase for support, _, phrase in best_per_sentence[: rules.phrases] if support >= 0.5]
