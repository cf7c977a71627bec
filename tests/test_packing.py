"""Packing (PacGAN): the discriminator judges m samples at once, for any architecture, and runs with it resume
exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from conftest import one_error_line, snapshot
from ganzoo.errors import GanzooError, UsageError
from ganzoo.packing import Packed, packed_discriminator, packed_shape
from ganzoo.training.config import TrainConfig, resolve_config
from ganzoo.training.rundir import RunConfigError, check_run_info
from ganzoo.training.seeds import stacking

TINY_MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
MLP_OPTIONS = {"d_width": 8, "d_depth": 2, "d_maxout": 2}


def weights(run_dir: Path, stem: str) -> dict[str, torch.Tensor]:
    latest = sorted((run_dir / "checkpoints").glob("step-*"))[-1]
    return load_file(latest / f"{stem}.safetensors")


def same_weights(a: Path, b: Path, stems: tuple[str, ...] = ("generator", "discriminator")) -> bool:
    for stem in stems:
        wa, wb = weights(a, stem), weights(b, stem)
        if wa.keys() != wb.keys() or not all(torch.equal(wa[k], wb[k]) for k in wa):
            return False
    return True


# ----- shapes and the wrapper -------------------------------------------------------------------------------------


def test_packed_shape_stacks_images_along_channels_and_points_along_coordinates():
    assert packed_shape((3, 32, 32), 4) == (12, 32, 32)
    assert packed_shape((1, 8, 8), 2) == (2, 8, 8)
    assert packed_shape((2,), 3) == (6,)
    assert packed_shape([2], 1) == (2,)


@pytest.mark.parametrize("m", [0, 65, -1, True, 2.0])
def test_packed_shape_refuses_a_pack_size_outside_1_to_64(m):
    with pytest.raises(UsageError, match="pack must be an integer from 1 to 64"):
        packed_shape((2,), m)


def test_a_pack_of_one_is_the_plain_discriminator_same_logits_and_same_loss():
    torch.manual_seed(0)
    plain = packed_discriminator("mlp", MLP_OPTIONS, (2,), 1)
    assert not isinstance(plain, Packed)
    wrapped = Packed(plain, 1)
    real, fake = torch.randn(10, 2), torch.randn(10, 2)
    loss = ganzoo.get_loss("nonsaturating")()
    assert torch.equal(wrapped(real), plain(real)) and wrapped(real).shape == (10,)
    assert torch.equal(
        loss.discriminator_loss(wrapped(real), wrapped(fake)), loss.discriminator_loss(plain(real), plain(fake))
    )
    assert torch.equal(loss.generator_loss(wrapped(fake)), loss.generator_loss(plain(fake)))


@pytest.mark.parametrize("sample_shape", [(2,), (1, 4, 4)])
def test_packs_of_two_are_consecutive_samples_concatenated_along_the_first_axis(sample_shape):
    torch.manual_seed(0)
    D = packed_discriminator("mlp", MLP_OPTIONS, sample_shape, 2)
    assert isinstance(D, Packed) and D.m == 2
    x = torch.randn(6, *sample_shape)
    logits = D(x)
    assert logits.shape == (3,)
    for i in range(3):
        pack = torch.cat([x[2 * i], x[2 * i + 1]], dim=0).unsqueeze(0)
        assert torch.allclose(logits[i], D.inner(pack)[0])
    changed = x.clone()
    changed[3] += 1.0  # sample 3 belongs to pack 1 only
    moved = D(changed) != logits
    assert moved.tolist() == [False, True, False]


def test_a_batch_that_does_not_split_into_whole_packs_is_an_error():
    D = packed_discriminator("mlp", MLP_OPTIONS, (2,), 4)
    with pytest.raises(GanzooError, match="a batch of 6 samples cannot be cut into packs of 4"):
        D(torch.randn(6, 2))


def test_a_joint_real_and_fake_batch_never_mixes_them_in_one_pack(tmp_path):
    """The trainer's one-forward path over [real; fake] gives the logits of real and fake judged apart."""
    from ganzoo.training.loop import Trainer

    config = resolve_config(
        "pacgan2", steps=1, batch_size=8, overrides={k: v for k, v in (s.split("=") for s in TINY_MLP)}, device="cpu"
    )
    trainer = Trainer(config, tmp_path / "run")
    trainer.setup()
    assert isinstance(trainer.D, Packed) and trainer.D.m == 2
    assert trainer.d_per_sample  # the joint path is the one this run takes
    real, labels = trainer.draw_batch()
    assert labels is None  # (labels come with the batch for class-conditional runs only)
    fake = trainer.G(torch.randn(8, config.latent_dim)).detach()
    real_logits, fake_logits = trainer.D(torch.cat([real, fake])).chunk(2)
    assert real_logits.shape == fake_logits.shape == (4,)
    assert torch.allclose(real_logits, trainer.D(real)) and torch.allclose(fake_logits, trainer.D(fake))
    assert not (tmp_path / "run").exists()  # setting up writes nothing


