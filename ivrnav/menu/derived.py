"""Structures derived from a compiled menu file (its machine, recogniser, plans), built once per file and
kept exactly as long as the file is.

A worker that loads 500 files and runs calls on all of them must not rebuild a file's machine for each call,
which a small least-recently-used cache does as soon as more files are in use than it holds. The structures
live on the file (``MenuFile.derived``): a file that is dropped takes them with it. (A weak mapping from the
file would not: the structures refer back to the file and would keep it alive for ever.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar, cast

from ivrnav.menu.model import MenuFile

T = TypeVar("T")


def per_file(build: Callable[[MenuFile], T]) -> Callable[[MenuFile], T]:
    """Memoise ``build(menu_file)`` on ``menu_file`` itself."""

    @wraps(build)
    def get(menu_file: MenuFile) -> T:
        derived = menu_file.derived
        try:
            return cast(T, derived[get])
        except KeyError:
            value = derived[get] = build(menu_file)
            return value

    return get
