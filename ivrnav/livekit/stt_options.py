"""Speech-recognition settings for one call, from its menu file and goal: key terms ordered by use, the
language of the route, and Deepgram's options for IVR audio.

Deepgram choices (README "Deepgram"), each for a reason:

- ``model="nova-3"``: handles 8 kHz telephone audio and is the model that takes key terms.
- ``interim_results=True``: the navigator presses as soon as the wanted option is spoken, before the
  end of the turn, so it needs words while they are being said.
- ``numerals=True``: "press 2" arrives as a digit, the navigator's best cue (its key terms ask for
  "press 2" too); account numbers read back arrive as digits as well.
- ``keyterm``: the route to the goal first ("press 2", "credit card services", the goal's listen phrases),
  then the file's other keys, globals and labels, cut to Deepgram's limits (100 terms, 500 tokens: an
  over-limit list silently stops transcription).
- ``language``: the menu file's ``language`` (default en-US); when the route crosses menus in different
  languages (``language:`` on a branch, e.g. the bank's Spanish menu), ``"multi"`` (nova-3 multilingual,
  which also takes key terms).
- ``mip_opt_out=True``: IVRs read back balances and account data; opt out of Deepgram's model
  improvement programme so call audio is not kept for training.
"""

from __future__ import annotations

from typing import Any

from ivrnav.menu.model import MenuFile
from ivrnav.menu.vocabulary import KEYTERM_LIMITS, KeytermLimit, estimate_tokens, menu_keyterms

__all__ = ["call_keyterms", "call_language", "deepgram_options", "deepgram_stt", "fit_keyterms", "limit_for",
           "route_menus"]

MULTILINGUAL = "multi"


def route_menus(menu_file: MenuFile, goal: str | None) -> list[str]:
    """The planned path's menus, start to goal (empty when there is no goal or no route)."""
    from ivrnav.navigate.plan import NoRoute, plan

    goal = goal or menu_file.goal
    if goal is None or goal not in menu_file.menus:
        return []
    try:
        route = plan(menu_file, menu_file.start, goal)
    except NoRoute:
        return []
    menus = [step.menu for step in route.steps]
    return [*menus, goal] if not menus or menus[-1] != goal else menus


def call_language(menu_file: MenuFile, goal: str | None) -> str:
    """The language to recognise on the way to ``goal``: the route's one language, else ``"multi"``."""
    langs = list(dict.fromkeys(menu_file.language_of(m) for m in route_menus(menu_file, goal)))
    if not langs:
        return menu_file.language
    return langs[0] if len(langs) == 1 else MULTILINGUAL


def limit_for(provider: str) -> KeytermLimit:
    """The key-term limit of an STT provider (by ``STT.provider``); unknown providers get Deepgram's."""
    name = provider.lower()
    if "whisper" in name:
        return KEYTERM_LIMITS["whisper"]
    return KEYTERM_LIMITS["deepgram"]


def call_keyterms(menu_file: MenuFile, goal: str | None, limit: KeytermLimit | int) -> list[str]:
    """Key terms for a call to ``goal``: its route first, within ``limit``."""
    return menu_keyterms(menu_file, limit, route=route_menus(menu_file, goal))


def fit_keyterms(own: list[str], wanted: list[str], limit: KeytermLimit) -> list[str]:
    """The terms of ``wanted`` (in order, without ``own``'s) that still fit ``limit`` after ``own``.

    An STT merges its own (constructor) key terms before the session's, so the session's list must leave
    room for them."""
    count, budget = len(own), limit.tokens - sum(estimate_tokens(t) for t in own)
    out: list[str] = []
    for term in dict.fromkeys(wanted):
        if term in own:
            continue
        cost = estimate_tokens(term)
        if count >= limit.terms:
            break
        if cost > budget:
            continue
        out.append(term)
        count += 1
        budget -= cost
    return out


def deepgram_options(menu_file: MenuFile, goal: str | None = None, *, model: str = "nova-3") -> dict[str, Any]:
    """Keyword arguments for ``livekit.plugins.deepgram.STT`` tuned for this call (module docstring)."""
    return {
        "model": model,
        "interim_results": True,
        "numerals": True,
        "mip_opt_out": True,
        "language": call_language(menu_file, goal),
        "keyterm": call_keyterms(menu_file, goal, KEYTERM_LIMITS["deepgram"]),
    }


def deepgram_stt(menu_file: MenuFile, goal: str | None = None, **overrides: Any) -> Any:
    """A Deepgram STT for this call (needs the ``deepgram`` extra and ``DEEPGRAM_API_KEY`` or ``api_key=``)."""
    from livekit.plugins import deepgram

    return deepgram.STT(**{**deepgram_options(menu_file, goal), **overrides})
