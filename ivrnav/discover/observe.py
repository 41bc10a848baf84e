"""Reading one observation of an unknown line: which prompts it played, in what order, and what each is.

An *observation* is everything the line said after the crawler's last action (or from the start of the
call), as final transcripts with times, and how it ended (the line repeated itself, went silent, hung
up). Real lines give no markers between "an announcement that moves on by itself" and "a menu waiting
for a key": both are sentences followed by more sentences. The one reliable sign is repetition: a menu
that waits for a key says its prompt again when it gets none, and only the prompt, not the welcome
before it. So a gap of ``gap`` seconds splits the observation into *segments*; a segment that repeats
earlier sentences marks where the waiting node's prompt began, and what came before it are nodes that
moved on by themselves.

Pure functions, no clock, no I/O: the probe collects the sentences, this module reads them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ivrnav.navigate.offers import PRESS_WORDS, read_offers, stream_tokens
from ivrnav.text import normalise, tokens

KEYS = frozenset("0123456789*#")
EMERGENCY_NUMBERS = frozenset({"911", "112", "999", "000", "110", "119", "102", "100", "101", "108"})

SAME_SENTENCE = 80.0  # rapidfuzz ratio of two hearings of one sentence (telephone STT, some word errors)
SAME_RUN = 70.0  # mean ratio over two or more aligned sentences
SAME_FIRST = 55.0  # the first aligned sentence must at least resemble its earlier hearing
MAX_MESSAGE_SENTENCES = 2  # sentences a line may put before a repeated prompt ("Sorry, I did not get that.")

# What a prompt's words say about the node: rules as data, checked in this order.
KIND_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("human", re.compile(r"\bmy name(?: is)? [a-z]+\b|\bhow (?:can|may) i (?:help|assist|direct your call)\b|"
                         r"\bthis is \w+ speaking\b")),
    ("hold", re.compile(r"\bplease hold\b|\bhold for\b|\bnext available\b|\bremain on the line\b|"
                        r"\bstay on the line\b|\byour call is important\b|"
                        r"\bin the order (?:it was|they are) received\b|"
                        r"\bplease wait while\b|\btransferring\b|\bconnecting you\b")),
    ("speech", re.compile(r"\bin a few words\b|\btell me (?:why|what|how)\b|\bbriefly (?:say|tell|describe)\b|"
                          r"\bplease say\b|\bafter the (?:tone|beep)\b")),
    ("entry", re.compile(r"\b(?:enter|key in|type in|input)\b[^.]*\b(?:number|pin|code|id|digits|date|zip|"
                         r"extension|password|account|letters|name)\b|\bfollowed by (?:the )?(?:pound|hash|#)|"
                         # a prompt that ends by naming what to key in: "Comedian Mail. Mailbox?" "password"
                         r"\b(?:mailbox|password|passcode|pin|extension|account number|member id|id number|"
                         r"zip code|conference number)\W*$")),
)
TERMINATOR = re.compile(r"\b(?:followed by|then press|and then|ending with|and press)\b[^.]*\b(?:pound|hash|#)")
ENTRY_SUBJECT = re.compile(r"\byour ([a-z][a-z -]{2,60}?)(?= followed\b| then\b| and\b| now\b| using\b| on\b|[,.]|$)")
# "enter the seven digit prescription number": a number followed by one of these is a count, not a key
COUNT_WORDS = frozenset(["digit", "digits", "character", "characters", "letter", "letters", "number", "numbers"])
_DIGITS_WORDS = frozenset(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                           "twelve", "digit", "digits", "numeric", "number"])


SENTENCE = re.compile(r"[^.?!]+[.?!]*")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: float
    end: float


def sentences_in(text: str, start: float, end: float) -> list[Sentence]:
    """One transcript as the sentences it is made of, each given its share of the time by length.

    A recogniser cut by a VAD hears "That pin is invalid for this conference. Please enter the conference pin
    number." as one transcript when the line barely pauses between them; a line that reports each sentence
    (the simulated one) gives two. Reading sentences makes both the same observation: a message, then the
    prompt again."""
    parts = [m for m in SENTENCE.finditer(text) if m.group().strip()]
    if len(parts) < 2:
        return [Sentence(text, start, end)]
    size, span = len(text), end - start
    return [Sentence(m.group().strip(), start + span * m.start() / size, start + span * m.end() / size)
            for m in parts]


@dataclass(slots=True)
class ObservedNode:
    """One prompt the line played during an observation."""

    sentences: list[Sentence]
    waits: bool  # the line paused after it (a place to press keys), rather than running on into the next
    repeated: bool = False  # the line said it again when it got no key
    message: str = ""  # words the line put before the repeat ("I did not get that")
    again: str = ""  # the repeat itself: a second hearing of the prompt

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(slots=True)
class Observation:
    nodes: list[ObservedNode] = field(default_factory=list)
    ended: str = "silence"  # "repeat", "silence", "hangup", "limit"
    silence_after: float = 0.0  # seconds of quiet after the last node (for hangup: before the line hung up)


SOUND = re.compile(r"^\W*[\[(][^\])]*[\])]\W*$")  # "[music]", "(ringing)": what an STT writes for a sound
SOUND_MARK = re.compile(r"[\[(][^\])]*[\])]")  # such a mark inside a transcript ("Sorry, that [ringing] not ...")


def is_sound(text: str) -> bool:
    """A transcript that names a sound rather than saying words."""
    return SOUND.match(text) is not None


def sentence_score(a: str, b: str) -> float:
    na, nb = normalise(a), normalise(b)
    return fuzz.ratio(na, nb) if na and nb else 0.0


def segments(sentences: list[Sentence], gap: float) -> list[list[Sentence]]:
    """Runs of sentences with less than ``gap`` seconds between them."""
    out: list[list[Sentence]] = []
    for s in sentences:
        if out and s.start - out[-1][-1].end < gap:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def repeat_of(earlier: list[Sentence], segment: list[Sentence], *, open_: bool = False) -> tuple[int, int] | None:
    """``(index in earlier, leading message sentences)`` where ``segment`` starts saying ``earlier`` again.

    Sentences are aligned pairwise from there: one sentence alone must sound the same (``SAME_SENTENCE``);
    two or more may each carry word errors if together they agree (``SAME_RUN``). While the segment is
    ``open_`` (the line is still speaking it), a run shorter than the earlier prompt is no verdict yet: "Welcome
    to A. Please select an action." may be the start of another prompt that shares a sentence."""
    best: tuple[float, int, int] | None = None
    pending = 0.0  # the best score of a run that is still being said
    for lead in range(min(MAX_MESSAGE_SENTENCES, len(segment) - 1) + 1):
        said = segment[lead:]
        for i in range(len(earlier)):
            if is_sound(earlier[i].text):
                continue  # music again is no prompt again
            pairs = [sentence_score(e.text, r.text) for e, r in zip(earlier[i:], said, strict=False)]
            score = sum(pairs) / len(pairs) if pairs and pairs[0] >= SAME_FIRST else 0.0
            if score < (SAME_SENTENCE if len(pairs) == 1 else SAME_RUN):
                # the same words cut into other sentences ("Comedian mail, mailbox." / "in mail. Mailbox."): a
                # recogniser's punctuation is no sentence boundary of the line's; a whole segment said again
                # is a repeat when all of it sounds like all of the rest of the earlier prompt
                whole = 0.0 if open_ else sentence_score(" ".join(e.text for e in earlier[i:]),
                                                         " ".join(r.text for r in said))
                if whole < SAME_SENTENCE:
                    continue
                score = whole
            if open_ and len(said) < len(earlier) - i:
                pending = max(pending, score)
            elif best is None or score > best[0]:
                best = (score, i, lead)
        if pending and (best is None or pending >= best[0]):
            return None  # the likeliest reading is still being said: wait for it
        if best is not None:
            return best[1], best[2]
    return None


