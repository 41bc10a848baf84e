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
from functools import lru_cache

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


KEY_FILLERS = frozenset({"the", "um", "uh", "er", "erm", "ah", "extension", "number", "digit", "digits"})
CUE_DIGITS = frozenset("24")  # "to"/"two", "for"/"four": cue words an STT writes as digits
MAX_KEYS = 4  # the longest key a prompt offers ("dial 8500"); longer digit runs are data, not keys
SPEECH_ALTERNATIVE = frozenset({"say"})  # "press 1 or say billing": what follows "say" is not a label
_NOT_A_LABEL_START = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class _Marker:
    """Where a key is offered in a sentence: ``sentence[start:end]`` names it."""

    start: int
    end: int
    key: str
    certain: bool
    bare: bool = False  # no press word: "2 to remove a code"


def _digit_run(words: list[str], j: int) -> tuple[str, int]:
    """The key spelled from ``words[j]`` on: one key name, or a run of digits ("6 0 0" -> "600")."""
    word = words[j]
    if not word.isdigit():
        return word, j + 1
    key, j = word, j + 1
    while j < len(words) and words[j].isdigit():
        key += words[j]
        j += 1
    return key, j  # callers reject runs longer than MAX_KEYS (a phone number, a code read out)


def _key_at(words: list[str], i: int) -> tuple[str, int, bool] | None:
    """The key named right after a press word at ``i``: ``(key, index after it, certain)``.

    Fillers between the press word and the key ("press um 4", "dial extension 8500") are skipped; a run of
    digits is one multi-digit key ("dial 600").
    """
    j = i + 1
    while j < len(words) and words[j] in KEY_FILLERS:
        j += 1
    if j < len(words) and words[j] == "a" and j + 1 < len(words) and words[j + 1] in KEY_TOKENS:
        j += 1
    if j >= len(words):
        return None
    word = words[j]
    if word == "a":
        return None
    if word.isdigit():
        key, j = _digit_run(words, j)
        if len(key) > MAX_KEYS:
            return None
        if len(key) > 1 and key[-1] in CUE_DIGITS and j < len(words) and words[j] != BOUNDARY \
                and words[j] not in CUES and not words[j].isdigit():
            # "press 1 four coverage questions": the last "digit" is the cue "for" (or "to") heard as a
            # number; a real multi-digit key is followed by its cue ("dial 600 for ...") or ends the offer
            key = key[:-1]  # the cue digit stays inside the marker: not a label word
        certain = True
    else:
        key = KEY_HOMOPHONES.get(word, word)
        if key not in KEY_TOKENS or len(key) != 1:
            return None
        key = key.upper() if key in "abcd" else key
        certain = word not in KEY_HOMOPHONES
        j += 1
    if j < len(words) and words[j] in ("key", "button"):
        j += 1
    return key, j, certain


def _bare_key_at(words: list[str], i: int) -> tuple[str, int] | None:
    """A key offered without a press word: "2 to reject it", "or 3 for billing", a dropped "press"
    ("to hear about X, 3 for other options") or a last "... for sales, 2." Returns ``(key, index after it)``."""
    if not words[i].isdigit() or (i > 0 and (words[i - 1].isdigit() or words[i - 1] in PRESS_WORDS)):
        return None
    key, j = _digit_run(words, i)
    if len(key) > MAX_KEYS:
        return None
    if j < len(words) and words[j] in ("for", "to", "if") and j + 1 < len(words) \
            and words[j + 1] not in _NOT_A_LABEL_START and words[j + 1] != BOUNDARY:
        return key, j
    rest = [w for w in words[j:] if w not in FILLER]
    if not rest and len(key) == 1 and i > 0 and not _a_time_or_range(words, i):  # "for sales, 2." at the end
        return key, j
    return None


