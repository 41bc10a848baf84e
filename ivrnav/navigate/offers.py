"""Reading a prompt: which key the line offers for which label.

Real prompts come in two styles, often both in one call:

* label first: "For account balances, press 1."  "To report fraud, press 3."  "If you are a provider, press 2."
* key first:   "Press 1 for billing."  "Press 2 to speak with an agent."

Both look alike in a flat word stream ("for billing press 1 for sales press 2" could be either), so we
read sentence by sentence (punctuation and utterance ends are boundaries, ``|``): a sentence whose first
"press N" follows words of its own is label-first, one that opens with "press N" is key-first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from ivrnav.text import KEY_HOMOPHONES, tokens

BOUNDARY = "|"
PRESS_WORDS = frozenset({"press", "oprima", "marque", "pulse", "presione", "dial", "push", "hit", "select", "enter",
                         "pres", "prez", "presse", "price", "prest"})  # the last: how STT mishears "press"
KEY_TOKENS = frozenset("0123456789#*") | frozenset({"a", "b", "c", "d"})
CUES = frozenset({"for", "to", "if", "para", "si", "about"})
FILLER = frozenset({"please", "or", "and", "now", "the", "key", "button", "then", "just", "simply", "you", "can",
                    "may", "also", "otherwise", "o", "y", "por", "favor", "say", "uh", "um"})
_SENTENCE_END = re.compile(r"[.?!;]+(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Offer:
    key: str
    label: tuple[str, ...]
    complete: bool  # the label cannot grow any more (label-first, or a key-first label followed by a boundary)
    certain: bool = True  # the key was a digit or key name, not a homophone ("press to")

    @property
    def text(self) -> str:
        return " ".join(self.label)


def stream_tokens(texts: list[str]) -> list[str]:
    """Tokens of several utterances with ``|`` at utterance and sentence ends."""
    out: list[str] = []
    for text in texts:
        for sentence in _SENTENCE_END.split(text):
            words = tokens(sentence)
            if words:
                out.extend(words)
                out.append(BOUNDARY)
        if out and out[-1] != BOUNDARY:
            out.append(BOUNDARY)
    return out


def _key_at(words: list[str], i: int) -> tuple[str, int, bool] | None:
    """The key named right after a press word at ``i``: ``(key, index after it, certain)``."""
    j = i + 1
    if j < len(words) and words[j] in ("the", "a") and j + 1 < len(words) and words[j + 1] in KEY_TOKENS | {"#", "*"}:
        j += 1
    if j >= len(words):
        return None
    word = words[j]
    key = KEY_HOMOPHONES.get(word, word) if word not in ("a",) else None
    if key is None or key not in KEY_TOKENS:
        return None
    if len(key) != 1:
        return None
    key = key.upper() if key in "abcd" else key
    certain = word not in KEY_HOMOPHONES
    j += 1
    if j < len(words) and words[j] in ("key", "button"):
        j += 1
    return key, j, certain


def read_offers(words: list[str], *, final_tail: bool = True) -> list[Offer]:
    """All (key, label) offers in a token stream (with ``|`` boundaries).

    ``final_tail``: whether the stream's end is a real end (False while an utterance is still interim,
    so a key-first label at the very end may still grow).
    """
    offers: list[Offer] = []
    start = 0
    n = len(words)
    while start < n:
        end = start
        while end < n and words[end] != BOUNDARY:
            end += 1
        offers.extend(_sentence_offers(words[start:end], ended=end < n or final_tail))
        start = end + 1
    return offers


def _sentence_offers(sentence: list[str], *, ended: bool) -> list[Offer]:
    keys: list[tuple[int, int, str, bool]] = []  # (press index, index after key, key, certain)
    for i, word in enumerate(sentence):
        if word in PRESS_WORDS:
            found = _key_at(sentence, i)
            if found:
                keys.append((i, found[1], found[0], found[2]))
    if not keys:
        return []
    lead = _clean(sentence[: keys[0][0]])
    out = []
    if lead:  # label first
        previous_end = 0
        for press, after, key, certain in keys:
            label = _clean(sentence[previous_end:press])
            if label:
                out.append(Offer(key, label, True, certain))
            previous_end = after
    else:  # key first
        for n, (_press, after, key, certain) in enumerate(keys):
            nxt = keys[n + 1][0] if n + 1 < len(keys) else len(sentence)
            label = _clean(sentence[after:nxt])
            if label:
                out.append(Offer(key, label, n + 1 < len(keys) or ended, certain))
    return out


def _clean(words: list[str]) -> tuple[str, ...]:
    lo, hi = 0, len(words)
    while lo < hi and (words[lo] in FILLER or words[lo] in CUES):
        lo += 1
    while hi > lo and words[hi - 1] in FILLER:
        hi -= 1
    # "For English press 1 para espanol": only the text after the last cue of a run of label text counts
    return tuple(words[lo:hi])


def label_score(wanted: str, heard: tuple[str, ...]) -> float:
    """How well a heard label matches a wanted one (0-100): substring-tolerant but length-aware."""
    w = " ".join(tokens(wanted))
    h = " ".join(heard)
    if not w or not h:
        return 0.0
    return 0.6 * fuzz.partial_ratio(w, h) + 0.4 * fuzz.ratio(w, h)
