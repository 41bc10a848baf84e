"""One exploration call: follow a known route, try one thing at the frontier, and listen to what follows.

The probe speaks the navigator's protocol (``handle(event) -> actions``, ``wakeup_at()``,
``drain_notes()``, ``result``), so every adapter that runs a ``Navigator`` (the simulated runner, the
audio call, the LiveKit driver) runs a probe unchanged. It is sans-I/O: times come with the events.

Theory of operation
-------------------
The line is heard as final transcripts. A *press point* is where the line goes quiet for ``gap``
seconds after speaking: the place a menu waits for keys. The probe walks the route press point by
press point: at each one it checks that what it heard since its last action sounds like what the
explorer expects there (else the line went elsewhere and the call is reported ``diverged``), then
presses that step's keys (an empty step means "let the line move on by itself"). At the frontier it
presses the trial keys (none on the first call: it observes from the start) and then *observes*:
it records every sentence until the line repeats itself, stays quiet for ``silence`` seconds (longer
while the last prompt sounds like a hold), hangs up, or ``max_observe`` runs out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from rapidfuzz import fuzz

from ivrnav.discover.observe import Observation, Sentence, kind_of, read_observation, sentences_in
from ivrnav.menu.model import Settings
from ivrnav.navigate.events import Action, CallEnded, DigitsSent, Done, Event, Heard, Say, SendDigits, Sounded, Tick
from ivrnav.navigate.navigator import Note
from ivrnav.navigate.result import Redactor
from ivrnav.text import normalise

HOLD_MUSIC = "[music]"  # a line playing music is holding the call: listen for what answers after it


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Every threshold of a probe, in seconds unless said otherwise."""

    gap: float = 1.2  # quiet after speech that marks a press point (a line's pause between sentences is less)
    silence: float = 12.0  # quiet after which a line that neither repeats nor moves on is taken as waiting
    hold_listen: float = 90.0  # how long to listen through a hold for what answers after it
    max_observe: float = 180.0  # the longest observation
    max_call: float = 900.0  # the whole call
    inter_digit: float = 0.25
    route_match: float = 60.0  # rapidfuzz partial ratio (0-100): heard vs expected at a press point


@dataclass(frozen=True, slots=True)
class Step:
    """What to do at one press point: ``keys`` ("" = wait for the line to move on), and the words the
    explorer expects to have heard since the previous press point."""

    keys: str
    expect: str
    masked: str | None = None  # how ``keys`` may be shown (entries of secret values)
    nodes: tuple[str, ...] = ()  # the explorer's nodes the line plays before this press point
    say: str | None = None  # speak this instead of pressing keys (speech-enabled prompts)


class ProbePhase(Enum):
    ROUTE = "route"  # walking the known route
    SENDING = "sending"  # keys requested, not yet reported sent
    OBSERVE = "observe"  # recording what the line does after the trial
    DONE = "done"


@dataclass(slots=True)
class ProbeResult:
    """What one exploration call found. ``reached`` is True when the observation is complete."""

    reached: bool
    reason: str  # "observed", "diverged", "hangup", "limit"
    detail: str = ""
    observation: Observation | None = None
    heard_at_steps: list[list[str]] = field(default_factory=list)  # sentences heard before each route press
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def line_time(self) -> float:
        return self.ended_at - self.started_at


