"""Seeds stacked into one batched step (`ganzoo train --seeds K`, the default where the recipe allows): a stacked seed
is the seed trained alone up to float order (same noise and data order, so the same random state), a stacked group
resumes exactly, and what cannot be stacked falls back in one line, or is refused in one line with --stack."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import ganzoo
from conftest import one_error_line, snapshot
from ganzoo.architecture import Architecture
from ganzoo.hookspecs import hookimpl
from ganzoo.training.checkpoint import latest_checkpoint
from ganzoo.training.rundir import read_train_config
from ganzoo.training.seeds import stacking, train_together

TINY_MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
FP32 = dict(data="ring", batch_size=16, amp=False, device="cpu", set=TINY_MLP, progress=False)
CLI = ["--data", "ring", "--steps", "2", "--batch-size", "8", "--device", "cpu"]
# A stacked seed after STEPS fp32 steps of the tiny 2-D recipe: each of its tensors (weights, EMA, buffers, Adam
# moments) within ATOL of the seed trained alone (float order of the batched kernels; measured ~3e-7 here).
STEPS = 10
ATOL = 1e-5


def checkpoint(run_dir):
    return latest_checkpoint(run_dir, map_location="cpu")


def float_tensors(ckpt) -> dict[str, torch.Tensor]:
    return {
        f"{part}.{name}": t
        for part, tensors in ckpt.tensors.items()
        if part != "rng"
        for name, t in tensors.items()
        if t.is_floating_point()
    }


def largest_difference(a, b) -> float:
    mine, theirs = float_tensors(a), float_tensors(b)
    assert mine.keys() == theirs.keys()
    return max((mine[k] - theirs[k]).abs().max().item() for k in mine)


def last_metrics(run_dir) -> dict:
    return json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])


def same_random_state(a, b) -> bool:
    return all(torch.equal(a.tensors["rng"][k], b.tensors["rng"][k]) for k in a.tensors["rng"])


@pytest.mark.parametrize("extra", [[], ["lr_decay=linear"]], ids=["constant-rates", "decaying-rates"])
def test_a_stacked_seed_is_the_seed_trained_alone_within_the_stated_tolerance(tmp_path, capsys, extra):
    args = {**FP32, "set": [*TINY_MLP, *extra]}
    with stacking(True):
        ganzoo.train_seeds("gan", seeds=3, steps=STEPS, out=tmp_path / "stack", **args)
    assert "stacked into one batched step" in capsys.readouterr().out
    alone = ganzoo.train("gan", seed=1, steps=STEPS, out=tmp_path / "alone", **args)
    stacked, expected = checkpoint(tmp_path / "stack" / "seed1"), checkpoint(alone.path)
    assert stacked.step == expected.step == STEPS
    assert same_random_state(stacked, expected)  # its own batches and noise, drawn in the order it draws alone
    assert largest_difference(stacked, expected) < ATOL
    other = checkpoint(tmp_path / "stack" / "seed2")
    assert largest_difference(stacked, other) > 1e-2  # (each seed its own initialisation and training)
    # each seed's logged gradient norms are its own gradients' (views of the stacked ones, in the seed's shape)
    logged = [last_metrics(tmp_path / "stack" / "seed1"), last_metrics(alone.path)]
    for key in ("grad_norm_d", "grad_norm_g"):
        assert logged[0][key] == pytest.approx(logged[1][key], rel=1e-4), key


def test_batch_norm_keeps_each_seeds_running_statistics_when_stacked(tmp_path):
    args = dict(
        data="digits",
        steps=1,
        batch_size=8,
        amp=False,
        device="cpu",
        set=["arch.g_width=4", "arch.d_width=4"],
        progress=False,
    )
    with stacking(True):
        ganzoo.train_seeds("dcgan", seeds=2, out=tmp_path / "stack", **args)
    alone = ganzoo.train("dcgan", seed=1, out=tmp_path / "alone", **args)
    stacked, expected = checkpoint(tmp_path / "stack" / "seed1"), checkpoint(alone.path)
    for part in ("generator", "discriminator"):
        stats = [k for k in expected.tensors[part] if k.endswith(("running_mean", "running_var"))]
        assert stats, part
        for key in stats:  # one step: the statistics of the seed's own batch, not the stack's
            torch.testing.assert_close(stacked.tensors[part][key], expected.tensors[part][key], rtol=1e-4, atol=1e-5)
        counts = [k for k in expected.tensors[part] if k.endswith("num_batches_tracked")]
        assert all(int(stacked.tensors[part][k]) == int(expected.tensors[part][k]) for k in counts)


def test_a_stacked_group_resumed_is_the_group_trained_without_a_break(tmp_path):
    with stacking(True):
        ganzoo.train_seeds("gan", seeds=2, steps=6, out=tmp_path / "whole", ckpt_every=3, **FP32)
        ganzoo.train_seeds("gan", seeds=2, steps=3, out=tmp_path / "broken", ckpt_every=3, **FP32)
        entries = []
        for seed in (0, 1):
            config = read_train_config(tmp_path / "broken" / f"seed{seed}")
            config.steps = 6
            entries.append((config, tmp_path / "broken" / f"seed{seed}", "resume"))
        assert train_together(entries) == {}
    for seed in (0, 1):
        whole, resumed = checkpoint(tmp_path / "whole" / f"seed{seed}"), checkpoint(tmp_path / "broken" / f"seed{seed}")
        assert whole.step == resumed.step == 6
        assert largest_difference(whole, resumed) == 0.0  # bit for bit: the same batched kernels, the same state
        assert same_random_state(whole, resumed)


def test_a_stacked_seed_resumes_on_its_own(tmp_path):
    with stacking(True):
        ganzoo.train_seeds("gan", seeds=2, steps=6, out=tmp_path / "whole", ckpt_every=3, **FP32)
        ganzoo.train_seeds("gan", seeds=2, steps=3, out=tmp_path / "part", ckpt_every=3, **FP32)
    ganzoo.train(resume=tmp_path / "part" / "seed1", steps=6, device="cpu", progress=False)
    whole, resumed = checkpoint(tmp_path / "whole" / "seed1"), checkpoint(tmp_path / "part" / "seed1")
    assert resumed.step == 6
    assert largest_difference(whole, resumed) < ATOL


# ----- what cannot be stacked ---------------------------------------------------------------------------------------
CANNOT = [
    (["wgan-gp"], "loss 'wgan-gp' has a regulariser"),
    (["sngan"], "the discriminator's layer net.1 (ParametrizedLinear): its weight is parametrised (SpectralNorm)"),
    (["cgan-pd", "--data", "digits"], "variant 'cgan-pd' is class-conditional"),
    (["gan", "--compile"], "--compile"),
]


@pytest.mark.parametrize(
    ("args", "cause"), CANNOT, ids=[a[0] + ("-compile" if "--compile" in a else "") for a, _ in CANNOT]
)
def test_stack_refuses_a_recipe_it_cannot_stack_in_one_line_before_anything_is_written(run_cli, tmp_path, args, cause):
    before = snapshot(tmp_path)
    variant, *rest = args
    result = run_cli("train", variant, *CLI, *rest, "--seeds", "2", "--stack", "--out", str(tmp_path / "group"))
    assert result.code == 2, result
    line = one_error_line(result)
    assert "--stack: these 2 runs cannot be stacked: " in line and cause in line, line
    assert snapshot(tmp_path) == before and not (tmp_path / "group").exists()


def test_an_unstackable_recipe_takes_turns_and_says_why_in_one_line(run_cli, tmp_path):
    result = run_cli("train", "wgan-gp", *CLI, "--set", "loss.n_critic=1", "--seeds", "2", "--out", str(tmp_path / "g"))
    assert result.code == 0, result.err
    said = [line for line in result.err.splitlines() if "not stacked" in line]
    assert len(said) == 1 and "loss 'wgan-gp' has a regulariser" in said[0], result.err
    assert "taking turns step by step" in result.out
    assert (tmp_path / "g" / "seed1" / "checkpoints").is_dir()


def test_stack_flags_need_seeds(run_cli, tmp_path):
    result = run_cli("train", "gan", *CLI, "--stack", "--out", str(tmp_path / "run"))
    assert result.code == 2
    assert "--stack is about the seeds of --seeds K" in one_error_line(result)
    assert not (tmp_path / "run").exists()


# ----- a plugin's networks ------------------------------------------------------------------------------------------
class Gate(nn.Module):
    """Passes its input on only when its mean is positive: a branch on a value, which vmap cannot batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.mean() > 0 else -x


