"""The navigator: a sans-I/O state machine that turns what the line says into keys to press.

Theory of operation
-------------------
An adapter feeds events (``Heard`` transcripts, ``DigitsSent``, ``Tick``, ``CallEnded``) to
``Navigator.handle`` and carries out the actions it returns (``SendDigits``, ``Say``, ``Done``). The
navigator never sleeps, never reads a clock (times come with the events) and never touches the network,
so every behaviour below is tested on a virtual clock.

It keeps a *context*: the utterances heard since it last acted (keys or speech). Each time the context
changes it looks for where a prompt may begin (utterance and sentence starts) and asks the recogniser
which menu opens there, favouring the menus it expects next. Once a menu is recognised:

* the goal ends the call with success; a hold or human menu is only listened to;
* otherwise the planned route (cheapest path to the goal, re-planned whenever the line goes somewhere
  unexpected) names the exit to take. For an option it reads the prompt's (key, label) offers as they
  arrive and presses the key the line gives the wanted label, ``settle`` seconds after that pair was
  heard and stayed unchanged (at once on ``type_ahead`` menus). If the key differs from the file's, it
  presses the line's and reports drift. Entries (``enter``) and speech (``say``) go once the prompt has
  finished.

After acting it expects the exit's target menu. Another menu means drift and a new plan; the same menu
again is another visit (``max_visits`` bounds loops); words that only continue the old prompt mean the
line ignored the keys, which are pressed again when it goes quiet. A prompt that no menu matches is read
for offers of any label that leads closer to the goal. Silence climbs a retry ladder: wait, press again,
press slower, operator key, give up.

Every note and result passes through a Redactor: secret values never leave the navigator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from rapidfuzz import fuzz

from ivrnav.menu import template
from ivrnav.menu.model import Menu, MenuFile, Option, Settings, exits
from ivrnav.navigate.confirm import quiet_confirmed, quiet_due
from ivrnav.navigate.events import (
    Action,
    CallEnded,
    DigitsSent,
    Done,
    Event,
    Heard,
    Say,
    SendDigits,
    Tick,
)
from ivrnav.navigate.offers import BOUNDARY, Offer, label_score, read_offers, stream_tokens
from ivrnav.navigate.plan import NoRoute, Route, distances_to, plan
from ivrnav.navigate.recognise import Match, Recogniser
from ivrnav.navigate.result import Drift, NavigationResult, PathEntry, Redactor, Timing

OFFER_MATCH = 70.0  # label score for an offer of a recognised menu's option
MISMATCH = 60.0  # below this for every option, an offer is not one of the menu's
UNKNOWN_OFFER_MATCH = 80.0  # stricter on prompts the file does not know, once every offer has been heard
UNKNOWN_OFFER_MATCH_EARLY = 92.0  # before the prompt ends, a near label ("new service") may precede the real one
PROMPT_DONE_QUIET = 0.8  # seconds of quiet after a final transcript that mean a prompt has ended
WINDOWS = 4  # how many recent sentence starts are tried as the start of a new prompt
CONTINUES = 85.0  # a window this much inside the current prompt is that prompt going on


class Phase(Enum):
    LISTENING = "listening"  # waiting to recognise a menu, or in one and deciding
    SENDING = "sending"  # keys requested, adapter still sending them
    AWAITING = "awaiting"  # acted; waiting for the line's reaction
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Note:
    """One line of the navigator's timeline, already redacted."""

    at: float
    kind: str  # heard, menu, press, say, wait, drift, retry, done
    text: str


@dataclass(slots=True)
class _Utterance:
    text: str
    start: float
    end: float


@dataclass(slots=True)
class _Pending:
    """A key chosen but not yet pressed: it must stand ``settle`` seconds and be confirmed by a later
    transcript (more words after it, or the utterance's final), since a streaming STT's interim can
    guess a half-said digit and keep the guess longer than ``settle``."""

    keys: str
    since: float
    option: Option | None
    heard_tokens: int = 0  # context length when chosen

    def confirmed(self, tokens: int, final: bool) -> bool:
        return final or tokens > self.heard_tokens


