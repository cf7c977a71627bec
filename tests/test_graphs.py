"""The captured training step (CUDA graphs): the static step's pieces on the CPU, the fallback, and --compile.

What needs a real CUDA device is marked ``cuda`` and skipped without one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import types
from pathlib import Path

import pytest
import torch

from conftest import one_error_line
from ganzoo.training import graphs
from ganzoo.training.config import resolve_config
from ganzoo.training.loop import COLUMNS, Trainer

cuda = pytest.mark.cuda


def make_trainer(tmp_path: Path, variant: str, data: str, *, static: bool, name: str = "r", **settings) -> Trainer:
    # fp32: a captured step turns autocast's weight-cast cache off, which moves bf16 results by a rounding
    config = resolve_config(variant, data=data, batch_size=16, seed=3, device="cpu", amp=False, **settings)
    trainer = Trainer(config, tmp_path / name, progress=False)
    trainer.static = static
    trainer.setup()
    if static and trainer.ema:
        trainer.ema.start_count(0)
    return trainer


def run_steps(trainer: Trainer, steps: int) -> torch.Tensor:
    history = torch.zeros(steps, len(COLUMNS))
    for _ in range(steps):
        trainer.train_step(history)
        trainer.step += 1
    return history


@pytest.mark.parametrize(("variant", "data"), [("gan", "ring"), ("wgan-gp", "ring"), ("wgan", "digits")])
def test_static_step_trains_as_the_eager_step(tmp_path, variant, data):
    """In-place gradients, device counters and the device EMA decay change nothing in what is trained: the same
    losses, the same weights (the EMA to float rounding)."""
    steps = 6  # (each trainer seeds the global generator in setup, so each trains right after its set-up)
    eager = make_trainer(tmp_path, variant, data, static=False, name="eager")
    expected = run_steps(eager, steps)
    static = make_trainer(tmp_path, variant, data, static=True, name="static")
    got = run_steps(static, steps)
    assert torch.equal(expected, got)
    assert int(static.row) == steps  # the device row counter moved on once per step
    for a, b in zip(eager.G.state_dict().values(), static.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(eager.D.state_dict().values(), static.D.state_dict().values()):
        assert torch.equal(a, b)
    if eager.ema:
        for a, b in zip(eager.ema.module.state_dict().values(), static.ema.module.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
        assert float(static.ema.count) == steps


def test_static_step_writes_the_history_at_the_device_row(tmp_path):
    trainer = make_trainer(tmp_path, "gan", "ring", static=True)
    history = torch.full((4, len(COLUMNS)), float("nan"))
    trainer.row.fill_(2)
    trainer.train_step(history)
    assert torch.isnan(history[:2]).all() and torch.isnan(history[3]).all()
    assert torch.isfinite(history[2]).all()
    assert int(trainer.row) == 3


def test_static_step_reads_nothing_back_to_the_host(tmp_path, monkeypatch):
    """A captured step cannot read a tensor's value on the host: the static step never asks for one."""
    trainers = [
        make_trainer(tmp_path, v, d, static=True, name=v) for v, d in (("wgan-gp", "ring"), ("dcgan", "digits"))
    ]

    def refusing(name):
        original = getattr(torch.Tensor, name)

        def refuse(*args, **kwargs):
            # torch's own non-capturable optimiser path reads its step count on the CPU; on CUDA ganzoo asks for
            # capturable optimisers, which do not
            if f"torch{os.sep}optim{os.sep}" in sys._getframe(1).f_code.co_filename:
                return original(*args, **kwargs)
            raise AssertionError(f"the static step read a tensor's value on the host (Tensor.{name})")

        return refuse

    for name in ("item", "tolist", "__bool__", "__float__", "__int__", "numpy"):
        monkeypatch.setattr(torch.Tensor, name, refusing(name))
    for trainer in trainers:
        trainer.train_step(torch.zeros(2, len(COLUMNS)))


