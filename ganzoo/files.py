"""Atomic writes: every file ganzoo leaves behind appears whole or not at all."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames) to disk where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, write: Callable[[str], None], size: int | None = None) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, fsync it, then ``os.replace`` it into place.

    A full disk, an exceeded quota or an I/O error (``size``: about how many bytes the file needs) is a DiskWriteError;
    the temp file is removed and whatever ``path`` held before stays as it was.
    """
    path = Path(path)
    try:
        return _write_atomic(path, write)
    except Exception as exc:
        code = disk_errno(exc)
        if code is None:
            raise
        raise DiskWriteError(code, path.name, path.parent, size) from None


def _write_atomic(path: Path, write: Callable[[str], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes 0600, and a writer may replace the temp file with one of its own (safetensors does):
        # set the usual permissions on whatever file is there now, before it takes the final name
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    return write_atomic(path, write, len(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def write_safetensors(path: str | os.PathLike, tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> Path:
    """Save CPU-contiguous copies of ``tensors`` as safetensors, atomically."""
    from safetensors.torch import save_file

    cpu = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    return write_atomic(path, lambda tmp: save_file(cpu, tmp, metadata=metadata), tensor_bytes(cpu))


def tensor_bytes(tensors: dict[str, Any]) -> int:
    """About how many bytes ``tensors`` take in a safetensors file (their data plus a header entry each)."""
    return sum(t.numel() * t.element_size() + 100 for t in tensors.values())


# Write failures that are the disk's, not the program's: each gets one line naming what could not be written
DISK_ERRORS = {
    errno.ENOSPC: ("no space left on device", "free some space"),
    getattr(errno, "EDQUOT", 122): ("disk quota exceeded", "free some space (or have the quota raised)"),
    errno.EIO: ("I/O error while writing (a failing disk or a lost network mount)", "check the disk"),
}
_OS_ERROR = re.compile(r"\(os error (\d+)\)")  # how Rust libraries (safetensors) name the errno in their own exceptions


def disk_errno(exc: BaseException) -> int | None:
    """ENOSPC, EDQUOT or EIO when ``exc`` (or an exception it was raised from) is such a write failure, else None.

    OSError carries its errno; safetensors raises its own SafetensorError, whose message ends "(os error 28)".
    """
    seen = 0
    while exc is not None and seen < 5:
        code = exc.errno if isinstance(exc, OSError) else None
        if code is None and not isinstance(exc, OSError):
            found = _OS_ERROR.search(str(exc))
            code = int(found.group(1)) if found else None
        if code in DISK_ERRORS:
            return code
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        seen += 1
    return None


def human_size(size: int | None) -> str:
    """A byte count as tables show it: ``812 B``, ``2.3 MB`` (decimal units); ``-`` when unknown."""
    if size is None:
        return "-"
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size:.1f} GB"


def about(size: int) -> str:
    """A byte count in words, for messages: ``about 2.3 MB``, ``about 12 bytes``."""
    return f"about {size} bytes" if size < 1000 else f"about {human_size(size)}"


class DiskWriteError(GanzooError):
    """A file that could not be written: no space left, a quota exceeded, or an I/O error.

    The line names what (``what``, in ``where``), about how much room it needs (``size``) and what to do (``hint``);
    ``writing`` blocks around a write may name what it was part of and the command that continues the work.
    """

    def __init__(self, code: int, what: str, where: str | os.PathLike | None, size: int | None = None) -> None:
        super().__init__(what)
        self.code, self.what, self.where, self.size = code, what, where, size
        self.labelled = False  # a ``writing`` block named what was written (the innermost one that does)
        self.hint: str | Callable[[], str] | None = None  # the remedy: the outermost ``writing`` block that gives one

    def __str__(self) -> str:
        reason, remedy = DISK_ERRORS[self.code]
        size = f" ({about(self.size)})" if self.size else ""
        where = f" in {self.where}" if self.where is not None else ""
        hint = self.hint() if callable(self.hint) else self.hint
        return f"{reason}: cannot write {self.what}{size}{where}; {remedy} and {hint or 'try again'}"

    def relabel(self, what: str | None, where: Any, size: int | None, hint: Any) -> None:
        """Name what the failed write was part of (once: the innermost block's name stays), and the remedy."""
        if what is not None and not self.labelled:
            self.what, self.labelled = what, True
            self.where = where if where is not None else self.where
            self.size = size if size is not None else self.size
        if hint is not None:
            self.hint = hint


@contextmanager
def writing(
    what: str | None = None,
    where: str | os.PathLike | None = None,
    size: int | None = None,
    hint: str | Callable[[], str] | None = None,
) -> Iterator[None]:
    """A block of writes: a disk failure inside (a DiskWriteError, an OSError, safetensors' own error) leaves as one
    DiskWriteError naming ``what`` (in ``where``, needing about ``size`` bytes) unless an inner block named it, and
    ``hint`` (a text or a function giving one), what to do once there is room, unless an outer block says it."""
    try:
        yield
    except DiskWriteError as exc:
        exc.relabel(what, where, size, hint)
        raise
    except GanzooError:  # said in one line already
        raise
    except Exception as exc:
        code = disk_errno(exc)
        if code is None:
            raise
        error = DiskWriteError(
            code, what or "files", where if where is not None else getattr(exc, "filename", None), size
        )
        error.relabel(None, None, None, hint)
        error.labelled = what is not None
        raise error from None


class AppendLog:
    """A log file that lines are appended to, unbuffered; a line the disk cannot take whole is cut off again, so the
    file keeps only whole lines, and the failure is a DiskWriteError."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self.fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            self._fail(exc, 0)

    def _fail(self, exc: OSError, size: int) -> None:
        code = disk_errno(exc)
        if code is None:
            raise exc
        raise DiskWriteError(code, self.path.name, self.path.parent, size) from None

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        start = os.lseek(self.fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, start)  # no torn line left behind
            except OSError:
                pass
            self._fail(exc, len(data))

    def flush(self) -> None:
        """Nothing to do: every write went straight to the file."""

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def read_limited(path: str | os.PathLike, limit: int, what: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a GanzooError (devices, FIFOs and folders are
    refused).

    The file is opened without blocking and checked with ``fstat`` on the open descriptor, so a symlink to
    ``/dev/zero`` or a FIFO neither hangs nor fills memory, and at most ``limit + 1`` bytes are ever read.
    """
    from ganzoo.errors import GanzooError

    label = what or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise GanzooError(f"{label} is missing") from None
    except OSError as exc:
        raise GanzooError(f"{label} cannot be opened: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise GanzooError(f"{label} is not a regular file; refusing to read it")
        if info.st_size > limit:
            raise GanzooError(f"{label} is {info.st_size} bytes, more than the {limit} such a file may hold")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise GanzooError(f"{label} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise GanzooError(f"{label} holds more than the {limit} bytes such a file may hold")
    return b"".join(chunks)


def _check_parents(path: Path, what: str, start: list[Path]) -> None:
    """The nearest existing folder among ``start`` and ``path``'s parents must be a writable folder."""
    from ganzoo.errors import UsageError

    for parent in [*start, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{what} {path} cannot be written: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(f"{what} {path} cannot be written: no permission to write in {parent}")
            return


def check_output_file(path: str | os.PathLike, what: str = "output") -> Path:
    """``path`` if a file can be written there (its folder exists or can be made), else a UsageError naming why."""
    from ganzoo.errors import UsageError

    path = Path(path).expanduser()
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder; name a file")
    _check_parents(path, what, [])
    return path


def check_output_folder(path: str | os.PathLike, what: str = "output folder") -> Path:
    """``path`` if it is (or can be made) a writable folder, else a UsageError naming why."""
    from ganzoo.errors import UsageError

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} exists and is not a folder")
    _check_parents(path, what, [path])
    return path


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