def gated_architecture(layer: type[nn.Module]) -> type[Architecture]:
    class Gated(Architecture):
        """An mlp whose discriminator holds ``layer`` after its first linear layer."""

        def default_latent_dim(self, sample_shape):
            return 2

        def generator(self, sample_shape, latent_dim):
            return nn.Sequential(nn.Linear(latent_dim, 8), nn.ReLU(), nn.Linear(8, sample_shape[0]))

        def discriminator(self, sample_shape):
            return nn.Sequential(nn.Linear(sample_shape[0], 8), layer(), nn.Linear(8, 1), nn.Flatten(0))

    return Gated


def register(ganzoo_plugins, name: str, layer: type[nn.Module]) -> None:
    class Plugin:
        @hookimpl
        def register_architectures(register):  # noqa: N805
            register(name, gated_architecture(layer))

    ganzoo_plugins.register(Plugin, name=f"{name}-plugin", distribution=f"ganzoo-{name}", version="1.0")


@pytest.mark.parametrize(
    ("layer", "said"),
    [
        (Gate, "the discriminator's layer 1 (Gate) does not run batched over seeds"),
        (lambda: nn.Dropout(0.2), "the discriminator's layer 1 (Dropout): it draws random masks"),
    ],
    ids=["value-branch", "dropout"],
)
def test_a_plugin_network_with_a_layer_that_cannot_stack_is_refused_naming_the_layer(
    ganzoo_plugins, run_cli, tmp_path, layer, said
):
    register(ganzoo_plugins, "gated", layer)
    before = snapshot(tmp_path)
    result = run_cli(
        "train", "gan", *CLI, "--set", "arch=gated", "--seeds", "2", "--stack", "--out", str(tmp_path / "group")
    )
    assert result.code == 2, result
    assert said in one_error_line(result)
    assert snapshot(tmp_path) == before and not (tmp_path / "group").exists()