def test_images_pack_along_channels_with_a_convolutional_discriminator(tmp_path):
    run = ganzoo.train(
        "dcgan",
        data="digits",
        steps=2,
        batch_size=8,
        out=tmp_path / "run",
        progress=False,
        set=["pack=4", "arch.g_width=4", "arch.d_width=4"],
    )
    assert json.loads((run.path / "config.json").read_text())["config"]["pack"] == 4
    first = next(v for k, v in weights(run.path, "discriminator").items() if k.endswith("weight") and v.dim() == 4)
    assert first.shape[1] == 4  # four 1-channel digits make one 4-channel input
    assert all(k.startswith("inner.") for k in weights(run.path, "discriminator"))


# ----- variants and configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "m", "batch"), [("pacgan2", 2, 200), ("pacgan3", 3, 300), ("pacgan4", 4, 400)])
def test_pacgan_variants_are_the_gan_recipe_with_packing(name, m, batch):
    recipe, gan = ganzoo.get_variant(name), ganzoo.get_variant("gan")
    assert (recipe.pack, recipe.batch_size) == (m, batch)
    assert (recipe.architecture, recipe.loss, recipe.lr_g, recipe.lr_d, recipe.betas, recipe.data) == (
        gan.architecture,
        gan.loss,
        gan.lr_g,
        gan.lr_d,
        gan.betas,
        gan.data,
    )
    config = resolve_config(name)
    assert (config.pack, config.batch_size) == (m, batch)
    assert resolve_config("gan").pack == 1


def test_set_pack_reaches_the_configuration():
    assert resolve_config("gan", overrides={"pack": "4"}).pack == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "pack=0"], "pack must be an integer from 1 to 64"),
        (["--set", "pack=65"], "pack must be an integer from 1 to 64"),
        (["--set", "pack=3"], "pack 3 does not divide batch_size 100"),
        (["--set", "pack=4", "--batch-size", "10"], "e.g. --batch-size 8"),
        (["--set", "pack=two"], "pack"),
    ],
)
def test_a_bad_pack_is_one_usage_error_line_and_writes_nothing(run_cli, tmp_path, args, message):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("kept")
    before = snapshot(tmp_path)
    result = run_cli("train", "gan", "--data", "ring", "--steps", "2", "--out", str(folder / "run"), *args)
    assert result.code == 2
    assert message in one_error_line(result)
    assert snapshot(tmp_path) == before


def test_a_run_config_with_an_impossible_pack_is_one_line_naming_the_key():
    config = resolve_config("pacgan2").as_dict()
    info = {"config": {**config, "pack": 3}, "sample_shape": [2]}
    with pytest.raises(RunConfigError, match=r"'config.pack' 3 does not divide batch_size 200"):
        check_run_info(info)
    with pytest.raises(RunConfigError, match=r"'config.pack' must be an integer"):
        check_run_info({"config": {**config, "pack": "2"}, "sample_shape": [2]})


# ----- runs --------------------------------------------------------------------------------------------------------


