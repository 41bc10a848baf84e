"""Seeded generator of realistic IVR menu files (as plain YAML data), plus drifted variants.

Every generated file is checked with ``compile_text``; the corpus also includes every file in menus/.
"""

from __future__ import annotations

import copy
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivrnav.menu.compiler import compile_text
from ivrnav.menu.model import MenuFile
from ivrnav.sim import drift

Data = dict[str, Any]

BUSINESSES = [
    "Northwind Bank",
    "Harbor Credit Union",
    "CityPower Electric",
    "BlueSky Airlines",
    "Evergreen Pharmacy",
    "Summit Insurance",
    "Metro Water",
    "Lakeside Hospital",
    "Pinnacle Wireless",
    "Redwood Cable",
    "Atlas Mortgage",
    "Beacon Health Plan",
    "Cedar Gas",
    "Orbit Internet",
    "Granite Auto Finance",
]
# (noun phrase, verb phrase): "For <noun>, press N." / "Press N for <noun>." / "To <verb>, press N."
TOPICS = [
    ("billing questions", "ask about your bill"),
    ("account balances", "hear your balance"),
    ("payments", "make a payment"),
    ("new service", "start new service"),
    ("technical support", "get technical help"),
    ("claims", "file a claim"),
    ("prescription refills", "refill a prescription"),
    ("reservations", "book a trip"),
    ("lost or stolen cards", "report a lost card"),
    ("password resets", "reset your password"),
    ("moving service", "move your service"),
    ("outages", "report an outage"),
    ("appointments", "schedule a visit"),
    ("store hours", "hear our hours"),
    ("order status", "check an order"),
    ("returns and exchanges", "return an item"),
    ("loan applications", "apply for a loan"),
    ("direct deposit", "set up direct deposit"),
    ("travel notices", "add a travel notice"),
    ("baggage services", "track your baggage"),
    ("flight changes", "change your flight"),
    ("coverage questions", "ask about coverage"),
    ("roadside assistance", "request roadside help"),
    ("meter readings", "submit a meter reading"),
    ("paperless billing", "go paperless"),
    ("security alerts", "review a security alert"),
    ("pharmacist questions", "talk to a pharmacist"),
    ("insurance cards", "order an insurance card"),
    ("upgrades", "upgrade your plan"),
    ("cancellations", "cancel your service"),
    ("international roaming", "add international roaming"),
    ("device repairs", "repair a device"),
    ("statements", "request a statement"),
    ("rewards points", "redeem your rewards"),
    ("wire transfers", "send a wire transfer"),
    ("check orders", "order checks"),
    ("medical records", "request your records"),
    ("billing disputes", "dispute a charge"),
    ("gift cards", "buy a gift card"),
    ("delivery scheduling", "schedule a delivery"),
]
OPENINGS = [
    "Please listen carefully as our menu options have changed.",
    "Please choose from the following options.",
    "Main menu.",
    "How can we help you today?",
    "Please make a selection.",
]
DEPARTMENTS = ["billing", "support", "claims", "accounts", "retention", "specialist", "scheduling", "care"]
NUM = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _offer(rng: random.Random, key: str, topic: tuple[str, str]) -> tuple[str, str]:
    """One offer sentence and the label the option ``says``."""
    style = rng.random()
    if style < 0.4:
        return f"For {topic[0]}, press {key}.", topic[0]
    if style < 0.7:
        return f"Press {key} for {topic[0]}.", topic[0]
    return f"To {topic[1]}, press {key}.", topic[1]


