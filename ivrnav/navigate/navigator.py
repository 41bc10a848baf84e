"""The navigator: the thin funnel every event of a call passes through.

The theory of operation is the docstring of ``ivrnav.navigate.state`` (phases, the retry ladder, the
machine). The parts, one job each: ``state`` (where the call is on the file's machine, the phase),
``context`` (what the line said since we acted), ``decisions`` (pure rules with thresholds from
``settings``), ``record`` (redacted notes, path, drift, result). This module wires them together: it
turns each event into context, asks the rules, and returns the actions they decide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ivrnav.menu import regex, template
from ivrnav.menu.derived import per_file
from ivrnav.menu.machine import Step, call_machine, trigger_for
from ivrnav.menu.model import Menu, MenuFile, Option, Settings
from ivrnav.navigate import decisions as rules
from ivrnav.navigate import holds, intake
from ivrnav.navigate.confirm import (
    hangup_confirmed,
    human_confirmed,
    offered_only,
    quiet_confirmed,
    quiet_due,
    sound_confirmed,
    sound_due,
    unexpected_goal_unproven,
)
from ivrnav.navigate.context import Context, Hearing, Pending
from ivrnav.navigate.events import (
    Action,
    CallEnded,
    DigitsSent,
    Done,
    Event,
    Heard,
    Say,
    SendDigits,
    Sounded,
    Tick,
)
from ivrnav.navigate.offers import BOUNDARY, Offer, mentions_keys, read_offers, sentences_of
from ivrnav.navigate.plan import NoRoute, Route, distances_to, plan
from ivrnav.navigate.recognise import Match, Recogniser
from ivrnav.navigate.record import Note, Record
from ivrnav.navigate.result import NavigationResult, PathEntry, Redactor
from ivrnav.navigate.settings import Thresholds, thresholds_for
from ivrnav.navigate.state import CallState, Phase, rung

__all__ = ["NavigationError", "Navigator", "Note", "Phase"]


@per_file
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
        self.th: Thresholds = thresholds_for(menu_file.defaults)
        self.state = CallState(call_machine(menu_file), start_time)
        self.record = Record(self.redact, start_time)
        self.hearing = Hearing(start_time)
        self.intake = intake.Intake(start_time)  # the first stop of every event (see _admit)
        self.started_at = start_time
        self.now = start_time
        self._wakeup: tuple[float | None] | None = None  # wakeup_at's answer until the next event
        self.expected: frozenset[str] = frozenset({menu_file.start})
        self.expected_before: frozenset[str] = self.expected
        self.visits: Counter[str] = Counter()
        self.route: Route | None = None
        self.avoid: frozenset[str] = frozenset()
        self.acted_at = start_time
        self.last_action: tuple[str | None, str, str] | None = None  # (menu, keys, masked)
        self.ladder = 0
        self.ladder_at = start_time  # when the retry ladder last climbed a rung
        self.unheard: Counter[str] = Counter()  # menus whose wanted label we failed to hear
        self.distrusted: set[str] = set()  # menus where a file key led somewhere unexpected
        self.bad_offers: set[tuple[str, str]] = set()  # (key, label) on unknown prompts that misled us
        self.last_offer: tuple[str, str] | None = None
        # (menu, wanted option, when): we wait for the line to repeat ``menu`` by itself; at ``when`` with no
        # word from the line, it will not (many PBXs play a menu once, then hang up): press the map's key
        self.repeat_due: tuple[str, Option, float] | None = None
        self.sound: Sounded | None = None  # the line's latest sound report (music, ringing)
        self.result: NavigationResult | None = None
        self._check_vars()

    # ------------------------------------------------------------------------------------------ public

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def menu(self) -> str | None:
        """The menu the navigator believes the call is in: the state of the call on the file's machine."""
        return self.state.menu

    @property
    def context(self) -> Context:
        return self.hearing.context

    # the record, as adapters read it
    path = property(lambda self: self.record.path)
    drift = property(lambda self: self.record.drift)
    unrecognised = property(lambda self: self.record.unrecognised)
    timing = property(lambda self: self.record.timing)
    masked_digits = property(lambda self: self.record.masked_digits)
    notes = property(lambda self: self.record.notes)

    def handle(self, event: Event) -> list[Action]:
        """The funnel: intake, the phase table (illegal events are ignored and recorded), then decide."""
        self._wakeup = None  # only an event changes what the navigator waits for
        admitted = self._admit(event)
        if admitted is None:
            return []
        event = admitted
        previous = self.state.phase
        if not self.state.on_event(event):
            self.record.ignore(self.now, f"{type(event).__name__} while {previous.value}")
            return []
        if isinstance(event, Heard):
            self.now = max(self.now, event.end)
            self._heard(event)
        elif isinstance(event, Tick):
            self.now = max(self.now, event.now)
        elif isinstance(event, Sounded):
            self.now = max(self.now, event.end)
            self.sound = event
        elif isinstance(event, DigitsSent):
            self.now = max(self.now, event.at)
            self.acted_at = event.at
            if self.path and self.path[-1].sent_at is None:
                self.path[-1].sent_at = event.at
        elif isinstance(event, CallEnded):
            self.now = max(self.now, event.at)
            confirmed = self._hangup_confirms(previous)
            if confirmed:
                self.timing.goal_at = self.now
                return self._finish(True, "reached", confirmed)
            return self._finish(False, "hangup", f"the line ended the call ({event.reason})")
        return self._step()

    def _hangup_confirms(self, phase: Phase) -> str | None:
        """Whether the line's hang-up confirms a goal that ends the call (``confirm.hangup_confirmed``)."""
        ctx = self.context
        old = self.menu_file.menus[self.menu] if self.menu else None
        return hangup_confirmed(self.menu_file, self.goal, expected=self.expected, awaiting=phase is Phase.AWAITING,
                                acted_at=self.acted_at, now=self.now,
                                pressed=self.last_action[:2] if self.last_action else None,
                                words=ctx.words(ctx.carried),
                                invalid=old.invalid if old else (), th=self.th)

    def _sentences_since_keys(self) -> list[list[str]]:
        """What the line said since our last keys, as sentences (the last one may still be interim)."""
        ctx = self.context
        return [words for words in sentences_of(ctx.tokens[ctx.carried :]) if words]

    def _invalid_here(self) -> tuple[str, ...]:
        return self.menu_file.menus[self.menu].invalid if self.menu else ()

    def _sound_confirms(self) -> str | None:
        """Whether the sound the line plays confirms the goal (``confirm.sound_confirmed``)."""
        if self.sound is None:
            return None
        return sound_confirmed(self.menu_file, self.goal, expected=self.expected,
                               awaiting=self.phase is Phase.AWAITING, acted_at=self.acted_at,
                               pressed=self.last_action[:2] if self.last_action else None, sound=self.sound,
                               words=self.context.words(self.context.carried),
                               invalid=self._invalid_here(), th=self.th)

    def _human_confirms(self, found: tuple[Match, int] | None) -> str | None:
        """Whether a person answered at the goal (``confirm.human_confirmed``); ``found``: what was recognised."""
        goal = self.menu_file.menus[self.goal]
        if goal.confirm is None or not goal.confirm.human or self.phase is not Phase.AWAITING:
            return None
        sentences = self._sentences_since_keys()
        if self.context.interim is not None and sentences:
            sentences = sentences[:-1]  # a sentence still being spoken may yet turn into an offer
        return human_confirmed(self.menu_file, self.goal, expected=self.expected, awaiting=True,
                               pressed=self.last_action[:2] if self.last_action else None, sentences=sentences,
                               recognised_other=found is not None and found[0].menu != self.goal,
                               invalid=self._invalid_here(), th=self.th)

    def _admit(self, event: Event) -> Event | None:
        """The intake filter, the first thing every event passes through (None: dropped): repeated finals,
        non-finite or backwards times and oversized transcripts stop there (``ivrnav.navigate.intake``)."""
        admitted = self.intake.admit(event)
        for text in admitted.notes:
            self._note("input", text)
        return admitted.event

    def wakeup_at(self) -> float | None:
        """The next time a Tick could change something (for event-driven adapters); None: only events."""
        if self._wakeup is None:
            self._wakeup = (self._next_wakeup(),)
        return self._wakeup[0]

    def _next_wakeup(self) -> float | None:
        if self.phase is Phase.DONE:
            return None
        settings = self._menu_settings()
        last_words = self.hearing.last_words_at
        times = [self.started_at + self.settings.max_call]
        if self.context.pending is not None:
            times.append(self.context.pending.since + settings.settle)
        quiet_from = max(last_words, self.acted_at, self.ladder_at)
        times.append(quiet_from + settings.no_prompt_timeout)
        times.append(last_words + self.th.prompt_done_quiet)
        times.append(last_words + thresholds_for(settings).prompt_done_quiet)
        times.append(last_words + settings.settle)
        times.append(last_words + settings.settle + thresholds_for(settings).prompt_done_quiet)  # label_unheard
        if self.menu and self.menu_file.menus[self.menu].hold:
            times.append(self._hold_deadline())
        if self.repeat_due is not None:
            times.append(self.repeat_due[2])
        due = quiet_due(self.menu_file, self.goal, self.expected, self.acted_at)
        if due is not None and self.phase is Phase.AWAITING:
            times.append(due)
        due = sound_due(self.menu_file, self.goal, self.sound, self.th)
        if due is not None and self.phase is Phase.AWAITING:
            times.append(due)
        future = [t for t in times if t > self.now]
        return min(future) if future else None

    def drain_notes(self) -> list[Note]:
        return self.record.drain()

    def drain_steps(self) -> list[Step]:
        """Machine transitions since the last call: (trigger, source, dest, at) each."""
        return self.state.drain_steps()

    # --------------------------------------------------------------------------------------- internals

    def _check_vars(self) -> None:
        for name, var in self.menu_file.vars.items():
            if name in self.values and var.pattern and not _fullmatch(var.pattern, self.values[name]):
                raise NavigationError(f"value of var {name!r} does not match its pattern {var.pattern!r}")

    def _note(self, kind: str, text: str) -> None:
        self.record.note(self.now, kind, text)

    def _menu_settings(self) -> Settings:
        return self.menu_file.menus[self.menu].settings if self.menu else self.settings

    def _menu_th(self, menu: Menu) -> Thresholds:
        return thresholds_for(menu.settings)

    def _quiet(self) -> float:
        return self.hearing.quiet(self.now)

    def _heard(self, event: Heard) -> None:
        kept, changed = self.hearing.hear(event)
        if kept is not None and kept.final:
            self._note("heard", kept.text)
        if changed:
            self.ladder = 0

    def _reset_context(self) -> None:
        self.hearing.reset(self.now)  # a fresh context: no prompt, no chosen key, nothing noted yet

    def _current_prompt(self) -> str:
        """The current menu's prompt, if it has been heard in this context."""
        return self.recogniser.prompt_of(self.menu) if self.menu and self.context.prompt_start is not None else ""

    # The decision step ------------------------------------------------------------------------------

    def _step(self) -> list[Action]:
        if self.now - self.started_at >= self.settings.max_call:
            return self._finish(False, "timeout", f"call exceeded max_call of {self.settings.max_call:g} s")
        if self.phase is Phase.SENDING:
            return []
        confirmed = quiet_confirmed(self.menu_file, self.goal, expected=self.expected,
                                    awaiting=self.phase is Phase.AWAITING, acted_at=self.acted_at,
                                    last_words_at=self.hearing.last_words_at, now=self.now,
                                    pressed=self.last_action[:2] if self.last_action else None)
        confirmed = confirmed or self._sound_confirms()
        if confirmed:
            self.timing.goal_at = self.now
            return self._finish(True, "reached", confirmed)
        unrepeated = self._unrepeated()
        if unrepeated is not None:
            return unrepeated
        found = self._recognise()
        if found is not None and offered_only(self.menu_file, self.goal, found[0].menu, self.context.tokens[found[1]:],
                                              interim=self.context.interim is not None,
                                              awaiting=self.phase is Phase.AWAITING,
                                              pressed=self.last_action[:2] if self.last_action else None,
                                              offered_by=self._listening_in(), th=self.th):
            found = None  # the goal was only named in another menu's offer (or the naming sentence goes on)
        if found is not None and unexpected_goal_unproven(self.recogniser, self.goal, found[0],
                                                          self.context.words(found[1]),
                                                          self.context.words(self._beyond_prompt()),
                                                          self._expected_now(), self.th):
            found = None  # the goal where the map does not predict it, on one phrase: wait for a second
        confirmed = self._human_confirms(found)
        if confirmed:
            self.timing.goal_at = self.now
            return self._finish(True, "reached", confirmed)
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

    def _listening_in(self) -> str | None:
        """The menu whose prompt is playing while we have not acted in it yet (its offers name other menus)."""
        listening = self.phase is Phase.LISTENING and self.context.prompt_start is not None
        return self.menu if listening else None

    def _unrepeated(self) -> list[Action] | None:
        """The line did not repeat the menu we asked it to (no repeat key): the map's key, once it stayed quiet."""
        if self.repeat_due is None:
            return None
        name, wanted, when = self.repeat_due
        if self.phase is not Phase.AWAITING or self.menu != name or self.hearing.last_words_at > self.acted_at:
            self.repeat_due = None  # the line said something: recognition and the ladder take it from here
            return None
        if self.now + rules.EPSILON < when:
            return None
        self.repeat_due = None
        return self._press(self.menu_file.menus[name], wanted.keys, wanted, "file key (the line did not repeat)")

    def _prompt_end_guess(self) -> int:
        """Token index past which the current menu's prompt has (about) been said."""
        assert self.menu is not None and self.context.prompt_start is not None
        prompt_len = len(self.recogniser.prompt_of(self.menu).split())
        return self.context.prompt_start + max(1, int(prompt_len * self.th.prompt_heard_fraction))

    def _recognise(self) -> tuple[Match, int] | None:
        """A menu whose prompt starts at a sentence start of the context, with that token index."""
        ctx = self.context
        return ctx.read("recognise", (self.menu, self.phase, ctx.prompt_start, ctx.carried, self._expected_now()),
                        self._read_menu)

    def _read_menu(self) -> tuple[Match, int] | None:
        ctx = self.context
        if not ctx.tokens:
            return None
        search_from = self._prompt_end_guess() if self.menu is not None and self.context.prompt_start is not None else 0
        starts = [s for s in ctx.sentence_starts() if s >= search_from and s != self.context.prompt_start]
        expected = self._expected_now()
        current = self._current_prompt()
        hold = self.menu if self.menu and self.menu_file.menus[self.menu].hold else None
        for s in reversed(starts[-self.th.windows :]):
            window = ctx.words(s)
            match = self.recogniser.decide(window, expected)
            if match is not None:
                if rules.replay_too_short(match, window, self.menu, self._still_old_menu(), ctx.open, self.th):
                    continue
                if current and match.menu != self.menu and rules.inside_prompt(window, current, self.th):
                    continue  # still the current prompt ("for home delivery, press 3"), not a new menu
                if hold is not None and not rules.leaves_hold(hold, match.menu):
                    return None
                if not self._hold_exit_warranted(match, window, s):  # issue #16: leaving a hold needs strong evidence
                    continue
                return match, s
        # words past the current prompt (or no menu yet), not carried over: is an expected menu offering its
        # options?
        first = next((s for s in starts if s >= ctx.carried), None)
        if first is not None:
            offers = read_offers(ctx.tokens[first:], final_tail=not ctx.open)
            others = expected - ({self.menu} if self.context.prompt_start is not None and self.menu else set())
            match = rules.menu_by_offers(self.menu_file, offers, others, self.th)
            if match is not None and not self._hold_exit_warranted(match, ctx.words(first), first):
                return None
            return (match, first) if match else None
        return None

    def _hold_exit_warranted(self, match: Match, window: str, start: int) -> bool:
        """Off a hold only on strong evidence (``holds.leaves_hold``: a hold message that quotes another menu's
        opening is the hold going on); elsewhere always."""
        menu = self.menu_file.menus[self.menu] if self.menu is not None else None
        if menu is None or not menu.hold or self.context.prompt_start is None:
            return True
        played = self.context.words(self.context.prompt_start, start)
        return holds.leaves_hold(self.recogniser, menu, match, window, played)

    def _expected_now(self) -> frozenset[str]:
        if self.menu is None:
            return self.expected
        if self.phase is not Phase.LISTENING or self.context.prompt_start is None:
            return self.expected | {self.menu}  # after acting: the target, or the same menu again
        # still in a menu: the line may move on by itself or repeat (the machine's transitions from here)
        return self.expected | self.state.expected_after() | {self.menu}

    def _still_old_menu(self) -> bool:
        return self.phase is Phase.AWAITING and self.menu is not None and self.context.prompt_start is None

    def _enter_menu(self, match: Match, start: int) -> list[Action] | None:
        name = match.menu
        menu = self.menu_file.menus[name]
        awaiting = self.phase is Phase.AWAITING or self.context.prompt_start is None
        unexpected = name not in self.expected and awaiting and self.path
        self.state.arrive_at(name, self.now)
        self.context.prompt_start = start
        self.state.phase = Phase.LISTENING
        self.context.pending = None
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

    def _plan(self) -> Route | None:
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
            self.expected = self.state.expected_after() or self.expected
            return []
        route = self._plan()
        if route is None or not route.steps:
            return self._finish(False, "no_route", f"no route from {self.menu!r} to {self.goal!r}")
        e = route.steps[0].exit
        self.expected = frozenset({e.to})
        if e.kind == "next":
            # the line moves on by itself; if what follows is a prompt no menu matches, read it for offers
            return self._unknown_prompt(self._beyond_prompt()) or []
        if e.kind in ("enter", "say"):
            if not (menu.type_ahead or self._prompt_done(menu)):
                return []
            self.state.took(e.kind)
            if e.kind == "say":
                return self._say(menu)
            return self._send_template(menu, menu.enter or "")
        return self._choose_option(menu, e.option)

    def _prompt_done(self, menu: Menu) -> bool:
        ctx = self.context
        return rules.prompt_done(ctx.open, bool(ctx.finals), self._quiet(), menu.settings.settle, self._menu_th(menu))

    def _choose_option(self, menu: Menu, wanted: Option | None) -> list[Action]:
        assert wanted is not None
        if menu.type_ahead and menu.name not in self.distrusted:
            return self._press(menu, wanted.keys, wanted, "type-ahead")
        ctx = self.context
        options = [o for o in self.menu_file.options_of(menu) if o.says]
        start = ctx.prompt_start or 0
        reading = ctx.read("offers", (menu.name, wanted, ctx.prompt_start),
                           lambda: self._read_offers(menu, options, wanted))
        if reading is None:  # only what was said while this prompt should play
            return self._unrecognise(menu)
        offers, key = reading
        ended = rules.label_unheard(ctx.open, bool(ctx.finals), self._quiet(), menu.settings.settle,
                                    self._menu_th(menu))
        if key is not None and key != wanted.keys:
            key = rules.weigh_moved_key(offers, options, wanted, key, ended, self.th)
            if key is None:
                return []  # one hearing of a moved key: the rest of the prompt may offer the file's key for it
        if key is None:
            if ended:
                # The prompt ended without naming the wanted label clearly. Hear it once more (repeat key,
                # or the line's own repeat) before trusting the file's key blindly, unless the line named no
                # key at all: a repeat of a prompt that offers nothing tells nothing (an unannounced key).
                if not mentions_keys(ctx.tokens[start:]):
                    return self._press(menu, wanted.keys, wanted, "file key (the line names no keys)")
                if self.unheard.get(menu.name, 0) == 0:
                    self.unheard[menu.name] = 1
                    repeat = rules.repeat_option(self.menu_file.options_of(menu))
                    self._note("retry", f"did not hear {rules.label(wanted)!r} clearly; asking the line to repeat")
                    self.timing.retries += 1
                    if repeat is not None:
                        return self._press(menu, repeat.keys, repeat, "to hear the menu again")
                    self.state.phase = Phase.AWAITING
                    self.expected = frozenset({menu.name})
                    self.acted_at = self.now
                    self._reset_context()
                    self.repeat_due = (menu.name, wanted, self.now + self.th.repeat_wait)
                    return []
                return self._press(menu, wanted.keys, wanted, "file key (label not heard twice)")
            return []
        if not self._ready(key, wanted, menu.settings.settle):
            return []
        if key != wanted.keys:
            self._drift("key_moved", menu.name, f"{rules.label(wanted)!r} is on key {key}, file says {wanted.keys}",
                        wanted.keys, key)
        return self._press(menu, key, wanted, f"for {rules.label(wanted)!r}")

    def _read_offers(self, menu: Menu, options: list[Option], wanted: Option) -> tuple[list[Offer], str | None] | None:
        """The offers heard since this menu's prompt began and the key they give the wanted option; None when
        the offers heard while the prompt should play contradict the menu."""
        ctx = self.context
        start = ctx.prompt_start or 0
        if rules.contradicts(read_offers(ctx.tokens[start : self._beyond_prompt()]), options, self.th):
            return None
        offers = read_offers(ctx.tokens[start:], final_tail=not ctx.open)
        return offers, rules.wanted_key(offers, options, wanted, self.th)

    def _ready(self, key: str, option: Option, settle: float) -> bool:
        """Whether a chosen key may go now; choosing a new key starts its wait."""
        ctx = self.context
        if self.context.pending is None or self.context.pending.keys != key:
            self.context.pending = Pending(key, self.now, option, len(ctx.tokens))
            return False
        return rules.settled(self.context.pending.since, self.now, settle) and rules.confirmed(
            self.context.pending.heard_tokens, len(ctx.tokens), not ctx.open)

    def _unrecognise(self, menu: Menu) -> list[Action]:
        self._note("drift", f"the line's offers do not fit {menu.name}: not that menu after all")
        self.visits[menu.name] -= 1
        if self.drift and self.drift[-1].kind == "unexpected_menu" and self.drift[-1].actual == menu.name:
            self.drift.pop()
        if self.path and self.path[-1].menu == menu.name:
            self.path.pop()
        self.state.lost(self.now)
        self.context.prompt_start = None
        self.expected = self.expected_before
        self.state.phase = Phase.AWAITING
        return self._unknown_prompt() or []

    def _press(self, menu: Menu | None, keys: str, option: Option | None, why: str,
               source: str | None = None) -> list[Action]:
        """Press ``keys`` for ``option`` of ``menu`` (None: on an unknown prompt, for an option of ``source``)."""
        if menu is not None:
            self.last_offer = None
        inter = menu.settings.inter_digit if menu else self.settings.inter_digit
        self.last_action = (menu.name if menu else None, keys, keys)
        if option is not None:
            self.state.took_keys(option.keys)  # the file's exit, even when the line has moved it to another key
            # what the machine says that exit leads to (a repeat: the same menu) is what we expect next
            target = self.state.machine.expects(menu.name if menu else source or "", trigger_for(option.keys))
            if target is not None:
                self.expected = frozenset({target})
        self._note("press", f"{keys} {why}")
        return self._send(keys, keys, inter)

    def _send(self, digits: str, masked: str, inter_digit: float) -> list[Action]:
        self.state.phase = Phase.SENDING
        self.record.sent(self.menu, self.now, masked, sum(ch not in template.PAUSES for ch in digits))
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
        self.state.phase = Phase.AWAITING
        self.acted_at = self.now
        self.last_action = None
        self._reset_context()
        return [Say(text)]

    def _drift(self, kind: str, menu: str | None, detail: str, expected: str | None, actual: str | None) -> None:
        self.record.add_drift(self.now, kind, menu, detail, expected, actual)

    # After acting -------------------------------------------------------------------------------------

    def _awaiting(self) -> list[Action] | None:
        """No menu recognised since we acted: the line ignored us, rejected an entry, or plays a new prompt."""
        ctx = self.context
        fresh = ctx.tokens[ctx.carried :]
        if not fresh:
            return None
        window = " ".join(t for t in fresh if t != BOUNDARY)
        old = self.menu_file.menus[self.menu] if self.menu else None
        if old is not None and old.invalid and rules.rejected_entry(window, old.invalid, self.th):
            if not self.context.reaction_noted:
                self.context.reaction_noted = True
                self._note("retry", f"line rejected the entry at {old.name}")
                self.timing.retries += 1
                self.expected = frozenset({old.name})
            return None
        if old is not None and rules.ignored_keys(window, self.recogniser.prompt_of(old.name), self.th):
            # The old prompt goes on: the line did not take the keys. Press again once it is quiet.
            if not self.context.reaction_noted:
                self.context.reaction_noted = True
                self._drift("ignored_keys", old.name, "the line kept playing the prompt after the keys", None, None)
            if rules.press_again_now(ctx.open, self._quiet(), old.settings.settle, self.th):
                self.timing.retries += 1
                self.state.phase = Phase.LISTENING
                self.expected = frozenset({old.name})
                self.context.prompt_start = ctx.carried
                self.context.reaction_noted = False
                return self._act() or []
            return []
        return self._unknown_prompt(ctx.carried)

    def _beyond_prompt(self) -> int:
        """Token index where the current menu's prompt has (about) ended: later words are something else."""
        if self.menu is None or self.context.prompt_start is None:
            return 0
        after = self._prompt_end_guess()
        starts = [s for s in self.context.sentence_starts() if s >= after]
        return starts[0] if starts else len(self.context.tokens)

    def _unknown_prompt(self, start: int = 0) -> list[Action] | None:
        """A prompt no menu matches: look for an offer of a label that leads closer to the goal."""
        ctx = self.context
        if start >= len(ctx.tokens):
            return None
        offers = read_offers(ctx.tokens[start:], final_tail=not ctx.open)
        if not offers:
            self._record_unrecognised(start)
            return None
        ended = not ctx.open and self._quiet() >= self.th.prompt_done_quiet
        found = rules.unknown_prompt_offer(self.menu_file, offers, self._lookahead(),
                                           distances_to(self.menu_file, self.goal), self._route_options(), ended,
                                           self.bad_offers, self.th)
        if found is None:
            self._record_unrecognised(start)
            return None
        offer, option, source = found
        # a key heard only as a homophone ("press the to leave a message": "to" read as 2) is not the line's
        # word against the file's: the file's key, as in a recognised menu (rules.wanted_key)
        key = offer.key if offer.certain else option.keys
        if not self._ready(key, option, self.settings.settle):
            return []
        self.record.keep_unrecognised(" ".join(ctx.texts()))
        self._drift("unknown_prompt", None, f"unknown prompt offered {rules.label(option)!r} on key {key} "
                    f"(file: {source}.{option.keys})", option.keys, key)
        self.state.lost(self.now)
        self.path.append(PathEntry(None, self.now, "label"))
        self.state.phase = Phase.LISTENING
        self.last_offer = (offer.key, offer.text)
        if self.last_action is not None and self.last_action[0] is not None:
            self.distrusted.add(self.last_action[0])  # its key led to a prompt we did not expect
        actions = self._press(None, key, option, f"for {rules.label(option)!r} on an unknown prompt", source)
        if key == option.keys:
            # the line offered the label on the map's own key: as good as being in ``source`` (a silent goal
            # behind it is confirmed as after the map's own keys)
            self.last_action = (source, key, key)
        return actions

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
        if self.context.unknown_noted or ctx.open or not ctx.finals:
            return
        if self._quiet() < self.th.prompt_done_quiet:
            return
        words = ctx.words(start)
        if not words:
            return
        if rules.inside_prompt(words, self._current_prompt(), self.th):
            return  # only the end of the current menu's own prompt
        self.context.unknown_noted = True
        text = self.redact(" ".join(ctx.texts()) if start == 0 else words)
        self.unrecognised.append(text)
        self._note("drift", f"unrecognised prompt: {text}")

    # Silence, holds and the end -----------------------------------------------------------------------

    def _hold_deadline(self) -> float:
        menu = self.menu_file.menus[self.menu or ""]
        return rules.hold_deadline(self.state.menu_at, menu.hold_max, self.settings.max_call)

    def _silence(self) -> list[Action]:
        menu = self.menu_file.menus[self.menu] if self.menu else None
        if menu is not None and menu.hold:
            if rules.hold_timed_out(self.now, self.state.menu_at, menu.hold_max, self.settings.max_call):
                return self._finish(False, "hold_timeout", f"on hold at {menu.name!r} longer than {menu.hold_max:g} s")
            return []
        settings = self._menu_settings()
        quiet_from = max(self.hearing.last_words_at, self.acted_at, self.ladder_at)
        if self.context.open or self.now - quiet_from + rules.EPSILON < settings.no_prompt_timeout:
            return []
        self.ladder += 1
        self.ladder_at = self.now
        step = rung(self.ladder)
        if step.counts_as_retry:
            self.timing.retries += 1
        for how in step.tries:
            actions = self._retry(how, settings)
            if actions is not None:
                return actions
        return []

    def _retry(self, how: str, settings: Settings) -> list[Action] | None:
        """Carry out one way of the retry ladder; None: it does not apply here."""
        if how == "wait":
            self._note("wait", f"no prompt for {settings.no_prompt_timeout:g} s; waiting once more")
            return []
        if how in ("again", "slower"):
            if self.last_action is None:
                return None
            _source, digits, masked = self.last_action
            slow = how == "slower"
            if slow and len(digits) > 1:
                digits, masked = "w".join(digits), "w".join(masked)
            self._note("retry", f"pressing {masked} again" + (" slowly" if slow else ""))
            self.state.phase = Phase.LISTENING
            return self._send(digits, masked, settings.inter_digit * (self.th.slow_factor if slow else 1))
        if how == "repeat_key":
            repeat = rules.repeat_option(self.menu_file.globals)
            if repeat is None:
                return None
            self._note("retry", f"pressing {repeat.keys} to hear the menu again")
            self.state.phase = Phase.LISTENING
            self.state.took_keys(repeat.keys)
            self.expected = self.expected | ({self.menu} if self.menu else set())
            return self._send(repeat.keys, repeat.keys, settings.inter_digit)
        if how == "operator":
            operator = rules.operator_option(self.menu_file)
            if operator is None:
                return None
            self._note("retry", f"pressing {operator.keys} for an operator")
            self.state.phase = Phase.LISTENING
            self.state.took_keys(operator.keys)
            self.expected = frozenset({operator.to}) if operator.to else self.expected
            return self._send(operator.keys, operator.keys, settings.inter_digit)
        assert how == "give_up", how
        return self._finish(False, "no_prompt", f"the line stayed silent ({self.ladder - 1} retries)")

    def _finish(self, reached: bool, reason: str, detail: str) -> list[Action]:
        final_menu = self.menu
        self.state.end(reached, self.now)
        self.result = self.record.result(self.now, reached, self.goal, reason, detail, final_menu)
        self._note("done", f"{'reached' if reached else 'failed'}: {detail}")
        return [Done(self.result)]


def _fullmatch(pattern: str, value: str) -> bool:
    return regex.fullmatch(pattern, value)  # RE2: linear time whatever the pattern