def test_a_pacgan2_run_on_ring_resumes_bitwise_exactly(tmp_path):
    args = dict(data="ring", batch_size=8, set=TINY_MLP, ema=0.9, log_every=1, ckpt_every=2, progress=False)
    whole = ganzoo.train("pacgan2", steps=4, out=tmp_path / "whole", **args)
    half = ganzoo.train("pacgan2", steps=2, out=tmp_path / "half", **args)
    ganzoo.train(resume=half.path, steps=4, progress=False)
    assert same_weights(whole.path, half.path, ("generator", "generator_ema", "discriminator"))
    assert all(k.startswith("inner.") for k in weights(half.path, "discriminator"))
    assert half.config.pack == 2
    assert [m["loss_d"] for m in half.metrics()] == [m["loss_d"] for m in whole.metrics()]


def test_a_run_written_before_packing_existed_still_resumes_exactly(tmp_path):
    args = dict(data="ring", batch_size=8, set=TINY_MLP, ckpt_every=2, progress=False)
    whole = ganzoo.train("gan", steps=4, out=tmp_path / "whole", **args)
    half = ganzoo.train("gan", steps=2, out=tmp_path / "old", **args)
    path = half.path / "config.json"
    info = json.loads(path.read_text())
    del info["config"]["pack"]  # what an older ganzoo wrote
    path.write_text(json.dumps(info))
    assert half.config.pack == 1
    assert TrainConfig.from_dict(info["config"]).identity() == whole.config.identity()
    ganzoo.train(resume=half.path, steps=4, progress=False)
    assert same_weights(whole.path, half.path)


def test_resuming_with_another_pack_is_refused_and_changes_nothing(run_cli, tmp_path):
    run = ganzoo.train(
        "pacgan2", data="ring", steps=2, batch_size=8, out=tmp_path / "run", set=TINY_MLP, progress=False
    )
    before = snapshot(run.path)
    result = run_cli("train", "--resume", str(run.path), "--steps", "4", "--set", "pack=4")
    assert result.code == 2
    assert "pack" in one_error_line(result)
    assert snapshot(run.path) == before


# ----- a packed discriminator learns (PacGAN's discriminator must not sit at chance) ------------------------------


def logit_gap_after_training(m: int, steps: int = 200, seed: int = 0, **options) -> float:
    """Mean real logit minus mean fake logit of the `gan` recipe's discriminator, built for packs of ``m`` and
    trained ``steps`` steps with the recipe's loss and optimiser on 100 packs a step of grid points against a
    cloud with the grid's mean and spread (N(0, 8 I): what a generator that matched the first two moments makes,
    where a discriminator that adds up the coordinates of all m samples in its first layer stopped learning)."""
    from ganzoo.training.loop import make_optimizer
    from ganzoo_datasets.toys import mixture_modes

    torch.manual_seed(seed)
    config = resolve_config(
        "pacgan4" if m > 1 else "gan", overrides={"pack": str(m), "batch_size": str(100 * m)}, device="cpu"
    )
    D = packed_discriminator("mlp", {**config.architecture_options, **options}, (2,), m)
    loss = ganzoo.get_loss("nonsaturating")()
    optimizer = make_optimizer(config, D.parameters(), config.lr_d, torch.device("cpu"))
    modes = mixture_modes("grid")
    for _ in range(steps):
        real = modes[torch.randint(len(modes), (100 * m,))] + 0.05 * torch.randn(100 * m, 2)
        fake = 8**0.5 * torch.randn(100 * m, 2)
        real_logits, fake_logits = D(torch.cat([real, fake])).chunk(2)
        optimizer.zero_grad()
        loss.discriminator_loss(real_logits, fake_logits).backward()
        optimizer.step()
    with torch.no_grad():
        real = modes[torch.randint(len(modes), (1000 * m,))] + 0.05 * torch.randn(1000 * m, 2)
        return float(D(real).mean() - D(8**0.5 * torch.randn(1000 * m, 2)).mean())


@pytest.mark.parametrize("m", [2, 4])
def test_a_packed_discriminator_tells_real_from_a_matched_cloud_at_least_as_well_as_the_unpacked_one(m):
    unpacked = logit_gap_after_training(1)
    assert unpacked > 0.1  # the unpacked discriminator does learn in this many steps
    assert logit_gap_after_training(m) >= unpacked


