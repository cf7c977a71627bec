"""SNGAN: spectrally normalised discriminators, the hinge loss, and the `sngan` variant training and resuming
exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import ganzoo

TINY = {
    "digits": ["arch.g_width=4", "arch.d_width=4"],
    "ring": ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"],
}


def latest(run: Path, stem: str) -> dict[str, torch.Tensor]:
    return load_file(sorted((run / "checkpoints").glob("step-*"))[-1] / f"{stem}.safetensors")


def trained_discriminator(run: Path) -> nn.Module:
    """The run's discriminator rebuilt from its config.json and loaded from its latest checkpoint."""
    info = json.loads((run / "config.json").read_text())
    config = info["config"]
    arch = ganzoo.get_architecture(config["architecture"])(**config["architecture_options"])
    D = arch.discriminator(tuple(info["sample_shape"]))
    D.load_state_dict(latest(run, "discriminator"))
    return D.eval()  # eval: the weight uses the stored power-iteration vectors, without another iteration


def largest_singular_values(D: nn.Module) -> list[float]:
    """sigma_max of every Linear/Conv2d weight as the forward pass uses it (conv weights as [out, in*k*k])."""
    with torch.no_grad():
        return [
            torch.linalg.matrix_norm(m.weight.reshape(m.weight.shape[0], -1), ord=2).item()
            for m in D.modules()
            if isinstance(m, (nn.Linear, nn.Conv2d))
        ]


@pytest.mark.parametrize("data, extra", [("digits", []), ("ring", []), ("ring", ["arch.d_maxout=3"])])
def test_spectral_norm_keeps_every_discriminator_weight_near_unit_norm_while_training(data, extra, tmp_path):
    run = ganzoo.train(
        "sngan",
        data=data,
        steps=8,
        batch_size=16,
        out=tmp_path / "run",
        set=[*TINY[data], *extra, "lr=1e-2"],
        progress=False,
    )
    D = trained_discriminator(run.path)
    sigmas = largest_singular_values(D)
    # digits at 32 px: 4 convs; ring: 2 hidden (LeakyReLU or maxout) layers + 1 output
    assert len(sigmas) == (4 if data == "digits" else 3)
    assert all(abs(s - 1) < 0.05 for s in sigmas), sigmas
    # the raw weights underneath are not normalised: the division really happens in the forward pass
    raw = [p for name, p in D.named_parameters() if name.endswith("original")]
    assert len(raw) == len(sigmas)
    assert any(abs(torch.linalg.matrix_norm(p.reshape(p.shape[0], -1), ord=2).item() - 1) > 0.1 for p in raw)


def test_spectral_norm_is_off_by_default_and_the_state_dict_holds_the_power_iteration_vectors():
    dcgan, mlp = ganzoo.get_architecture("dcgan"), ganzoo.get_architecture("mlp")
    for plain in (dcgan(d_width=4).discriminator((1, 16, 16)), mlp(d_width=4).discriminator((2,))):
        assert not any("parametrizations" in k for k in plain.state_dict())
    for normalised in (
        dcgan(d_width=4, d_norm="none", d_spectral_norm=True).discriminator((1, 16, 16)),
        mlp(d_width=4, d_maxout=0, d_spectral_norm=True).discriminator((2,)),
        mlp(d_width=4, d_maxout=3, d_spectral_norm=True).discriminator((2,)),
    ):
        keys = normalised.state_dict().keys()
        layers = sum(isinstance(m, (nn.Linear, nn.Conv2d)) for m in normalised.modules())
        assert sum(k.endswith("._u") for k in keys) == sum(k.endswith("._v") for k in keys) == layers


def test_hinge_loss_matches_a_hand_computation():
    hinge = ganzoo.get_loss("hinge")()
    real = torch.tensor([2.0, 0.5, -1.0])  # relu(1 - x): 0, 0.5, 2
    fake = torch.tensor([-2.0, 0.0, 0.5])  # relu(1 + x): 0, 1, 1.5
    assert hinge.discriminator_loss(real, fake).item() == pytest.approx(2.5 / 3 + 2.5 / 3)
    assert hinge.generator_loss(fake).item() == pytest.approx(0.5)  # -mean(fake) = -(-1.5 / 3)
    assert hinge.n_critic == 1


def test_sngan_recipe_on_images_and_points():
    recipe = ganzoo.get_variant("sngan")
    assert (recipe.architecture, recipe.loss, recipe.betas) == ("dcgan", "hinge", (0.5, 0.999))
    assert recipe.architecture_options == {"d_spectral_norm": True, "d_norm": "none"}
    points = recipe.for_data_kind("points")
    assert (points.architecture, points.architecture_options) == ("mlp", {"d_spectral_norm": True, "d_maxout": 0})
    assert points.betas == (0.0, 0.9)


@pytest.mark.parametrize("data", ["digits", "ring"])
def test_sngan_trains_and_resumes_bitwise_exactly(data, tmp_path):
    args = dict(data=data, batch_size=8, set=TINY[data], ckpt_every=2, log_every=1, progress=False)
    whole = ganzoo.train("sngan", steps=4, out=tmp_path / "whole", **args)
    half = ganzoo.train("sngan", steps=2, out=tmp_path / "half", **args)
    ganzoo.train(resume=half.path, steps=4, progress=False)
    assert [m["step"] for m in half.metrics()] == [m["step"] for m in whole.metrics()] == [1, 2, 3, 4]
    assert all(torch.isfinite(torch.tensor([m["loss_d"], m["loss_g"]])).all() for m in whole.metrics())
    for stem in ("generator", "generator_ema", "discriminator"):
        a, b = latest(whole.path, stem), latest(half.path, stem)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), stem
    assert any(k.endswith("._u") for k in latest(half.path, "discriminator"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["sngan", "--set", "arch.d_norm=batch"], "d_spectral_norm=true needs d_norm=none, not 'batch'"),
        (["sngan", "--set", "arch.d_norm=layer"], "d_spectral_norm=true needs d_norm=none, not 'layer'"),
        (["dcgan", "--set", "arch.d_spectral_norm=true"], "add --set arch.d_norm=none"),
        (["sngan", "--set", "arch.d_spectral_norm=sometimes"], "d_spectral_norm"),
        (["sngan", "--set", "loss.n_critic=0"], "n_critic"),
    ],
)
def test_bad_spectral_norm_and_hinge_options_are_one_line(run_cli, tmp_path, args, message):
    result = run_cli("train", *args, "--steps", "1", "--out", str(tmp_path / "r"))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error:") and message in lines[0], result.err
    assert not (tmp_path / "r" / "checkpoints").exists()
