"""Files: writing so that nothing a user saved is ever half-written, reading with a cap."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from . import checks

__all__ = [
    "DEFAULT_MAX_BYTES",
    "atomic_write",
    "check_writable_directory",
    "open_capped",
    "read_capped",
    "reading_errors",
]

DEFAULT_MAX_BYTES = 64 * 2**20
"""What :func:`open_capped` and :func:`read_capped` read at most unless told otherwise: 64 MB."""


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO], object], *, binary: bool = False
) -> Path:
    """Create or replace ``path`` with what ``write(file)`` writes; returns the path.

    The content goes to a temporary file in the same directory, which is flushed, fsynced
    and renamed over ``path`` (``os.replace``); if ``write`` fails, the temporary file is
    removed and ``path`` is left as it was. ``binary`` opens the file in bytes mode, else
    it is UTF-8 text. Missing parent directories are created. A symbolic link is written
    through: its target is replaced and the link kept. A file that is replaced keeps its
    permission bits; a new one gets the usual ones (0o666 minus the umask).
    """
    target = Path(os.path.realpath(path))  # through symbolic links, to the file itself
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temp = target.with_name(f".{target.name}.{os.urandom(6).hex()}.tmp")  # secrets.token_hex
    # a replaced file's bits are set before anything is written; 0o600 until then
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600 if mode is not None else 0o666)
    try:
        if mode is not None:
            _set_mode(fd, temp, mode)
        opened = open(fd, "wb") if binary else open(fd, "w", encoding="utf-8", newline="")
        with opened as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)
    return Path(path)


def _set_mode(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows
        os.chmod(path, mode)


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


def open_capped(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> BinaryIO:
    """The regular file at ``path`` of at most ``max_bytes`` bytes, opened for reading
    (binary); the caller closes it.

    Anything else is refused with a ValueError naming the file: a directory, a FIFO (which
    could wait forever for a writer), a device such as /dev/zero (which never ends), or a
    file larger than ``max_bytes``. It is checked before it is opened, so that a FIFO or a
    device is never opened, and again on the open file (in case it was replaced in
    between). A missing file is a FileNotFoundError, another failure to open an OSError.
    """
    max_bytes = checks.count(max_bytes, "max_bytes")
    _check_capped(path, os.stat(path), max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))  # no wait for a FIFO's writer
    try:
        _check_capped(path, os.fstat(fd), max_bytes)
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "rb")


def read_capped(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    Anything else is refused with a ValueError before it is read (:func:`open_capped`): a
    directory, a FIFO, a device, or a file larger than ``max_bytes`` (one that grows while
    it is read too).
    """
    with open_capped(path, max_bytes=max_bytes) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(_too_large(path, "it grew while being read", max_bytes))
    return data


@contextlib.contextmanager
def reading_errors(who: str, path: str | os.PathLike) -> Iterator[None]:
    """Around :func:`open_capped` or :func:`read_capped`: their errors reworded for the
    function ``who`` that reads ``path``. A missing file is a FileNotFoundError
    "who: path does not exist", another OSError a ValueError "who: cannot read path: why",
    and a refusal (a ValueError) gets the prefix "who: "."""
    try:
        yield
    except FileNotFoundError:
        raise FileNotFoundError(f"{who}: {os.fspath(path)} does not exist") from None
    except OSError as error:
        why = error.strerror or error
        raise ValueError(f"{who}: cannot read {os.fspath(path)}: {why}") from None
    except ValueError as error:
        raise ValueError(f"{who}: {error}") from None


def _check_capped(path: str | os.PathLike, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{os.fspath(path)} is not a regular file ({_kind(info.st_mode)})")
    if info.st_size > max_bytes:
        raise ValueError(_too_large(path, f"it holds {info.st_size} bytes", max_bytes))


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]
    kinds += [(stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    return next((name for test, name in kinds if test(mode)), "not a file")


def _too_large(path: str | os.PathLike, why: str, max_bytes: int) -> str:
    return (
        f"{os.fspath(path)} is larger than max_bytes={max_bytes} ({why}); pass a larger "
        "max_bytes to read it"
    )


def check_writable_directory(directory: str | os.PathLike) -> None:
    """Create ``directory`` if needed and make sure a file can be created in it (an
    anonymous temporary file, removed at once); OSError otherwise."""
    import tempfile  # 3 ms to import, for the callbacks' early check only

    Path(directory).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=os.fspath(directory)):
        pass