# words before a sentence's last number that make it a time or the end of a range, not a key: "open from
# nine to five.", "we close at 6.", "Monday through Friday, 8 until 5."
TIME_WORDS = frozenset({"at", "until", "till", "til", "from", "by", "before", "after", "through", "thru", "than"})
RANGE_WORDS = frozenset({"to", "and", "-"})


def _a_time_or_range(words: list[str], i: int) -> bool:
    before = words[i - 1]
    return before in TIME_WORDS or (before in RANGE_WORDS and i >= 2 and words[i - 2].isdigit())


def _markers(sentence: list[str]) -> list[_Marker]:
    out: list[_Marker] = []
    i = 0
    while i < len(sentence):
        word = sentence[i]
        if word in PRESS_WORDS:
            found = _key_at(sentence, i)
            if found:
                out.append(_Marker(i, found[1], found[0], found[2]))
                i = found[1]
                continue
        bare = _bare_key_at(sentence, i)
        if bare is not None:
            # inferred from the sentence's shape, not from a press word: never enough to believe a moved key
            out.append(_Marker(i, bare[1], bare[0], False, bare=True))
            i = bare[1]
            continue
        i += 1
    return out


def sentences_of(tokens: list[str]) -> list[list[str]]:
    """A token stream cut at its ``|`` boundaries: one list per sentence, the last one the sentence in
    progress (empty when the stream ends on a boundary)."""
    sentences: list[list[str]] = [[]]
    for token in tokens:
        if token == BOUNDARY:
            sentences.append([])
        else:
            sentences[-1].append(token)
    return sentences


def mentions_keys(words: list[str]) -> bool:
    """Whether the words name any key at all (a press word, a digit, # or *): a prompt that names none offers
    nothing a repeat could tell us ("You are the only person in this conference", the star menu unsaid)."""
    return any(w in PRESS_WORDS or w.isdigit() or w in ("#", "*") for w in words)


def read_offers(words: list[str], *, final_tail: bool = True) -> list[Offer]:
    """All (key, label) offers in a token stream (with ``|`` boundaries).

    ``final_tail``: whether the stream's end is a real end (False while an utterance is still interim,
    so a key-first label at the very end may still grow).
    """
    offers: list[Offer] = []
    start = 0
    n = len(words)
    while start < n:
        end = _sentence_end(words, start)
        if end < n and _dangling_label(words[start:end]):
            after = _sentence_end(words, end + 1)
            if (after < n or final_tail) and _bare_key(words[end + 1 : after]):
                # "For technical support," | "press 2.": an STT that ends its utterance at the pause before
                # the key splits one offer in two; the label and the bare key that follows are one sentence
                words = [*words[:end], *words[end + 1 :]]
                n -= 1
                end = after - 1
        sentence = tuple(words[start:end])
        ended = end < n or final_tail
        # Every step re-reads the context since the last action, whose finished sentences do not change:
        # sentences of speakable length are read once (bounded cache shared by all calls), hostile ones always.
        if len(sentence) <= CACHED_SENTENCE_WORDS:
            offers.extend(_cached_sentence_offers(sentence, ended))
        else:
            offers.extend(_sentence_offers(list(sentence), ended=ended))
        start = end + 1
    return offers


def _sentence_end(words: list[str], start: int) -> int:
    end = start
    while end < len(words) and words[end] != BOUNDARY:
        end += 1
    return end


def _dangling_label(sentence: list[str]) -> bool:
    """A sentence that opens like a label ("for technical support") and offers no key, nor names one the STT
    lost ("to review a security alert, press")."""
    return (len(sentence) > 1 and sentence[0] in CUES and not any(w in PRESS_WORDS for w in sentence)
            and not _markers(sentence))


def _bare_key(sentence: list[str]) -> bool:
    """A finished sentence that is only a key ("press 2", "please press 2 now"), not the start of the next
    offer ("press 2" of "press 2 for store hours" while it is still being said)."""
    markers = _markers(sentence)
    return (len(markers) == 1 and all(w in FILLER for w in sentence[: markers[0].start])
            and all(w in FILLER for w in sentence[markers[0].end :]))


