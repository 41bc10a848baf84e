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


def _menus_with_options(data: Data) -> list[str]:
    return [n for n, m in data["menus"].items() if len(m.get("options", [])) >= 2 and m.get("prompt")]


def swap_keys(data: Data, menu: str | None = None, rng: random.Random | None = None) -> tuple[Data, str]:
    """Swap the keys of two options of ``menu`` (line side: prompt and key map both change)."""
    rng = rng or random.Random(0)
    out = copy.deepcopy(data)
    menu = menu or rng.choice(_menus_with_options(out))
    m = out["menus"][menu]
    options = m["options"]
    spoken = [i for i, o in enumerate(options) if _key_spoken(str(o["press"])).search(m["prompt"])]
    if len(spoken) < 2:
        raise ValueError(f"menu {menu!r} names fewer than two of its keys in its prompt")
    i, j = rng.sample(spoken, 2)
    ki, kj = str(options[i]["press"]), str(options[j]["press"])
    options[i]["press"], options[j]["press"] = kj, ki
    # swap "press ki" <-> "press kj" in one pass, keeping the word's case ("Press 2", "oprima 2")
    pattern = re.compile(rf"\b(press|oprima)\s+({re.escape(ki)}|{re.escape(kj)})(?![0-9])", re.IGNORECASE)
    m["prompt"] = pattern.sub(lambda hit: f"{hit.group(1)} {kj if hit.group(2) == ki else ki}", m["prompt"])
    return out, menu


def _key_spoken(key: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:press|oprima)\s+{re.escape(key)}(?![0-9])", re.IGNORECASE)


_LABEL_FIRST = re.compile(r"^(For|To|If)\s+(.+?),?\s+press\s+([0-9*#])\.?$", re.IGNORECASE)
_KEY_FIRST = re.compile(r"^Press\s+([0-9*#])\s+(for|to|if)\s+(.+?)\.?$", re.IGNORECASE)


def reword(data: Data, menu: str | None = None, rng: random.Random | None = None) -> tuple[Data, str]:
    """Say ``menu``'s prompt differently: a new opening, and every offer in the other style
    ("For X, press N." <-> "Press N for X."); sentences that offer nothing are dropped, offers never are."""
    rng = rng or random.Random(0)
    out = copy.deepcopy(data)
    menu = menu or rng.choice(_menus_with_options(out))
    m = out["menus"][menu]
    sentences = []
    for sentence in (x.strip() for x in re.findall(r"[^.?!]+[.?!]*", m["prompt"])):
        if a := _LABEL_FIRST.match(sentence):
            sentences.append(f"Press {a.group(3)} {a.group(1).lower()} {a.group(2)}.")
        elif b := _KEY_FIRST.match(sentence):
            sentences.append(f"{b.group(2).capitalize()} {b.group(3)}, press {b.group(1)}.")
        elif re.search(r"\b(press|oprima)\b", sentence, re.IGNORECASE):
            sentences.append(sentence)
    opening = rng.choice(["Please listen carefully, as our options have changed.", "We have updated our menu.",
                          "Please choose from the following."])
    m["prompt"] = " ".join([opening, *sentences])
    m.pop("listen", None)
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
