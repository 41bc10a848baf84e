"""Masking secret values in text, in every form a phone line or an STT engine may write them.

A line reading an account number back does not say "8397331234": it says "eight three nine seven...",
"eighty-three ninety-seven thirty-three", "won six five for five", "oh" for zero, "one hundred twenty three",
glues the digits to a word ("ID839733"), writes full-width digits, separates them with spaces, dashes or
commas, and a streaming STT splits the read-back over two utterances. The Redactor turns each text into a
stream of digits, each remembering the word it came from, and masks every word whose digits form 4 or more
digits of a secret in a row (all of it for a shorter secret), including a run that began in the previous
text it was given (the tail of one note and the head of the next).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from ivrnav.menu.template import MASK

PARTIAL_DIGITS = 4  # this many digits of a secret in a row are masked wherever they appear

# Spoken forms of each digit, with the words STT engines write for them on phone audio.
UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "cero": 0,
    "one": 1, "won": 1, "uno": 1,
    "two": 2, "to": 2, "too": 2, "tu": 2, "dos": 2,
    "three": 3, "free": 3, "tree": 3, "tres": 3,
    "four": 4, "for": 4, "fore": 4, "cuatro": 4,
    "five": 5, "fife": 5, "cinco": 5,
    "six": 6, "sex": 6, "seis": 6,
    "seven": 7, "siete": 7,
    "eight": 8, "ate": 8, "ocho": 8,
    "nine": 9, "niner": 9, "nein": 9, "nueve": 9,
}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
REPEATS = {"double": 2, "triple": 3}
SCALES = {"hundred": 100, "thousand": 1000}
_NUMBERISH = set(UNITS) | set(TEENS) | set(TENS) | set(REPEATS) | set(SCALES) | {"and"}
_READINGS = ((True, True), (False, True), (True, False), (False, False))  # (combine tens, absorb after hundreds)
_AMBIGUOUS = set(TENS) | set(SCALES)
_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+", re.UNICODE)


def _ascii_digits(text: str) -> str:
    """Full-width and other Unicode decimal digits as ASCII, one character for one (spans are kept)."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


class Redactor:
    """``Redactor(secrets)(text)``: ``text`` with every secret masked by ``•``. Stateful across calls: a read-
    back split over two texts is masked in the second one."""

    def __init__(self, secrets: Iterable[str]):
        secrets = [s for s in secrets if s]
        self.digit_secrets = sorted({s for s in secrets if s.isdigit()}, key=len, reverse=True)
        words = [s for s in secrets if not s.isdigit()]
        self.word_pattern = (
            re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
            if words else None
        )
        self._longest = max((len(s) for s in self.digit_secrets), default=0)
        self._carry = ["" for _ in _READINGS]  # per reading: digits ending the previous text, still in a run

    def __call__(self, text: str) -> str:
        if self.word_pattern is not None:
            text = self.word_pattern.sub(lambda m: MASK * len(m.group()), text)
        if not self.digit_secrets or not text:
            return text
        lowered = _lower(_ascii_digits(text))
        words = [_Word(m.group(), m.start(), m.end(), lowered[m.start() - 1:m.start()] == "-")
                 for m in _TOKEN.finditer(lowered)]
        masked: set[tuple[int, int]] = set()
        # "five hundred sixty four five" is 5645 or 56045, "three hundred nine" 309 or 3009: each reading is
        # checked and their masks united (without tens or hundreds all readings are the same)
        ambiguous = len(set(self._carry)) > 1 or any(w.text in _AMBIGUOUS for w in words)
        for reading, (combine, absorb) in enumerate(_READINGS if ambiguous else _READINGS[:1]):
            spans, stream = _stream(words, combine, absorb)
            carry = self._carry[reading]
            digits = carry + "".join(d for d, _ in stream)
            owners = [-1] * len(carry) + [owner for _, owner in stream]
            for start, end in self._matches(digits):
                for owner in owners[start:end]:
                    if owner >= 0:
                        masked.update(spans[owner])
            self._carry[reading] = self._tail(digits, stream, carry)
        if not ambiguous:
            self._carry[1:] = [self._carry[0]] * (len(_READINGS) - 1)
        if not masked:
            return text
        chars = list(text)
        for s, e in masked:
            chars[s:e] = MASK * (e - s)
        return "".join(chars)

    # ------------------------------------------------------------------------------------------ parts

    def _matches(self, digits: str) -> list[tuple[int, int]]:
        found = []
        for secret in self.digit_secrets:
            least = min(len(secret), PARTIAL_DIGITS)
            i = 0
            while i <= len(digits) - least:
                if digits[i:i + least] in secret:
                    n = least
                    while i + n < len(digits) and digits[i:i + n + 1] in secret:
                        n += 1
                    found.append((i, i + n))
                    i += n
                else:
                    i += 1
        return found

    def _tail(self, digits: str, stream: list[tuple[str, int]], carry: str) -> str:
        """The digits that end the text with no word after them: the start of a run the next text may finish."""
        if not stream:
            return carry
        tail = digits[digits.rfind("\0") + 1:]
        return tail[len(tail) - self._longest + 1:] if len(tail) >= self._longest else tail


