"""Writing files so that nothing a user saved is ever half-written."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO], object], *, binary: bool = False
) -> Path:
    """Create or replace ``path`` with what ``write(file)`` writes; returns the path.

    The content goes to a temporary file in the same directory, which is flushed, fsynced
    and renamed over ``path`` (``os.replace``); if ``write`` fails, the temporary file is
    removed and ``path`` is left as it was. ``binary`` opens the file in bytes mode, else
    it is UTF-8 text. Missing parent directories are created.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # open(..., "x") creates the file with the usual permissions (0o666 minus the umask)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    mode = {"mode": "xb"} if binary else {"mode": "x", "encoding": "utf-8", "newline": ""}
    try:
        with open(temp, **mode) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)
    return target


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
