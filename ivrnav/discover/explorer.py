"""The map being discovered: nodes the line played, what each key did, and what to try next.

Breadth-first: every key a menu offers is a frontier item; each call follows the shortest known route
to the item's menu and tries it. Observations are merged into the map: a prompt that sounds like a
known node's (``SAME_NODE``) is that node again, reached another way (a back key, a shared submenu);
the node itself again is a repeat key; a message followed by the node again is an invalid key. A word error
can hide that a prompt is a known one; when later hearings tell (each call hears its route again), the two
nodes are joined (``SAME_PLACE``), unless a key did different things at them.
Everything here is plain data and JSON-serialisable (``to_json``/``from_json``), so a crawl can resume.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Container, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ivrnav.discover.observe import (
    EMERGENCY_NUMBERS,
    SAME_SENTENCE,
    SENTENCE,
    Observation,
    ObservedNode,
    Sentence,
    entry_subject,
    entry_terminated,
    is_sound,
    kind_of,
    offers_in,
    sentence_score,
)
from ivrnav.discover.probe import ProbeResult, Step
from ivrnav.text import normalise, tokens

MAX_HEARINGS = 8  # hearings kept per node (enough to pick a typical one)
SAME_NODE = 86.0  # rapidfuzz ratio of two hearings of one prompt, after normalisation
SAME_NODE_SAME_KEYS = 65.0  # ... when both hearings offer the same two or more keys
SAME_PLACE = 78.0  # ... of two known nodes' hearings, when no key did different things at the two
SAME_PLACE_BY_KEY = 60.0  # ... of two places that one key led to from two nodes found to be one
LENGTH_AGREES = 0.75  # ... and the two have at least this share of the longer one's words
SAME_SHORT = 97.0  # ... when the prompt is a few words only
LABELS_DIFFER = 50.0  # mean rapidfuzz ratio of the labels two prompts give their common keys, below which they differ
MIN_SPLIT_WORDS = 4  # a known prompt split off a run-on observation has at least this many words
SHARED_TAIL_SENTENCES = 2  # sentences two prompts must end with alike to be two ways into one menu
REFUSAL_WORDS = 10  # the most words of a refusal the line says in its own words before the menu again
ENTRY = "<entry>"  # frontier key meaning "type the entry's value"
SAY = "<say>"  # frontier key meaning "say the prompt's example phrase"
EXAMPLE = re.compile(r"\b(?:you can say|say something like|for example,? say|say)\b,?\s+(.+?)(?:[.?!]|$)")
DIGIT_COUNT = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[ -]digit")
STATE_VERSION = 1
STOP_WORDS = frozenset(["to", "for", "the", "a", "an", "of", "your", "you", "if", "and", "or", "please", "press",
                        "dial", "enter", "say", "now", "with", "about", "on", "in", "is", "are", "this", "that",
                        "our"])
INVALID_CUE = re.compile(r"\bnot (?:a )?valid\b|\binvalid\b|\bincorrect\b|\bnot recogni[sz]ed\b|\bdid not understand\b|"
                         r"\bdidn'?t (?:understand|get that)\b|\bplease try again\b|\bnot an option\b")
DEFAULT_TRY_KEYS = "0*#"  # operator, back/repeat and exit keys that prompts often leave unsaid
# Names a person would give a node whose prompt says this (first free one wins).
NAME_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("main", re.compile(r"^\W*(?:\w+\W+){0,3}main menu\b")),  # "Main menu. For ..." (not "return to the main menu")
    ("language", re.compile(r"\b(?:english|espanol|español|spanish|francais|français)\b.*\b(?:press|oprima|marque)\b")),
)
# Offers a crawler must not take on a real line unless told to: they may do something that cannot be undone.
DEFAULT_AVOID = ("pay", "payment", "confirm", "cancel", "delete", "erase", "transfer funds", "disconnect",
                 "emergency", "911")


def name_for(text: str, kind: str, label: str, *, first: bool, taken: Container[str], first_menu: bool = False) -> str:
    """The name a person would give a node: by what it is, what its prompt says, or the offer that led there."""
    if kind == "human":
        return "agent"
    if kind == "hold":
        return "queue"
    if kind == "entry":
        return entry_subject(text)
    if kind == "silent" and not label:
        return "silence"
    if first and kind == "message":
        return "welcome"
    lower = text.lower()
    for name, pattern in NAME_CUES:
        if pattern.search(lower) and name not in taken:
            return name
    if first_menu and kind == "menu" and "main" not in taken:
        return "main"
    words = [w for w in tokens(label or text) if w.isalpha() and w not in STOP_WORDS]
    return "_".join(words[:3]) or "menu"


def _stem(word: str) -> str:
    """Enough of a word to match "statement" with "statements" and "refill" with "refills"."""
    return word[:6] if len(word) > 6 else word.rstrip("s")


def _split_sounds(nodes: list[ObservedNode]) -> list[ObservedNode]:
    """Sound markers ("[music]") heard within a prompt's run are places of their own. The line moved on from
    every piece but the observation's last by itself."""
    if not any(is_sound(x.text) for n in nodes for x in n.sentences):
        return nodes
    out: list[ObservedNode] = []
    for seen in nodes:
        run: list[Sentence] = []
        for sentence in seen.sentences:
            if is_sound(sentence.text):
                if run:
                    out.append(ObservedNode(run, waits=False))
                out.append(ObservedNode([sentence], waits=False))
                run = []
            else:
                run.append(sentence)
        if run:
            out.append(ObservedNode(run, waits=seen.waits, repeated=seen.repeated, message=seen.message,
                                    again=seen.again))
    for piece in out[:-1]:
        if is_sound(piece.text):
            piece.waits = False
    out[-1].waits = nodes[-1].waits
    return out


