"""Opening the files a user names (menu files, secrets files, trace outputs) without hanging or tracing back.

A FIFO with no writer blocks ``open()`` forever, ``/dev/zero`` never ends, a directory or a 50 MB log is not
a menu file: every input is opened non-blocking, checked to be a regular file of bounded size, and every
failure becomes an :class:`InputFileError` with one plain sentence (never the file's contents).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["InputFileError", "check_output", "decode_utf8", "kind_of", "read_regular", "write_text"]


class InputFileError(Exception):
    """A named file cannot be used; ``message`` is one sentence for the user, ``line``/``column`` 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: OSError) -> str:
    return {errno.ENOENT: "no such file", errno.EACCES: "permission denied", errno.EISDIR: "it is a directory",
            errno.ENOTDIR: "a folder in the path is not a folder", errno.ELOOP: "too many symbolic links",
            errno.ENAMETOOLONG: "the name is too long", errno.ENOSPC: "no space left on the device",
            errno.EROFS: "the file system is read-only"}.get(exc.errno or 0, exc.strerror or "cannot be used")


def read_regular(path: str | os.PathLike[str], max_bytes: int, *, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; InputFileError otherwise.

    Opened with O_NONBLOCK so that a FIFO without a writer cannot block, then checked with fstat (not a
    stat before opening, which a swap of the file could defeat)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputFileError(f"cannot read {what}: {_reason(exc)}") from None
    except (ValueError, TypeError):  # e.g. a NUL character in the name
        raise InputFileError(f"cannot read {what}: the name is not a valid path") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"cannot read {what}: it is {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise InputFileError(f"{what} is larger than {_size(max_bytes)} ({_size(info.st_size)})")
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # the file may grow while we read: never read more than the bound
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise InputFileError(f"cannot read {what}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputFileError(f"{what} is larger than {_size(max_bytes)}")
    return data


def decode_utf8(raw: bytes, *, what: str = "file") -> str:
    """UTF-8 text (a leading BOM dropped); InputFileError at the first bad byte's line and column."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputFileError(f"{what} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column "
                             f"{column}); is it a binary file?", line, column) from None


def check_output(path: str | os.PathLike[str], *, what: str = "output file") -> None:
    """Refuse an output path that cannot be written before doing the work that fills it."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InputFileError(f"cannot write {what} {target}: folder {parent} does not exist")
    if not parent.is_dir():
        raise InputFileError(f"cannot write {what} {target}: {parent} is not a folder")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        if not os.access(parent, os.W_OK):
            raise InputFileError(f"cannot write {what} {target}: folder {parent} is not writable") from None
        return
    except OSError as exc:
        raise InputFileError(f"cannot write {what} {target}: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(f"cannot write {what} {target}: it is a directory")
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise InputFileError(f"cannot write {what} {target}: it is {kind_of(info.st_mode)}")
    if not os.access(target, os.W_OK):
        raise InputFileError(f"cannot write {what} {target}: permission denied")


def write_text(path: str | os.PathLike[str], text: str, *, what: str = "output file") -> None:
    """Write ``text`` (UTF-8) or raise InputFileError (a full device, a read-only file...)."""
    check_output(path, what=what)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()  # a full device reports ENOSPC here or at close, both inside the try
    except OSError as exc:
        raise InputFileError(f"cannot write {what} {path}: {_reason(exc)}") from None


def _size(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"
