"""A simulated IVR: plays any menu file as a phone line, on whatever clock drives it.

The line is event-driven and clock-free like the navigator: ``next_time()`` says when it next has
something to say, ``advance(until)`` returns the transcripts (interim and final) and hang-ups due by
then, and ``press(key, at)`` / ``hear(text, at)`` deliver what the caller did. A prompt is spoken word by
word at the file's speaking rate, one utterance per sentence, as an STT engine would report it; keys
interrupt it (barge-in) when the line accepts type-ahead.
"""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivrnav.menu import regex, template
from ivrnav.menu.derived import per_file
from ivrnav.menu.model import LineSettings, Menu, MenuFile
from ivrnav.navigate.events import SOUND_KINDS, CallEnded, Heard, Sounded
from ivrnav.sim.noise import Noise

_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_PAUSE = re.compile(r"\[pause\s+([0-9]+(?:\.[0-9]+)?)\]", re.IGNORECASE)  # "[pause 2]" inside a line prompt
ENTRY_TIMEOUT = 4.0  # seconds after the last digit of an entry without a terminator
REACTION = 0.3  # seconds between a key and the line's response
SOUND_REPORT_EVERY = 0.5  # how often a sound classifier reports the sound it hears (s)
SOUND_REPORTED_FOR = 120.0  # a sound goes on being reported this long (s), then the line is heard as quiet
HUMAN_PATIENCE = 30.0  # seconds a person waits for the caller before hanging up


@dataclass(slots=True)
class _Scheduled:
    at: float
    seq: int
    kind: str  # "heard", "after_prompt", "goto", "hangup", "entry_timeout", "key_timeout"
    payload: object = None

    def __lt__(self, other: _Scheduled) -> bool:  # the queue is a heap: earliest first, then in order scheduled
        return (self.at, self.seq) < (other.at, other.seq)


@per_file
def _vocabulary(menu_file: MenuFile) -> list[str]:
    """The words the line says, for the noise model's substitutions (one list per file, shared by its calls)."""
    return sorted({w.strip(".,?!").lower() for m in menu_file.menus.values()
                   for w in _PAUSE.sub(" ", m.line.prompt or m.prompt).split()} - {""})