def test_a_plugin_network_of_plain_layers_stacks_without_the_plugin_doing_anything(ganzoo_plugins, run_cli, tmp_path):
    register(ganzoo_plugins, "plain", nn.ReLU)
    result = run_cli(
        "train", "gan", *CLI, "--set", "arch=plain", "--seeds", "2", "--stack", "--out", str(tmp_path / "g")
    )
    assert result.code == 0, result.err
    assert "stacked into one batched step" in result.out


class DoubledLinear(nn.Linear):
    """A plugin's linear subclass with a forward of its own."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 2


def test_stacked_linear_layers_run_in_bf16_as_each_seed_alone_does_with_its_gradients():
    from torch.func import functional_call, stack_module_state, vmap

    from ganzoo.training.stack import batched_template

    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(3, 16), nn.ReLU(), DoubledLinear(16, 4)) for _ in range(2)]
    params, buffers = stack_module_state(nets)
    template = batched_template(nets[0])
    x = torch.randn(2, 32, 3)
    made = []
    for layer in template:
        layer.register_forward_hook(lambda _module, _args, out: made.append(out.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        stacked = vmap(lambda p, b, x: functional_call(template, (p, b), (x,)))(params, buffers, x)
        alone = torch.stack([net(inputs) for net, inputs in zip(nets, x)])
    # the plain layer casts its bias to bf16 itself; the subclass's fp32 sum is cast back after its forward
    assert made == [torch.bfloat16] * 3 and stacked.dtype == alone.dtype == torch.bfloat16
    torch.testing.assert_close(stacked.float(), alone.float(), rtol=0.02, atol=0.02)  # bf16: the sum rounded apart
    stacked.float().square().sum().backward()
    alone.float().square().sum().backward()
    for name, p in params.items():
        assert p.grad.dtype == torch.float32 and p.grad.is_contiguous(), name
        mine = dict(nets[0].named_parameters())[name].grad, dict(nets[1].named_parameters())[name].grad
        torch.testing.assert_close(p.grad, torch.stack(mine), rtol=0.05, atol=0.05 * p.grad.abs().max().item())


def frozen_linear() -> nn.Linear:
    layer = nn.Linear(8, 8)
    layer.requires_grad_(False)
    return layer


def test_a_frozen_linear_layer_stays_frozen_when_stacked(ganzoo_plugins, run_cli, tmp_path):
    register(ganzoo_plugins, "frozen", frozen_linear)
    flags = [*CLI, "--set", "arch=frozen", "--no-amp", "--steps", "3"]
    stacked = run_cli("train", "gan", *flags, "--seeds", "2", "--stack", "--out", str(tmp_path / "group"))
    assert stacked.code == 0, stacked.err
    alone = run_cli("train", "gan", *flags, "--seed", "1", "--out", str(tmp_path / "alone"))
    assert alone.code == 0, alone.err
    mine, theirs = checkpoint(tmp_path / "group" / "seed1"), checkpoint(tmp_path / "alone")
    # the frozen layer (the stack keeps linear weights transposed) is the seed's initial one, as alone
    assert torch.equal(mine.tensors["discriminator"]["1.weight"], theirs.tensors["discriminator"]["1.weight"])
    assert largest_difference(mine, theirs) < ATOL
