"""The immutable, typed model of a compiled menu file.

Everything here is plain frozen data: the navigator, the simulated line, the planner and the diagram
writer all read the same model, and none of them can change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

KEYS = frozenset("0123456789*#ABCD")
DEFAULT_SPEAKING_RATE = 2.5  # words per second, a typical IVR voice


@dataclass(frozen=True, slots=True)
class Settings:
    inter_digit: float = 0.15
    settle: float = 0.4
    no_prompt_timeout: float = 10.0
    max_visits: int = 3
    max_call: float = 1800.0
    prompt_done_quiet: float = 0.8  # seconds of quiet after a final transcript that end a prompt


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    secret: bool = False
    pattern: str | None = None
    description: str = ""
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    keys: str
    says: tuple[str, ...] = ()
    to: str | None = None
    repeat: bool = False
    is_global: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """An identifying phrase: plain text (fuzzy matched after normalisation) or a regex (``re:``)."""

    text: str
    regex: Any = None  # an RE2 pattern (ivrnav.menu.regex): ``search`` in linear time


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What the line does on a timeout or an invalid key: say a message, then go to a menu or hang up."""

    say: str = ""
    to: str | None = None  # None: replay the current menu (invalid) or hang up (timeout)
    hangup: bool = False


@dataclass(frozen=True, slots=True)
class LineMenu:
    """Simulator-only behaviour of one menu (the navigator never reads this)."""

    prompt: str | None = None
    hold: float | None = None
    type_ahead: bool | None = None
    accept: str | None = None
    unmapped_key: Literal["invalid", "repeat", "ignore", "hangup"] | None = None
    silent: bool = False
    hangup: bool = False
    first_digit: float | None = None  # seconds waited for the first key after the prompt (default: line wait)
    inter_digit: float | None = None  # seconds waited for the next key of a multi-digit option or entry
    reprompt: str | None = None  # the short prompt said on repeats instead of the full one
    repeats: int | None = None  # silent repeats before the timeout outcome
    timeout: LineOutcome | None = None
    invalid: LineOutcome | None = None
    max_invalid: int | None = None  # invalid keys before the line gives up (hangs up)
    any_key: str | None = None  # any key that is not an option goes to this menu
    entry_accept: str | None = None  # regex of free-form entries ("dial an extension") besides the options
    entry_to: str | None = None
    sound: Literal["music", "ringing", "echo", "silence"] | None = None  # no words: the line plays a sound
    hangup_after: bool = False  # hang up once the prompt has been said
    terminal: bool = False  # the call stays here (transfer, conference, echo): not a dead end


@dataclass(frozen=True, slots=True)
class LineSettings:
    """Simulator-only behaviour of the whole line."""

    speaking_rate: float = DEFAULT_SPEAKING_RATE
    hold: float = 20.0
    type_ahead: bool = True
    unmapped_key: Literal["invalid", "repeat", "ignore", "hangup"] = "invalid"
    invalid_message: str = "Sorry, that is not a valid option."
    repeats: int = 3
    wait: float = 5.0
    pause: float = 0.3
    inter_digit: float = 1.5  # seconds the line waits for the next key of a multi-digit option
    vars: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Confirm:
    """How the navigator knows a goal was reached when the goal says nothing it can recognise (map side).

    ``quiet``: the line took the keys that lead here and said nothing (no invalid message) for that many
    seconds; ``sound``: ringing or music began; ``human``: a person spoke; ``hangup``: the goal ends the call
    (the line hung up right after the keys that lead here, saying nothing or only the goal's own words).
    """

    quiet: float | None = None
    sound: tuple[str, ...] = ()
    human: bool = False
    hangup: bool = False


@dataclass(frozen=True, slots=True)
class Menu:
    name: str
    prompt: str = ""
    listen: tuple[Phrase, ...] = ()
    options: tuple[Option, ...] = ()  # the menu's own options, in file order
    enter: str | None = None
    say: str | None = None
    invalid: tuple[str, ...] = ()
    next: str | None = None
    hold: bool = False
    hold_max: float | None = None
    human: bool = False
    type_ahead: bool = False
    settings: Settings = field(default_factory=Settings)
    line: LineMenu = field(default_factory=LineMenu)
    description: str = ""
    language: str | None = None  # BCP 47; None: the file's language
    confirm: Confirm | None = None

    @property
    def terminal(self) -> bool:
        """The call ends or stays here (hang-up, transfer, echo, music): lint must not call it a dead end."""
        ln = self.line
        return ln.terminal or ln.hangup or ln.hangup_after or ln.sound is not None or self.confirm is not None

    @property
    def passive(self) -> bool:
        """The navigator must never press here."""
        return self.hold or self.human


@dataclass(frozen=True, slots=True, eq=False)  # identity equality: hashable, cacheable per loaded file
class MenuFile:
    path: str
    name: str
    start: str
    menus: MappingProxyType[str, Menu]
    goal: str | None = None
    phone: str | None = None
    description: str = ""
    vars: MappingProxyType[str, Var] = field(default_factory=lambda: MappingProxyType({}))
    defaults: Settings = field(default_factory=Settings)
    globals: tuple[Option, ...] = ()
    line: LineSettings = field(default_factory=LineSettings)
    language: str = "en-US"  # BCP 47: what the speech recogniser listens for
    # what is built from the file (its machine, recogniser, routes), kept on it: see ivrnav.menu.derived
    derived: dict[object, object] = field(default_factory=dict, init=False, repr=False)

    def language_of(self, menu: str | Menu) -> str:
        """The language a menu is spoken in: its own, else the file's."""
        m = self.menus[menu] if isinstance(menu, str) else menu
        return m.language or self.language

    def options_of(self, menu: str | Menu) -> tuple[Option, ...]:
        """A menu's effective options: its own, plus the globals whose keys it does not use.

        Passive menus (hold, human) and data-entry menus have no pressable options.
        """
        m = self.menus[menu] if isinstance(menu, str) else menu
        if m.passive or m.enter is not None or m.say is not None:
            return ()
        own = {o.keys for o in m.options}
        return m.options + tuple(g for g in self.globals if g.keys not in own)

    @property
    def secret_vars(self) -> frozenset[str]:
        return frozenset(name for name, v in self.vars.items() if v.secret)


@dataclass(frozen=True, slots=True)
class Exit:
    """One way out of a menu: keys pressed (``""`` when the line moves on by itself) and the next menu."""

    keys: str
    to: str
    kind: Literal["option", "next", "enter", "say"]
    option: Option | None = None


def exits(menu_file: MenuFile, menu: str | Menu) -> tuple[Exit, ...]:
    m = menu_file.menus[menu] if isinstance(menu, str) else menu
    out = [Exit(o.keys, o.to, "option", o) for o in menu_file.options_of(m) if o.to is not None]
    if m.next is not None:
        kind: Literal["next", "enter", "say"] = "enter" if m.enter else "say" if m.say else "next"
        out.append(Exit(m.enter or "", m.next, kind))
    return tuple(out)
