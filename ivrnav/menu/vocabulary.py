"""The words a menu file expects to hear, for biasing speech recognition (Deepgram key terms, Whisper's
initial prompt). One list for every STT adapter, so the offline and the real path hear alike.

Providers cap the list (Deepgram: 100 terms and 500 tokens per request, and an over-limit list silently
stops transcription), so order matters: the terms the call will need first. Given the planned route,
the route's keys and labels come first, then the file's other keys, the globals (operator, repeat) and
everything else in file order; whatever does not fit the provider's limit is dropped from the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivrnav.menu.model import MenuFile


@dataclass(frozen=True, slots=True)
class KeytermLimit:
    """How many key terms a recogniser takes: a count and a token budget (tokens estimated, see below)."""

    terms: int
    tokens: int


# Deepgram documents 100 terms and 500 tokens; 450 leaves room for our token estimate being low.
# Whisper's initial prompt keeps its last 223 tokens (and the ", " between terms costs one each): 40 terms
# within an estimated 150 keep the whole list, route first.
KEYTERM_LIMITS: dict[str, KeytermLimit] = {
    "deepgram": KeytermLimit(terms=100, tokens=450),
    "whisper": KeytermLimit(terms=40, tokens=150),
}
MAX_KEYTERMS = KEYTERM_LIMITS["whisper"].terms  # the default list's length (kept for callers)
_SPOKEN = {"*": "star", "#": "pound"}


def estimate_tokens(term: str) -> int:
    """A conservative sub-word token count: a token per ~4 characters, at least one per word."""
    return max(len(term.split()), -(-len(term) // 4))


def menu_keyterms(menu_file: MenuFile, limit: int | KeytermLimit = MAX_KEYTERMS, *,
                  route: Sequence[str] = ()) -> list[str]:
    """Key terms, without repeats, ordered by use and cut to ``limit``.

    ``route`` is the planned path (menu names from the start to the goal): each route menu's option that
    leads on along the route ("press 2", "credit card services") and its ``listen`` phrases come first.
    Then "press N" for the file's other keys (so recognisers write keys as digits, the navigator's best
    cue), the globals' labels, and the remaining labels and literal ``listen`` phrases in file order.
    """
    terms: list[str] = []
    on_route = [m for m in route if m in menu_file.menus]
    for here, there in zip(on_route, [*on_route[1:], None], strict=False):
        menu = menu_file.menus[here]
        for option in menu_file.options_of(menu):  # globals too: the route may press "0" for the operator
            if there is not None and option.to == there:
                if len(option.keys) == 1:
                    terms.append(f"press {_SPOKEN.get(option.keys, option.keys)}")
                terms.extend(option.says)
        terms.extend(p.text for p in menu.listen if p.regex is None)
    keys = sorted({o.keys for m in menu_file.menus.values() for o in m.options} | {o.keys for o in menu_file.globals})
    terms.extend(f"press {_SPOKEN.get(k, k)}" for k in keys if len(k) == 1)
    for option in menu_file.globals:
        terms.extend(option.says)
    for menu in menu_file.menus.values():
        for option in menu.options:
            terms.extend(option.says)
        terms.extend(p.text for p in menu.listen if p.regex is None)
    unique = list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
    cap = limit if isinstance(limit, KeytermLimit) else KeytermLimit(terms=limit, tokens=10**9)
    out: list[str] = []
    budget = cap.tokens
    for term in unique:
        if len(out) >= cap.terms:
            break
        cost = estimate_tokens(term)
        if cost > budget:
            continue  # a shorter later term may still fit
        out.append(term)
        budget -= cost
    return out
