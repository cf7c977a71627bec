"""Decaying learning rates in the static (capturable) step: device tensors the optimisers read, rewritten in place
before each step, so ``lr_decay`` no longer keeps a run off CUDA graphs.

The static step runs eagerly on the CPU here, as in test_graphs.py; what needs a real CUDA device is marked ``cuda``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganzoo.training import rates
from ganzoo.training.checkpoint import read_checkpoint
from ganzoo.training.config import resolve_config
from ganzoo.training.loop import COLUMNS, Trainer, make_optimizer

TINY = {"arch.g_width": "16", "arch.g_depth": "2", "arch.d_width": "8", "arch.d_depth": "2"}
# the static step's rates are float32 tensors and the eager ones Python floats (so the rates differ by a float32
# rounding, ~1e-8 of the rate), and off CUDA torch's Adam steps tensor by tensor with a tensor rate; after these
# 8 steps the weights agree to this (measured: 5e-10 for gan, 1.5e-8 for wgan-gp, bitwise for wgan's RMSprop)
ATOL = 1e-6


def make_trainer(
    tmp_path: Path, variant: str, data: str, *, static: bool, name: str, steps: int = 8, **settings
) -> Trainer:
    overrides = {"lr_decay": "linear", **(TINY if data == "ring" else {})}
    config = resolve_config(
        variant, data=data, steps=steps, batch_size=16, seed=5, device="cpu", amp=False, overrides=overrides, **settings
    )
    trainer = Trainer(config, tmp_path / name, progress=False)
    trainer.static = static
    trainer.setup()
    if static and trainer.ema:
        trainer.ema.start_count(0)
    return trainer


def train(trainer: Trainer) -> list[tuple[float, float]]:
    """Every step as the loop takes it (rates set, then the step); the rates each step's optimisers read."""
    history = torch.zeros(trainer.config.steps, len(COLUMNS))
    seen = []
    while trainer.step < trainer.config.steps:
        trainer.set_learning_rates()
        seen.append(tuple(float(opt.param_groups[0]["lr"]) for opt in (trainer.opt_g, trainer.opt_d)))
        trainer.train_step(history)
        trainer.step += 1
    return seen


@pytest.mark.parametrize(("variant", "data"), [("gan", "ring"), ("wgan-gp", "ring"), ("wgan", "digits")])
def test_the_static_steps_rates_are_the_eager_schedule_and_train_the_same_weights(tmp_path, variant, data):
    """Adam (gan, wgan-gp) and RMSprop (wgan): the device rates hold the eager schedule's rates to float32 rounding,
    and the weights after the run are the eager run's to ATOL."""
    eager = make_trainer(tmp_path, variant, data, static=False, name="eager")
    expected = train(eager)
    static = make_trainer(tmp_path, variant, data, static=True, name="static")
    assert static.rates is not None and static.opt_g.param_groups[0]["lr"] is static.rates.tensors[0]
    got = train(static)
    steps = static.config.steps
    assert [g for g, _ in expected] == pytest.approx([static.config.lr_g * (1 - s / steps) for s in range(steps)])
    f32 = [tuple(float(torch.tensor(r, dtype=torch.float32)) for r in pair) for pair in expected]
    assert got == f32  # the rate tensors are the schedule, exactly as float32 holds it
    assert static.opt_g.param_groups[0]["lr"] is static.rates.tensors[0]  # still the tensor the step reads
    for name in ("G", "D"):
        for a, b in zip(getattr(eager, name).state_dict().values(), getattr(static, name).state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def test_the_rates_are_read_at_each_step_not_when_the_optimiser_was_made(tmp_path):
    """With the rate tensor at 0 the weights stay put: the optimiser reads the tensor, not a number it copied."""
    trainer = make_trainer(tmp_path, "gan", "ring", static=True, name="r")
    before = [p.detach().clone() for p in trainer.G.parameters()]
    for tensor in trainer.rates.tensors:
        tensor.fill_(0.0)
    trainer.train_step(torch.zeros(1, len(COLUMNS)))
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.G.parameters()))


def run_loop(trainer: Trainer) -> None:
    start = trainer.prepare()
    trainer.open_run_dir(start)
    for _ in trainer.stepping(start):
        pass
    trainer.finish(start)


def static_trainer(config, run_dir: Path, resume: bool = False) -> Trainer:
    trainer = Trainer(config, run_dir, resume=resume, progress=False)
    trainer.static = True  # the step a CUDA graph would hold, run eagerly on the CPU
    return trainer


def weights(run_dir: Path, step: int, stem: str) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "checkpoints" / f"step-{step:09d}" / f"{stem}.safetensors")


