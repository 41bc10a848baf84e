"""Structures derived from a compiled menu file (its machine, recogniser, plans), built once per file and
kept exactly as long as the file is.

A worker that loads 500 files and runs calls on all of them must not rebuild a file's machine for each call,
which a small least-recently-used cache does as soon as more files are in use than it holds. Keying on the
file object weakly ties the derived structure's life to the file's: dropping a file frees what it built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar
from weakref import WeakKeyDictionary

from ivrnav.menu.model import MenuFile

T = TypeVar("T")


def per_file(build: Callable[[MenuFile], T]) -> Callable[[MenuFile], T]:
    """Memoise ``build(menu_file)`` for the lifetime of ``menu_file`` (files hash by identity)."""
    built: WeakKeyDictionary[MenuFile, T] = WeakKeyDictionary()

    @wraps(build)
    def get(menu_file: MenuFile) -> T:
        try:
            return built[menu_file]
        except KeyError:
            value = built[menu_file] = build(menu_file)
            return value

    return get
