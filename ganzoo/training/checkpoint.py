"""Checkpoints: one folder per step of safetensors files and a JSON manifest with their sha256 — no pickle."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.errors import GanzooError, one_line
from ganzoo.files import fsync_dir, read_limited, sha256_file, tensor_bytes, write_json, write_safetensors, writing

MANIFEST = "state.json"
PREFIX = "step-"
MANIFEST_LIMIT = 1 << 20  # a manifest holds a few names, digests and optimiser settings: kilobytes
# What a manifest may name: a plain safetensors file name, never a path (no separators, no "..", no NUL)
MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.safetensors")


class CorruptCheckpoint(GanzooError):
    """A checkpoint folder that is incomplete, truncated or altered."""


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:09d}"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Finished checkpoint folders of a run, newest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    found = [
        p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX) :].isdigit()
    ]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX) :]), reverse=True)


def latest_step(run_dir: Path) -> int | None:
    """The step of a run's newest finished checkpoint folder (not verified), or None when it has none."""
    found = list_checkpoints(run_dir)
    return int(found[0].name[len(PREFIX) :]) if found else None


def optimizer_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser ``state_dict`` into tensors (for safetensors) and everything else (for JSON); a setting
    of a parameter group held as a one-element tensor (a rate a captured step reads on the device) is written as its
    number, so a checkpoint reads the same however the run held its rates."""
    tensors: dict[str, torch.Tensor] = {}
    plain_state: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        plain_state[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value
            else:
                plain_state[str(index)][key] = value
    groups = [
        {
            key: float(value) if isinstance(value, torch.Tensor) and value.numel() == 1 else value
            for key, value in group.items()
        }
        for group in state["param_groups"]
    ]
    return tensors, {"state": plain_state, "param_groups": groups}


def optimizer_state(tensors: dict[str, torch.Tensor], plain: dict[str, Any]) -> dict[str, Any]:
    """Rebuild an optimiser ``state_dict`` from what ``optimizer_tensors`` split."""
    state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in plain["state"].items()}
    for name, tensor in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = tensor
    return {"state": state, "param_groups": plain["param_groups"]}


@dataclass
class Checkpoint:
    """What one checkpoint holds, in memory."""

    step: int
    tensors: dict[str, dict[str, torch.Tensor]]  # file stem -> tensors
    extra: dict[str, Any]  # JSON-able: optimiser param groups, counters, timing


def save_checkpoint(run_dir: Path, ckpt: Checkpoint, keep: int) -> Path:
    """Write ``ckpt`` into ``checkpoints/step-N`` via a temp folder renamed into place, then keep the newest ``keep``.

    A disk that fills (or fails) meanwhile is one DiskWriteError naming the checkpoint and its size; the temp folder
    is removed and the checkpoints written before stay as they were.
    """
    folder = Path(run_dir) / "checkpoints"
    final = folder / checkpoint_name(ckpt.step)
    tmp = folder / f".{final.name}.tmp"
    size = sum(tensor_bytes(tensors) for tensors in ckpt.tensors.values())
    with writing(f"checkpoint {final.name}", folder, size):
        try:
            _write_checkpoint(folder, tmp, final, ckpt)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    for old in list_checkpoints(run_dir)[keep:]:
        _remove(old)
    return final


def _write_checkpoint(folder: Path, tmp: Path, final: Path, ckpt: Checkpoint) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    files: dict[str, str] = {}
    for stem, tensors in ckpt.tensors.items():
        path = write_safetensors(tmp / f"{stem}.safetensors", tensors)
        files[path.name] = sha256_file(path)
    write_json(tmp / MANIFEST, {"format": 1, "step": ckpt.step, "files": files, "extra": ckpt.extra})
    if final.exists():
        _remove(final)
    os.replace(tmp, final)
    fsync_dir(folder)


def _remove(checkpoint: Path) -> None:
    """Delete a checkpoint folder so that a reader never finds it half deleted: renamed out of sight, then removed."""
    gone = checkpoint.with_name(f".{checkpoint.name}.old")
    try:
        if gone.exists():
            shutil.rmtree(gone, ignore_errors=True)
        os.replace(checkpoint, gone)
    except OSError:
        gone = checkpoint
    shutil.rmtree(gone, ignore_errors=True)


def read_checkpoint(
    path: Path, map_location: str | torch.device = "cpu", only: tuple[str, ...] | None = None
) -> Checkpoint:
    """Load and verify one checkpoint folder (or just the files ``only`` names), or raise CorruptCheckpoint."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    manifest, files = _read_manifest(path)
    members = {name: _member(path, name) for name in files}  # every name is checked before any file is opened
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for name, digest in files.items():
        if only is not None and name.removesuffix(".safetensors") not in only:
            continue
        file = _regular(path, name, members[name])
        try:
            if sha256_file(file) != digest:
                raise CorruptCheckpoint(
                    f"checkpoint {path}: {name} does not match its recorded sha256 (truncated or altered)"
                )
            tensors[name.removesuffix(".safetensors")] = load_file(file, device=str(map_location))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:  # (torch's: a file removed meanwhile)
            raise CorruptCheckpoint(f"checkpoint {path}: {name} cannot be read: {one_line(exc)}") from None
    return Checkpoint(step=manifest["step"], tensors=tensors, extra=manifest["extra"])