def decaying(steps: int = 6):
    settings = dict(ckpt_every=3, keep=5, log_every=1, device="cpu", amp=False)
    return resolve_config(
        "gan", data="ring", steps=steps, batch_size=16, seed=2, overrides={"lr_decay": "linear", **TINY}, **settings
    )


def test_a_static_run_resumed_mid_decay_equals_the_uninterrupted_run_and_stores_plain_rates(tmp_path):
    config = decaying()
    whole = tmp_path / "whole"
    run_loop(static_trainer(config, whole))
    cut = Path(shutil.copytree(whole, tmp_path / "cut"))
    shutil.rmtree(cut / "checkpoints" / "step-000000006")  # as if it had stopped after step 3
    resumed = static_trainer(decaying(), cut, resume=True)
    run_loop(resumed)
    assert resumed.rates is not None and resumed.opt_g.param_groups[0]["lr"] is resumed.rates.tensors[0]
    stems = sorted(f.stem for f in (whole / "checkpoints" / "step-000000006").glob("*.safetensors"))
    assert {"generator", "discriminator", "optimizer_g", "optimizer_d"} <= set(stems)
    for stem in stems:  # the weights, the optimisers' moments and step counts, the random state
        a, b = weights(whole, 6, stem), weights(cut, 6, stem)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), stem
    ckpt = read_checkpoint(whole / "checkpoints" / "step-000000003")
    lr_g = ckpt.extra["optimizer_g"]["param_groups"][0]["lr"]
    assert type(lr_g) is float  # a plain number in the checkpoint, as an eager run stores it
    assert lr_g == float(torch.tensor(config.lr_g * (1 - 2 / 6), dtype=torch.float32))  # step 3 took the rate of 2


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_the_probe_finds_the_trainers_optimisers_read_a_tensor_rate_here(optimizer):
    config = resolve_config("gan", data="ring", device="cpu", overrides={"optimizer": optimizer})
    device = torch.device("cpu")
    assert rates.probe(lambda params, rate: make_optimizer(config, params, rate, device), device) is None


def test_the_probe_names_an_optimiser_that_refuses_or_ignores_a_tensor_rate():
    device = torch.device("cpu")
    refused = rates.probe(lambda params, rate: torch.optim.Adam(params, lr=rate, foreach=True), device)
    assert refused.startswith(f"torch {torch.__version__} cannot take a tensor rate on cpu (")
    assert "capturable=False and foreach=True" in refused
    copied = rates.probe(lambda params, rate: torch.optim.SGD(params, lr=float(rate) + 0.1), device)
    assert copied == f"torch {torch.__version__}'s optimiser on cpu did not follow its rate tensor"


def test_without_tensor_rates_the_run_falls_back_to_eager_steps_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(rates, "probe", lambda make, device: "torch X cannot take a tensor rate on cpu (why)")
    config = resolve_config("gan", data="ring", steps=4, device="cpu", overrides={"lr_decay": "linear", **TINY})
    trainer = Trainer(config, tmp_path / "r", progress=False)
    trainer.graphs = trainer.static = True  # as on CUDA
    trainer.setup()
    assert not trainer.graphs and not trainer.static and trainer.rates is None
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        "ganzoo: warning: CUDA graphs off: the learning rates change every step (lr_decay=linear) and "
        "torch X cannot take a tensor rate on cpu (why); training eagerly (slower); --no-cuda-graphs "
        "silences this"
    ]
    trainer.set_learning_rates()
    assert trainer.opt_g.param_groups[0]["lr"] == config.lr_g  # the eager schedule's plain numbers


@pytest.mark.cuda
def test_a_decaying_run_is_captured_on_cuda_and_trains_as_the_eager_run(tmp_path, capsys):
    found = {}
    for graphs_on in (False, True):
        config = resolve_config(
            "gan",
            data="ring",
            steps=12,
            batch_size=16,
            seed=5,
            device="cuda",
            amp=False,
            cuda_graphs=graphs_on,
            overrides={"lr_decay": "linear", **TINY},
            log_every=4,
        )
        trainer = Trainer(config, tmp_path / str(graphs_on), progress=False)
        run_loop(trainer)
        found[graphs_on] = trainer
    assert "CUDA graphs off" not in capsys.readouterr().err
    captured = found[True]
    assert captured.stepper is not None and captured.stepper.captured
    assert float(captured.rates.tensors[0]) == pytest.approx(captured.config.lr_g / 12)  # the last step's rate
    for a, b in zip(found[False].G.state_dict().values(), captured.G.state_dict().values()):
        torch.testing.assert_close(a, b.to(a.device), rtol=0, atol=1e-4)