def test_the_paper_codes_dense_first_layer_stays_near_chance_where_per_sample_learns():
    """The measured cause of PacGAN's flat discriminator, kept as an option: with a dense first layer over all
    coordinates of a pack of 4 the gap stays a fraction of the per-sample layer's."""
    dense = logit_gap_after_training(4, d_pack_input="dense")
    per_sample = logit_gap_after_training(4)
    assert dense < per_sample / 4


def test_a_per_sample_first_layer_sees_each_sample_of_a_pack_apart():
    torch.manual_seed(0)
    D = packed_discriminator("mlp", MLP_OPTIONS, (2,), 3)
    first = D.inner.net[1]
    assert first.m == 3 and first.layer.linear.in_features == 2  # one sample's coordinates
    assert first.layer.width == 8 // 3  # the three samples share the layer's width
    assert D.inner.net[2].linear.in_features == 3 * 2  # the next layer judges the three samples together
    x = torch.randn(6, 2)
    features = first(D.inner.net[0](x.reshape(2, 6)))
    assert torch.allclose(features[1, 2:4], first.layer(x[4:5])[0])  # pack 1, sample 1 = sample 4


# ----- every path groups packs the same way -------------------------------------------------------------------------


def recorded_packs(
    tmp_path: Path, *, separate: bool = False, static: bool = False
) -> tuple[list, torch.Tensor, torch.Tensor]:
    """One `pacgan2` training step with the discriminator's inputs recorded: (inputs of D's packed network per
    call, the real batch, the fake batch)."""
    from ganzoo.training.loop import COLUMNS, Trainer

    config = resolve_config(
        "pacgan2", steps=1, batch_size=8, device="cpu", overrides=dict(s.split("=") for s in TINY_MLP)
    )
    trainer = Trainer(config, tmp_path / "run")
    trainer.setup()
    trainer.static = static
    if separate:
        trainer.d_per_sample = False
    seen: list[torch.Tensor] = []
    trainer.D.inner.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()))
    drawn: dict[str, torch.Tensor] = {}
    batch = trainer.draw_batch

    def remembered_batch():
        real, labels = batch()
        drawn["real"] = real.clone()
        return real, labels

    trainer.draw_batch = remembered_batch

    def remember_fake(_module, _args, out):
        drawn.setdefault("fake", out.detach().clone())  # (returns None: the output stays the generator's)

    trainer.G.register_forward_hook(remember_fake)
    trainer.begin_steps()
    trainer.train_step(torch.zeros(1, len(COLUMNS)))
    return seen, drawn["real"], drawn["fake"]


def packs_of(samples: torch.Tensor, m: int) -> torch.Tensor:
    """Pack i = samples i*m .. i*m+m-1, side by side."""
    return torch.stack([torch.cat(list(samples[i * m : (i + 1) * m])) for i in range(samples.shape[0] // m)])


@pytest.mark.parametrize("static", [False, True], ids=["eager", "static"])
def test_the_joint_pass_packs_real_samples_then_fake_ones_never_mixed(tmp_path, static):
    seen, real, fake = recorded_packs(tmp_path, static=static)
    joint, generator_step = seen  # D over [real; fake], then D over the fakes for G's loss
    assert torch.equal(joint[:4], packs_of(real, 2)) and torch.equal(joint[4:], packs_of(fake, 2))
    assert torch.equal(generator_step, packs_of(fake, 2))


def test_separate_passes_pack_the_same_samples(tmp_path):
    seen, real, fake = recorded_packs(tmp_path, separate=True)
    assert [s.shape[0] for s in seen] == [4, 4, 4]
    assert torch.equal(seen[0], packs_of(real, 2)) and torch.equal(seen[1], packs_of(fake, 2))
    assert torch.equal(seen[2], packs_of(fake, 2))


def test_a_pacgan_seed_trained_with_others_is_the_seed_trained_alone(tmp_path):
    args = dict(data="ring", steps=3, batch_size=8, set=TINY_MLP, progress=False)
    with stacking(False):  # taking turns: bit for bit (a stacked seed differs in float order, see test_stacked)
        ganzoo.train_seeds("pacgan2", out=tmp_path / "group", seeds=2, **args)
    alone = ganzoo.train("pacgan2", out=tmp_path / "alone", seed=1, **args)
    assert same_weights(tmp_path / "group" / "seed1", alone.path)