class SimulatedLine:
    def __init__(
        self,
        menu_file: MenuFile,
        *,
        vars: Mapping[str, str] | None = None,
        noise: Noise | None = None,
        seed: int = 0,
    ):
        self.file = menu_file
        self.settings: LineSettings = menu_file.line
        self.values = {name: v.default for name, v in menu_file.vars.items() if v.default is not None}
        self.values.update(menu_file.line.vars)
        self.values.update(vars or {})
        self.noise = noise or Noise()
        self.rng = random.Random(seed)
        self.vocabulary = _vocabulary(menu_file)
        self.queue: list[_Scheduled] = []
        self._seq = 0
        self.menu: Menu | None = None
        self.speaking_until = 0.0
        self.buffer = ""
        self.silences = 0
        self.invalids = 0
        self.ended = False
        self.visited: list[str] = []
        self.keys_received: list[tuple[str, float]] = []
        self.speech_received: list[tuple[str, float]] = []
        self._spoken: list[tuple[str, float, float]] = []  # (interim text, utterance start, time said)

    # --------------------------------------------------------------------------------- adapter-facing

    def start(self, at: float = 0.0) -> None:
        self._goto(self.file.start, at)

    def next_time(self) -> float | None:
        return self.queue[0].at if self.queue and not self.ended else None

    def advance(self, until: float) -> list[tuple[float, Heard | CallEnded | Sounded]]:
        out: list[tuple[float, Heard | CallEnded | Sounded]] = []
        while self.queue and not self.ended:
            item = self.queue[0]
            if item.at > until + 1e-9:
                break
            heapq.heappop(self.queue)
            if item.kind == "heard":
                out.append((item.at, item.payload))  # type: ignore[arg-type]
            elif item.kind == "sound":
                kind, start = item.payload  # type: ignore[misc]
                out.append((item.at, Sounded(kind, start, item.at)))
                if item.at - start < SOUND_REPORTED_FOR:
                    self._schedule(item.at + SOUND_REPORT_EVERY, "sound", item.payload)
            elif item.kind == "hangup":
                self.ended = True
                self.queue.clear()
                out.append((item.at, CallEnded(str(item.payload or "hangup"), item.at)))
            else:
                self._timer(item, out)
        return out

    def scheduled_sentences(self) -> dict[tuple[float, str], float]:
        """The sentences still to be said, as ``{(start, text): end}``: what an audio adapter must speak."""
        return {
            (item.payload.start, item.payload.text): item.payload.end  # type: ignore[attr-defined]
            for item in self.queue
            if item.kind == "heard" and isinstance(item.payload, Heard) and item.payload.final
        }

    def playing_sound(self) -> tuple[str, float] | None:
        """The music or ringing the line plays now, as ``(kind, since)``; None while it plays none. An audio
        adapter renders it; its reports (``Sounded``) are this line's ground truth, not what a caller hears."""
        items = [item for item in self.queue if item.kind == "sound"]
        return None if self.ended or not items else items[0].payload  # type: ignore[return-value]

    def press(self, key: str, at: float) -> None:
        if self.ended or self.menu is None:
            return
        self.keys_received.append((key, at))
        menu = self.menu
        if menu.hold or menu.human or menu.say is not None or menu.line.hangup_after:
            return  # keys do nothing on hold, with a person, at a speech prompt or in a closing message
        if at < self.speaking_until - 1e-9 and not self._accepts_type_ahead(menu):
            return
        if menu.line.sound is not None and not any(o.keys.startswith(self.buffer + key)
                                                   for o in self.file.options_of(menu)):
            return  # music, ringing or an echo: keys that are no option there do nothing
        self._interrupt(at)
        self.silences = 0
        self.buffer += key
        if menu.enter is not None:
            self._entry_key(menu, at)
        else:
            self._option_key(menu, at)

    def hear(self, text: str, at: float) -> None:
        """The caller spoke (speech-enabled IVR)."""
        if self.ended or self.menu is None:
            return
        self.speech_received.append((text, at))
        if self.menu.say is not None and self.menu.next:
            self._interrupt(at)
            self._schedule(at + len(text.split()) / 2.5 + REACTION, "goto", self.menu.next)

    # ------------------------------------------------------------------------------------- behaviour

    def _accepts_type_ahead(self, menu: Menu) -> bool:
        return menu.line.type_ahead if menu.line.type_ahead is not None else self.settings.type_ahead

    def _schedule(self, at: float, kind: str, payload: object = None) -> None:
        self._seq += 1
        heapq.heappush(self.queue, _Scheduled(at, self._seq, kind, payload))

    def _clear(self, *kinds: str) -> None:
        self.queue = [q for q in self.queue if q.kind not in kinds]
        heapq.heapify(self.queue)

    def _interrupt(self, at: float) -> None:
        """Stop talking at ``at``: drop unsaid words and close the utterance in progress, as STT would."""
        in_progress = [q for q in self.queue if q.kind == "heard" and q.payload.start < at - 1e-9]  # type: ignore[attr-defined]
        partial = None
        if in_progress:
            start = min(in_progress).payload.start  # type: ignore[attr-defined]
            words = self._last_interim_before(start, at)
            if words:
                partial = Heard(words, True, start, at)
        self._clear("heard", "after_prompt", "goto", "key_timeout", "entry_timeout", "sound")
        self.speaking_until = at
        if partial is not None:
            self._schedule(at, "heard", partial)

    def _last_interim_before(self, start: float, at: float) -> str:
        best = ""
        for text, t0, t in self._spoken:
            if t0 == start and t <= at:
                best = text
        return best

    def _goto(self, name: str, at: float) -> None:
        menu = self.file.menus[name]
        self.menu = menu
        self.visited.append(name)
        self.buffer = ""
        self.silences = 0
        self._clear("sound")  # the last menu's music or ringing stops when the line moves on
        self.invalids = 0 if not self.visited[:-1] or self.visited[-2] != name else self.invalids
        if menu.line.hangup:
            self._schedule(at + REACTION, "hangup", "hangup")
            return
        self._speak(menu, at)

    def _speak(self, menu: Menu, at: float, prefix: str | None = None, *, again: bool = False) -> None:
        """Say the menu's prompt (its short ``reprompt`` when ``again``) and schedule what follows it."""
        text = (menu.line.reprompt if again and menu.line.reprompt else None) or menu.line.prompt or menu.prompt
        if menu.line.silent or menu.line.sound is not None:
            text = ""
        if prefix:
            text = f"{prefix} {text}"
        end = self._say(text, at)
        self.speaking_until = end
        if menu.line.hangup_after:
            self._schedule(end + REACTION, "hangup", "hung up after the message")
        elif menu.line.sound is not None:
            # music, ringing or an echo: no words; the call stays here unless the line moves on by itself.
            # Music and ringing are reported as an audio adapter's sound classifier would (echo and silence
            # are heard as nothing)
            if menu.line.sound in SOUND_KINDS:
                self._schedule(end + SOUND_REPORT_EVERY, "sound", (menu.line.sound, end))
            hold = menu.line.hold if menu.line.hold is not None else self.settings.hold
            if menu.next:
                self._schedule(end + hold, "goto", menu.next)
        elif menu.human:
            self._schedule(end + HUMAN_PATIENCE, "hangup", "person hung up")
        elif menu.hold:
            hold = menu.line.hold if menu.line.hold is not None else self.settings.hold
            self._schedule(end + hold, "goto", menu.next) if menu.next else None
        elif menu.next and menu.enter is None and menu.say is None:
            # moves on by itself; a menu that also offers keys ("press 1 now") waits briefly for one
            self._schedule(end + (min(self.settings.wait, 2.0) if menu.options else self.settings.pause), "goto",
                           menu.next)
        elif not menu.line.terminal:
            self._schedule(end + self._first_digit(menu), "after_prompt")

    def _first_digit(self, menu: Menu) -> float:
        return menu.line.first_digit if menu.line.first_digit is not None else self.settings.wait

    def _inter_digit(self, menu: Menu, default: float) -> float:
        return menu.line.inter_digit if menu.line.inter_digit is not None else default

    def _say(self, text: str, at: float) -> float:
        """Schedule ``text`` as transcripts from ``at``; return when it ends. ``[pause N]`` is N s of silence."""
        t = at
        pieces = _PAUSE.split(text)  # text, seconds, text, seconds, ...
        for n, piece in enumerate(pieces):
            if n % 2:
                t += float(piece)
            else:
                t = self._say_sentences(piece, t)
        return t

    def _say_sentences(self, text: str, at: float) -> float:
        t = at
        rate = self.settings.speaking_rate
        for sentence in (s.strip() for s in _SENTENCE.findall(text)):
            if not sentence:
                continue
            words = self.noise.apply(sentence.split(), self.rng, self.vocabulary)
            start = t
            for i in range(len(words)):
                t += 1.0 / rate
                partial = " ".join(words[: i + 1])
                final = i == len(words) - 1
                self._spoken.append((partial, start, t))
                self._schedule(t, "heard", Heard(partial, final, start, t))
            if not words:
                t += len(sentence.split()) / rate
            t += self.settings.pause
        return t

    def _timer(self, item: _Scheduled, out: list) -> None:
        menu = self.menu
        assert menu is not None
        if item.kind == "goto":
            self._goto(str(item.payload), item.at)
        elif item.kind == "after_prompt":
            self.silences += 1
            repeats = menu.line.repeats if menu.line.repeats is not None else self.settings.repeats
            if self.silences > repeats:
                self._timed_out(menu, item.at)
            else:
                self._speak(menu, item.at, again=True)
        elif item.kind == "key_timeout":
            self._resolve_keys(menu, item.at, final=True)
        elif item.kind == "entry_timeout":
            self._finish_entry(menu, item.at)

    def _timed_out(self, menu: Menu, at: float) -> None:
        outcome = menu.line.timeout
        if outcome is None:
            self._schedule(at, "hangup", "no input")
            return
        end = self._say(outcome.say, at) if outcome.say else at
        if outcome.to and not outcome.hangup:
            self._schedule(end + REACTION, "goto", outcome.to)
        else:
            self._schedule(end + REACTION, "hangup", "no input")

    def _option_key(self, menu: Menu, at: float) -> None:
        self._resolve_keys(menu, at, final=False)

    def _entry_match(self, menu: Menu) -> bool:
        return menu.line.entry_accept is not None and regex.fullmatch(menu.line.entry_accept, self.buffer)

    def _resolve_keys(self, menu: Menu, at: float, *, final: bool) -> None:
        options = self.file.options_of(menu)
        exact = next((o for o in options if o.keys == self.buffer), None)
        longer = any(o.keys.startswith(self.buffer) and o.keys != self.buffer for o in options)
        entry = menu.line.entry_accept is not None and menu.line.entry_to is not None
        if entry and not self.buffer.endswith("#"):
            if exact is None and self._entry_match(menu) and (not longer or final):
                self.buffer = ""
                self._schedule(at + REACTION, "goto", menu.line.entry_to)
                return
            if not final:  # a free-form entry may still be growing ("1" or "1005"): wait for the next digit
                self._clear("key_timeout")
                self._schedule(at + self._inter_digit(menu, self.settings.inter_digit), "key_timeout")
                return
        if exact is not None and (not longer or final):
            self.buffer = ""
            if exact.repeat:
                self._speak(menu, at + REACTION)
            elif exact.to:
                self._schedule(at + REACTION, "goto", exact.to)
            return
        if longer and not final:
            self._clear("key_timeout")
            self._schedule(at + self._inter_digit(menu, self.settings.inter_digit), "key_timeout")
            return
        self.buffer = ""
        self._unmapped(menu, at)

    def _unmapped(self, menu: Menu, at: float) -> None:
        if menu.line.any_key:
            self._schedule(at + REACTION, "goto", menu.line.any_key)
            return
        if menu.line.invalid is not None:
            self._invalid_outcome(menu, at)
            return
        behaviour = menu.line.unmapped_key or self.settings.unmapped_key
        if behaviour == "ignore":
            self._schedule(at + self.settings.wait, "after_prompt")
        elif behaviour == "hangup":
            self._schedule(at + REACTION, "hangup", "invalid key")
        elif behaviour == "repeat":
            self._speak(menu, at + REACTION)
        else:
            self._invalid(menu, at, self.settings.invalid_message)

    def _invalid(self, menu: Menu, at: float, message: str) -> None:
        self.invalids += 1
        limit = menu.line.max_invalid if menu.line.max_invalid is not None else self.settings.repeats
        if self.invalids > limit:
            self._say(message, at + REACTION)
            self._schedule(at + REACTION + 3, "hangup", "too many invalid entries")
            return
        self._speak(menu, at + REACTION, prefix=message, again=True)

    def _invalid_outcome(self, menu: Menu, at: float) -> None:
        """A key that is not an option where the file says what follows: a message, then a menu or a hang-up."""
        outcome = menu.line.invalid
        assert outcome is not None
        message = outcome.say or self.settings.invalid_message
        if outcome.to is None and not outcome.hangup:
            self._invalid(menu, at, message)
            return
        self.invalids += 1
        end = self._say(message, at + REACTION)
        self.speaking_until = end
        if outcome.hangup:
            self._schedule(end + REACTION, "hangup", "invalid key")
        else:
            self._schedule(end + REACTION, "goto", outcome.to)

    def _entry_key(self, menu: Menu, at: float) -> None:
        template_text = menu.enter or ""
        terminated = template_text.rstrip("wW").endswith("#")
        if terminated and self.buffer.endswith("#"):
            self._finish_entry(menu, at)
            return
        expected = self._expected_entry(menu)
        if not terminated and expected is not None and len(self.buffer) >= len(expected):
            self._finish_entry(menu, at)
            return
        self._clear("entry_timeout")
        self._schedule(at + self._inter_digit(menu, ENTRY_TIMEOUT), "entry_timeout")

    def _expected_entry(self, menu: Menu) -> str | None:
        try:
            real, _ = template.render(menu.enter or "", self.values, set(), digits=True)
        except KeyError:
            return None
        return "".join(ch for ch in real if ch not in template.PAUSES)

    def _entry_pattern(self, menu: Menu) -> Any:  # an RE2 pattern (linear time): the file's regexes are the user's
        if menu.line.accept:
            return regex.compile_user(menu.line.accept)
        expected = self._expected_entry(menu)
        if expected is not None:
            return regex.compile_user(re.escape(expected))
        parts = []
        for part in template.parse(menu.enter or "", digits=True):
            if part.var is None:
                parts.append(re.escape(part.literal.replace("w", "").replace("W", "")))
            else:
                var = self.file.vars.get(part.var)
                pattern = var.pattern if var and var.pattern else "[0-9*]+"
                parts.append("(?:" + pattern.lstrip("^").rstrip("$") + ")")
        return regex.compile_user("".join(parts))

    def _finish_entry(self, menu: Menu, at: float) -> None:
        entry, self.buffer = self.buffer, ""
        self._clear("entry_timeout")
        if self._entry_pattern(menu).fullmatch(entry) and menu.next:
            self._schedule(at + REACTION, "goto", menu.next)
        else:
            message = menu.invalid[0] if menu.invalid else self.settings.invalid_message
            self._invalid(menu, at, message + ".")