def generate(seed: int) -> Data:
    """One realistic IVR: a goal path of depth 2-6 through menus of 2-9 options, data entry, hold, agent."""
    rng = random.Random(seed)
    biz = rng.choice(BUSINESSES)
    depth = rng.randint(2, 6)
    menus: dict[str, Any] = {}
    acct_len = rng.choice([8, 10])
    account = "".join(rng.choice("0123456789") for _ in range(acct_len))
    goal_dept = rng.choice(DEPARTMENTS)
    data: Data = {
        "ivrnav": 1,
        "name": f"{biz} #{seed}",
        "description": f"generated IVR, seed {seed}",
        "goal": f"{goal_dept}_agent",
        "vars": {
            "account": {
                "secret": True,
                "pattern": f"^[0-9]{{{acct_len}}}$",
                "description": f"{acct_len}-digit account number",
            }
        },
        "globals": [
            {"press": "0", "says": ["operator", "representative"], "to": "operator_queue"},
            {"press": "*", "says": "repeat", "repeat": True},
        ],
        "start": "welcome",
        "menus": menus,
        "line": {
            "speaking_rate": round(rng.uniform(2.2, 2.9), 2),
            "hold": rng.randint(5, 30),
            "repeats": 3,
            "wait": 5,
            "vars": {"account": account},
        },
    }
    menus["welcome"] = {
        "prompt": f"Thank you for calling {biz}. "
        + rng.choice(["Calls may be recorded for quality purposes.", "Your call is important to us.", ""]).strip(),
        "next": "main",
    }
    if rng.random() < 0.3:
        menus["welcome"]["next"] = "language"
        menus["language"] = {
            "prompt": "For English, press 1. Para espanol, oprima dos.",
            "type_ahead": True,
            "options": [
                {"press": "1", "says": "English", "to": "main"},
                {"press": "2", "says": "espanol", "to": "operator_queue"},
            ],
        }
    topics = list(TOPICS)
    rng.shuffle(topics)
    entry_at = rng.randint(0, depth - 1) if rng.random() < 0.7 else -1
    name = "main"
    counter = 0
    for level in range(depth):
        branching = rng.randint(2, 9)
        wanted = rng.randrange(branching)
        sentences = (
            [rng.choice(OPENINGS)]
            if level == 0
            else [f"{rng.choice(['You have reached', 'Welcome to'])} {rng.choice(DEPARTMENTS)} services."]
        )
        options = []
        nxt = f"menu_{level + 1}" if level < depth - 1 else "hold_queue"
        if level == entry_at:
            nxt_menu = nxt
            nxt = f"entry_{level}"
            menus[nxt] = {
                "prompt": rng.choice(
                    [
                        f"Please enter your {acct_len} digit account number, followed by the pound key.",
                        f"Using your keypad, enter your {acct_len} digit account number, then press pound.",
                    ]
                ),
                "listen": ["account number"],
                "enter": "{account}#",
                "invalid": ["not a valid account number"],
                "next": nxt_menu,
            }
        for i in range(branching):
            key = str(i + 1)
            topic = topics.pop() if topics else (f"option {counter}", f"choose option {counter}")
            sentence, label = _offer(rng, key, topic)
            sentences.append(sentence)
            if i == wanted:
                options.append({"press": key, "says": label, "to": nxt})
            else:
                counter += 1
                leaf = f"info_{counter}"
                menus[leaf] = {
                    "prompt": f"Information about {topic[0]} is available on our website. "
                    "To return to the main menu, press 9.",
                    "options": [{"press": "9", "says": "return to the main menu", "to": "main"}],
                }
                options.append({"press": key, "says": label, "to": leaf})
            if not topics:
                topics = list(TOPICS)
                rng.shuffle(topics)
        if rng.random() < 0.3:
            sentences.append("To hear these options again, press star.")
        menu: dict[str, Any] = {"prompt": " ".join(sentences), "options": options}
        if rng.random() < 0.25:
            menu["type_ahead"] = True
        if level == 0:
            menu["listen"] = [sentences[0].rstrip(".?").lower()]
        menus[name] = menu
        name = nxt if level != entry_at else nxt_menu
    menus["hold_queue"] = {
        "prompt": rng.choice(
            ["Please hold for the next available agent.", "All of our agents are busy. Please stay on the line."]
        ),
        "hold": {"max": 600},
        "next": f"{goal_dept}_agent",
    }
    agent = rng.choice(["Alex", "Sam", "Priya", "Jordan", "Maria", "Chen"])
    menus[f"{goal_dept}_agent"] = {
        "human": True,
        "prompt": f"Thank you for holding, this is {agent} in {goal_dept}. How may I help you?",
        "listen": ["re:this is \\w+", "re:how (can|may) i help"],
    }
    menus["operator_queue"] = {
        "prompt": "Please hold while we transfer you to an operator.",
        "hold": {"max": 600},
        "next": "operator",
    }
    menus["operator"] = {
        "human": True,
        "prompt": "Operator, how can I direct your call?",
        "listen": ["operator how can i direct your call"],
    }
    return data


@dataclass
class Line:
    """One test line: the navigator's file, the line's (possibly drifted) file, and the variant's name."""

    ivr: str
    variant: str
    nav_file: MenuFile
    line_file: MenuFile
    line_data: Data


