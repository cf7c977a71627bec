"""Class-conditional generation: the projection discriminator, sampling the classes asked for, generator folders
that record their classes, exact resume, the class-accuracy metric, and the bad input around labels."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import ganzoo
from conftest import one_error_line, snapshot
from ganzoo.conditional import ProjectionDiscriminator, labels_for
from ganzoo.errors import UsageError
from ganzoo.training.checkpoint import latest_checkpoint

SMALL = ["data.size=16", "arch.g_width=8", "arch.d_width=8"]


def train_small(out, steps=4, variant="cgan-pd", **kwargs):
    return ganzoo.train(variant, steps=steps, batch_size=16, out=out, device="cpu", set=SMALL, progress=False, **kwargs)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_small(tmp_path_factory.mktemp("cgan") / "run")


def test_the_projection_adds_the_class_embedding_to_the_plain_logit():
    body, head = torch.nn.Linear(3, 4), torch.nn.Linear(4, 1)
    d = ProjectionDiscriminator(body, torch.nn.Sequential(head, torch.nn.Flatten(0)), 4, num_classes=5)
    x, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 3, 4, 0])
    d.eval()  # the embedding's spectral norm stays as it is
    features = body(x)
    expected = head(features).squeeze(1) + (d.embed(y) * features).sum(1)
    torch.testing.assert_close(d(x, y), expected)


def test_the_auxiliary_classifier_gives_the_plain_logit_and_class_logits():
    from ganzoo.conditional import Adversarial, AuxiliaryClassifierDiscriminator

    body, head = (
        torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1)),
        torch.nn.Sequential(torch.nn.Flatten(1), torch.nn.Linear(64, 1)),
    )
    d = AuxiliaryClassifierDiscriminator(body, head, 4, num_classes=3)
    x = torch.randn(5, 1, 4, 4)
    out = d(x, torch.zeros(5, dtype=torch.long))
    assert out.shape == (5, 4)
    torch.testing.assert_close(out[:, 0], head(body(x)).squeeze(1))
    torch.testing.assert_close(out[:, 1:], d.classifier(body(x).sum((2, 3))))
    torch.testing.assert_close(Adversarial(d)(x), out[:, 0])


def test_the_acgan_phases_add_the_weighted_class_cross_entropy_to_both_players():
    """The loss plugin sees the adversarial logits only; the auxiliary terms are the ACGAN phases' own."""
    from ganzoo.conditional import AuxiliaryClassifierPhases
    from ganzoo.loss import Loss

    class Mean(Loss):
        def discriminator_loss(self, real_logits, fake_logits):
            assert real_logits.shape == fake_logits.shape == (4,)
            return fake_logits.mean() - real_logits.mean()

        def generator_loss(self, fake_logits):
            return -fake_logits.mean()

    torch.manual_seed(0)
    d = torch.nn.Linear(3, 1 + 5)  # [adversarial logit, 5 class logits]
    real, fake, y = torch.randn(4, 3), torch.randn(4, 3), torch.tensor([0, 1, 4, 2])
    phases = AuxiliaryClassifierPhases(Mean(), weight=0.5)
    loss_d, real_logits, fake_logits = phases.discriminator(lambda x, _y: d(x), real, fake, y)
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(real_logits, d(real)[:, 0])
    expected = d(fake)[:, 0].mean() - d(real)[:, 0].mean() + 0.5 * (ce(d(real)[:, 1:], y) + ce(d(fake)[:, 1:], y))
    torch.testing.assert_close(loss_d, expected)
    loss_g = phases.generator(lambda x, _y: d(x), fake, y)
    torch.testing.assert_close(loss_g, -d(fake)[:, 0].mean() + 0.5 * ce(d(fake)[:, 1:], y))


def test_acgan_trains_and_samples_a_class(tmp_path):
    run = train_small(tmp_path / "acgan", variant="acgan")
    assert run.config.aux_weight == 1.0 and run.config.conditional
    rows = run.metrics()
    assert rows and all(row["loss_d"] > 0 for row in rows)  # the class cross-entropy is in D's loss
    gen = run.generator(device="cpu")
    assert gen.num_classes == 10 and gen.sample(3, seed=0, labels=4).shape == (3, 1, 16, 16)


def test_a_conditional_run_samples_the_classes_asked_for(run):
    gen = run.generator(device="cpu")
    assert gen.num_classes == 10 and gen.class_names == [str(c) for c in range(10)]
    assert gen.sample(6, seed=0, labels=3).shape == (6, 1, 16, 16)
    assert gen.sample(4, seed=0, labels=[0, 1, 2, 9]).shape == (4, 1, 16, 16)
    # the same noise with another class gives other images
    assert not torch.equal(gen.sample(4, seed=0, labels=1), gen.sample(4, seed=0, labels=2))
    assert torch.equal(labels_for(12, None, 10), torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]))
    for bad, message in ((12, "class 12 does not exist"), ([1, 2], "2 class labels for 4 samples"), (-1, "class -1")):
        with pytest.raises(UsageError, match=message):
            gen.sample(4, labels=bad)


def test_a_generator_folder_records_its_classes_and_loads_conditional(run, tmp_path):
    folder = ganzoo.save_generator(run.path, tmp_path / "gen")
    config = json.loads((folder / "config.json").read_text())
    assert config["num_classes"] == 10 and config["class_names"][7] == "7"
    card = (folder / "README.md").read_text()
    assert "labels=1" in card and "--class 1" in card and "class-conditional: 10 classes" in card
    gen = ganzoo.load_generator(folder, device="cpu")
    assert gen.num_classes == 10
    assert gen.sample(3, seed=1, labels=7).shape == (3, 1, 16, 16)