CACHED_SENTENCE_WORDS = 200


@lru_cache(maxsize=16384)
def _cached_sentence_offers(sentence: tuple[str, ...], ended: bool) -> tuple[Offer, ...]:
    return tuple(_sentence_offers(list(sentence), ended=ended))


def _sentence_offers(sentence: list[str], *, ended: bool) -> list[Offer]:
    """Offers of one sentence. Label first ("for sales press 1 for service press 2") when words lead the
    first key; key first ("press 1 for sales, press 2 for service") when a key opens the sentence. Lead
    words are only a heading ("for code subscriptions, press 1 to add a code, 2 to remove a code, or 3 to
    list your codes") when keys without a press word follow the first key and a label, not a key, ends the
    finished sentence: an STT stream without punctuation ("... press 2 to report fraud press 3 for all
    other questions") ends with the next label-first offer's label, its key still to come."""
    markers = _markers(sentence)
    if not markers:
        return []
    lead = _clean(sentence[: markers[0].start])
    tail = _key_first_label(sentence[markers[-1].end :])
    heading = ended and bool(tail) and any(m.bare for m in markers[1:])
    # "Finally, you can press the pound key to disconnect": lead words that do not open like a label, and a
    # cue ("to", "for") right after the only key, make the sentence key first
    after = sentence[markers[-1].end :]
    raw_lead = [w for w in sentence[: markers[0].start] if w not in FILLER]
    preamble = len(markers) == 1 and bool(raw_lead) and raw_lead[0] not in CUES
    key_first_tail = preamble and bool(tail) and bool(after) and after[0] in ("to", "for")
    label_first = bool(lead) and not heading and not key_first_tail
    out = []
    if label_first:
        previous_end = 0
        for m in markers:
            label = _clean(sentence[previous_end : m.start])
            if label:
                out.append(Offer(m.key, label, True, m.certain))
            previous_end = m.end
        return out
    for n, m in enumerate(markers):
        nxt = markers[n + 1].start if n + 1 < len(markers) else len(sentence)
        label = _key_first_label(sentence[m.end : nxt])
        if label:
            out.append(Offer(m.key, label, n + 1 < len(markers) or ended, m.certain))
    return out


def _key_first_label(words: list[str]) -> tuple[str, ...]:
    """The label after a key: up to an alternative ("or say billing", "or stay on the line")."""
    cut = len(words)
    for i, word in enumerate(words):
        if word in SPEECH_ALTERNATIVE or (word == "or" and i + 1 < len(words) and words[i + 1] in ("stay", "hold")):
            cut = i
            break
    return _clean(words[:cut])


def _clean(words: list[str]) -> tuple[str, ...]:
    lo, hi = 0, len(words)
    while lo < hi and (words[lo] in FILLER or words[lo] in CUES):
        lo += 1
    while hi > lo and (words[hi - 1] in FILLER or words[hi - 1].isdigit()):  # "... the last user, 4 or" 6
        hi -= 1
    # "For English press 1 para espanol": only the text after the last cue of a run of label text counts
    return tuple(words[lo:hi])


def label_score(wanted: str, heard: tuple[str, ...]) -> float:
    """How well a heard label matches a wanted one (0-100): substring-tolerant but length-aware."""
    if len(heard) <= CACHED_SENTENCE_WORDS:
        return _cached_label_score(wanted, heard)
    return _label_score(wanted, heard)


@lru_cache(maxsize=65536)
def _cached_label_score(wanted: str, heard: tuple[str, ...]) -> float:
    return _label_score(wanted, heard)


def _label_score(wanted: str, heard: tuple[str, ...]) -> float:
    w = " ".join(tokens(wanted))
    h = " ".join(heard)
    if not w or not h:
        return 0.0
    return 0.6 * fuzz.partial_ratio(w, h) + 0.4 * fuzz.ratio(w, h)