def read_observation(sentences: list[Sentence], *, gap: float, ended: str, silence_after: float,
                     tail_open: bool = False) -> Observation:
    """Split an observation into the nodes the line played (see the module docstring). ``tail_open``: the
    last segment may still grow (the line is speaking)."""
    segs = segments(sentences, gap)
    obs = Observation(ended=ended, silence_after=silence_after)
    flat: list[Sentence] = []
    bounds: list[int] = []  # index in ``flat`` where each kept segment starts
    for n, seg in enumerate(segs):
        found = repeat_of(flat, seg, open_=tail_open and n == len(segs) - 1) if flat else None
        if found is not None:
            index, lead = found
            seg_start = max(b for b in bounds if b <= index)
            # What precedes the repeated sentence in its segment ran on into it. Everything from it to the
            # repeat is the waiting prompt, gaps included: a sentence the STT lost leaves a gap that looks
            # like a pause, and a line that came back to an earlier prompt by itself is rarer than that.
            before, waiting = flat[seg_start:index], flat[index:]
            kept = _nodes_before(flat, bounds, seg_start)
            if before:
                kept.append(ObservedNode(before, waits=False))
            kept.append(ObservedNode(waiting, waits=True, repeated=True,
                                     message=" ".join(s.text for s in seg[:lead]),
                                     # a second hearing only when whole (the probe stops once it knows)
                                     again=" ".join(s.text for s in seg[lead:]) if len(seg) - lead == len(waiting)
                                     else ""))
            obs.nodes = kept
            obs.ended = "repeat"
            return obs
        bounds.append(len(flat))
        flat.extend(seg)
    ends = [*bounds[1:], len(flat)] if bounds else []
    obs.nodes = [ObservedNode(flat[b:e], waits=True) for b, e in zip(bounds, ends, strict=True)]
    return obs


