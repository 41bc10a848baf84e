"""Optional parts of ivrnav and the pip extra that installs each.

The core (menu tools, the simulated line) needs none of them; commands that do check here first, so a
missing part is one clear line naming the extra to install instead of a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "missing", "require"]

# extra -> the top-level modules it provides (checked without importing them: livekit-agents is slow to import)
EXTRAS: dict[str, tuple[str, ...]] = {
    "livekit": ("livekit.agents", "livekit.api", "livekit.rtc"),
    "deepgram": ("livekit.plugins.deepgram",),
    "speech": ("numpy", "faster_whisper", "piper", "livekit.plugins.silero"),
    "bench": ("matplotlib", "psutil"),
}


class MissingExtra(ImportError):
    """An optional part is not installed; the message says which ``pip install`` adds it."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package
        return False


def missing(*extras: str) -> list[str]:
    """The extras among ``extras`` that are not (fully) installed."""
    return [e for e in extras if not all(_installed(m) for m in EXTRAS[e])]


def require(feature: str, *extras: str) -> None:
    """Raise ``MissingExtra`` naming ``feature`` and the install line when any of ``extras`` is missing."""
    absent = missing(*extras)
    if absent:
        raise MissingExtra(f"{feature} needs the {', '.join(absent)} extra{'s' if len(absent) > 1 else ''}: "
                           f"pip install 'ivrnav[{','.join(extras)}]'")
