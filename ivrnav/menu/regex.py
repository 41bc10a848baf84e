"""User regular expressions (``vars.pattern``, ``listen: "re:..."``, ``line.accept``) compiled safely.

Python's ``re`` backtracks: ``(a+)+$`` against a 30-character default runs for minutes, ``a{4294967296}``
raises OverflowError and 1,000 nested groups RecursionError. ivrnav matches user patterns with RE2
(google-re2), whose matching time is linear in the text, and refuses what RE2 cannot do in linear time
(backreferences, lookaround). A pattern must also compile in Python's ``re``, which some adapters still use,
so one pattern means the same thing everywhere it is read.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN = 1000  # characters: a phone entry or a phrase needs tens
MAX_GROUP_DEPTH = 32  # nested groups: Python's parser recurses per level
_NO_LOG = re2.Options()
_NO_LOG.log_errors = False  # RE2 would print every refused pattern to stderr
_NO_LOG.max_mem = 8 << 20
_NO_LOG_ICASE = re2.Options()
_NO_LOG_ICASE.log_errors = False
_NO_LOG_ICASE.max_mem = 8 << 20
_NO_LOG_ICASE.case_sensitive = False


class RegexProblem(ValueError):
    """Why a pattern is refused, in the author's terms (never a Python exception name)."""


def _group_depth(pattern: str) -> int:
    depth = deepest = 0
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth = max(0, depth - 1)
    return deepest


def _re2_reason(message: str) -> str:
    if "invalid escape sequence: \\" in message and message.rstrip()[-1:].isdigit():
        return ("backreferences (\\1, \\2...) are not supported: ivrnav matches patterns with RE2 in linear time, "
                "which cannot")
    if "invalid perl operator: (?=" in message or "invalid perl operator: (?!" in message or \
            "invalid perl operator: (?<" in message:
        return "lookahead and lookbehind ((?=...), (?!...), (?<=...)) are not supported by RE2's linear-time matching"
    if "invalid repetition size" in message:
        return "a repetition count is larger than 1000"
    if "bad repetition operator" in message:
        return "a repetition operator repeats another one (such as a** or a{2}{3})"
    if "pattern too large" in message:
        return "the pattern is too large once its repetitions are expanded"
    return message.split(": ", 1)[0] if ": " in message else message


@lru_cache(maxsize=1024)
def compile_user(pattern: str, ignore_case: bool = False) -> Any:
    """An RE2 pattern object (``search``, ``match``, ``fullmatch``); RegexProblem if it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise RegexProblem(f"is longer than {MAX_PATTERN} characters ({len(pattern):,})")
    if _group_depth(pattern) > MAX_GROUP_DEPTH:
        raise RegexProblem(f"nests groups more than {MAX_GROUP_DEPTH} deep")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning "possible nested set"
            re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        where = f" at character {exc.pos + 1}" if exc.pos is not None else ""
        raise RegexProblem(f"is not a valid regular expression: {exc.msg}{where}") from None
    except (OverflowError, RecursionError, ValueError, MemoryError):
        raise RegexProblem("is not a valid regular expression: a repetition count or nesting is too large") from None
    try:
        return re2.compile(pattern, options=_NO_LOG_ICASE if ignore_case else _NO_LOG)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise RegexProblem(f"is not a valid regular expression: {_re2_reason(detail)}") from None
    except (OverflowError, RecursionError, ValueError, MemoryError, TypeError):
        raise RegexProblem("is not a valid regular expression: it is too large or too deeply nested") from None


def fullmatch(pattern: str, value: str) -> bool:
    """Whether ``value`` matches all of ``pattern`` (linear time); a refused pattern matches nothing."""
    try:
        return compile_user(pattern).fullmatch(value) is not None
    except RegexProblem:
        return False