def test_optimizer_state_is_capturable_when_asked(tmp_path):
    """On CUDA the step counts of capturable optimisers live on the device; elsewhere torch keeps them as tensors
    beside the weights, and ganzoo only asks for capturable state on CUDA."""
    from ganzoo.training.loop import make_optimizer

    config = resolve_config("gan", data="ring", device="cpu")
    params = [torch.nn.Parameter(torch.ones(3))]
    opt = make_optimizer(config, params, 1e-3, torch.device("cpu"))
    params[0].grad = torch.ones(3)
    opt.step()
    assert isinstance(opt.state[params[0]]["step"], torch.Tensor)
    trainer = make_trainer(tmp_path, "gan", "ring", static=True)
    assert trainer.opt_g.defaults.get("capturable") is False  # the CPU: nothing to capture


def test_cuda_graphs_on_the_cpu_is_refused_in_one_line(run_cli, tmp_path):
    result = run_cli(
        "train",
        "gan",
        "--data",
        "ring",
        "--steps",
        "2",
        "--device",
        "cpu",
        "--cuda-graphs",
        "--out",
        str(tmp_path / "run"),
    )
    assert result.code == 2
    assert "--cuda-graphs needs a CUDA device" in one_error_line(result)
    assert not (tmp_path / "run").exists()


def _trainer(distributed: bool = False, size: int = 1, lr_decay: str = "none") -> types.SimpleNamespace:
    return types.SimpleNamespace(
        world=types.SimpleNamespace(distributed=distributed, size=size), config=types.SimpleNamespace(lr_decay=lr_decay)
    )


def test_several_processes_are_named_as_the_reason_for_eager_steps():
    assert "4 processes" in graphs.problem(_trainer(distributed=True, size=4))
    assert graphs.problem(_trainer()) is None


def test_a_learning_rate_that_decays_is_no_reason_for_eager_steps():
    assert graphs.problem(_trainer(lr_decay="linear")) is None  # the rates are device tensors the graph reads


class _FakeCuda:
    """Stands in for the torch.cuda pieces the capture uses, on the CPU, with a capture that fails the way a step
    that syncs does."""

    class Stream:
        def __init__(self, *_args):
            pass

        def wait_stream(self, _other):
            pass

    class CUDAGraph:
        pass

    captures = 0

    @classmethod
    @contextlib.contextmanager
    def graph(cls, _graph):
        cls.captures += 1
        raise RuntimeError("CUDA error: operation not permitted when stream is capturing")
        yield  # pragma: no cover

    @staticmethod
    def stream(_stream):
        return contextlib.nullcontext()

    @classmethod
    def current_stream(cls, _device=None):
        return cls.Stream()

    @staticmethod
    def synchronize(_device=None):
        pass


