"""Baseline navigators and an oracle, sans-I/O with the same shape as ivrnav's Navigator.

They follow the route planned on the navigator's file (``ivrnav.navigate.plan``) and need only the labels
of the wanted options. ``CallRunner(navigator, line)`` drives them exactly like the real navigator.

* ``KeywordNavigator`` (baseline A): exact substring of the wanted label in the utterance, then the key that
  ``press N`` names in the same utterance; acts on interim transcripts, no settle.
* ``EndOfTurnNavigator`` (baseline B): waits for the end of the prompt plus 1 s of silence, then the regexes
  ``press (\\d) (for|to) (.+)`` / ``(for|to) (.+?),? press (\\d)`` over the whole turn (what LLM navigators do).
* ``OracleNavigator``: knows the line; presses the instant the wanted ``press N`` word has been spoken (at
  the first word for type-ahead menus), entries when the entry prompt ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ivrnav.menu import template
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import CallEnded, DigitsSent, Done, Heard, Say, SendDigits, Tick
from ivrnav.navigate.plan import plan
from ivrnav.navigate.result import NavigationResult, Redactor, Timing
from ivrnav.sim.line import SimulatedLine
from ivrnav.text import NUMBER_WORDS

END_OF_TURN_SILENCE = 1.0
_WORD = re.compile(r"[a-z0-9']+")
_DIGIT_WORDS = {w: str(d) for w, d in NUMBER_WORDS.items() if str(d).isdigit() and len(str(d)) == 1}
_DIGIT_WORDS.update({"star": "*", "pound": "#"})


def norm(text: str) -> str:
    words = _WORD.findall(text.lower())
    return " ".join(_DIGIT_WORDS.get(w, w) for w in words)


class _Action:
    def __init__(
        self, menu: str, kind: str, keys: str, masked: str, labels: tuple[str, ...], type_ahead: bool, prompt: str = ""
    ):
        self.menu, self.kind, self.keys, self.masked, self.type_ahead = menu, kind, keys, masked, type_ahead
        self.labels = tuple(norm(label) for label in labels)
        # a global option (operator) the prompt never offers: all a baseline can do is press the file's key
        self.spoken = kind != "option" or any(label in norm(prompt) for label in self.labels)


class _Base:
    """Shared plumbing: route -> actions, the runner-facing attributes, the result."""

    def __init__(self, menu_file: MenuFile, goal: str | None = None, vars: Mapping[str, str] | None = None):
        self.menu_file = menu_file
        self.goal = goal or menu_file.goal or ""
        values = {n: v.default for n, v in menu_file.vars.items() if v.default is not None}
        values.update(vars or {})
        secrets = [values[n] for n in menu_file.secret_vars if n in values]
        self.redact = Redactor(secrets)
        self.settings = menu_file.defaults
        self.result: NavigationResult | None = None
        self.timing = Timing()
        self.now = 0.0
        self.actions: list[_Action] = []
        for step in plan(menu_file, menu_file.start, self.goal).steps:
            e, m = step.exit, menu_file.menus[step.menu]
            if e.kind == "option":
                self.actions.append(
                    _Action(
                        step.menu, "option", e.keys, e.keys, e.option.says if e.option else (), m.type_ahead, m.prompt
                    )
                )
            elif e.kind in ("enter", "say"):
                real, masked = template.render(
                    e.keys if e.kind == "enter" else (m.say or ""),
                    values,
                    set(menu_file.secret_vars),
                    digits=e.kind == "enter",
                )
                self.actions.append(_Action(step.menu, e.kind, real, masked, (), False))
        self.index = 0
        self.busy = False  # keys being sent
        self.finals: list[tuple[str, float, float]] = []
        self.interim: tuple[str, float, float] | None = None
        self.since = 0.0
        self.last_words_at = 0.0
        self.out: list = []

    # runner-facing -------------------------------------------------------------------------------
    def drain_notes(self) -> list:
        return []

    def wakeup_at(self) -> float | None:
        if self.result is not None:
            return None
        t = self.last_words_at + END_OF_TURN_SILENCE + 0.01
        return t if t > self.now else None

    def handle(self, event) -> list:
        if self.result is not None:
            return []
        self.out = []
        if isinstance(event, Heard):
            self.now = max(self.now, event.end)
            if event.start >= self.since - 1e-6:
                if event.final:
                    self.interim = None
                    self.finals.append((event.text, event.start, event.end))
                else:
                    self.interim = (event.text, event.start, event.end)
                self.last_words_at = event.end
                self.heard(event)
        elif isinstance(event, Tick):
            self.now = max(self.now, event.now)
            self.tick()
        elif isinstance(event, DigitsSent):
            self.now = max(self.now, event.at)
            self.busy = False
            self.since = event.at
            self.finals, self.interim = [], None
        elif isinstance(event, CallEnded):
            self.now = max(self.now, event.at)
            self.finish(self.index >= len(self.actions), "hangup")
        if self.result is None and self.now > self.settings.max_call:
            self.finish(False, "timeout")
        return self.out

    # behaviour -----------------------------------------------------------------------------------
    def heard(self, event: Heard) -> None: ...

    def tick(self) -> None: ...

    def current(self) -> _Action | None:
        return self.actions[self.index] if self.index < len(self.actions) and not self.busy else None

    def act(self, action: _Action, keys: str | None = None) -> None:
        self.index += 1
        if action.kind == "say":
            self.out.append(Say(action.keys))
            self.since = self.now
            self.finals, self.interim = [], None
            return
        keys = keys or action.keys
        self.busy = True
        self.timing.keys_sent += len(keys)
        self.out.append(SendDigits(keys, self.settings.inter_digit, action.masked if keys == action.keys else keys))

    def finish(self, reached: bool, reason: str) -> None:
        self.timing.ended_at = self.now
        self.result = NavigationResult(reached=reached, goal=self.goal, reason=reason, timing=self.timing)
        self.out.append(Done(self.result))

    def turn_text(self) -> str:
        return " ".join([t for t, _, _ in self.finals] + ([self.interim[0]] if self.interim else []))


class KeywordNavigator(_Base):
    """Baseline A: exact keyword matching, acting on interim transcripts."""

    name = "keyword"

    def heard(self, event: Heard) -> None:
        action = self.current()
        if action is None:
            return
        text = norm(event.text)
        if not action.spoken:
            if event.final:
                self.act(action)
            return
        if action.kind in ("enter", "say"):
            if event.final and ("enter" in text.split() or action.kind == "say"):
                self.act(action)
            return
        for label in action.labels:
            pos = text.find(label)
            if pos < 0:
                continue
            after = re.search(r"\bpress ([0-9*#])\b", text[pos + len(label) :])
            if after:
                self.act(action, after.group(1))
                return
            before = re.findall(r"\bpress ([0-9*#])\b", text[:pos])
            if before and event.final:
                self.act(action, before[-1])
                return


_KEY_FIRST = re.compile(r"press ([0-9*#]) (?:for|to) (.+?)(?= press |$)")
_LABEL_FIRST = re.compile(r"(?:for|to) (.+?),? press ([0-9*#])")


class EndOfTurnNavigator(_Base):
    """Baseline B: end of prompt + 1 s silence, then regex over the whole turn."""

    name = "end_of_turn"

    def tick(self) -> None:
        action = self.current()
        if action is None or self.interim is not None or not self.finals:
            return
        if self.now < self.last_words_at + END_OF_TURN_SILENCE - 1e-9:
            return
        if action.kind in ("enter", "say") or not action.spoken:
            self.act(action)
            return
        text = " . ".join(norm(t) for t, _, _ in self.finals)
        pairs: list[tuple[str, str]] = []
        for sentence in text.split(" . "):
            pairs += [(k, x) for k, x in _KEY_FIRST.findall(sentence)]
            pairs += [(k, x) for x, k in _LABEL_FIRST.findall(sentence)]
        for key, said in pairs:
            if any(label in said or said in label for label in action.labels if said.strip()):
                self.act(action, key)
                return
        self.finals = []  # not in this turn: wait for the next (the line repeats its prompt)


class OracleNavigator(_Base):
    """Knows the line: presses the wanted key the instant its ``press N`` word is transcribed (0% WER)."""

    name = "oracle"

    def __init__(
        self, menu_file: MenuFile, line: SimulatedLine, goal: str | None = None, vars: Mapping[str, str] | None = None
    ):
        line_file = line.file
        super().__init__(line_file, goal, vars)
        self.nav_file = menu_file
        self.line = line
        self.visit = -1
        self.words = 0
        self.final_words = 0

    def heard(self, event: Heard) -> None:
        if len(self.line.visited) != self.visit:
            self.visit, self.words, self.final_words = len(self.line.visited), 0, 0
        n = len(event.text.split())
        self.words = self.final_words + n
        if event.final:
            self.final_words += n
        action = self.current()
        if action is None or self.line.menu is None or self.line.menu.name != action.menu:
            return
        menu = self.line.menu
        if action.kind in ("enter", "say"):
            if event.final and self.words >= len((menu.line.prompt or menu.prompt).split()):
                self.act(action)
            return
        if action.type_ahead or not action.spoken or self.nav_file.menus.get(action.menu, menu).type_ahead:
            self.act(action)
            return
        if self.words >= _trigger(menu.line.prompt or menu.prompt, action):
            self.act(action)


def _trigger(prompt: str, action: _Action) -> int:
    """Word count at which the sentence offering the wanted key has said both the label and the key."""
    count = 0
    for sentence in re.findall(r"[^.?!]+[.?!]*", prompt):
        words = sentence.split()
        text = norm(sentence)
        if f"press {action.keys}" in text and any(label in text for label in action.labels):
            nwords = [norm(w) for w in words]
            key_at = next(i for i in range(len(nwords) - 1) if nwords[i] == "press" and nwords[i + 1] == action.keys)
            return count + max(key_at + 2, _label_end(nwords, action.labels))
        count += len(words)
    return count


def _label_end(words: list[str], labels: tuple[str, ...]) -> int:
    joined = " ".join(words)
    for label in labels:
        pos = joined.find(label)
        if pos >= 0:
            return len(joined[: pos + len(label)].split())
    return len(words)