@pytest.mark.parametrize("variant", ["cgan-pd", "acgan"])
def test_a_conditional_run_resumes_exactly(tmp_path, variant):
    straight = train_small(tmp_path / "straight", steps=6, ckpt_every=3, variant=variant)
    train_small(tmp_path / "split", steps=3, variant=variant)
    ganzoo.train(resume=tmp_path / "split", steps=6, progress=False)
    a = latest_checkpoint(straight.path, map_location="cpu").tensors["generator"]
    b = latest_checkpoint(tmp_path / "split", map_location="cpu").tensors["generator"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_class_accuracy_scores_conditional_generators_only(run, tmp_path, run_cli):
    from types import SimpleNamespace

    from ganzoo.metrics.evaluate import evaluate
    from ganzoo.training.loop import load_data

    real = load_data(SimpleNamespace(data="digits", data_options={"size": 16}), "test")
    gen = run.generator(device="cpu")
    result, intra = evaluate(
        gen.sample, real, ["class-accuracy", "intra-fid"], 50, data="digits", num_classes=gen.num_classes
    )
    assert 0 <= result.values["worst_class"] <= result.values["accuracy"] <= 100
    assert result.protocol["generated_classes"] == "every class in turn"
    assert 0 < intra.values["intra_fid"] <= intra.values["worst_class_fid"]
    assert intra.protocol["intra_fid_classes"] == 10
    plain = ganzoo.train(
        "dcgan", steps=2, batch_size=16, out=tmp_path / "plain", device="cpu", set=SMALL, progress=False
    )
    for metric in ("class-accuracy", "intra-fid"):
        with pytest.raises(UsageError, match="scores class-conditional generators"):
            evaluate(plain.generator(device="cpu").sample, real, [metric], 50, data="digits", num_classes=0)
    result = run_cli("eval", str(run.path), "--n", "50", "--device", "cpu")
    assert result.code == 0, result.err
    assert "class-accuracy" in result.out and "intra-fid" in result.out  # by default for a conditional generator


def test_sampling_a_class_writes_a_grid(run, tmp_path, run_cli):
    out = tmp_path / "seven.png"
    result = run_cli("sample", str(run.path), "--class", "7", "-n", "8", "-o", str(out), "--device", "cpu")
    assert result.code == 0, result.err
    assert Image.open(out).size[0] > 16


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample", "RUN", "--class", "12"], "class 12 does not exist: this generator makes classes 0 to 9"),
        (["sample", "PLAIN", "--class", "1"], "this generator is not class-conditional"),
        (
            ["train", "cgan-pd", "--data", "folder:IMAGES", "--steps", "2", "--out", "NEW"],
            "needs a data set with class labels",
        ),
        (
            ["train", "cgan-pd", "--set", "pack=2", "--steps", "2", "--out", "NEW"],
            "packing (pack > 1) and a class-conditional",
        ),
        (
            ["train", "dcgan", "--set", "aux_weight=1", "--steps", "2", "--out", "NEW"],
            "aux_weight only weighs a class-conditional",
        ),
    ],
)
def test_bad_labels_are_one_line_and_write_nothing(run, tmp_path, run_cli, args, message):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(4):
        Image.new("L", (16, 16), color=i * 40).save(images / f"{i}.png")
    plain = ganzoo.train(
        "dcgan", steps=1, batch_size=8, out=tmp_path / "plain", device="cpu", set=SMALL, progress=False
    )
    names = {"RUN": str(run.path), "PLAIN": str(plain.path), "IMAGES": str(images), "NEW": str(tmp_path / "new")}
    args = [names.get(a, a) for a in args]
    args = [a.replace("folder:IMAGES", f"folder:{images}") for a in args]
    before = snapshot(tmp_path)
    result = run_cli(*args, "-o", str(tmp_path / "x.png")) if args[0] == "sample" else run_cli(*args, "--device", "cpu")
    assert result.code == 2, result.err
    assert message in one_error_line(result)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "new").exists() and not (tmp_path / "x.png").exists()


def test_bench_scores_a_conditional_variant_and_refuses_its_metrics_for_others(tmp_path, run_cli):
    sets = [a for s in SMALL for a in ("--set", s)]
    result = run_cli(
        "bench",
        "cgan-pd",
        "--seeds",
        "2",
        "--steps",
        "2",
        "--batch-size",
        "16",
        *sets,
        "--metrics",
        "class-accuracy",
        "--n",
        "50",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "b"),
    )
    assert result.code == 0, result.err
    (entry,) = json.loads((tmp_path / "b" / "report.json").read_text())["variants"]
    assert [run["seed"] for run in entry["runs"]] == [0, 1]
    assert entry["summary"]["accuracy"]["runs"] == 2 and 0 <= entry["summary"]["accuracy"]["mean"] <= 100
    plain = run_cli(
        "bench",
        "dcgan",
        "--seeds",
        "1",
        "--steps",
        "1",
        *sets,
        "--metrics",
        "class-accuracy",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "p"),
    )
    assert plain.code == 2 and "scores class-conditional generators" in one_error_line(plain)
    assert not (tmp_path / "p").exists()
