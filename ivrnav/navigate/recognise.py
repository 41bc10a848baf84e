"""Which menu is playing? Fuzzy matching of what was heard against every menu's identifying phrases.

A menu is identified by the opening of its prompt (heard first, so recognition can happen long before
the prompt ends) and by its ``listen`` phrases (anywhere in the utterance; ``re:`` phrases are regular
expressions). Scores are rapidfuzz ratios (0-100) over normalised text; menus the navigator expects next
get a bonus, which is how identical prompts in two places of a tree are told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ivrnav.menu.model import MenuFile
from ivrnav.text import normalise

HEAD_LENGTHS = (16, 24, 32, 48, 64)  # characters of prompt opening compared, by how much was heard
MIN_HEAD = 16
EXPECTED_BONUS = 8.0
ACCEPT = 80.0  # score needed to recognise an expected menu (bonus included)
ACCEPT_UNEXPECTED = 88.0  # a menu we did not expect needs more, and more words
MIN_UNEXPECTED_WINDOW = 48  # characters: generic openings ("please choose from the following") are shared
MARGIN = 6.0  # over the runner-up (unless both have the same prompt)
LISTEN_ACCEPT = 88.0
LISTEN_ACCEPT_UNEXPECTED = 96.0  # a near miss of a listen phrase does not prove an unexpected menu


@dataclass(frozen=True, slots=True)
class Match:
    menu: str
    score: float
    by: str  # "prompt" or "listen"


class Recogniser:
    def __init__(self, menu_file: MenuFile):
        self.menu_file = menu_file
        self.names: list[str] = []
        self.prompts: list[str] = []
        for name, menu in menu_file.menus.items():
            text = normalise(menu.prompt)
            if text:
                self.names.append(name)
                self.prompts.append(text)
        self.heads = {n: [p[:n] for p in self.prompts] for n in HEAD_LENGTHS}
        self.listen_plain: list[tuple[str, str]] = []
        self.listen_regex: list[tuple[str, object]] = []
        for name, menu in menu_file.menus.items():
            for phrase in menu.listen:
                if phrase.regex is not None:
                    self.listen_regex.append((name, phrase.regex))
                else:
                    self.listen_plain.append((name, normalise(phrase.text)))

    def prompt_of(self, menu: str) -> str:
        return normalise(self.menu_file.menus[menu].prompt)

    def candidates(self, window: str, expected: frozenset[str] = frozenset(), limit: int = 5) -> list[Match]:
        """Best matches for a window of normalised text that starts where a prompt may start."""
        scores: dict[str, Match] = {}
        if len(window) >= MIN_HEAD:
            size = max(n for n in HEAD_LENGTHS if n <= len(window))
            query = window[:size]
            for _choice, score, index in process.extract(
                query, self.heads[size], scorer=fuzz.ratio, limit=limit + len(expected), score_cutoff=55
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
        self._listen(window, scores, expected)
        ranked = sorted(scores.values(), key=lambda m: (m.score, m.menu in expected), reverse=True)
        return ranked[:limit]

    def _listen(self, window: str, scores: dict[str, Match], expected: frozenset[str]) -> None:
        for name, regex in self.listen_regex:
            if regex.search(window):  # type: ignore[attr-defined]
                self._keep(scores, name, 100.0, "listen", expected)
        for name, phrase in self.listen_plain:
            if len(window) + 2 >= len(phrase):
                # an unexpected menu's phrase must open the window: "card services" inside another menu's
                # "for credit card services, press 2" is a label, not that menu playing
                area = window if name in expected else window[: len(phrase) + 12]
                score = fuzz.partial_ratio(phrase, area)
                if score >= LISTEN_ACCEPT:
                    self._keep(scores, name, score, "listen", expected)

    @staticmethod
    def _keep(scores: dict[str, Match], name: str, score: float, by: str, expected: frozenset[str]) -> None:
        if name in expected:
            score += EXPECTED_BONUS
        old = scores.get(name)
        if old is None or score > old.score:
            scores[name] = Match(name, score, by)

    def decide(self, window: str, expected: frozenset[str] = frozenset()) -> Match | None:
        """The menu this window opens, if the evidence is clear enough."""
        ranked = self.candidates(window, expected)
        if not ranked or ranked[0].score < ACCEPT:
            return None
        best = ranked[0]
        if best.menu not in expected and (
            (best.by == "prompt" and (best.score < ACCEPT_UNEXPECTED or len(window) < MIN_UNEXPECTED_WINDOW))
            or (best.by == "listen" and best.score < LISTEN_ACCEPT_UNEXPECTED)
        ):
            return None
        if len(ranked) > 1:
            second = ranked[1]
            same_prompt = self.prompt_of(second.menu) == self.prompt_of(best.menu)
            if best.score - second.score < MARGIN and not same_prompt:
                return None
        return best
