"""Several seeds trained together in one process (`ganzoo train --seeds K`): one run folder each, each the run
trained alone (bit for bit on the CPU when they take turns, --no-stack), each resumable on its own, and bad input
refused before anything is written."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import one_error_line
from ganzoo.training import train, train_seeds
from ganzoo.training.checkpoint import latest_checkpoint

SMALL = ["--data", "ring", "--steps", "6", "--batch-size", "16", "--log-every", "3", "--device", "cpu"]


def weights(run_dir):
    ckpt = latest_checkpoint(run_dir, map_location="cpu")
    return ckpt.step, {
        f"{part}.{k}": v
        for part in ("generator", "discriminator", "generator_ema")
        for k, v in ckpt.tensors.get(part, {}).items()
    }


def test_seeds_taking_turns_train_into_one_folder_each_and_match_runs_trained_alone(run_cli, tmp_path):
    result = run_cli(
        "train", "gan", *SMALL, "--seed", "4", "--seeds", "2", "--no-stack", "--out", str(tmp_path / "group")
    )
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "group").iterdir()) == ["seed4", "seed5"]
    assert "seed 5: step 6/6" in result.out
    alone = train(
        "gan",
        data="ring",
        steps=6,
        batch_size=16,
        log_every=3,
        device="cpu",
        seed=5,
        out=tmp_path / "alone",
        progress=False,
    )
    step, together = weights(tmp_path / "group" / "seed5")
    assert step == 6
    _, expected = weights(alone.path)
    assert together.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(together[key], tensor), key
    logged = [
        json.loads(line)["loss_d"] for line in (tmp_path / "group" / "seed5" / "metrics.jsonl").read_text().splitlines()
    ]
    assert logged == [row["loss_d"] for row in alone.metrics()]


def test_a_seed_trained_with_others_resumes_on_its_own(run_cli, tmp_path):
    runs = train_seeds(
        "gan",
        seeds=2,
        data="ring",
        steps=4,
        batch_size=16,
        log_every=2,
        ckpt_every=2,
        device="cpu",
        out=tmp_path / "group",
        progress=False,
    )
    assert [run.config.seed for run in runs] == [0, 1]
    result = run_cli("train", "--resume", str(tmp_path / "group" / "seed1"), "--steps", "6", "--device", "cpu")
    assert result.code == 0, result.err
    assert weights(tmp_path / "group" / "seed1")[0] == 6
    assert weights(tmp_path / "group" / "seed0")[0] == 4


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seeds", "0"], "must be a positive integer"),
        (["--seeds", "65"], "--seeds must be an integer from 1 to 64"),
        (["--seeds", "2", "--resume", "RUN"], "resume each seed's run on its own"),
        (["--seeds", "2", "--init-from", "RUN"], "drop --init-from or --seeds"),
    ],
)
def test_bad_seeds_are_refused_in_one_line_before_anything_is_written(run_cli, tmp_path, flags, message):
    flags = [str(tmp_path / "other") if f == "RUN" else f for f in flags]
    result = run_cli("train", "gan", *SMALL, *flags, "--out", str(tmp_path / "group"))
    assert result.code == 2
    assert message in one_error_line(result)
    assert not (tmp_path / "group").exists()


def test_seeds_that_do_not_fit_in_memory_leave_no_folder_behind(run_cli, tmp_path, monkeypatch):
    from ganzoo.training.loop import Trainer

    prepare = Trainer.prepare

    def out_of_memory(self):
        if self.config.seed == 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return prepare(self)

    monkeypatch.setattr(Trainer, "prepare", out_of_memory)
    result = run_cli("train", "gan", *SMALL, "--seeds", "3", "--out", str(tmp_path / "group"))
    assert result.code == 1
    assert "3 runs do not fit in the memory of cpu together" in one_error_line(result)
    assert not any((tmp_path / "group").glob("*/config.json"))


@pytest.mark.cuda
def test_seeds_on_cuda_are_captured_together(tmp_path, capsys):
    runs = train_seeds(
        "gan", seeds=3, data="ring", steps=40, log_every=10, device="cuda", out=tmp_path / "g", progress=False
    )
    assert "CUDA graphs off" not in capsys.readouterr().err
    first_losses = set()
    for run in runs:
        rows = run.metrics()
        assert [row["step"] for row in rows] == [10, 20, 30, 40]
        assert all(0 < abs(row["loss_d"]) < 100 for row in rows)  # (a run the graph left out would log zeros)
        first_losses.add(rows[0]["loss_d"])
    assert len(first_losses) == 3  # three seeds, three different trainings