def compile_data(data: Data, name: str) -> MenuFile:
    compiled = compile_text(yaml.safe_dump(data, sort_keys=False), name)
    if compiled.menu_file is None:
        raise ValueError(f"{name} does not compile: {compiled.warnings}")
    return compiled.menu_file


LOSSY_REWORDS: list[str] = []
_LABEL_FIRST = re.compile(r"^(For|To) (.+?),? press ([0-9*#])\.?$")
_KEY_FIRST = re.compile(r"^Press ([0-9*#]) (for|to) (.+?)\.?$")


def reword_all(data: Data, menu: str, rng: random.Random) -> Data:
    """Reword every offer of ``menu`` into the other style (label-first <-> key-first), with a new opening."""
    out = copy.deepcopy(data)
    m = out["menus"][menu]
    sentences = []
    for sentence in re.findall(r"[^.?!]+[.?!]*", m["prompt"]):
        sentence = sentence.strip()
        if a := _LABEL_FIRST.match(sentence):
            sentences.append(f"Press {a.group(3)} {a.group(1).lower()} {a.group(2)}.")
        elif b := _KEY_FIRST.match(sentence):
            sentences.append(f"{b.group(2).capitalize()} {b.group(3)}, press {b.group(1)}.")
        elif "press" in sentence.lower():
            sentences.append(sentence)
    opening = rng.choice(["Please listen carefully, as our options have changed.", "We have updated our menu."])
    m["prompt"] = " ".join([opening, *sentences])
    m.pop("listen", None)
    return out


def _offers(prompt: str) -> int:
    return len(re.findall(r"\b(?:press|oprima)\b", prompt, flags=re.IGNORECASE))


def variants(data: Data, seed: int) -> list[tuple[str, Data]]:
    rng = random.Random(seed * 7919 + 1)
    out: list[tuple[str, Data]] = [("original", data)]
    for kind, fn in (("swap_keys", drift.swap_keys), ("reword", drift.reword), ("new_menu", drift.new_menu)):
        try:
            changed, menu = fn(data, rng=rng)
        except (ValueError, IndexError):
            continue
        if kind == "reword" and _offers(changed["menus"][menu]["prompt"]) < _offers(data["menus"][menu]["prompt"]):
            # drift.reword only rewrites "For X, press N" sentences and drops "Press N for X" ones: the line
            # would no longer offer some options at all. Counted, and replaced by a lossless rewording.
            LOSSY_REWORDS.append(str(data.get("name")))
            changed = reword_all(data, menu, rng)
        out.append((kind, changed))
    out.append(("promo", drift.insert_promo(data)[0]))
    return out


def build(count: int, root: Path, seed0: int = 1000) -> list[Line]:
    lines: list[Line] = []
    sources: list[tuple[str, Data]] = []
    for path in sorted((root / "menus").glob("*.yaml")):
        sources.append((path.stem, yaml.safe_load(path.read_text())))
    for i in range(count):
        sources.append((f"gen{seed0 + i}", generate(seed0 + i)))
    for idx, (name, data) in enumerate(sources):
        nav = compile_data(data, name)
        for kind, changed in variants(data, idx):
            line = nav if kind == "original" else compile_data(changed, f"{name}:{kind}")
            lines.append(Line(name, kind, nav, line, changed))
    return lines


def big_file(menus: int, seed: int = 7) -> str:
    """A single file with about ``menus`` menus (for compile and per-event timing)."""
    rng = random.Random(seed)
    data = generate(seed)
    all_menus = data["menus"]
    n = 0
    while len(all_menus) < menus:
        n += 1
        b = rng.randint(2, 9)
        opts, sentences = [], ["Please choose from the following."]
        for i in range(b):
            topic = rng.choice(TOPICS)
            sentence, label = _offer(rng, str(i + 1), topic)
            sentences.append(sentence)
            opts.append({"press": str(i + 1), "says": label, "to": rng.choice(list(all_menus))})
        all_menus[f"extra_{n}"] = {"prompt": " ".join(sentences), "options": opts}
    # make every extra menu reachable: main -> "#" -> extra_1 -> "#" -> extra_2 ...
    all_menus["main"]["options"].append({"press": "#", "says": "more options", "to": "extra_1"})
    all_menus["main"]["prompt"] += " For more options, press pound."
    names = [k for k in all_menus if k.startswith("extra_")]
    for a, b in itertools.pairwise(names):
        all_menus[a]["options"].append({"press": "#", "says": "more options", "to": b})
        all_menus[a]["prompt"] += " For more options, press pound."
    return yaml.safe_dump(data, sort_keys=False)
