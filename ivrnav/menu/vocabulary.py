"""The words a menu file expects to hear, for biasing speech recognition (Deepgram key terms, Whisper's
initial prompt). One list for every STT adapter, so the offline and the real path hear alike."""

from __future__ import annotations

from ivrnav.menu.model import MenuFile

MAX_KEYTERMS = 40  # Whisper's initial prompt is short and Deepgram takes ~100: the menu's core phrases


def menu_keyterms(menu_file: MenuFile, limit: int = MAX_KEYTERMS) -> list[str]:
    """"press N" for the keys in use, then option labels and literal ``listen`` phrases, without repeats.
    "press 1" comes first so recognisers write keys as digits, the navigator's best cue."""
    keys = sorted({o.keys for m in menu_file.menus.values() for o in m.options} | {o.keys for o in menu_file.globals})
    spoken = {"*": "star", "#": "pound"}
    terms = [f"press {spoken.get(k, k)}" for k in keys if len(k) == 1]
    for option in menu_file.globals:
        terms.extend(option.says)
    for menu in menu_file.menus.values():
        for option in menu.options:
            terms.extend(option.says)
        terms.extend(p.text for p in menu.listen if p.regex is None)
    return list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))[:limit]
