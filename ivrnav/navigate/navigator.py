"""The navigator: the thin funnel every event of a call passes through.

The theory of operation is the docstring of ``ivrnav.navigate.state`` (phases, the retry ladder, the
machine). The parts, one job each: ``state`` (where the call is on the file's machine, the phase),
``context`` (what the line said since we acted), ``decisions`` and ``confirm`` (pure rules with thresholds
from ``settings``), ``record`` (redacted notes, path, drift, result), and one module per step of the
theory: ``reading``, ``at_goal``, ``choosing``, ``after_acting``, ``silence``. This module holds the call's
facts and the actions every step takes (press, send, say, finish); ``handle`` turns each event into
context and ``_step`` asks the steps in order, returning the actions they decide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ivrnav.menu import regex, template
from ivrnav.menu.derived import per_file
from ivrnav.menu.machine import Step, call_machine, trigger_for
from ivrnav.menu.model import Menu, MenuFile, Option, Settings
from ivrnav.navigate import after_acting, at_goal, choosing, intake, reading, silence
from ivrnav.navigate.context import Context, Hearing
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
from ivrnav.navigate.plan import NoRoute, Route, plan
from ivrnav.navigate.recognise import Match, Recogniser
from ivrnav.navigate.record import Note, Record
from ivrnav.navigate.result import NavigationResult, PathEntry, Redactor
from ivrnav.navigate.settings import Thresholds, thresholds_for
from ivrnav.navigate.state import CallState, Phase

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
        self.pressed_again = 0  # times the ladder pressed the last action's keys again (max_presses_again)
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
            confirmed = at_goal.by_hangup(self, previous)
            if confirmed:
                return self._reached(confirmed)
            return self.finish(False, "hangup", f"the line ended the call ({event.reason})")
        return self._step()

    def _admit(self, event: Event) -> Event | None:
        """The intake filter, the first thing every event passes through (None: dropped): repeated finals,
        non-finite or backwards times and oversized transcripts stop there (``ivrnav.navigate.intake``)."""
        admitted = self.intake.admit(event)
        for text in admitted.notes:
            self.note("input", text)
        return admitted.event

    def wakeup_at(self) -> float | None:
        """The next time a Tick could change something (for event-driven adapters); None: only events."""
        if self._wakeup is None:
            self._wakeup = (silence.next_wakeup(self),)
        return self._wakeup[0]

    def drain_notes(self) -> list[Note]:
        return self.record.drain()

    def drain_steps(self) -> list[Step]:
        """Machine transitions since the last call: (trigger, source, dest, at) each."""
        return self.state.drain_steps()

    # ------------------------------------------------------------------------ the decision step

    def _step(self) -> list[Action]:
        """Ask the rules in order; the first that acts (or ends the call) wins."""
        if self.now - self.started_at >= self.settings.max_call:
            return self.finish(False, "timeout", f"call exceeded max_call of {self.settings.max_call:g} s")
        if self.phase is Phase.SENDING:
            return []
        confirmed = at_goal.by_silence_or_sound(self)
        if confirmed:
            return self._reached(confirmed)
        unrepeated = after_acting.unrepeated(self)
        if unrepeated is not None:
            return unrepeated
        found = at_goal.trusted(self, reading.recognise(self))
        confirmed = at_goal.by_person(self, found)
        if confirmed:
            return self._reached(confirmed)
        if found is not None:
            done = self._enter_menu(*found)
            if done:
                return done
        if self.menu is None or reading.still_old_menu(self):
            acted = after_acting.reaction(self)
            if acted is not None:
                return acted
        return choosing.act(self) or silence.on_silence(self)

    def _enter_menu(self, match: Match, start: int) -> list[Action] | None:
        """The line plays ``match.menu`` from token ``start``: move the call there; the goal, a loop or a
        person ends the call."""
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
        self.note("menu", f"{name} (by {match.by}, {min(match.score, 100):.0f}% match)")
        if unexpected:
            expected = ", ".join(sorted(self.expected))
            self.add_drift("unexpected_menu", name, f"expected {expected}, line played {name}", expected, name)
            source = self.last_action[0] if self.last_action else None
            if self.last_offer is not None:
                self.bad_offers.add(self.last_offer)
            if source is not None:
                # the file's keys for that menu are not to be trusted any more: next time, listen to the
                # prompt for the wanted label instead of pressing the file's key on sight
                self.distrusted.add(source)
        if name == self.goal:
            return self._reached(f"reached {name}")
        if self.visits[name] > menu.settings.max_visits:
            return self.finish(False, "loop", f"menu {name!r} visited {self.visits[name]} times "
                               f"(max_visits {menu.settings.max_visits})")
        if menu.human:
            return self.finish(False, "human", f"a person answered at {name!r} before the goal {self.goal!r}")
        self.expected_before = self.expected
        self.expected = frozenset({name})
        return None

    # ------------------------------------------------- what the rule modules read and do through the call

    def note(self, kind: str, text: str) -> None:
        self.record.note(self.now, kind, text)

    def add_drift(self, kind: str, menu: str | None, detail: str, expected: str | None, actual: str | None) -> None:
        self.record.add_drift(self.now, kind, menu, detail, expected, actual)

    def menu_settings(self) -> Settings:
        """The current menu's settings (the file's defaults before the first menu)."""
        return self.menu_file.menus[self.menu].settings if self.menu else self.settings

    def quiet(self) -> float:
        """Seconds since the line last said something new."""
        return self.hearing.quiet(self.now)

    def reset_context(self) -> None:
        self.hearing.reset(self.now)  # a fresh context: no prompt, no chosen key, nothing noted yet

    def plan_route(self) -> Route | None:
        """The cheapest route from the current menu to the goal (None: there is none)."""
        assert self.menu is not None
        try:
            self.route = plan(self.menu_file, self.menu, self.goal, self.avoid)
        except NoRoute:
            self.route = None
        return self.route

    def press(self, menu: Menu | None, keys: str, option: Option | None, why: str,
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
        self.note("press", f"{keys} {why}")
        self.pressed_again = 0  # a new action; the ladder's own presses go through send() and keep the count
        return self.send(keys, keys, inter)

    def send(self, digits: str, masked: str, inter_digit: float) -> list[Action]:
        """Ask the adapter for ``digits`` (phase ``sending`` until it reports them sent)."""
        self.state.phase = Phase.SENDING
        self.record.sent(self.menu, self.now, masked, sum(ch not in template.PAUSES for ch in digits))
        self.acted_at = self.now
        self.reset_context()
        return [SendDigits(digits, inter_digit, masked)]

    def send_entry(self, menu: Menu, text: str) -> list[Action]:
        """The menu's ``enter`` template with the call's values; secrets masked in everything but the keys."""
        try:
            digits, masked = template.render(text, self.values, self.menu_file.secret_vars, digits=True)
        except KeyError as exc:
            return self.finish(False, "missing_var", f"menu {menu.name!r} needs var {exc.args[0]!r}; give it "
                               f"with --var {exc.args[0]}=... or IVRNAV_VAR_{str(exc.args[0]).upper()}")
        self.last_action = (menu.name, digits, masked)
        self.pressed_again = 0
        self.note("press", f"{masked} (entry)")
        return self.send(digits, masked, menu.settings.inter_digit)

    def say(self, menu: Menu) -> list[Action]:
        """The menu's ``say`` template, spoken to the line (phase ``awaiting`` at once)."""
        try:
            text, masked = template.render(menu.say or "", self.values, self.menu_file.secret_vars, digits=False)
        except KeyError as exc:
            return self.finish(False, "missing_var", f"menu {menu.name!r} needs var {exc.args[0]!r}")
        self.note("say", masked)
        if self.path and self.path[-1].said is None and self.path[-1].keys == "":
            self.path[-1].said = masked
        self.state.phase = Phase.AWAITING
        self.acted_at = self.now
        self.last_action = None
        self.reset_context()
        return [Say(text)]

    def _reached(self, detail: str) -> list[Action]:
        self.timing.goal_at = self.now
        return self.finish(True, "reached", detail)

    def finish(self, reached: bool, reason: str, detail: str) -> list[Action]:
        """End the navigation: the machine to ``reached`` or ``failed``, the result, ``Done``."""
        final_menu = self.menu
        self.state.end(reached, self.now)
        self.result = self.record.result(self.now, reached, self.goal, reason, detail, final_menu)
        self.note("done", f"{'reached' if reached else 'failed'}: {detail}")
        return [Done(self.result)]

    # ---------------------------------------------------------------------------------- internals

    def _check_vars(self) -> None:
        for name, var in self.menu_file.vars.items():
            if name in self.values and var.pattern and not _fullmatch(var.pattern, self.values[name]):
                raise NavigationError(f"value of var {name!r} does not match its pattern {var.pattern!r}")

    def _heard(self, event: Heard) -> None:
        kept, changed = self.hearing.hear(event)
        if kept is not None and kept.final:
            self.note("heard", kept.text)
        if changed:
            self.ladder = 0


def _fullmatch(pattern: str, value: str) -> bool:
    return regex.fullmatch(pattern, value)  # RE2: linear time whatever the pattern