class Probe:
    def __init__(
        self,
        route: list[Step],
        trial: Step | None,
        *,
        settings: ProbeSettings | None = None,
        secrets: list[str] | None = None,
        start_time: float = 0.0,
    ):
        self.route = route
        self.trial = trial
        self.probe_settings = settings or ProbeSettings()
        self.settings = Settings(max_call=self.probe_settings.max_call)  # what adapters read
        self.redact = Redactor(secrets or [])
        self.phase = ProbePhase.ROUTE if trial is not None else ProbePhase.OBSERVE
        self.step = 0
        self.started_at = start_time
        self.now = start_time
        self.acted_at = start_time  # sentences that began before this are the previous prompt
        self.observe_from = start_time
        self.last_speech_at = start_time
        self.interim_open = False
        self.since_action: list[Sentence] = []
        self.observed: list[Sentence] = []
        self.heard_at_steps: list[list[str]] = []
        self._sounds: set[float] = set()  # start times of the sounds heard
        self.waiting_for_move = False  # at an empty step: the line should move on by itself
        self.result: ProbeResult | None = None
        self.notes: list[Note] = []
        self._notes_read = 0

    # ------------------------------------------------------------------------------ navigator protocol

    def handle(self, event: Event) -> list[Action]:
        if self.phase is ProbePhase.DONE:
            return []
        if isinstance(event, Heard):
            self.now = max(self.now, event.end)
            self._heard(event)
        elif isinstance(event, Sounded):
            self.now = max(self.now, event.end)
            self._sounded(event)
        elif isinstance(event, Tick):
            self.now = max(self.now, event.now)
        elif isinstance(event, DigitsSent):
            self.now = max(self.now, event.at)
            if self.phase is ProbePhase.SENDING:
                self.acted_at = event.at
                self.last_speech_at = max(self.last_speech_at, event.at)
                self.since_action = []
                if self.step > len(self.route):  # the trial went out
                    self.phase = ProbePhase.OBSERVE
                    self.observe_from = event.at
                else:
                    self.phase = ProbePhase.ROUTE
        elif isinstance(event, CallEnded):
            self.now = max(self.now, event.at)
            if self.phase is ProbePhase.OBSERVE:
                return self._done(True, "observed", "the line hung up", ended="hangup")
            return self._done(False, "hangup", f"the line hung up before the frontier ({event.reason})")
        return self._decide()

    def handle_end(self, reason: str) -> None:
        """The adapter gave up on the call (the line went silent for good)."""
        self.handle(CallEnded(reason, self.now))

    def failed(self, reason: str, detail: str, at: float) -> ProbeResult:
        """End the probe from outside (its adapter's own failure): nothing observed counts."""
        self.now = max(self.now, at)
        self._done(False, reason, detail)
        assert self.result is not None
        return self.result

    def wakeup_at(self) -> float | None:
        if self.phase is ProbePhase.DONE:
            return None
        s = self.probe_settings
        times = [self.started_at + s.max_call, self.last_speech_at + s.gap, self.last_speech_at + s.silence,
                 self.last_speech_at + s.hold_listen]
        if self.phase is ProbePhase.OBSERVE:
            times.append(self.observe_from + s.max_observe)
        future = [t for t in times if t > self.now + 1e-9]
        return min(future) if future else None

    def drain_notes(self) -> list[Note]:
        fresh = self.notes[self._notes_read :]
        self._notes_read = len(self.notes)
        return fresh

    # --------------------------------------------------------------------------------------- internals

    def _note(self, kind: str, text: str) -> None:
        self.notes.append(Note(self.now, kind, self.redact(text)))

    def _heard(self, event: Heard) -> None:
        if event.start < self.acted_at - 1e-6:
            return  # the prompt our keys interrupted
        self.interim_open = not event.final
        if event.final:  # redacted once, here: a line reading back an entered value must not put it in a draft
            said = sentences_in(self.redact(event.text), event.start, event.end)
            self.since_action.extend(said)
            if self.phase is ProbePhase.OBSERVE:
                self.observed.extend(said)
            self.notes.append(Note(self.now, "heard", " ".join(x.text for x in said)))
        if self.waiting_for_move and event.start >= self.last_speech_at + self.probe_settings.gap - 1e-6:
            self.waiting_for_move = False  # the line moved on: the next press point is the next step's
        self.last_speech_at = max(self.last_speech_at, event.end)

    def _sounded(self, event: Sounded) -> None:
        """Music or ringing is heard as one sentence, "[music]", when it starts: what a recogniser that names
        sounds writes, and what a line with no words there looks like to the observation. Its reports as it
        goes on say nothing new (the line is as quiet as before: a goal's ringing must not keep the probe
        listening)."""
        if event.start < self.acted_at - 1e-6 or event.start in self._sounds:
            return
        self._sounds.add(event.start)
        self._heard(Heard(f"[{event.kind}]", True, event.start, event.start))

    def _quiet(self) -> float:
        return -1.0 if self.interim_open else self.now - self.last_speech_at

    def _decide(self) -> list[Action]:
        s = self.probe_settings
        if self.now - self.started_at >= s.max_call:
            return self._done(False, "limit", f"call exceeded {s.max_call:g} s")
        if self.phase is ProbePhase.OBSERVE:
            return self._observe()
        if self.phase is not ProbePhase.ROUTE or self.waiting_for_move:
            return []
        step = self.route[self.step] if self.step < len(self.route) else self.trial
        assert step is not None
        # a place where the line says nothing (music, ringing) is reached by a longer quiet after the action
        wordless = not step.expect and not self.since_action and self._quiet() + 1e-9 >= 2 * s.gap
        if not wordless and (not self.since_action or self._quiet() + 1e-9 < s.gap):
            if self.now - self.last_speech_at >= s.silence:
                return self._done(False, "diverged", "the line went quiet before the frontier")
            return []
        heard = " ".join(x.text for x in self.since_action)
        if step.expect and fuzz.partial_ratio(normalise(step.expect), normalise(heard)) < s.route_match:
            return self._done(False, "diverged", f"expected {step.expect[:60]!r}, heard {heard[:60]!r}")
        self.heard_at_steps.append([x.text for x in self.since_action])
        self.step += 1
        if step.say:
            self._note("say", f"{step.say} " + ("(trial)" if self.step > len(self.route) else "(route)"))
            self.acted_at = self.now
            self.since_action = []
            if self.step > len(self.route):
                self.phase = ProbePhase.OBSERVE
                self.observe_from = self.now
            return [Say(step.say)]
        if not step.keys:
            self.waiting_for_move = True
            self.since_action = []
            if self.step > len(self.route):  # a trial of "let it move on": observe from here
                self.phase = ProbePhase.OBSERVE
                self.observe_from = self.now
                self.acted_at = self.now
            return []
        self.phase = ProbePhase.SENDING
        shown = step.masked or step.keys
        self._note("press", f"{shown} " + ("(trial)" if self.step > len(self.route) else "(route)"))
        return [SendDigits(step.keys, s.inter_digit, shown)]

    def _observe(self) -> list[Action]:
        s = self.probe_settings
        obs = read_observation(self.observed, gap=s.gap, ended="silence", silence_after=self._quiet(),
                               tail_open=self._quiet() + 1e-9 < s.gap)
        if obs.ended == "repeat":
            return self._done(True, "observed", "the line repeated itself", observation=obs)
        if self.now - self.observe_from >= s.max_observe:
            return self._done(True, "observed", "observation time ran out", ended="limit")
        quiet = self._quiet()
        if quiet < 0:
            return []
        last = obs.nodes[-1].text if obs.nodes else ""
        on_hold = bool(last) and (kind_of(last, {}) == "hold" or obs.nodes[-1].sentences[-1].text == HOLD_MUSIC)
        if quiet >= (s.hold_listen if on_hold else s.silence):
            return self._done(True, "observed", f"the line stayed quiet for {quiet:.0f} s", ended="silence")
        return []

    def _done(self, reached: bool, reason: str, detail: str, *, ended: str | None = None,
              observation: Observation | None = None) -> list[Action]:
        s = self.probe_settings
        if observation is None and ended is not None:
            observation = read_observation(self.observed, gap=s.gap, ended=ended,
                                           silence_after=max(self._quiet(), 0.0))
        self.phase = ProbePhase.DONE
        self.result = ProbeResult(reached, reason, self.redact(detail), observation, self.heard_at_steps,
                                  self.started_at, self.now)
        self._note("done", detail)
        return [Done(self.result)]  # type: ignore[arg-type]  # adapters only read .reached/.reason
