"""Drifted lines: variants of a menu file that a real IVR becomes over time.

Each function takes the plain data of a menu file (as loaded from YAML) and returns changed data that is
still a valid menu file, to be played with ``--line`` against the original: keys swapped (and the
prompt saying so), prompts reworded, a promotional message inserted, a menu replaced by a new one the
navigator's file does not know. Used by the tests and the benchmark corpus.
"""

from __future__ import annotations

import copy
import random
import re
from typing import Any

Data = dict[str, Any]

_PAIR = re.compile(r"(?P<lead>[Ff]or|[Tt]o|[Ii]f)\s+(?P<label>[^.,]+?),?\s+press\s+(?P<key>[0-9*#])\.?")


def _menus_with_options(data: Data) -> list[str]:
    return [n for n, m in data["menus"].items() if len(m.get("options", [])) >= 2 and m.get("prompt")]


def swap_keys(data: Data, menu: str | None = None, rng: random.Random | None = None) -> tuple[Data, str]:
    """Swap the keys of two options of ``menu`` (line side: prompt and key map both change)."""
    rng = rng or random.Random(0)
    out = copy.deepcopy(data)
    menu = menu or rng.choice(_menus_with_options(out))
    options = out["menus"][menu]["options"]
    candidates = [i for i, o in enumerate(options) if str(o["press"]) in out["menus"][menu]["prompt"]]
    i, j = rng.sample(candidates, 2) if len(candidates) >= 2 else (0, 1)
    ki, kj = str(options[i]["press"]), str(options[j]["press"])
    options[i]["press"], options[j]["press"] = kj, ki
    prompt = out["menus"][menu]["prompt"]
    prompt = re.sub(rf"press {re.escape(ki)}\b", "press \0A", prompt)
    prompt = re.sub(rf"press {re.escape(kj)}\b", f"press {ki}", prompt)
    out["menus"][menu]["prompt"] = prompt.replace("press \0A", f"press {kj}")
    return out, menu


def reword(data: Data, menu: str | None = None, rng: random.Random | None = None) -> tuple[Data, str]:
    """Say ``menu``'s prompt differently: key-first phrasing and a new opening."""
    rng = rng or random.Random(0)
    out = copy.deepcopy(data)
    menu = menu or rng.choice(_menus_with_options(out))
    m = out["menus"][menu]
    pairs = list(_PAIR.finditer(m["prompt"]))
    if pairs:
        sentences = [f"Press {p.group('key')} {'to' if p.group('lead').lower() == 'to' else 'for'} "
                     f"{p.group('label').strip()}." for p in pairs]
        opening = rng.choice(["Please listen carefully, as our options have changed.",
                              "We have updated our menu.", "Please choose from the following."])
        m["prompt"] = " ".join([opening, *sentences])
    m.pop("listen", None)
    m.setdefault("line", {})
    return out, menu


def insert_promo(data: Data, rng: random.Random | None = None) -> tuple[Data, str]:
    """A promotional message the file does not know, played right after the start menu."""
    out = copy.deepcopy(data)
    start = out["start"]
    promo = "promo_message"
    out["menus"][promo] = {
        "prompt": "Did you know you can now manage everything online or in our mobile app? "
        "Visit our website today to learn more.",
        "next": out["start"],
    }
    out["start"] = promo
    return out, start


def new_menu(data: Data, menu: str | None = None, rng: random.Random | None = None) -> tuple[Data, str]:
    """Replace ``menu`` by a new menu with a new name, a new prompt and moved keys, same labels."""
    rng = rng or random.Random(0)
    out = copy.deepcopy(data)
    menu = menu or rng.choice([n for n in _menus_with_options(out) if n != out["start"]])
    old = out["menus"].pop(menu)
    new_name = f"{menu}_v2"
    options = []
    sentences = ["Welcome to our new and improved service center."]
    used = {str(o["press"]) for o in old["options"]}
    free = [k for k in "987654" if k not in used]
    for option in old["options"]:
        says = option.get("says")
        label = says[0] if isinstance(says, list) else says
        key = free.pop(0) if free and option.get("to") else str(option["press"])
        options.append({**option, "press": key})
        if label:
            sentences.append(f"For {label}, press {key}.")
    out["menus"][new_name] = {"prompt": " ".join(sentences), "options": options}
    for m in out["menus"].values():
        for option in m.get("options", []):
            if option.get("to") == menu:
                option["to"] = new_name
        if m.get("next") == menu:
            m["next"] = new_name
    for option in out.get("globals", []):
        if option.get("to") == menu:
            option["to"] = new_name
    if out.get("start") == menu:
        out["start"] = new_name
    if out.get("goal") == menu:
        out["goal"] = new_name
    return out, menu