@dataclass
class _Context:
    """What the line said since the navigator last acted."""

    since: float
    finals: list[_Utterance] = field(default_factory=list)
    interim: _Utterance | None = None
    final_tokens: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    # Tokens carried over from an utterance that began before we acted. An STT lags the audio, so they
    # may have been said before our keys: good enough to recognise a new menu, never proof that the line
    # ignored us nor offers to act on.
    carried: int = 0

    def texts(self) -> list[str]:
        return [u.text for u in self.finals] + ([self.interim.text] if self.interim else [])

    def rebuild(self) -> None:
        interim = stream_tokens([self.interim.text]) if self.interim else []
        if interim and interim[-1] == BOUNDARY:
            interim.pop()  # an interim utterance has not ended
        self.tokens = self.final_tokens + interim


@lru_cache(maxsize=64)
def _recogniser(menu_file: MenuFile) -> Recogniser:
    return Recogniser(menu_file)


class NavigationError(ValueError):
    """Bad arguments to a Navigator (unknown goal, missing variable); the message holds no secret."""


class Navigator:
    def __init__(
        self,
        menu_file: MenuFile,
        goal: str | None = None,
        vars: Mapping[str, str] | None = None,
        *,
        start_time: float = 0.0,
    ):
        self.menu_file = menu_file
        self.goal = goal or menu_file.goal or ""
        if self.goal not in menu_file.menus:
            known = ", ".join(sorted(menu_file.menus))
            raise NavigationError(f"goal {self.goal!r} is not a menu of {menu_file.name!r}; menus: {known}")
        self.values = {name: v.default for name, v in menu_file.vars.items() if v.default is not None}
        self.values.update(vars or {})
        secrets = [self.values[n] for n in menu_file.secret_vars if n in self.values]
        self.redact = Redactor(secrets)
        self.recogniser = _recogniser(menu_file)
        self.settings: Settings = menu_file.defaults
        self.phase = Phase.LISTENING
        self.started_at = start_time
        self.now = start_time
        self.context = _Context(since=start_time)
        self.carry: tuple[float, int] | None = None  # (start, words) of an utterance in progress when we acted
        self.last_words_at = start_time  # when the line last said something new
        self.menu: str | None = None
        self.menu_start = -1  # token index in the context where the menu's prompt began
        self.menu_at = start_time
        self.expected: frozenset[str] = frozenset({menu_file.start})
        self.visits: Counter[str] = Counter()
        self.route: Route | None = None
        self.avoid: frozenset[str] = frozenset()
        self.pending: _Pending | None = None
        self.acted_at = start_time
        self.last_action: tuple[str | None, str, str] | None = None  # (menu, keys, masked)
        self.ladder = 0
        self.ladder_at = start_time  # when the retry ladder last climbed a rung
        self.ignored_noted = False
        self.unknown_noted = False
        self.unheard: Counter[str] = Counter()  # menus whose wanted label we failed to hear
        self.distrusted: set[str] = set()  # menus where a file key led somewhere unexpected
        self.bad_offers: set[tuple[str, str]] = set()  # (key, label) on unknown prompts that misled us
        self.last_offer: tuple[str, str] | None = None
        self.expected_before: frozenset[str] = self.expected
        self.notes: list[Note] = []
        self._notes_read = 0
        self.result: NavigationResult | None = None
        self.path: list[PathEntry] = []
        self.drift: list[Drift] = []
        self.unrecognised: list[str] = []
        self.timing = Timing(started_at=start_time)
        self.masked_digits: list[str] = []
        self._check_vars()

    # ------------------------------------------------------------------------------------------ public

    def handle(self, event: Event) -> list[Action]:
        if self.phase is Phase.DONE:
            return []
        if isinstance(event, Heard):
            self.now = max(self.now, event.end)
            self._heard(event)
        elif isinstance(event, Tick):
            self.now = max(self.now, event.now)
        elif isinstance(event, DigitsSent):
            self.now = max(self.now, event.at)
            if self.phase is Phase.SENDING:
                self.phase = Phase.AWAITING
                self.acted_at = event.at
                if self.path and self.path[-1].sent_at is None:
                    self.path[-1].sent_at = event.at
        elif isinstance(event, CallEnded):
            self.now = max(self.now, event.at)
            return self._finish(False, "hangup", f"the line ended the call ({event.reason})")
        return self._step()

    def wakeup_at(self) -> float | None:
        """The next time a Tick could change something (for event-driven adapters); None: only events."""
        if self.phase is Phase.DONE:
            return None
        times = [self.started_at + self.settings.max_call]
        if self.pending is not None:
            times.append(self.pending.since + self._menu_settings().settle)
        quiet_from = max(self.last_words_at, self.acted_at, self.ladder_at)
        times.append(quiet_from + self._menu_settings().no_prompt_timeout)
        times.append(self.last_words_at + PROMPT_DONE_QUIET)
        times.append(self.last_words_at + self._menu_settings().settle)
        if self.menu and self.menu_file.menus[self.menu].hold:
            times.append(self._hold_deadline())
        due = quiet_due(self.menu_file, self.goal, self.expected, self.acted_at)
        if due is not None and self.phase is Phase.AWAITING:
            times.append(due)
        future = [t for t in times if t > self.now]
        return min(future) if future else None

    def drain_notes(self) -> list[Note]:
        fresh = self.notes[self._notes_read :]
        self._notes_read = len(self.notes)
        return fresh

    # --------------------------------------------------------------------------------------- internals

    def _check_vars(self) -> None:
        for name, var in self.menu_file.vars.items():
            if name in self.values and var.pattern and not _fullmatch(var.pattern, self.values[name]):
                raise NavigationError(f"value of var {name!r} does not match its pattern {var.pattern!r}")

    def _note(self, kind: str, text: str) -> None:
        self.notes.append(Note(self.now, kind, self.redact(text)))

    def _menu_settings(self) -> Settings:
        return self.menu_file.menus[self.menu].settings if self.menu else self.settings

    def _heard(self, event: Heard) -> None:
        ctx = self.context
        if event.start < ctx.since - 1e-6:
            # An utterance that began before we acted. What had been heard of it then is the old prompt;
            # a streaming STT that does not end the utterance at our keys keeps appending the line's
            # reaction ("...oprima 2. Pharmacy main menu. If you are calling..."), and those words count.
            carry = self.carry
            if carry is None or abs(event.start - carry[0]) > 1e-6:
                return
            if event.final:
                self.carry = None
            rest = " ".join(event.text.split()[carry[1] :])
            if not rest:
                return
            event = Heard(rest, event.final, ctx.since, event.end)
            carried = True
        else:
            carried = False
        previous = ctx.tokens
        if event.final:
            ctx.interim = None
            ctx.finals.append(_Utterance(event.text, event.start, event.end))
            ctx.final_tokens.extend(stream_tokens([event.text]))
            self._note("heard", event.text)
        else:
            ctx.interim = _Utterance(event.text, event.start, event.end)
        ctx.rebuild()
        if carried:
            ctx.carried = len(ctx.tokens)
        if [t for t in ctx.tokens if t != BOUNDARY] != [t for t in previous if t != BOUNDARY]:
            self.last_words_at = event.end
            self.ladder = 0

    def _reset_context(self) -> None:
        interim = self.context.interim
        self.carry = (interim.start, len(interim.text.split())) if interim is not None else None
        self.context = _Context(since=self.now)
        self.menu_start = -1
        self.pending = None
        self.ignored_noted = False
        self.unknown_noted = False

    # The decision loop ------------------------------------------------------------------------------

    def _step(self) -> list[Action]:
        if self.now - self.started_at >= self.settings.max_call:
            return self._finish(False, "timeout", f"call exceeded max_call of {self.settings.max_call:g} s")
        if self.phase is Phase.SENDING:
            return []
        confirmed = quiet_confirmed(self.menu_file, self.goal, expected=self.expected,
                                    awaiting=self.phase is Phase.AWAITING, acted_at=self.acted_at,
                                    last_words_at=self.last_words_at, now=self.now)
        if confirmed:
            self.timing.goal_at = self.now
            return self._finish(True, "reached", confirmed)
        found = self._recognise()
        if found is not None:
            done = self._enter_menu(*found)
            if done:
                return done
        if self.menu is None or self._still_old_menu():
            acted = self._awaiting()
            if acted is not None:
                return acted
        actions = self._act()
        if actions:
            return actions
        return self._silence()

    def _sentence_starts(self) -> list[int]:
        toks = self.context.tokens
        starts = [0] + [i + 1 for i, t in enumerate(toks) if t == BOUNDARY and i + 1 < len(toks)]
        return starts

    def _recognise(self) -> tuple[Match, int] | None:
        """A menu whose prompt starts at a sentence start of the context, with that token index."""
        toks = self.context.tokens
        if not toks:
            return None
        search_from = 0
        if self.menu is not None and self.menu_start >= 0:
            prompt_len = len(self.recogniser.prompt_of(self.menu).split())
            search_from = self.menu_start + max(1, int(prompt_len * 0.7))
        starts = [s for s in self._sentence_starts() if s >= search_from and s != self.menu_start]
        expected = self._expected_now()
        current = self.recogniser.prompt_of(self.menu) if self.menu and self.menu_start >= 0 else ""
        for s in reversed(starts[-WINDOWS:]):
            window = " ".join(t for t in toks[s:] if t != BOUNDARY)
            match = self.recogniser.decide(window, expected)
            if match is not None:
                if current and match.menu != self.menu and fuzz.partial_ratio(window, current) >= CONTINUES:
                    continue  # still the current prompt ("for home delivery, press 3"), not a new menu
                return match, s
        # words past the current prompt (or no menu yet), not carried over: is an expected menu offering its
        # options?
        first = next((s for s in starts if s >= self.context.carried), None)
        if first is not None:
            match = self._recognise_by_offers(first, expected - ({self.menu} if self.menu_start >= 0 else set()))
            return (match, first) if match else None
        return None

    def _recognise_by_offers(self, start: int, expected: frozenset[str]) -> Match | None:
        """An expected menu whose options the line is offering with the file's keys, when the prompt's
        wording was too garbled (or reworded) to match."""
        offers = read_offers(self.context.tokens[start:], final_tail=self.context.interim is None)
        if len(offers) < 2:
            return None
        best: tuple[int, str] | None = None
        for name in expected:
            options = [o for o in self.menu_file.options_of(name) if o.says]
            hits = sum(
                1 for offer in offers
                if any(o.keys == offer.key and max(label_score(s, offer.label) for s in o.says) >= OFFER_MATCH
                       for o in options)
            )
            if hits >= 2 and hits >= 0.6 * len(offers) and (best is None or hits > best[0]):
                best = (hits, name)
        return Match(best[1], 90.0, "offers") if best else None

    def _expected_now(self) -> frozenset[str]:
        if self.menu is None:
            return self.expected
        if self.phase is not Phase.LISTENING or self.menu_start < 0:
            return self.expected | {self.menu}  # after acting: the target, or the same menu again
        # still in a menu: the line may move on by itself or repeat
        return self.expected | {e.to for e in exits(self.menu_file, self.menu)} | {self.menu}

    def _still_old_menu(self) -> bool:
        return self.phase is Phase.AWAITING and self.menu is not None and self.menu_start < 0

    def _enter_menu(self, match: Match, start: int) -> list[Action] | None:
        name = match.menu
        menu = self.menu_file.menus[name]
        awaiting = self.phase is Phase.AWAITING or self.menu_start < 0
        unexpected = name not in self.expected and awaiting and self.path
        self.menu, self.menu_start, self.menu_at = name, start, self.now
        self.phase = Phase.LISTENING
        self.pending = None
        self.visits[name] += 1
        self.path.append(PathEntry(name, self.now, "recognised" if not unexpected else "unexpected"))
        self._note("menu", f"{name} (by {match.by}, {min(match.score, 100):.0f}% match)")
        if unexpected:
            expected = ", ".join(sorted(self.expected))
            self._drift("unexpected_menu", name, f"expected {expected}, line played {name}", expected, name)
            source = self.last_action[0] if self.last_action else None
            if self.last_offer is not None:
                self.bad_offers.add(self.last_offer)
            if source is not None:
                # the file's keys for that menu are not to be trusted any more: next time, listen to the
                # prompt for the wanted label instead of pressing the file's key on sight
                self.distrusted.add(source)
        if name == self.goal:
            self.timing.goal_at = self.now
            return self._finish(True, "reached", f"reached {name}")
        if self.visits[name] > menu.settings.max_visits:
            return self._finish(False, "loop", f"menu {name!r} visited {self.visits[name]} times "
                                f"(max_visits {menu.settings.max_visits})")
        if menu.human:
            return self._finish(False, "human", f"a person answered at {name!r} before the goal {self.goal!r}")
        self.expected_before = self.expected
        self.expected = frozenset({name})
        return None

    def _route(self) -> Route | None:
        assert self.menu is not None
        try:
            self.route = plan(self.menu_file, self.menu, self.goal, self.avoid)
        except NoRoute:
            self.route = None
        return self.route

    def _act(self) -> list[Action]:
        if self.menu is None or self.phase is not Phase.LISTENING:
            return []
        menu = self.menu_file.menus[self.menu]
        if menu.passive:
            self.expected = frozenset(e.to for e in exits(self.menu_file, menu)) or self.expected
            return []
        route = self._route()
        if route is None or not route.steps:
            return self._finish(False, "no_route", f"no route from {self.menu!r} to {self.goal!r}")
        step = route.steps[0]
        e = step.exit
        self.expected = frozenset({e.to})
        if e.kind == "next":
            # the line moves on by itself; if what follows is a prompt no menu matches, read it for offers
            return self._unknown_prompt(self._beyond_prompt()) or []
        if e.kind in ("enter", "say"):
            if not (menu.type_ahead or self._prompt_done(menu)):
                return []
            if e.kind == "say":
                return self._say(menu)
            return self._send_template(menu, menu.enter or "")
        return self._choose_option(menu, e.option)

    def _prompt_done(self, menu: Menu) -> bool:
        ctx = self.context
        quiet = self.now - self.last_words_at
        return ctx.interim is None and bool(ctx.finals) and quiet >= max(menu.settings.settle, PROMPT_DONE_QUIET)

    def _menu_offers(self, final_tail: bool | None = None) -> list[Offer]:
        toks = self.context.tokens[max(self.menu_start, 0) :]
        return read_offers(toks, final_tail=self.context.interim is None if final_tail is None else final_tail)

    def _choose_option(self, menu: Menu, wanted: Option | None) -> list[Action]:
        assert wanted is not None
        if menu.type_ahead and menu.name not in self.distrusted:
            return self._press(menu, wanted.keys, wanted, "type-ahead")
        options = [o for o in self.menu_file.options_of(menu) if o.says]
        offers = self._menu_offers()
        own_span = read_offers(self.context.tokens[max(self.menu_start, 0) : self._beyond_prompt()])
        if self._contradicts(own_span, options):  # only what was said while this prompt should be playing
            return self._unrecognise(menu)
        key = None
        for offer in offers:
            scored = [(max(label_score(s, offer.label) for s in o.says), i) for i, o in enumerate(options)]
            if not scored:
                continue
            score, best = max(scored)
            if options[best] is wanted and score >= OFFER_MATCH and offer.complete:
                # a key heard as a homophone ("press oh") that contradicts the file is more likely an STT
                # slip than a changed line: keep the file's key then
                key = offer.key if offer.certain or offer.key == wanted.keys else wanted.keys
        if key is None:
            if self._prompt_done(menu) and self.now - self.last_words_at >= menu.settings.settle + PROMPT_DONE_QUIET:
                # The prompt ended without naming the wanted label clearly. Hear it once more (repeat key,
                # or the line's own repeat) before trusting the file's key blindly.
                if self.unheard.get(menu.name, 0) == 0:
                    self.unheard[menu.name] = 1
                    repeat = next((o for o in self.menu_file.options_of(menu) if o.repeat), None)
                    self._note("retry", f"did not hear {_label(wanted)!r} clearly; asking the line to repeat")
                    self.timing.retries += 1
                    if repeat is not None:
                        return self._press(menu, repeat.keys, repeat, "to hear the menu again")
                    self.phase = Phase.AWAITING
                    self.expected = frozenset({menu.name})
                    self.acted_at = self.now
                    self._reset_context()
                    return []
                return self._press(menu, wanted.keys, wanted, "file key (label not heard twice)")
            return []
        if self.pending is None or self.pending.keys != key:
            self.pending = _Pending(key, self.now, wanted, len(self.context.tokens))
            return []
        if self.now - self.pending.since + 1e-9 < menu.settings.settle:
            return []
        if not self.pending.confirmed(len(self.context.tokens), self.context.interim is None):
            return []
        if key != wanted.keys:
            self._drift("key_moved", menu.name, f"{_label(wanted)!r} is on key {key}, file says {wanted.keys}",
                        wanted.keys, key)
        return self._press(menu, key, wanted, f"for {_label(wanted)!r}")

    @staticmethod
    def _contradicts(offers: list[Offer], options: list[Option]) -> bool:
        """Two or more offers heard and none of them is an option of this menu: we recognised it wrongly
        (a shared opening such as "please listen carefully, as our options have changed")."""
        complete = [o for o in offers if o.complete]
        if len(complete) < 2 or not options:
            return False
        return all(max(label_score(s, offer.label) for o in options for s in o.says) < MISMATCH for offer in complete)

    def _unrecognise(self, menu: Menu) -> list[Action]:
        self._note("drift", f"the line's offers do not fit {menu.name}: not that menu after all")
        self.visits[menu.name] -= 1
        if self.drift and self.drift[-1].kind == "unexpected_menu" and self.drift[-1].actual == menu.name:
            self.drift.pop()
        if self.path and self.path[-1].menu == menu.name:
            self.path.pop()
        self.menu, self.menu_start = None, -1
        self.expected = self.expected_before
        self.phase = Phase.AWAITING
        return self._unknown_prompt() or []

    def _press(self, menu: Menu | None, keys: str, option: Option | None, why: str) -> list[Action]:
        if menu is not None:
            self.last_offer = None
        inter = menu.settings.inter_digit if menu else self.settings.inter_digit
        self.last_action = (menu.name if menu else None, keys, keys)
        if option is not None and option.repeat:
            self.expected = frozenset({menu.name}) if menu else self.expected
        elif option is not None and option.to:
            self.expected = frozenset({option.to})
        self._note("press", f"{keys} {why}")
        return self._send(keys, keys, inter)

    def _send(self, digits: str, masked: str, inter_digit: float) -> list[Action]:
        self.phase = Phase.SENDING
        if self.path and self.path[-1].keys == "" and self.path[-1].said is None:
            self.path[-1].keys = masked
        else:
            self.path.append(PathEntry(self.menu, self.now, "retry", masked))
        self.masked_digits.append(masked)
        self.timing.keys_sent += sum(ch not in template.PAUSES for ch in digits)
        self.acted_at = self.now
        self._reset_context()
        return [SendDigits(digits, inter_digit, masked)]

    def _send_template(self, menu: Menu, text: str) -> list[Action]:
        try:
            digits, masked = template.render(text, self.values, self.menu_file.secret_vars, digits=True)
        except KeyError as exc:
            return self._finish(False, "missing_var", f"menu {menu.name!r} needs var {exc.args[0]!r}; give it "
                                f"with --var {exc.args[0]}=... or IVRNAV_VAR_{str(exc.args[0]).upper()}")
        self.last_action = (menu.name, digits, masked)
        self._note("press", f"{masked} (entry)")
        return self._send(digits, masked, menu.settings.inter_digit)

    def _say(self, menu: Menu) -> list[Action]:
        try:
            text, masked = template.render(menu.say or "", self.values, self.menu_file.secret_vars, digits=False)
        except KeyError as exc:
            return self._finish(False, "missing_var", f"menu {menu.name!r} needs var {exc.args[0]!r}")
        self._note("say", masked)
        if self.path and self.path[-1].said is None and self.path[-1].keys == "":
            self.path[-1].said = masked
        self.phase = Phase.AWAITING
        self.acted_at = self.now
        self.last_action = None
        self._reset_context()
        return [Say(text)]

    def _drift(self, kind: str, menu: str | None, detail: str, expected: str | None, actual: str | None) -> None:
        self.drift.append(Drift(kind, menu, self.now, self.redact(detail), expected, actual))
        self._note("drift", f"{kind}: {detail}")

    # After acting -------------------------------------------------------------------------------------

    def _awaiting(self) -> list[Action] | None:
        """No menu recognised since we acted: the line ignored us, rejected an entry, or plays a new prompt."""
        ctx = self.context
        fresh = ctx.tokens[ctx.carried :]
        if not fresh:
            return None
        window = " ".join(t for t in fresh if t != BOUNDARY)
        old = self.menu_file.menus[self.menu] if self.menu else None
        if old is not None and old.invalid and any(fuzz.partial_ratio(p.lower(), window) >= 85 for p in old.invalid):
            if not self.ignored_noted:
                self.ignored_noted = True
                self._note("retry", f"line rejected the entry at {old.name}")
                self.timing.retries += 1
                self.expected = frozenset({old.name})
            return None
        old_prompt = self.recogniser.prompt_of(old.name) if old is not None else ""
        if old is not None and len(window) >= 16 and fuzz.partial_ratio(window, old_prompt) >= 88:
            # The old prompt goes on: the line did not take the keys. Press again once it is quiet.
            if not self.ignored_noted:
                self.ignored_noted = True
                self._drift("ignored_keys", old.name, "the line kept playing the prompt after the keys", None, None)
            if ctx.interim is None and self.now - self.last_words_at >= old.settings.settle + 0.3:
                self.timing.retries += 1
                self.phase = Phase.LISTENING
                self.expected = frozenset({old.name})
                self.menu_start = ctx.carried
                self.ignored_noted = False
                return self._act() or []
            return []
        return self._unknown_prompt(ctx.carried)

    def _beyond_prompt(self) -> int:
        """Token index where the current menu's prompt has (about) ended: later words are something else."""
        if self.menu is None or self.menu_start < 0:
            return 0
        prompt_len = len(self.recogniser.prompt_of(self.menu).split())
        after = self.menu_start + max(1, int(prompt_len * 0.7))
        starts = [s for s in self._sentence_starts() if s >= after]
        return starts[0] if starts else len(self.context.tokens)

    def _unknown_prompt(self, start: int = 0) -> list[Action] | None:
        """A prompt no menu matches: look for an offer of a label that leads closer to the goal."""
        if start >= len(self.context.tokens):
            return None
        offers = read_offers(self.context.tokens[start:], final_tail=self.context.interim is None)
        if not offers:
            self._record_unrecognised(start)
            return None
        distance = distances_to(self.menu_file, self.goal)
        on_route = self._route_options()
        ended = self.context.interim is None and self.now - self.last_words_at >= PROMPT_DONE_QUIET
        best: tuple[float, float, Offer, Option, str] | None = None
        for name in self._lookahead():
            for option in self.menu_file.options_of(name):
                if option.to is None or option.to not in distance or not option.says:
                    continue
                # mid-prompt only the option the route wants will do; once the prompt has ended (every
                # offer heard), any label that leads closer to the goal
                if not ended and option not in on_route:
                    continue
                if distance[option.to] >= distance.get(name, float("inf")):
                    continue  # leads away from the goal (or back through this menu): not progress
                for offer in offers:
                    if not offer.complete:
                        continue
                    score = max(label_score(s, offer.label) for s in option.says)
                    if (offer.key, offer.text) in self.bad_offers:
                        continue  # pressing this before led somewhere unexpected
                    if score >= (UNKNOWN_OFFER_MATCH if ended else UNKNOWN_OFFER_MATCH_EARLY):
                        candidate = (distance[option.to], -score, offer, option, name)
                        if best is None or candidate[:2] < best[:2]:
                            best = candidate
        if best is None:
            self._record_unrecognised(start)
            return None
        _, _, offer, option, source = best
        if self.pending is None or self.pending.keys != offer.key:
            self.pending = _Pending(offer.key, self.now, option, len(self.context.tokens))
            return []
        if self.now - self.pending.since + 1e-9 < self.settings.settle:
            return []
        if not self.pending.confirmed(len(self.context.tokens), self.context.interim is None):
            return []
        text = self.redact(" ".join(self.context.texts()))
        if text not in self.unrecognised:
            self.unrecognised.append(text)
        self._drift("unknown_prompt", None, f"unknown prompt offered {_label(option)!r} on key {offer.key} "
                    f"(file: {source}.{option.keys})", option.keys, offer.key)
        self.menu = None
        self.path.append(PathEntry(None, self.now, "label"))
        self.phase = Phase.LISTENING
        self.last_offer = (offer.key, offer.text)
        if self.last_action is not None and self.last_action[0] is not None:
            self.distrusted.add(self.last_action[0])  # its key led to a prompt we did not expect
        return self._press(None, offer.key, option, f"for {_label(option)!r} on an unknown prompt")

    def _route_options(self) -> list[Option]:
        """The option the route would take at each menu we expected to hear."""
        wanted = []
        for name in self.expected:
            try:
                route = plan(self.menu_file, name, self.goal, self.avoid)
            except (NoRoute, KeyError):
                continue
            if route.steps and route.steps[0].exit.option is not None:
                wanted.append(route.steps[0].exit.option)
        return wanted

    def _lookahead(self) -> list[str]:
        """Menus whose options may be on offer now: what we expected, then the rest of the file."""
        first = sorted(self.expected)
        return first + [n for n in self.menu_file.menus if n not in self.expected]

    def _record_unrecognised(self, start: int = 0) -> None:
        """Keep a prompt no menu matched, verbatim (redacted), once it has ended: it may improve the file."""
        ctx = self.context
        if self.unknown_noted or ctx.interim is not None or not ctx.finals:
            return
        if self.now - self.last_words_at < PROMPT_DONE_QUIET:
            return
        words = [t for t in ctx.tokens[start:] if t != BOUNDARY]
        if not words:
            return
        current = self.recogniser.prompt_of(self.menu) if self.menu and self.menu_start >= 0 else ""
        if current and fuzz.partial_ratio(" ".join(words), current) >= CONTINUES:
            return  # only the end of the current menu's own prompt
        self.unknown_noted = True
        text = self.redact(" ".join(ctx.texts()) if start == 0 else " ".join(words))
        self.unrecognised.append(text)
        self._note("drift", f"unrecognised prompt: {text}")

    # Silence, holds and the end -----------------------------------------------------------------------

    def _hold_deadline(self) -> float:
        menu = self.menu_file.menus[self.menu or ""]
        return self.menu_at + (menu.hold_max if menu.hold_max is not None else self.settings.max_call)

    def _silence(self) -> list[Action]:
        menu = self.menu_file.menus[self.menu] if self.menu else None
        if menu is not None and menu.hold:
            if self.now >= self._hold_deadline():
                return self._finish(False, "hold_timeout", f"on hold at {menu.name!r} longer than {menu.hold_max:g} s")
            return []
        settings = self._menu_settings()
        quiet_from = max(self.last_words_at, self.acted_at, self.ladder_at)
        if self.context.interim is not None or self.now - quiet_from < settings.no_prompt_timeout:
            return []
        self.ladder += 1
        self.ladder_at = self.now
        rung = self.ladder
        if rung == 1:
            self._note("wait", f"no prompt for {settings.no_prompt_timeout:g} s; waiting once more")
            return []
        self.timing.retries += 1
        if rung in (2, 3) and self.last_action is not None:
            _source, digits, masked = self.last_action
            if rung == 3 and len(digits) > 1:
                digits = "w".join(digits)
                masked = "w".join(masked)
            self._note("retry", f"pressing {masked} again" + (" slowly" if rung == 3 else ""))
            self.phase = Phase.LISTENING
            return self._send(digits, masked, settings.inter_digit * (2 if rung == 3 else 1))
        if rung in (2, 3):
            repeat = next((g for g in self.menu_file.globals if g.repeat), None)
            if repeat is not None:
                self._note("retry", f"pressing {repeat.keys} to hear the menu again")
                self.phase = Phase.LISTENING
                self.expected = self.expected | ({self.menu} if self.menu else set())
                return self._send(repeat.keys, repeat.keys, settings.inter_digit)
            return []
        if rung == 4:
            operator = _operator(self.menu_file)
            if operator is not None:
                self._note("retry", f"pressing {operator.keys} for an operator")
                self.phase = Phase.LISTENING
                self.expected = frozenset({operator.to}) if operator.to else self.expected
                return self._send(operator.keys, operator.keys, settings.inter_digit)
            return []
        return self._finish(False, "no_prompt", f"the line stayed silent ({rung - 1} retries)")

    def _finish(self, reached: bool, reason: str, detail: str) -> list[Action]:
        self.phase = Phase.DONE
        self.timing.ended_at = self.now
        self.result = NavigationResult(
            reached=reached,
            goal=self.goal,
            reason=reason,
            detail=self.redact(detail),
            final_menu=self.menu,
            path=self.path,
            digits=" ".join(self.masked_digits),
            drift=self.drift,
            unrecognised=self.unrecognised,
            timing=self.timing,
        )
        self._note("done", f"{'reached' if reached else 'failed'}: {detail}")
        return [Done(self.result)]


def _label(option: Option) -> str:
    return option.says[0] if option.says else option.keys


def _operator(menu_file: MenuFile) -> Option | None:
    for option in menu_file.globals:
        words = " ".join(option.says).lower()
        if option.to and any(w in words for w in ("operator", "representative", "agent", "someone")):
            return option
    return next((g for g in menu_file.globals if g.keys == "0" and g.to), None)


@lru_cache(maxsize=1024)
def _compiled(pattern: str):
    import re

    return re.compile(pattern)


def _fullmatch(pattern: str, value: str) -> bool:
    return _compiled(pattern).fullmatch(value) is not None
