"""One writer per folder: an OS lock (``flock``) on a file inside it, which a crashed or killed holder lets go of.

The lock file, ``.ganzoo.lock``, holds the holder's process id, host and start time as text, so a second writer's
one line can say who writes the folder and since when. The holder removes it as it lets go; one left by a killed
process is stale text only (the OS dropped its lock with the process), taken over by the next writer. Readers
(``eval``, ``sample``, ``info``) never take the lock.

Where the platform has no ``fcntl`` (Windows), folders are not locked: two writers there are not told apart.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ganzoo.errors import GanzooError, UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".ganzoo.lock"
_BUSY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)


class FolderBusy(GanzooError):
    """Another process is writing the folder (it holds the folder's lock)."""

    exit_code = 2


@contextmanager
def folder_lock(
    folder: str | os.PathLike, what: str = "run folder", instead: str = "choose another --out"
) -> Iterator[Path]:
    """Hold ``folder``'s lock inside the block (the folder is made if need be); FolderBusy at once when another process
    holds it. A folder this made is removed again on the way out when nothing was written into it."""
    folder = Path(folder)
    if fcntl is None:
        yield folder
        return
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder} exists and is not a folder")
    made = _make(folder, what)
    try:
        fd = _acquire(folder, what, instead)
    except BaseException:
        _remove_empty(made)
        raise
    try:
        yield folder
    finally:
        _release(folder / LOCK_FILE, fd)
        _remove_empty(made)


def _make(folder: Path, what: str) -> list[Path]:
    """Make ``folder`` and its missing parents; the folders made, outermost first."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanzooError(f"cannot write the {what} {folder}: {exc.strerror or exc}") from None
    return missing


def _remove_empty(made: list[Path]) -> None:
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            return


def _acquire(folder: Path, what: str, instead: str) -> int:
    path = folder / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise GanzooError(f"cannot write the {what} {folder}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            who = _describe(fd) if exc.errno in _BUSY else None
            os.close(fd)
            if exc.errno not in _BUSY:
                raise GanzooError(f"cannot lock the {what} {folder}: {exc.strerror or exc}") from None
            raise FolderBusy(
                f"{what} {folder} is being written by {who or 'another process'}; wait for it to finish or {instead}"
            ) from None
        try:  # the holder before may have removed the file as it let go: then lock the new one
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    since = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{socket.gethostname()}\n{since}\n".encode(), 0)
    except OSError:  # a full disk: the lock holds all the same, the message just cannot say whose it is
        pass
    return fd


def _release(path: Path, fd: int) -> None:
    try:
        if os.path.samestat(os.fstat(fd), os.stat(path)):
            os.unlink(path)  # while still locked: a writer waiting on this file sees it gone and locks a new one
    except OSError:
        pass
    os.close(fd)


def _describe(fd: int) -> str | None:
    try:
        lines = os.pread(fd, 4096, 0).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if len(lines) < 3 or not lines[0].strip().isdigit():
        return None  # the holder has not written who it is yet
    return f"process {lines[0].strip()} on host {lines[1].strip()} since {lines[2].strip()}"