def _sentences(text: str) -> list[str]:
    """A hearing's sentences (the transcripts it was joined from end in . ? or !)."""
    return [x.strip() for x in SENTENCE.findall(text) if x.strip()]


def _labels_differ(a: dict[str, str], b: dict[str, str]) -> bool:
    """Two prompts that give two or more common keys labels that, on the whole, do not sound alike."""
    common = [k for k in a if k in b and a[k] and b[k]]
    if len(common) < 2:
        return False
    mean = sum(fuzz.ratio(normalise(a[k]), normalise(b[k])) for k in common) / len(common)
    return mean < LABELS_DIFFER


def unique(name: str, taken: Container[str]) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", name.lower()) or "menu"
    if name[0].isdigit():
        name = f"m_{name}"
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


@dataclass(slots=True)
class Outcome:
    kind: str  # "to", "repeat", "invalid", "ignored" (nothing changed), "hangup", "failed"
    to: str | None = None
    detail: str = ""


@dataclass(slots=True)
class Node:
    name: str
    kind: str  # "menu", "entry", "hold", "human", "speech", "message", "silent" (took the key, said nothing)
    hearings: list[str] = field(default_factory=list)
    waits: bool = True
    next: str | None = None  # the node the line moves on to by itself
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # key (or ENTRY) -> what it did
    skipped: dict[str, str] = field(default_factory=dict)  # key -> why it was not tried
    depth: int = 0
    via: tuple[str, str] | None = None  # (node, key) that first led here
    label: str = ""  # the offer's label that led here
    hangs_up: bool = False  # the line ended the call after this prompt
    silent_wait: bool = False  # the line waited quietly after it (no repeat)
    messages: dict[str, str] = field(default_factory=dict)  # "invalid", "timeout" -> what the line said
    entry_var: str | None = None
    unoffered: list[str] = field(default_factory=list)  # keys tried although the prompt did not offer them
    terminated: bool = False  # an entry ends with "#"
    say: str | None = None  # the example phrase a speech prompt suggests
    sentence_count: int = 1  # utterances the STT made of the prompt when it was first observed

    @property
    def prompt(self) -> str:
        """The best of several hearings: the one most like all the others."""
        if not self.hearings:
            return ""
        # among the hearings that read the most offers (a word error can eat a "press 2"), the most typical
        counts = [len(offers_in(h)) for h in self.hearings]
        full = [h for h, c in zip(self.hearings, counts, strict=True) if c == max(counts)]
        scored = [(sum(fuzz.ratio(normalise(h), normalise(o)) for o in self.hearings), -i, h)
                  for i, h in enumerate(full)]
        return max(scored)[2]

    @property
    def offers(self) -> dict[str, str]:
        """key -> label, each key's label as read in most hearings."""
        votes: dict[str, dict[str, int]] = {}
        for hearing in self.hearings:
            for key, label in offers_in(hearing).items():
                votes.setdefault(key, {}).setdefault(label, 0)
                votes[key][label] += 1
        own = offers_in(self.prompt) if self.hearings else {}  # labels as said in the prompt the draft shows
        voted = {k: max(v.items(), key=lambda kv: kv[1])[0] for k, v in votes.items()}
        return {**own, **{k: label for k, label in voted.items() if k not in own}}

    def key_votes(self) -> dict[str, int]:
        """In how many hearings each key was offered."""
        votes: dict[str, int] = {}
        for hearing in self.hearings:
            for key in offers_in(hearing):
                votes[key] = votes.get(key, 0) + 1
        return votes

    def agreement(self) -> float:
        """How alike the hearings are (0-100), for the draft's confidence comments."""
        if len(self.hearings) < 2:
            return 100.0
        best = normalise(self.prompt)
        return sum(fuzz.ratio(best, normalise(h)) for h in self.hearings) / len(self.hearings)


@dataclass(slots=True)
class Frontier:
    node: str
    key: str
    tries: int = 0


@dataclass
class Budget:
    max_calls: int = 200
    max_minutes: float = 120.0  # line time
    max_depth: int = 12


