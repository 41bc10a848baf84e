"""Which menu is playing? Fuzzy matching of what was heard against every menu's identifying phrases.

A menu is identified by the opening of its prompt (heard first, so recognition can happen long before
the prompt ends) and by its ``listen`` phrases (anywhere in the utterance; ``re:`` phrases are regular
expressions). Scores are rapidfuzz ratios (0-100) over normalised text; menus the navigator expects next
get a bonus, which is how identical prompts in two places of a tree are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from ivrnav.menu.model import MenuFile
from ivrnav.navigate.settings import DEFAULT, Thresholds
from ivrnav.text import CACHED_TEXT, in_order, normalise


@dataclass(frozen=True, slots=True)
class Match:
    menu: str
    score: float
    by: str  # "prompt" or "listen"


def said_in_order(phrase: str, words: list[str], th: Thresholds) -> bool:
    """A listen phrase (normalised) said in order in ``words`` despite insertions (``text.in_order``)."""
    tokens = phrase.split()
    return in_order(tokens, words, max_missing=1 if len(tokens) >= th.listen_missing_from else 0,
                    max_gap=th.listen_gap)


class Recogniser:
    def __init__(self, menu_file: MenuFile, thresholds: Thresholds = DEFAULT):
        self.menu_file = menu_file
        self.th = th = thresholds
        self.names: list[str] = []
        self.prompts: list[str] = []
        for name, menu in menu_file.menus.items():
            text = normalise(menu.prompt)
            if text:
                self.names.append(name)
                self.prompts.append(text)
        self.heads = {n: [p[:n] for p in self.prompts] for n in th.head_lengths}
        self._prompt_of = {name: normalise(menu.prompt) for name, menu in menu_file.menus.items()}
        # Each step of a call re-reads the same windows (the sentences since it acted): one recogniser serves
        # every call on its file, so decisions are remembered per (window, expected), bounded.
        self._decided = lru_cache(maxsize=8192)(self._decide)
        self.listen_plain: list[tuple[str, str]] = []
        self.listen_regex: list[tuple[str, object]] = []
        for name, menu in menu_file.menus.items():
            for phrase in menu.listen:
                if phrase.regex is not None:
                    self.listen_regex.append((name, phrase.regex))
                else:
                    self.listen_plain.append((name, normalise(phrase.text)))

    def prompt_of(self, menu: str) -> str:
        return self._prompt_of[menu]

    def candidates(self, window: str, expected: frozenset[str] = frozenset(), limit: int = 5) -> list[Match]:
        """Best matches for a window of normalised text that starts where a prompt may start."""
        th = self.th
        scores: dict[str, Match] = {}
        if len(window) >= th.min_head:
            size = max(n for n in th.head_lengths if n <= len(window))
            query = window[:size]
            for _choice, score, index in process.extract(
                query, self.heads[size], scorer=fuzz.ratio, limit=limit + len(expected),
                score_cutoff=th.candidate_cutoff,
            ):
                name = self.names[index]
                prompt = self.prompts[index]
                if len(prompt) < size:  # a short prompt: compare with as much of the window as it has
                    score = fuzz.ratio(window[: len(prompt)], prompt)
                self._keep(scores, name, score, "prompt", expected)
            for name in expected:  # expected menus are always scored, even below the cut-off
                if name in scores or name not in self.menu_file.menus:
                    continue
                prompt = self.prompt_of(name)
                if prompt:
                    self._keep(scores, name, fuzz.ratio(window[: min(size, len(prompt))], prompt[:size]), "prompt",
                               expected)
        else:
            # too early to compare openings, unless an expected menu's whole prompt is this short ("The
            # weather."): heard in full, it is compared whole (an unexpected menu needs a long window anyway)
            for name in expected:
                prompt = self.prompt_of(name) if name in self.menu_file.menus else ""
                if prompt and len(prompt) <= len(window) + th.short_prompt_slack:
                    self._keep(scores, name, fuzz.ratio(window[: len(prompt)], prompt), "prompt", expected)
        self._listen(window, scores, expected)
        ranked = sorted(scores.values(), key=lambda m: (m.score, m.menu in expected), reverse=True)
        return ranked[:limit]

    def _listen(self, window: str, scores: dict[str, Match], expected: frozenset[str]) -> None:
        for name, regex in self.listen_regex:
            if regex.search(window):  # type: ignore[attr-defined]
                self._keep(scores, name, 100.0, "listen", expected)
        words: list[str] | None = None
        for name, phrase in self.listen_plain:
            if len(window) + 2 >= len(phrase):
                # an unexpected menu's phrase must open the window: "card services" inside another menu's
                # "for credit card services, press 2" is a label, not that menu playing
                area = window if name in expected else window[: len(phrase) + self.th.listen_slack]
                score = fuzz.partial_ratio(phrase, area)
                if score >= self.th.listen_accept:
                    self._keep(scores, name, score, "listen", expected)
                elif name in expected:
                    # an expected menu's phrase said through inserted words or fillers (one word may be lost
                    # from a long phrase): as good as the phrase heard at the threshold
                    words = window.split() if words is None else words
                    if said_in_order(phrase, words, self.th):
                        self._keep(scores, name, self.th.listen_accept, "listen", expected)

    def evidence(self, name: str, window: str, heard: str | None = None) -> int:
        """How many of ``name``'s identifying phrases were heard: its prompt's opening at the window's start (at
        the bar for an unexpected menu) and each listen phrase anywhere in ``heard`` (default: the window; a
        pattern's match, or the phrase itself at that bar)."""
        heard = window if heard is None else heard
        th = self.th
        found = 0
        prompt = self._prompt_of.get(name, "")
        if prompt:
            size = min(len(prompt), max(th.head_lengths))
            found += len(window) >= min(size, th.min_unexpected_window) and \
                fuzz.ratio(window[:size], prompt[:size]) >= th.accept_unexpected
        found += sum(1 for menu, regex in self.listen_regex if menu == name and regex.search(heard))  # type: ignore[attr-defined]
        found += sum(1 for menu, phrase in self.listen_plain
                     if menu == name and fuzz.partial_ratio(phrase, heard) >= th.listen_accept_unexpected)
        return found

    def _keep(self, scores: dict[str, Match], name: str, score: float, by: str, expected: frozenset[str]) -> None:
        if name in expected:
            score += self.th.expected_bonus
        old = scores.get(name)
        if old is None or score > old.score:
            scores[name] = Match(name, score, by)

    def decide(self, window: str, expected: frozenset[str] = frozenset()) -> Match | None:
        """The menu this window opens, if the evidence is clear enough."""
        return self._decided(window, expected) if len(window) <= CACHED_TEXT else self._decide(window, expected)

    def _decide(self, window: str, expected: frozenset[str]) -> Match | None:
        th = self.th
        ranked = self.candidates(window, expected)
        if not ranked or ranked[0].score < th.accept:
            return None
        best = ranked[0]
        if best.menu not in expected and (
            (best.by == "prompt" and (best.score < th.accept_unexpected or len(window) < th.min_unexpected_window))
            or (best.by == "listen" and best.score < th.listen_accept_unexpected)
        ):
            return None
        if len(ranked) > 1:
            second = ranked[1]
            same_prompt = self.prompt_of(second.menu) == self.prompt_of(best.menu)
            if best.score - second.score < th.margin and not same_prompt:
                return None
        return best
