"""The device picker: what ``auto`` means (GANZOO_DEVICE first), named devices checked, one GPU per process."""

from __future__ import annotations

import pytest
import torch

from ganzoo.device import resolve_device, wants_cuda
from ganzoo.errors import UsageError
from ganzoo.training.devices import pick_device
from ganzoo.training.distributed import World


def gpus(monkeypatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_the_test_suite_runs_on_the_cpu_by_default():
    assert resolve_device(None) == torch.device("cpu") and resolve_device("auto") == torch.device("cpu")
    assert not wants_cuda("auto") and wants_cuda("cuda:0")


def test_ganzoo_device_says_what_auto_means(monkeypatch):
    gpus(monkeypatch, 2)
    monkeypatch.delenv("GANZOO_DEVICE")
    assert resolve_device("auto") == torch.device("cuda") and wants_cuda("auto")
    monkeypatch.setenv("GANZOO_DEVICE", "cpu")
    assert resolve_device("auto") == torch.device("cpu") and not wants_cuda("")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)  # a named device is not overridden
    monkeypatch.setenv("GANZOO_DEVICE", "tpu")
    with pytest.raises(UsageError, match="GANZOO_DEVICE=tpu: --device must be auto, cpu"):
        resolve_device(None)


def test_each_process_takes_its_local_gpu(monkeypatch):
    gpus(monkeypatch, 2)
    monkeypatch.delenv("GANZOO_DEVICE")
    assert pick_device("auto", World(rank=1, size=2, local_rank=1)) == torch.device("cuda", 1)
    assert pick_device("cuda", World(rank=0, size=2, local_rank=0)) == torch.device("cuda", 0)
    assert pick_device("auto", World()) == torch.device("cuda", 0)


def test_more_processes_than_gpus_is_one_clear_error(monkeypatch):
    gpus(monkeypatch, 1)
    monkeypatch.delenv("GANZOO_DEVICE")
    for requested in ("auto", "cuda"):
        with pytest.raises(UsageError) as raised:
            pick_device(requested, World(rank=1, size=2, local_rank=1))
        message = str(raised.value)
        assert "LOCAL_RANK=1" in message and "only 1 CUDA device(s)" in message and "--nproc_per_node 1" in message
    with pytest.raises(UsageError, match="only 1 CUDA device"):
        resolve_device("cuda:1")


def test_no_gpu_under_a_launcher_trains_on_the_cpu(monkeypatch):
    gpus(monkeypatch, 0)
    monkeypatch.delenv("GANZOO_DEVICE")
    assert pick_device("auto", World(rank=1, size=2, local_rank=1)) == torch.device("cpu")
