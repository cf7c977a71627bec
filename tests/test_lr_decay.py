"""`--set lr_decay=linear`: both learning rates fall in a straight line to 0 at the run's last step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from conftest import one_error_line, snapshot
from ganzoo.training import resolve_config
from ganzoo.training.config import RunConfigError, TrainConfig
from ganzoo.training.loop import Trainer

TINY = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"]
ARGS = dict(data="ring", batch_size=8, log_every=1, progress=False)


def weights(run_dir: Path, step: int, stem: str = "generator") -> dict[str, torch.Tensor]:
    return load_file(run_dir / "checkpoints" / f"step-{step:09d}" / f"{stem}.safetensors")


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_rates_fall_linearly_from_the_set_rates_to_zero(tmp_path):
    config = resolve_config(
        "sngan",
        data="ring",
        steps=4,
        batch_size=8,
        overrides={"lr_g": "4e-4", "lr_d": "8e-4", "lr_decay": "linear", **dict(s.split("=") for s in TINY)},
        log_every=1,
    )
    trainer = Trainer(config, tmp_path / "run", progress=False)
    start = trainer.prepare()
    trainer.open_run_dir(start)
    seen = []
    for _ in trainer.stepping(start):  # the rates each step was taken with
        seen.append((trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]))
    trainer.finish(start)
    fractions = (1.0, 0.75, 0.5, 0.25)
    assert [g for g, _ in seen] == pytest.approx([4e-4 * f for f in fractions])
    assert [d for _, d in seen] == pytest.approx([8e-4 * f for f in fractions])


def test_the_first_step_matches_a_constant_rate_and_the_later_steps_do_not(tmp_path):
    runs = {}
    for decay in ("none", "linear"):
        runs[decay] = ganzoo.train(
            "sngan", steps=3, out=tmp_path / decay, ckpt_every=1, keep=5, set=[*TINY, f"lr_decay={decay}"], **ARGS
        ).path
    assert same(weights(runs["none"], 1), weights(runs["linear"], 1))
    assert not same(weights(runs["none"], 2), weights(runs["linear"], 2))
    assert json.loads((runs["linear"] / "config.json").read_text())["config"]["lr_decay"] == "linear"


def test_a_decaying_run_resumes_bitwise_exactly(tmp_path):
    whole = ganzoo.train(
        "sngan", steps=4, out=tmp_path / "whole", ckpt_every=2, keep=5, set=[*TINY, "lr_decay=linear"], **ARGS
    ).path
    cut = Path(shutil.copytree(whole, tmp_path / "cut"))
    shutil.rmtree(cut / "checkpoints" / "step-000000004")  # as if it had stopped after step 2
    ganzoo.train(resume=cut, progress=False)
    for stem in ("generator", "generator_ema", "discriminator"):
        assert same(weights(whole, 4, stem), weights(cut, 4, stem)), stem
    assert [m["step"] for m in ganzoo.open_run(cut).metrics()] == [1, 2, 3, 4]


def test_resuming_a_decaying_run_to_another_length_is_one_line_and_changes_nothing(run_cli, tmp_path):
    run = ganzoo.train(
        "sngan", steps=2, out=tmp_path / "run", ckpt_every=2, set=[*TINY, "lr_decay=linear"], **ARGS
    ).path
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--steps", "6")
    assert result.code == 2
    line = one_error_line(result)
    assert "decay to 0 over its 2 steps (lr_decay=linear), so it cannot go on to 6" in line
    assert f"--init-from {run} --out NEW" in line
    assert snapshot(run) == before


def test_an_unknown_schedule_is_one_line_and_writes_nothing(run_cli, tmp_path):
    result = run_cli(
        "train", "sngan", "--data", "ring", "--steps", "2", "--out", str(tmp_path / "r"), "--set", "lr_decay=cosine"
    )
    assert result.code == 2 and "lr_decay" in one_error_line(result) and "'cosine'" in result.err
    assert not (tmp_path / "r").exists()


def test_config_json_without_the_key_reads_as_constant_and_a_bad_value_is_refused():
    data = resolve_config("gan", data="ring", steps=2).as_dict()
    del data["lr_decay"]  # a run folder written before schedules existed
    assert TrainConfig.from_dict(data).lr_decay == "none"
    with pytest.raises(RunConfigError, match="'lr_decay' must be one of none, linear, got 'cosine'"):
        TrainConfig.from_dict({**data, "lr_decay": "cosine"})
    with pytest.raises(RunConfigError, match="'lr_decay' must be a string"):
        TrainConfig.from_dict({**data, "lr_decay": 1})


def test_init_from_carries_the_parents_schedule(tmp_path):
    parent = ganzoo.train("sngan", steps=2, out=tmp_path / "p", set=[*TINY, "lr_decay=linear"], **ARGS).path
    child = ganzoo.train(init_from=parent, steps=2, out=tmp_path / "c", progress=False)
    assert child.config.lr_decay == "linear"
    other = ganzoo.train(init_from=parent, steps=2, out=tmp_path / "o", set=["lr_decay=none"], progress=False)
    assert other.config.lr_decay == "none"


def test_a_published_generator_says_its_rates_decayed_and_a_constant_one_says_nothing(tmp_path):
    said = {}
    for decay in ("none", "linear"):
        run = ganzoo.train("sngan", steps=2, out=tmp_path / decay, set=[*TINY, f"lr_decay={decay}"], **ARGS).path
        folder = ganzoo.save_generator(run, tmp_path / f"gen-{decay}")
        said[decay] = (json.loads((folder / "config.json").read_text())["training"], (folder / "README.md").read_text())
    assert said["linear"][0]["lr_decay"] == "linear" and "| lr decay | linear |" in said["linear"][1]
    assert "lr_decay" not in said["none"][0] and "lr decay" not in said["none"][1]


def test_a_decaying_seed_trained_with_others_is_the_seed_trained_alone(tmp_path):
    args = dict(steps=4, set=[*TINY, "lr_decay=linear"], device="cpu", **ARGS)
    ganzoo.train_seeds("sngan", seeds=2, seed=3, out=tmp_path / "group", **args)
    alone = ganzoo.train("sngan", seed=4, out=tmp_path / "alone", **args).path
    for stem in ("generator", "generator_ema", "discriminator"):
        assert same(weights(alone, 4, stem), weights(tmp_path / "group" / "seed4", 4, stem)), stem
