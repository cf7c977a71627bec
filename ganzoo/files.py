"""Atomic writes: every file ganzoo leaves behind appears whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


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


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, fsync it, then ``os.replace`` it into place."""
    path = Path(path)
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

    return write_atomic(path, write)


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
    return write_atomic(path, lambda tmp: save_file(cpu, tmp, metadata=metadata))


def read_limited(path: str | os.PathLike, limit: int, what: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a GanzooError (devices, FIFOs and folders are refused).

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