class _Word(NamedTuple):
    text: str
    start: int
    end: int
    hyphen: bool  # joined to the word before by '-': "eighty-three" is one number


def _lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)  # keep every span in place


_Spans = list[list[tuple[int, int]]]


def _stream(words: list[_Word], combine: bool, absorb: bool) -> tuple[_Spans, list[tuple[str, int]]]:
    """Digits spoken by ``words`` as ``[(digit, owner)]``; ``spans[owner]`` are the character spans of the
    words that said it. A word that is not a number breaks the stream (a NUL digit). ``combine``: "sixty
    four" is 64 (else 60 and 4, as in a read-back of 560 45 as "five hundred sixty, four five"); ``absorb``:
    "three hundred nine" is 309 (else 300 and 9)."""
    spans: list[list[tuple[int, int]]] = []
    stream: list[tuple[str, int]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.text.isdigit():
            spans.append([(word.start, word.end)])
            stream.extend((d, len(spans) - 1) for d in word.text)
            i += 1
            continue
        value, used = _number(words, i, combine, absorb) if word.text in _NUMBERISH else ("", 0)
        if used == 0:
            stream.append(("\0", -1))  # a real word ends a run
            i += 1
            continue
        spans.append([(w.start, w.end) for w in words[i:i + used]])
        stream.extend((d, len(spans) - 1) for d in value)
        i += used
    return spans, stream


def _at(words: list[_Word], k: int) -> str:
    return words[k].text if k < len(words) else ""


def _joins(words: list[_Word], k: int, combine: bool) -> bool:
    """Whether the unit at ``k`` adds to the tens before it: "sixty-four" always, "sixty four" if ``combine``,
    never when it starts a scale of its own ("ninety | eight hundred")."""
    unit = _at(words, k)
    return (unit in UNITS and UNITS[unit] > 0 and (combine or words[k].hyphen)
            and _at(words, k + 1) not in SCALES)


def _number(words: list[_Word], i: int, combine: bool, absorb: bool = True) -> tuple[str, int]:
    """Digits of the number phrase starting at ``words[i]`` and how many words it used (0: none).

    "eighty three" -> "83", "one hundred and five" -> "105", "double five" -> "55", "oh" -> "0"."""
    w = _at(words, i)
    if w in REPEATS and _at(words, i + 1) in UNITS:
        return str(UNITS[_at(words, i + 1)]) * REPEATS[w], 2
    if w in TENS:
        if _joins(words, i + 1, combine):
            return str(TENS[w] + UNITS[_at(words, i + 1)]), 2
        return str(TENS[w]), 1
    if w in UNITS or w in TEENS:
        value = UNITS.get(w, TEENS.get(w, 0))
        scale = _at(words, i + 1)
        if scale in SCALES and value > 0:
            value *= SCALES[scale]
            if not absorb:
                return str(value), 2
            used = 2 + (_at(words, i + 2) == "and")
            below = _below_hundred if scale == "hundred" else _below_thousand
            rest, more = below(words, i + used, combine)
            if more:
                return str(value + rest), used + more
            return str(value), 2  # "one hundred" (a trailing "and" belongs to the next words)
        return str(value), 1
    if w in SCALES:
        return str(SCALES[w]), 1
    return "", 0


def _below_thousand(words: list[_Word], i: int, combine: bool) -> tuple[int, int]:
    w = _at(words, i)
    if w in UNITS and UNITS[w] > 0 and _at(words, i + 1) == "hundred":
        used = 2 + (_at(words, i + 2) == "and")
        rest, more = _below_hundred(words, i + used, combine)
        return UNITS[w] * 100 + rest, (used + more) if more else 2
    return _below_hundred(words, i, combine)


_WEAK_UNITS = {"o", "oh", "to", "too", "for", "fore", "won", "ate"}  # too common to end "one hundred ..."


def _below_hundred(words: list[_Word], i: int, combine: bool) -> tuple[int, int]:
    w = _at(words, i)
    if _at(words, i + 1) in SCALES:  # "six hundred | three hundred": the next number starts here
        return 0, 0
    if w in TENS:
        if _joins(words, i + 1, combine):
            return TENS[w] + UNITS[_at(words, i + 1)], 2
        return TENS[w], 1
    if w in TEENS:
        return TEENS[w], 1
    if w in UNITS and UNITS[w] > 0 and w not in _WEAK_UNITS:
        return UNITS[w], 1
    return 0, 0