def _nodes_before(flat: list[Sentence], bounds: list[int], upto: int) -> list[ObservedNode]:
    starts = [b for b in bounds if b < upto]
    ends = [*starts[1:], upto] if starts else []
    return [ObservedNode(flat[b:e], waits=True) for b, e in zip(starts, ends, strict=True)]


def offers_in(text: str) -> dict[str, str]:
    """The (key -> label) offers a prompt makes, first reading of each key."""
    out: dict[str, str] = {}
    for offer in read_offers(stream_tokens([text])):
        if offer.complete and offer.key not in out:
            out[offer.key] = offer.text
    # a key named with no label of its own ("otherwise, please press star now") is still worth a try
    words = tokens(text)
    for i, word in enumerate(words):
        if word not in PRESS_WORDS:
            continue
        key = "".join(itertools.takewhile(lambda w: w.isdigit() and len(w) == 1, words[i + 1 : i + 9]))
        key = key or (words[i + 1] if i + 1 < len(words) and words[i + 1] in KEYS else "")
        if key and key not in out:
            out[key] = ""
    # "if this is an emergency, hang up and dial 9 1 1" is advice, never an option of the line; a key only
    # ever said as a count ("enter the seven digit number") is not offered
    counts = _counted(words)
    return {k: v for k, v in out.items() if k not in EMERGENCY_NUMBERS and k not in counts}


def _counted(words: tuple[str, ...]) -> set[str]:
    """Digits every mention of which is followed by a count word ("seven digit", "six character")."""
    said: dict[str, bool] = {}
    for i, word in enumerate(words):
        if len(word) == 1 and word.isdigit():
            follows = words[i + 1].rstrip("-") if i + 1 < len(words) else ""
            said[word] = said.get(word, True) and follows in COUNT_WORDS
    return {k for k, only_counts in said.items() if only_counts}


def kind_of(text: str, offers: dict[str, str]) -> str:
    """``human``, ``hold``, ``speech``, ``entry``, ``menu`` (offers keys) or ``message`` (offers nothing)."""
    lower = text.lower()
    for kind, pattern in KIND_CUES:
        if pattern.search(lower) and not (kind in ("entry", "speech") and len(offers) >= 2):
            return kind
    return "menu" if offers else "message"


SUBJECT_WORDS = re.compile(r"\b(?:mailbox|password|passcode|pin|extension|account number|member id|id number|"
                           r"zip code|conference number|date of birth|confirmation code|phone number)\b")


def entry_subject(text: str) -> str:
    """What an entry prompt asks for, as a var name: "enter your ten digit account number" -> ``account_number``;
    "Comedian Mail. Mailbox?" -> ``mailbox``."""
    match = ENTRY_SUBJECT.search(text.lower())
    words = re.findall(r"[a-z]+", match.group(1)) if match else []
    if not words:
        named = SUBJECT_WORDS.findall(text.lower())
        words = named[-1].split() if named else []
    kept = [w for w in words if w not in _DIGITS_WORDS] or [w for w in words if w not in {"digit", "digits"}]
    name = "_".join(kept[-3:]) if kept else "entry"
    return name if name[0].isalpha() else f"v_{name}"


def entry_terminated(text: str) -> bool:
    return TERMINATOR.search(text.lower()) is not None
