"""Checkpoints: one folder per step of safetensors files and a JSON manifest with their sha256 — no pickle."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganzoo.errors import GanzooError
from ganzoo.files import fsync_dir, sha256_file, write_json, write_safetensors

MANIFEST = "state.json"
PREFIX = "step-"


class CorruptCheckpoint(GanzooError):
    """A checkpoint folder that is incomplete, truncated or altered."""


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:09d}"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Finished checkpoint folders of a run, newest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX) :].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX) :]), reverse=True)


def optimizer_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser ``state_dict`` into tensors (for safetensors) and everything else (for JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    plain_state: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        plain_state[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value
            else:
                plain_state[str(index)][key] = value
    return tensors, {"state": plain_state, "param_groups": state["param_groups"]}


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
    """Write ``ckpt`` into ``checkpoints/step-N`` via a temp folder renamed into place, then keep the newest ``keep``."""
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / checkpoint_name(ckpt.step)
    tmp = folder / f".{final.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    files: dict[str, str] = {}
    for stem, tensors in ckpt.tensors.items():
        path = write_safetensors(tmp / f"{stem}.safetensors", tensors)
        files[path.name] = sha256_file(path)
    write_json(tmp / MANIFEST, {"format": 1, "step": ckpt.step, "files": files, "extra": ckpt.extra})
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    fsync_dir(folder)
    for old in list_checkpoints(run_dir)[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_checkpoint(path: Path, map_location: str | torch.device = "cpu", only: tuple[str, ...] | None = None) -> Checkpoint:
    """Load and verify one checkpoint folder (or just the files ``only`` names), or raise CorruptCheckpoint."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
        step = int(manifest["step"])
    except FileNotFoundError:
        raise CorruptCheckpoint(f"checkpoint {path} has no {MANIFEST} (an interrupted write)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptCheckpoint(f"checkpoint {path} has an unreadable {MANIFEST}: {exc}") from None
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for name, digest in files.items():
        if only is not None and name.removesuffix(".safetensors") not in only:
            continue
        file = path / name
        if not file.is_file():
            raise CorruptCheckpoint(f"checkpoint {path} is missing {name}")
        if sha256_file(file) != digest:
            raise CorruptCheckpoint(f"checkpoint {path}: {name} does not match its recorded sha256 (truncated or altered)")
        try:
            tensors[name.removesuffix(".safetensors")] = load_file(file, device=str(map_location))
        except (SafetensorError, OSError, ValueError) as exc:
            raise CorruptCheckpoint(f"checkpoint {path}: {name} cannot be read: {exc}") from None
    return Checkpoint(step=step, tensors=tensors, extra=manifest.get("extra", {}))


def latest_checkpoint(
    run_dir: Path, map_location: str | torch.device = "cpu", quiet: bool = False, only: tuple[str, ...] | None = None
) -> Checkpoint | None:
    """The newest checkpoint that verifies (the files ``only`` names, or all); corrupt ones are reported and skipped."""
    candidates = list_checkpoints(run_dir)
    for i, path in enumerate(candidates):
        try:
            return read_checkpoint(path, map_location, only)
        except CorruptCheckpoint as exc:
            if not quiet:
                fallback = f"; using {candidates[i + 1].name}" if i + 1 < len(candidates) else ""
                print(f"ganzoo: warning: {exc}{fallback}", file=sys.stderr)
    if candidates:
        raise GanzooError(f"every checkpoint in {Path(run_dir) / 'checkpoints'} is corrupt; cannot resume")
    return None