@dataclass
class Explorer:
    """The map, the queue and the counters of one crawl."""

    values: dict[str, str] = field(default_factory=dict)  # var values given for entries (never written out)
    avoid: tuple[str, ...] = DEFAULT_AVOID
    budget: Budget = field(default_factory=Budget)
    try_keys: str = DEFAULT_TRY_KEYS  # keys tried at every menu even when its prompt does not offer them
    nodes: dict[str, Node] = field(default_factory=dict)
    root: str | None = None
    queue: deque[Frontier] = field(default_factory=deque)
    calls: int = 0
    line_seconds: float = 0.0
    failed_calls: int = 0
    root_tries: int = 0
    _checked: set[tuple[str, str]] = field(default_factory=set, repr=False)  # (node, hearing) held against all
    _prompts: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------------------------------- driving

    def finished(self) -> bool:
        return self.budget_left() is not None or (self.root is not None and not self.queue)

    def budget_left(self) -> str | None:
        """Why the budget is spent, or None."""
        if self.calls >= self.budget.max_calls:
            return f"--max-calls {self.budget.max_calls} reached"
        if self.line_seconds >= self.budget.max_minutes * 60:
            return f"--max-minutes {self.budget.max_minutes:g} reached"
        return None

    def next_call(self) -> tuple[list[Step], Step | None, Frontier | None]:
        """The route and the trial of the next call: first the root observation, then the queue's head."""
        if self.root is None:
            return [], None, None
        item = self.queue[0]
        steps = self.steps_to(item.node)
        node = self.nodes[item.node]
        return steps, self._step(node, item.key, self._expect_at(item.node)), item

    def record(self, item: Frontier | None, result: ProbeResult) -> None:
        """Merge one call's findings into the map."""
        self.calls += 1
        self.line_seconds += result.line_time
        if item is None:
            self._record_root(result)
            return
        self.queue.popleft()
        node = self.nodes[item.node]
        if not result.reached or result.observation is None:
            self.failed_calls += 1
            item.tries += 1
            if item.tries < 2:
                self.queue.append(item)  # try again after the rest: the line may have been noisy
            else:
                node.outcomes[item.key] = Outcome("failed", detail=result.detail)
            return
        self._add_route_hearings(item.node, result)
        self._merge(node, item.key, result.observation)
        self._join_duplicates()
        self._refresh_frontier()

    # -------------------------------------------------------------------------------------- the map

    def steps_to(self, target: str) -> list[Step]:
        """Press points from the call's start to ``target``'s own press point (exclusive)."""
        steps: list[Step] = []
        text: list[str] = []
        names: list[str] = []
        for name, key in self._path(target):
            node = self.nodes[name]
            text.append(node.prompt)
            names.append(name)
            if node.waits or key:  # a key an announcement offers is pressed as it ends, as it was tried
                steps.append(self._step(node, key, " ".join(text), tuple(names)))
                text, names = [], []
        return steps

    def _step(self, node: Node, key: str, expect: str, nodes: tuple[str, ...] = ()) -> Step:
        if key == SAY:
            return Step("", expect, nodes=nodes, say=node.say)
        keys, masked = self._keys_for(node, key)
        return Step(keys, expect, masked, nodes)

    def _keys_for(self, node: Node, key: str) -> tuple[str, str | None]:
        if key != ENTRY:
            return key, None
        value = self.values[node.entry_var or ""]
        end = "#" if node.terminated else ""
        return value + end, "•" * len(value) + end

    def _expect_at(self, target: str) -> str:
        """What the line says between the last press point of the route and ``target``'s press point."""
        path = self._path(target)
        text: list[str] = []
        for name, key in path:
            if self.nodes[name].waits or key:
                text = []
            else:
                text.append(self.nodes[name].prompt)
        return " ".join([*text, self.nodes[target].prompt])

    def _path(self, target: str) -> list[tuple[str, str]]:
        """Shortest known (node, key) path from the root to ``target``; key "" = moves on by itself."""
        assert self.root is not None
        previous: dict[str, tuple[str, str] | None] = {self.root: None}
        queue = deque([self.root])
        while queue:
            name = queue.popleft()
            if name == target:
                break
            node = self.nodes[name]
            edges = [("", node.next)] if node.next else []
            edges += [(k, o.to) for k, o in node.outcomes.items() if o.kind == "to" and o.to]
            for key, to in edges:
                if to not in previous:
                    previous[to] = (name, key)  # type: ignore[index]
                    queue.append(to)  # type: ignore[arg-type]
        path: list[tuple[str, str]] = []
        at: str | None = target
        while at is not None and previous.get(at) is not None:
            name, key = previous[at]  # type: ignore[misc]
            path.append((name, key))
            at = name
        return list(reversed(path))

    def _record_root(self, result: ProbeResult) -> None:
        self.root_tries += 1
        obs = result.observation
        if not result.reached or obs is None or not obs.nodes:
            self.failed_calls += 1
            return
        names = self._chain(obs, depth=0, via=None, label="")
        self.root = names[0]
        self._refresh_frontier()

    def _add_route_hearings(self, target: str, result: ProbeResult) -> None:
        """Each press point on the way heard its prompts once more: keep each node's share of the sentences
        when the sentence count fits (several hearings give the draft its best prompt)."""
        for step, sentences in zip(self.steps_to(target), result.heard_at_steps, strict=False):
            counts = [self.nodes[n].sentence_count for n in step.nodes]
            if sum(counts) != len(sentences):
                continue
            at = 0
            for name, count in zip(step.nodes, counts, strict=True):
                node = self.nodes[name]
                if len(node.hearings) < MAX_HEARINGS and node.kind != "silent":  # a sound is no hearing
                    node.hearings.append(" ".join(sentences[at : at + count]))
                at += count

    def _merge(self, node: Node, key: str, obs: Observation) -> None:
        obs.nodes = [piece for seen in obs.nodes for piece in self._split_shared_tail(seen)]
        first = obs.nodes[0] if obs.nodes else None
        if first is None:
            if node.kind == "silent" and obs.ended != "hangup":
                node.outcomes[key] = Outcome("ignored", detail="the line stayed as quiet as before")
                return
            # the line took the key and said nothing (music, ringing, an echo test, a transfer), or ended the
            # call at once: a place of its own, reached by this key (a goal can be a hang-up or a transfer)
            label = node.offers.get(key, "")
            gone = obs.ended == "hangup"
            name = self._unique("hangup" if gone else name_for("", "silent", label, first=False, taken=self.nodes))
            self.nodes[name] = Node(name, "silent", [], waits=not gone, depth=node.depth + 1, via=(node.name, key),
                                    label=label, silent_wait=not gone, hangs_up=gone)
            node.outcomes[key] = Outcome("to", name)
            if not gone:
                self._enqueue(self.nodes[name])
            return
        # the node itself again, maybe after a message: a repeat key, or a key the line refused
        if self._same(first, node):
            node.outcomes[key] = Outcome("repeat")
            node.hearings.append(first.text)
            return
        # a refusal is said as one ("that is not a valid option"), or is a few words before the menu again (an
        # announcement that runs back into the menu, "Asterisk is an open source PBX. ...", is a place), or
        # opens what the line says next ("Login incorrect. Please enter your agent number followed by ...")
        lead = first.sentences[0].text if first.sentences else first.text
        refused = (_plain_message(first.text) and (
            (len(obs.nodes) >= 2 and not first.waits and self._same(obs.nodes[1], node)
             and len(first.text.split()) <= REFUSAL_WORDS)
            or INVALID_CUE.search(first.text.lower()) is not None)) or (
            _plain_message(lead) and INVALID_CUE.search(lead.lower()) is not None)
        if refused:
            node.messages.setdefault("invalid", first.text)
            if key == ENTRY and not node.terminated:
                node.terminated = True  # many lines end an entry only with "#", whether or not they say so
                self.queue.appendleft(Frontier(node.name, ENTRY))
                return
            if key == ENTRY and self._entry_var(node.prompt) != node.entry_var and \
                    self._entry_var(node.prompt) in self.values:
                # the first hearing named the wrong value ("enter the press D"): the best of the hearings now
                node.entry_var = self._entry_var(node.prompt)
                self.queue.appendleft(Frontier(node.name, ENTRY))
                return
            node.outcomes[key] = Outcome("invalid", detail=first.text)
            return
        label = node.offers.get(key, "") if key not in (ENTRY, SAY) else ""
        names = self._chain(obs, depth=node.depth + 1, via=(node.name, key), label=label)
        node.outcomes[key] = Outcome("to", names[0])

    def _chain(self, obs: Observation, *, depth: int, via: tuple[str, str] | None, label: str) -> list[str]:
        """Nodes of an observation, merged into the map, each linked to the next; their names."""
        names: list[str] = []
        obs.nodes = self._split_known(_split_sounds(obs.nodes))
        for i, seen in enumerate(obs.nodes):
            known = None if is_sound(seen.text) else self._find(seen, label=label if i == 0 else "")
            if known is not None:
                name = known.name
                if seen.text not in known.hearings and len(known.hearings) < MAX_HEARINGS:
                    known.hearings.append(seen.text)
            else:
                name = self._new_node(seen, depth=depth + i, via=via if i == 0 else (names[-1], ""),
                                      label=label if i == 0 else "")
            node = self.nodes[name]
            if seen.again and len(node.hearings) < MAX_HEARINGS:
                node.hearings.append(seen.again)
            if seen.message and seen.repeated:
                node.messages.setdefault("timeout", seen.message)
            if names:
                self.nodes[names[-1]].next = name
            names.append(name)
            if known is not None:
                break  # the rest of the chain is known already (or will be observed from that node)
        last = self.nodes[names[-1]]
        tail = obs.nodes[len(names) - 1]
        if tail.text and self._find(tail) is last and len(names) == len(obs.nodes):
            if obs.ended == "hangup":
                last.hangs_up = last.hangs_up or not last.offers
            elif obs.ended in ("silence", "limit") and not tail.repeated:
                last.silent_wait = True
                if last.kind in ("message", "hold") and last.next is None and not last.outcomes:
                    names.append(self._silence_after(last))
        return names

    def _silence_after(self, node: Node) -> str:
        """An announcement or a hold the line stayed quiet after, neither repeating it nor hanging up: the
        quiet is a place of its own (music, ringing, a conference, an echo test) that keys may lead on from."""
        name = self._unique(name_for("", "silent", "", first=False, taken=self.nodes))
        node.waits, node.next = False, name
        self.nodes[name] = Node(name, "silent", [], waits=True, depth=node.depth + 1, via=(node.name, ""),
                                silent_wait=True)
        if node.kind != "hold":  # keys do nothing on hold
            self._enqueue(self.nodes[name])
        return name

    def _split_shared_tail(self, seen: ObservedNode) -> list[ObservedNode]:
        """A prompt that ends as a known menu ends but begins otherwise ("Asterisk is an open source PBX. ...
        If you would like to learn more, dial 2 ..." after the welcome's "Congratulations. ... If you would
        like to learn more, dial 2 ..."): the shared sentences are one menu that both announcements run into.
        The known menu is split (its head becomes an announcement of its own) and so is what was heard."""
        said = [x.text for x in seen.sentences]
        best: tuple[int, Node] | None = None
        for known in self.nodes.values():
            if known.kind != "menu" or not known.hearings:
                continue
            ks = _sentences(known.prompt)
            n = 0
            while n < min(len(ks), len(said)) and sentence_score(ks[-1 - n], said[-1 - n]) >= SAME_SENTENCE:
                n += 1
            if SHARED_TAIL_SENTENCES <= n < max(len(ks), len(said)) and (best is None or n > best[0]) \
                    and not offers_in(" ".join(ks[:-n])) and not offers_in(" ".join(said[:-n])):
                best = (n, known)
        if best is None:
            return [seen]
        n, known = best
        if n < len(_sentences(known.prompt)):
            self._split_node(known, n)
        if n == len(said):
            return [seen]
        return [ObservedNode(seen.sentences[:-n], waits=False),
                ObservedNode(seen.sentences[-n:], waits=seen.waits, repeated=seen.repeated, message=seen.message,
                             again=seen.again)]

    def _split_node(self, known: Node, tail: int) -> None:
        """``known`` keeps its last ``tail`` sentences (and its keys); what it said before them becomes an
        announcement that runs into it, and everything that led to ``known`` now leads to that."""
        heads, tails = [], []
        for hearing in known.hearings:
            parts = _sentences(hearing)
            if len(parts) > tail:
                heads.append(" ".join(parts[:-tail]))
                tails.append(" ".join(parts[-tail:]))
        if not heads:
            return
        kind = kind_of(heads[0], {})
        name = self._unique(self._name_for(heads[0], kind, known.label, first=self.root == known.name))
        head = Node(name, kind, heads, waits=False, next=known.name, depth=known.depth, via=known.via,
                    label=known.label, sentence_count=max(known.sentence_count - tail, 1))
        for other in self.nodes.values():
            for outcome in other.outcomes.values():
                if outcome.to == known.name:
                    outcome.to = name
            if other.next == known.name:
                other.next = name
        if self.root == known.name:
            self.root = name
        self.nodes[name] = head
        known.hearings, known.sentence_count = tails, tail
        known.via, known.depth, known.label = (name, ""), known.depth + 1, ""

    def _split_known(self, nodes: list[ObservedNode]) -> list[ObservedNode]:
        """Prompts that ran into each other with no pause ("...card specialist. Please hold for the next
        available representative."): split off a known node heard on its own before."""
        out: list[ObservedNode] = []
        for seen in nodes:
            out.extend(self._split_one(seen, depth=0))
        return out

    def _split_one(self, seen: ObservedNode, *, depth: int) -> list[ObservedNode]:
        n = len(seen.sentences)
        if n < 2 or depth > 4 or self._find(seen) is not None:
            return [seen]
        for j in range(1, n):
            head = ObservedNode(seen.sentences[:j], waits=False)
            tail = ObservedNode(seen.sentences[j:], waits=seen.waits, repeated=seen.repeated, message=seen.message)
            if self._whole(head):
                return [head, *self._split_one(tail, depth=depth + 1)]
            if self._whole(tail):
                return [*self._split_one(head, depth=depth + 1), tail]
        return [seen]

    def _whole(self, piece: ObservedNode) -> bool:
        """``piece`` is the whole of a known node's prompt: as many sentences, and long enough to tell."""
        known = self._find(piece)
        return known is not None and known.sentence_count == len(piece.sentences) and \
            len(normalise(piece.text).split()) >= MIN_SPLIT_WORDS

    def _find(self, seen: ObservedNode, *, label: str = "") -> Node | None:
        return self._best(seen.text, label=label, among=self.nodes.values())

    def _best(self, heard: str, *, label: str, among: Iterable[Node], bar: float = SAME_NODE) -> Node | None:
        """The known node (of ``among``) this prompt is, if any: it sounds like one of its hearings, or a
        little less when it also offers the same keys. Templated prompts ("Information about appointments is
        available on our website") sound alike: when the prompt says words of the offer that led to it, a
        node none of whose hearings says them is another node."""
        best: tuple[float, Node] | None = None
        text = normalise(heard)
        keys = set(offers_in(heard))
        said = _label_said(label, heard)
        offers = offers_in(heard)
        for node in among:
            # templated menus ("Welcome to scheduling services. For rewards points, press 1. ...") sound alike
            # and offer the same keys: what they offer under those keys tells them apart
            # below the usual bar a hearing half as long again is another prompt that ends alike ("Employers and
            # brokers, please hold for your account team. Please hold for the next available ...")
            score = max((fuzz.ratio(text, normalise(h)) for h in node.hearings
                         if not _labels_differ(offers, offers_in(h))
                         and (bar >= SAME_NODE or _similar_length(text, normalise(h)))), default=0.0)
            need = min(bar, SAME_NODE_SAME_KEYS) if len(keys) >= 2 and keys == set(node.offers) else bar
            if len(text.split()) < MIN_SPLIT_WORDS:
                need = SAME_SHORT  # "Reservations." and "Reservaciones." are 92% alike
            if score < need or (best is not None and score <= best[0]):
                continue
            if not _says(node, said):
                continue
            best = (score, node)
        return best[1] if best else None

    def _same(self, seen: ObservedNode, node: Node) -> bool:
        return self._find(seen) is node

    # ----------------------------------------------------------------------------------- one place, once

    def _join_duplicates(self) -> None:
        """Two nodes that are one place of the line, found apart: a word error in the one hearing a node was
        first known by hid that it was a known one (at 15% WER "Please hold four the and next available hear."
        is not the hold heard before). Later hearings (each call hears its route again) tell: when the typical
        hearing of one sounds like a hearing of the other (a typical one, not every one: a route that went
        astray can leave a stray hearing), the two are one, unless some key did different things at them (two
        menus may say the same words: an account number asked for on the way to the balances and on the way
        to an agent)."""
        changed = [n for n in self.nodes.values()
                   if n.kind != "silent" and any((n.name, h) not in self._checked for h in n.hearings)]
        for node in changed:
            if node.name not in self.nodes:
                continue
            self._checked.update((node.name, h) for h in node.hearings)
            twin = self._twin(node)
            if twin is not None:
                self._join(twin, node)

    def _twin(self, node: Node) -> Node | None:
        """The other node that ``node`` is one place with, if any."""
        others = [n for n in self.nodes.values() if n is not node and n.kind != "silent" and n.hearings]
        found = self._best(self._typical(node), label=node.label, among=others, bar=SAME_PLACE)
        candidates = [found] if found is not None else []
        candidates += [other for other in others if other is not found and
                       self._best(self._typical(other), label=other.label, among=[node], bar=SAME_PLACE)]
        # and each one's words of the offer that led to it are said by the other ("Information about gift cards
        # ..." led to by "gift cards" is not "Information about returns ..." led to by "return an item", though the
        # latter's label is said by every "To return to the main menu" of the two)
        return next((other for other in candidates if _says(other, _label_said(node.label, self._typical(node)))
                     and _says(node, _label_said(other.label, self._typical(other)))
                     and self._one_place(other, node, set())), None)

    def _typical(self, node: Node) -> str:
        """``node.prompt``, kept while its hearings stay the same (it weighs every pair of them)."""
        hearings = tuple(node.hearings)
        if self._prompts.get(node.name, ((), ""))[0] != hearings:
            self._prompts[node.name] = (hearings, node.prompt)
        return self._prompts[node.name][1]

    def _one_place(self, a: Node, b: Node, asked: set[frozenset[str]]) -> bool:
        """``a`` and ``b`` may be one place: kinds that a word error can turn into each other, and every key
        tried at both did the same there (led to places that may be one, too)."""
        pair = frozenset((a.name, b.name))
        if a.name == b.name or pair in asked:
            return True
        asked.add(pair)
        if a.kind != b.kind and "message" not in (a.kind, b.kind):
            return False
        # two keys of one menu that led to the two are two offers: two places, though they may sound alike
        # ("Information about rewards points ..." and "... about reservations ..." heard through word errors)
        if any({a.name, b.name} <= {o.to for o in n.outcomes.values() if o.kind == "to"} for n in self.nodes.values()):
            return False
        for key in a.outcomes.keys() & b.outcomes.keys():
            oa, ob = a.outcomes[key], b.outcomes[key]
            if "failed" in (oa.kind, ob.kind) or "ignored" in (oa.kind, ob.kind):
                continue
            if (oa.kind == "to") != (ob.kind == "to"):
                return False
            if oa.kind == "to" and not self._one_target(oa.to, ob.to, asked):
                return False
        return a.next is None or b.next is None or self._one_target(a.next, b.next, asked)

    def _one_target(self, x: str | None, y: str | None, asked: set[frozenset[str]]) -> bool:
        if x == y:
            return True
        if x is None or y is None:
            return False
        a, b = self.nodes[x], self.nodes[y]
        if (a.kind == "silent") != (b.kind == "silent"):
            return False
        bar = SAME_PLACE_BY_KEY  # one key at one place leads to one place: its words need only not say otherwise
        if a.kind != "silent" and not (any(self._best(h, label=b.label, among=[a], bar=bar) for h in b.hearings)
                                       or any(self._best(h, label=a.label, among=[b], bar=bar) for h in a.hearings)):
            return False
        return self._one_place(a, b, asked)

    def _join(self, a: Node, b: Node) -> None:
        """Make ``a`` and ``b`` one node (the one nearer the start, or found first, stays), and so the places
        each key led to from both."""
        order = list(self.nodes)
        keep, gone = sorted((a, b), key=lambda n: (n.name != self.root, n.depth, order.index(n.name)))
        pairs = [(keep.outcomes[k].to, gone.outcomes[k].to) for k in keep.outcomes.keys() & gone.outcomes.keys()
                 if keep.outcomes[k].kind == gone.outcomes[k].kind == "to"]
        pairs.append((keep.next, gone.next))
        for other in self.nodes.values():
            for outcome in other.outcomes.values():
                if outcome.to == gone.name:
                    outcome.to = keep.name
            if other.next == gone.name:
                other.next = keep.name
            if other.via and other.via[0] == gone.name:
                other.via = (keep.name, other.via[1])
        for key, outcome in gone.outcomes.items():
            if key not in keep.outcomes or keep.outcomes[key].kind in ("failed", "ignored"):
                keep.outcomes[key] = outcome
        for key, outcome in keep.outcomes.items():
            if outcome.kind == "to" and outcome.to == keep.name:  # a key that led back to the same place
                keep.outcomes[key] = Outcome("repeat")
        keep.hearings += [h for h in gone.hearings if h not in keep.hearings][: MAX_HEARINGS - len(keep.hearings)]
        keep.skipped = {k: why for k, why in {**gone.skipped, **keep.skipped}.items() if k not in keep.outcomes}
        keep.unoffered += [k for k in gone.unoffered if k not in keep.unoffered]
        keep.messages = {**gone.messages, **keep.messages}
        if keep.next is None and gone.next not in (None, keep.name):
            keep.next, keep.waits = gone.next, gone.waits
        if keep.kind == "message" and gone.kind != "message":
            keep.kind, keep.entry_var, keep.terminated = gone.kind, gone.entry_var, gone.terminated
        keep.hangs_up, keep.silent_wait = keep.hangs_up or gone.hangs_up, keep.silent_wait or gone.silent_wait
        keep.terminated = keep.terminated or gone.terminated
        keep.label, keep.say = keep.label or gone.label, keep.say or gone.say
        if gone.depth < keep.depth:
            keep.depth, keep.via = gone.depth, gone.via
        del self.nodes[gone.name]
        self._prompts.pop(gone.name, None)
        queued: set[tuple[str, str]] = set()
        items: deque[Frontier] = deque()
        for item in self.queue:
            if item.node == gone.name:
                item.node = keep.name
            if (item.node, item.key) not in queued and (item.node != keep.name or item.key not in keep.outcomes):
                queued.add((item.node, item.key))
                items.append(item)
        self.queue = items
        for x, y in pairs:
            if x and y and x != y and x in self.nodes and y in self.nodes:
                self._join(self.nodes[x], self.nodes[y])

    def _new_node(self, seen: ObservedNode, *, depth: int, via: tuple[str, str] | None, label: str) -> str:
        if is_sound(seen.text):  # music or ringing between prompts: a place with no words, never "the same" again
            name = self._unique(name_for("", "silent", "", first=False, taken=self.nodes))
            self.nodes[name] = Node(name, "silent", [], waits=seen.waits, depth=depth, via=via, label=label)
            if seen.waits:
                self._enqueue(self.nodes[name])
            return name
        offers = offers_in(seen.text)
        kind = kind_of(seen.text, offers)
        name = self._unique(self._name_for(seen.text, kind, label, first=self.root is None and not self.nodes))
        node = Node(name, kind, [seen.text], waits=seen.waits, depth=depth, via=via, label=label,
                    sentence_count=len(seen.sentences))
        self.nodes[name] = node
        if kind == "entry":
            node.entry_var = self._entry_var(seen.text)
            node.terminated = entry_terminated(seen.text)
        self._enqueue(node)
        return name

    def _enqueue(self, node: Node) -> None:
        if node.depth >= self.budget.max_depth:
            node.skipped["*"] = f"deeper than --max-depth {self.budget.max_depth}"
            return
        if node.kind == "entry":
            if node.entry_var in self.values:
                self.queue.append(Frontier(node.name, ENTRY))
            else:
                node.skipped[ENTRY] = f"no value for var {node.entry_var!r} (give --var {node.entry_var}=...)"
            return
        if node.kind == "speech":
            example = EXAMPLE.search(node.prompt.lower())
            phrase = re.split(r",\s*|\s+or\s+", example.group(1))[0].strip(" ,") if example else ""
            if phrase:
                node.say = phrase
                self.queue.append(Frontier(node.name, SAY))
            else:
                node.skipped[SAY] = "a speech prompt that suggests nothing to say"
            return
        if node.kind in ("human", "hold"):
            return
        for key, label in node.offers.items():
            self._enqueue_key(node, key, label)
        if (node.kind == "menu" and node.waits) or (node.kind == "silent" and node.waits):
            for key in self.try_keys:
                if key not in node.offers:
                    node.unoffered.append(key)
                    self.queue.append(Frontier(node.name, key))

    def give(self, values: dict[str, str]) -> int:
        """More values for entries (a resumed crawl): entries left uncrossed for want of one are queued."""
        self.values.update(values)
        queued = 0
        for node in self.nodes.values():
            if node.kind == "entry" and ENTRY in node.skipped:
                node.entry_var = self._entry_var(node.prompt)
                if node.entry_var in self.values:
                    del node.skipped[ENTRY]
                    self.queue.append(Frontier(node.name, ENTRY))
                    queued += 1
        return queued

    def _enqueue_key(self, node: Node, key: str, label: str) -> None:
        if key in EMERGENCY_NUMBERS:  # "hang up and dial 9 1 1" is advice, not an option; never dialled
            node.skipped[key] = "an emergency number: never dialled by the crawler"
            return
        words = " ".join(tokens(label))
        avoided = next((a for a in self.avoid if re.search(rf"\b{re.escape(a)}\b", words)), None)
        if avoided:
            node.skipped[key] = f"label {label!r} matches --avoid {avoided!r}"
        else:
            self.queue.append(Frontier(node.name, key))

    def _refresh_frontier(self) -> None:
        """Later hearings may reveal offers the first one missed (a word error ate "press 2"), or what the
        prompt is (a word error ate "enter" or "my name is"). A key offered in one hearing of several is a
        word error more often than an offer ("press 1. four questions" is no key 14)."""
        queued = {(f.node, f.key) for f in self.queue}
        for node in list(self.nodes.values()):
            if node.kind == "message" and not node.outcomes and node.next is None:
                self._reclassify(node)
            if node.kind != "menu" or node.depth >= self.budget.max_depth:
                continue
            votes = node.key_votes()
            for key, label in node.offers.items():
                if len(node.hearings) >= 3 and votes.get(key, 0) < 2:
                    continue
                if key not in node.outcomes and key not in node.skipped and (node.name, key) not in queued:
                    self._enqueue_key(node, key, label)

    def _reclassify(self, node: Node) -> None:
        """A message that half its hearings or more call an entry, a hold or a person is one."""
        kinds = [kind_of(h, offers_in(h)) for h in node.hearings]
        best = max(("entry", "human", "hold", "speech"), key=kinds.count)
        if kinds.count(best) * 2 < len(kinds) or not kinds.count(best):
            return
        node.kind = best
        if best == "entry":
            text = next(h for h, k in zip(node.hearings, kinds, strict=True) if k == "entry")
            node.entry_var = self._entry_var(text)
            node.terminated = entry_terminated(text)
        self._enqueue(node)

    def _entry_var(self, text: str) -> str:
        """The given value this entry asks for: among the values that fit the digits the prompt asks for ("your
        ten digit ..."; "two digits for the month, two for the day and four for the year" is eight), the one
        whose name the prompt says ("card_last4": "... your new card"; "dob": "date of birth"); else a name
        from the prompt (no value: not crossed)."""
        words = tokens(text)
        stems = {_stem(w) for w in words}
        initials = {"".join(w[0] for w in words[i : i + n]) for n in (2, 3, 4) for i in range(len(words) - n + 1)}
        counts = [int(c) if c.isdigit() else int(tokens(c)[0]) for c in DIGIT_COUNT.findall(text.lower())]
        lengths = set(counts) | ({sum(counts)} if len(counts) > 1 else set())
        scored = []
        for name, value in self.values.items():
            if lengths and not (value.isdigit() and len(value) in lengths):
                continue  # the prompt asks for so many digits: a value of another length is another var's
            parts = [p for p in re.findall(r"[a-z]+", name.lower()) if p not in STOP_WORDS]
            overlap = sum(_stem(p) in stems or (len(p) >= 2 and p in initials) for p in parts)
            # "the conference pin number": of two names the prompt says, the later word is what is asked for
            last = max((i for i, w in enumerate(words) for p in parts if _stem(p) == _stem(w)), default=-1)
            if overlap or lengths:
                scored.append((overlap, last, name))
        if scored:
            best = max(scored)
            if sum(1 for s in scored if s[:2] == best[:2]) == 1:
                return best[2]
        return entry_subject(text)

    def _name_for(self, text: str, kind: str, label: str, *, first: bool) -> str:
        return name_for(text, kind, label, first=first, taken=self.nodes)

    def _unique(self, name: str) -> str:
        return unique(name, self.nodes)

    # ------------------------------------------------------------------------------------ persistence

    def to_json(self) -> dict[str, Any]:
        """The crawl's state without var values (they are given again on resume)."""
        return {
            "version": STATE_VERSION,
            "root": self.root,
            "calls": self.calls,
            "line_seconds": self.line_seconds,
            "failed_calls": self.failed_calls,
            "root_tries": self.root_tries,
            "queue": [asdict(f) for f in self.queue],
            "nodes": {name: {**asdict(n), "outcomes": {k: asdict(o) for k, o in n.outcomes.items()}}
                      for name, n in self.nodes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], **kwargs: Any) -> Explorer:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"crawl state version {data.get('version')!r} is not {STATE_VERSION}")
        ex = cls(**kwargs)
        ex.root = data["root"]
        ex.calls, ex.line_seconds = int(data["calls"]), float(data["line_seconds"])
        ex.failed_calls, ex.root_tries = int(data["failed_calls"]), int(data["root_tries"])
        ex.queue = deque(Frontier(**f) for f in data["queue"])
        for name, raw in data["nodes"].items():
            outcomes = {k: Outcome(**o) for k, o in raw.pop("outcomes").items()}
            via = tuple(raw.pop("via")) if raw.get("via") else None
            raw.pop("via", None)
            ex.nodes[name] = Node(**raw, outcomes=outcomes, via=via)  # type: ignore[arg-type]
        return ex


def _label_said(label: str, heard: str) -> set[str]:
    """The words (stems) of an offer's label that a prompt it led to says: the prompt's topic, if it says it."""
    return {_stem(w) for w in tokens(label) if w.isalpha() and w not in STOP_WORDS} & {
        _stem(w) for w in normalise(heard).split()}


def _says(node: Node, words: set[str]) -> bool:
    """Some hearing of ``node`` says each of ``words``."""
    if not words:
        return True
    heard = [{_stem(x) for x in normalise(h).split()} for h in node.hearings]
    return all(any(w in h for h in heard) for w in words)


def _similar_length(a: str, b: str) -> bool:
    """Two hearings of one prompt: a word error drops or adds a word or two, not a sentence."""
    na, nb = len(a.split()), len(b.split())
    return min(na, nb) >= LENGTH_AGREES * max(na, nb)


def _plain_message(text: str) -> bool:
    """What the line said is a message that offers no keys (a refusal can only be one)."""
    return kind_of(text, {}) == "message" and not offers_in(text)