def _read_manifest(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The checked manifest of checkpoint folder ``path`` (step and extra filled in) and its file -> sha256 table."""
    manifest_path = path / MANIFEST
    if not os.path.lexists(manifest_path):
        raise CorruptCheckpoint(f"checkpoint {path} has no {MANIFEST} (an interrupted write)")
    manifest_file = _regular(path, MANIFEST, _member(path, MANIFEST))
    try:
        raw = read_limited(manifest_file, MANIFEST_LIMIT, f"checkpoint {path}: {MANIFEST}")
    except GanzooError as exc:
        raise CorruptCheckpoint(str(exc)) from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
        files = manifest["files"]
        step = int(manifest["step"])
        extra = manifest.get("extra", {})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptCheckpoint(f"checkpoint {path} has an unreadable {MANIFEST}: {one_line(exc)}") from None
    if (
        not isinstance(files, dict)
        or not all(isinstance(d, str) for d in files.values())
        or not isinstance(extra, dict)
    ):
        raise CorruptCheckpoint(
            f"checkpoint {path} has an unreadable {MANIFEST}: 'files' must map file names to sha256 digests"
        )
    return {"step": step, "extra": extra}, files


def _member(folder: Path, name: str) -> Path:
    """Where ``name`` lies, directly inside checkpoint ``folder``; CorruptCheckpoint when the name or a link leads
    elsewhere.

    Names come from a manifest, which anyone may edit: a path (``../x``, ``/x``, ``a\\b``) or a symlink
    leading out of the folder refuses the whole checkpoint, before anything outside is opened.
    """
    if name != MANIFEST and not (isinstance(name, str) and MEMBER_NAME.fullmatch(name)):
        raise CorruptCheckpoint(
            f"checkpoint {folder}: {MANIFEST} names {name!r}, which is not a .safetensors file name inside the "
            "checkpoint folder; refusing this checkpoint (it was altered)"
        )
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(target) != root:
        raise CorruptCheckpoint(
            f"checkpoint {folder}: {name} is a link to {target!r}, outside the checkpoint folder; "
            "refusing this checkpoint"
        )
    return Path(target)


def _regular(folder: Path, name: str, target: Path) -> Path:
    """``target`` (what ``_member`` found for ``name``) when it is a regular file, which opens without blocking."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        raise CorruptCheckpoint(f"checkpoint {folder} is missing {name}") from None
    except OSError as exc:
        raise CorruptCheckpoint(f"checkpoint {folder}: {name} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise CorruptCheckpoint(f"checkpoint {folder}: {name} is not a regular file; refusing this checkpoint")
    return Path(target)


def latest_checkpoint(
    run_dir: Path, map_location: str | torch.device = "cpu", quiet: bool = False, only: tuple[str, ...] | None = None
) -> Checkpoint | None:
    """The newest checkpoint that verifies (the files ``only`` names, or all).

    A corrupt one is skipped with one warning line once an older one verifies; when none does, the one error
    names the newest checkpoint's fault (and no warnings are printed before it).
    """
    for attempt in range(5):
        candidates = list_checkpoints(run_dir)
        faults: list[CorruptCheckpoint] = []
        for path in candidates:
            try:
                ckpt = read_checkpoint(path, map_location, only)
            except CorruptCheckpoint as exc:
                if not os.path.lexists(path):  # deleted by the run's writer while this was reading it: not a fault
                    continue
                faults.append(exc)
                continue
            if not quiet:
                for fault in faults:
                    print(f"ganzoo: warning: {fault}; using {path.name}", file=sys.stderr)
            return ckpt
        if list_checkpoints(run_dir) != candidates and attempt < 4:
            continue  # the writer replaced the checkpoints meanwhile: read the newer ones
        if faults:
            what = "the only checkpoint" if len(candidates) == 1 else f"all {len(candidates)} checkpoints"
            raise CorruptCheckpoint(
                f"{what} in {Path(run_dir) / 'checkpoints'} failed to verify ({faults[0]}); cannot use the run"
            )
        return None
    return None
