"""Which torch device to use: ``auto`` (``GANZOO_DEVICE``, else cuda, else mps, else cpu) or a named one, checked."""

from __future__ import annotations

import os

import torch

from ganzoo.errors import UsageError

ENV = "GANZOO_DEVICE"  # what ``auto`` means on this machine, when set (e.g. cpu: the test suite pins it)
_CHOICES = "auto, cpu, cuda, cuda:K or mps"


def resolve_device(
    device: str | torch.device | None, local_rank: int | None = None, distributed: bool = False
) -> torch.device:
    """The device ``device`` names, checked to exist here; ``None``/``auto``: ``$GANZOO_DEVICE`` when set, else
    cuda if present, else mps (not in a distributed run), else cpu. With ``local_rank`` (one process of a run on
    this machine) a bare ``cuda`` is this process's GPU, ``cuda:LOCAL_RANK``, refused when there are too few."""
    if device is None or device in ("", "auto"):
        chosen = os.environ.get(ENV, "").strip()
        if chosen and chosen != "auto":
            try:
                return resolve_device(chosen, local_rank, distributed)
            except UsageError as exc:
                raise UsageError(f"{ENV}={chosen}: {exc}") from None
        if torch.cuda.is_available():
            return _cuda(None, "auto", local_rank)
        if _mps_available() and not distributed:
            return torch.device("mps")
        return torch.device("cpu")
    try:
        found = torch.device(device)
    except (RuntimeError, TypeError):
        raise UsageError(f"--device must be {_CHOICES}; got {device!r}") from None
    if found.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {device}: no CUDA device is available here (use --device cpu)")
        return _cuda(found.index, device, local_rank)
    if found.type == "mps":
        if not _mps_available():
            raise UsageError(f"--device {device}: MPS is not available here")
    elif found.type != "cpu":
        raise UsageError(f"--device must be {_CHOICES}; got {device!r}")
    return found


def wants_cuda(device: str | None) -> bool:
    """Whether ``device`` (``auto``: what it means here) is a CUDA device, before any process knows its rank: a
    distributed run picks its backend (NCCL or gloo) by it."""
    if device is None or device in ("", "auto"):
        chosen = os.environ.get(ENV, "").strip()
        if chosen and chosen != "auto":
            return chosen.startswith("cuda")
        return torch.cuda.is_available()
    return str(device).startswith("cuda")


def _cuda(index: int | None, requested: object, local_rank: int | None) -> torch.device:
    """``cuda:index``, or this process's GPU when no index is given under a launcher; checked against the count."""
    count = torch.cuda.device_count()
    if index is None and local_rank is not None:
        if local_rank >= count:
            raise UsageError(
                f"--device {requested}: this is process {local_rank} on this machine (LOCAL_RANK={local_rank}) but "
                f"only {count} CUDA device(s) are visible; start at most {count} process(es) per machine "
                f"(torchrun --nproc_per_node {count}), or train on the CPU with --device cpu"
            )
        return torch.device("cuda", local_rank)
    if index is not None and index >= count:
        raise UsageError(f"--device {requested}: only {count} CUDA device(s) here")
    return torch.device("cuda") if index is None else torch.device("cuda", index)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()
