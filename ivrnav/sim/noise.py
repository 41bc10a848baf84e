"""Realistic speech-to-text errors: substitutions, deletions and insertions at a word error rate.

Substitutions prefer the confusions telephone STT really makes (homophones such as to/two, for/four,
near-rhymes, dropped plurals); otherwise they pick another word heard on the line. Seeded, so a run
is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HOMOPHONES = {
    "to": ["two", "too"], "two": ["to", "too"], "too": ["to"], "for": ["four", "fore"], "four": ["for"],
    "one": ["won"], "won": ["one"], "eight": ["ate"], "right": ["write"], "hear": ["here"], "here": ["hear"],
    "your": ["you're", "you"], "you're": ["your"], "there": ["their"], "no": ["know"], "know": ["no"],
    "by": ["buy", "bye"], "press": ["pres", "price"], "card": ["car", "cart"], "account": ["count"],
    "balance": ["balanced"], "pound": ["pound key", "found"], "option": ["options"], "and": ["an", "in"],
    "the": ["a", "uh"], "a": ["the"], "in": ["and"], "claim": ["claims"], "claims": ["claim"],
    "number": ["numbers"], "services": ["service"], "service": ["services"], "new": ["knew"],
    "please": ["pleas"], "bill": ["build"], "pay": ["play"], "speak": ["speech"],
}
FILLERS = ["uh", "um", "the", "a", "and", "so", "oh", "hmm"]


@dataclass(frozen=True, slots=True)
class Noise:
    """``wer`` is the total word error rate, split between substitutions, deletions and insertions."""

    wer: float = 0.0
    substitution: float = 0.6
    deletion: float = 0.25
    # insertion: the rest

    def apply(self, words: list[str], rng: random.Random, vocabulary: list[str]) -> list[str]:
        if self.wer <= 0:
            return list(words)
        out: list[str] = []
        for word in words:
            r = rng.random()
            if r >= self.wer:
                out.append(word)
                continue
            kind = r / self.wer
            if kind < self.substitution:
                out.append(self._substitute(word, rng, vocabulary))
            elif kind < self.substitution + self.deletion:
                continue
            else:
                out.append(word)
                out.append(rng.choice(FILLERS))
        return out

    @staticmethod
    def _substitute(word: str, rng: random.Random, vocabulary: list[str]) -> str:
        bare = word.strip(".,?!;:").lower()
        tail = word[len(word.rstrip(".,?!;:")) :]
        options = HOMOPHONES.get(bare)
        if options:
            return rng.choice(options) + tail
        if vocabulary:
            return rng.choice(vocabulary) + tail
        return word