def test_a_step_that_cannot_be_captured_trains_eagerly_after_one_warning(tmp_path, monkeypatch, capsys):
    for name in ("Stream", "CUDAGraph", "graph", "stream", "current_stream", "synchronize"):
        monkeypatch.setattr(torch.cuda, name, getattr(_FakeCuda, name))
    recovered = []  # (what a failed capture leaves on a real device is undone by graphs.recover, tested on CUDA)
    monkeypatch.setattr(graphs, "recover", lambda device, stream: recovered.append(device))
    config = resolve_config(
        "gan", data="ring", batch_size=16, steps=8, seed=3, device="cpu", log_every=4, ema=None, amp=False
    )
    trainer = Trainer(config, tmp_path / "graphs", progress=False)
    trainer.graphs = trainer.static = True  # as on CUDA
    trainer.run()
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "CUDA graphs off" in line]
    assert len(warnings) == 1, err
    assert "operation not permitted when stream is capturing" in warnings[0]
    assert _FakeCuda.captures == 1  # tried once, after the warm-up, never again
    assert recovered == [torch.device("cpu")]
    assert trainer.stepper.done == 8
    lines = [json.loads(line) for line in (tmp_path / "graphs" / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [4, 8]

    plain = Trainer(
        resolve_config(
            "gan", data="ring", batch_size=16, steps=8, seed=3, device="cpu", log_every=4, ema=None, amp=False
        ),
        tmp_path / "plain",
        progress=False,
    )
    plain.run()
    for a, b in zip(plain.G.state_dict().values(), trainer.G.state_dict().values()):
        assert torch.equal(a, b)


def test_runs_sharing_one_graph_each_step_once_a_round(tmp_path, monkeypatch, capsys):
    """Seeds trained together on CUDA share one graph: whichever run asks first runs the round (every run's step),
    also when the first run has dropped out; here with a capture that fails, so the rounds run eagerly."""
    for name in ("Stream", "CUDAGraph", "graph", "stream", "current_stream", "synchronize"):
        monkeypatch.setattr(torch.cuda, name, getattr(_FakeCuda, name))
    monkeypatch.setattr(graphs, "recover", lambda device, stream: None)

    def pair(prefix):
        made = [make_trainer(tmp_path, "gan", "ring", static=True, name=f"{prefix}{i}") for i in range(2)]
        for trainer in made:
            trainer.begin_steps()
        return made

    a, b = pair("shared")
    shared = graphs.SharedStep([a, b], warmup=2)
    first, second = shared.member(0), shared.member(1)
    for _ in range(4):
        first(a.history)
        second(b.history)
    for _ in range(2):  # the first run failed and stopped asking: the second runs the rounds
        second(b.history)
    assert shared.rounds == 6 and int(a.row) == 6 and int(b.row) == 6
    assert [line for line in capsys.readouterr().err.splitlines() if "CUDA graphs off" in line] != []
    alone_a, alone_b = pair("alone")
    for _ in range(6):
        alone_a.train_step(alone_a.history)
        alone_b.train_step(alone_b.history)
    for x, y in zip(alone_a.G.state_dict().values(), a.G.state_dict().values()):
        assert torch.equal(x, y)
    for x, y in zip(alone_b.D.state_dict().values(), b.D.state_dict().values()):
        assert torch.equal(x, y)


def test_compile_trains_on_the_cpu(run_cli, tmp_path):
    """--compile works on the CPU (the networks compiled by torch.compile's default backend)."""
    run = tmp_path / "compiled"
    result = run_cli(
        "train",
        "gan",
        "--data",
        "ring",
        "--steps",
        "4",
        "--log-every",
        "2",
        "--device",
        "cpu",
        "--compile",
        "--out",
        str(run),
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [2, 4]
    assert all(abs(line["loss_d"]) < 100 for line in lines)
    info = json.loads((run / "config.json").read_text())
    assert info["config"]["compile"] is True


# ----- on a CUDA device -------------------------------------------------------------------------------------------


@cuda
@pytest.mark.parametrize("variant", ["gan", "wgan-gp"])
def test_cuda_step_is_captured_and_resumes_exactly(tmp_path, variant):
    from ganzoo.training import train

    data = "ring"
    straight = train(
        variant, data=data, steps=40, ckpt_every=20, out=tmp_path / "straight", device="cuda", progress=False
    )
    first = Trainer(
        resolve_config(variant, data=data, steps=20, device="cuda", ckpt_every=20), tmp_path / "split", progress=False
    )
    first.run()
    assert first.stepper is not None and first.stepper.captured
    train(resume=tmp_path / "split", steps=40, device="cuda", progress=False)
    from ganzoo.training.checkpoint import latest_checkpoint

    x = latest_checkpoint(straight.path, map_location="cpu").tensors["generator"]
    y = latest_checkpoint(tmp_path / "split", map_location="cpu").tensors["generator"]
    for key in x:
        torch.testing.assert_close(x[key], y[key], rtol=0, atol=0)


@cuda
def test_cuda_step_that_reads_a_value_back_trains_eagerly_after_one_warning(tmp_path, monkeypatch, capsys):
    from ganzoo_vanilla import NonSaturating

    plain = NonSaturating.discriminator_loss

    def syncing(self, real_logits, fake_logits):
        if float(real_logits.mean()) > 1e9:  # a host read: impossible inside a capture
            raise AssertionError
        return plain(self, real_logits, fake_logits)

    monkeypatch.setattr(NonSaturating, "discriminator_loss", syncing)
    trainer = Trainer(
        resolve_config("gan", data="ring", steps=12, device="cuda", log_every=6), tmp_path / "r", progress=False
    )
    trainer.run()
    warnings = [line for line in capsys.readouterr().err.splitlines() if "CUDA graphs off" in line]
    assert len(warnings) == 1
    assert "previous error during capture" not in warnings[0]  # the step's own error is named, not the capture's
    assert not trainer.stepper.captured
    assert trainer.step == 12
