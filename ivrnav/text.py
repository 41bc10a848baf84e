"""Text normalisation shared by the menu linter and the navigator.

Telephone speech-to-text writes the same prompt many ways: "Press 1", "press one", "Press one.",
"press the pound key", "hit #". Both the menu file's phrases and the line's transcripts go through
``normalise`` so they can be compared token by token: lower case, no punctuation, number words as
digits, key names as ``#`` and ``*``.
"""

from __future__ import annotations

import re
from functools import lru_cache

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    # Spanish menus often share a line with English ones ("para espanol, oprima dos").
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
}
KEY_WORDS = {"pound": "#", "hash": "#", "hashtag": "#", "octothorpe": "#", "star": "*", "asterisk": "*"}
# Words an STT engine writes for a spoken digit right after "press" ("press to", "press for").
KEY_HOMOPHONES = {
    "to": "2", "too": "2", "tu": "2", "for": "4", "fore": "4", "won": "1", "oh": "0", "o": "0",
    "ate": "8", "free": "3", "tree": "3", "sex": "6", "nein": "9", "fife": "5", "niner": "9",
    "start": "*",  # "press the start key": Whisper on a telephone line hearing "star"
}

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[#*]")
_ACCENTS = str.maketrans("áéíóúñü", "aeiounu")


CACHED_TEXT = 1024  # characters: prompt sentences repeat and are cached; longer (hostile) text is not kept


def tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens of ``text``: ``"Press One, or say 'Pound'."`` -> ``('press','1','or','say','#')``."""
    return _cached_tokens(text) if len(text) <= CACHED_TEXT else _tokens(text)


@lru_cache(maxsize=65536)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return _tokens(text)


def _tokens(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _TOKEN.findall(text.lower().translate(_ACCENTS)):
        raw = raw.replace("'", "")
        word = NUMBER_WORDS.get(raw) or KEY_WORDS.get(raw) or raw
        if word.isdigit() and len(word) > 2:
            out.extend(word)  # "1234" is read out digit by digit on a phone line
        else:
            out.append(word)
    return tuple(out)


def normalise(text: str) -> str:
    return " ".join(tokens(text))


def in_order(phrase: tuple[str, ...] | list[str], words: tuple[str, ...] | list[str], *, max_missing: int = 0,
             max_gap: int = 2) -> bool:
    """Whether ``phrase``'s words are said in ``words`` in order, with at most ``max_gap`` other words between
    two of them ("about and to enter an um echo test" says "about to enter an echo test") and at most
    ``max_missing`` of them lost. A speech recogniser's insertions and fillers break a character-level
    ratio long before they break the phrase."""
    n = len(phrase)
    if n == 0 or len(words) < n - max_missing:
        return False
    present = set(words)
    if sum(w in present for w in phrase) < n - max_missing:
        return False
    for i, word in enumerate(words):
        if word not in phrase[: max_missing + 1]:
            continue
        k = phrase.index(word)
        missing, j = k, i + 1
        for want in phrase[k + 1 :]:
            found = next((x for x in range(j, min(len(words), j + max_gap + 1)) if words[x] == want), None)
            if found is None:
                missing += 1
                if missing > max_missing:
                    break
            else:
                j = found + 1
        else:
            if missing <= max_missing:
                return True
    return False
