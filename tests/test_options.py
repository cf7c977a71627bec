"""Declared option ranges (ganzoo.Range), checked in one place for built-in and third-party components alike."""

from __future__ import annotations

import io
import json
import math
import sys
import types
import warnings
from pathlib import Path
from typing import Annotated

import pytest

import ganzoo
from ganzoo import Range
from ganzoo.errors import GanzooError, UsageError
from ganzoo.loss import Loss
from ganzoo.options import coerce


class Hinge(Loss):
    """A third-party-style loss: the hinge objective, with declared ranges on its options."""

    def __init__(
        self,
        margin: Annotated[float, Range(0, min_exclusive=True)] = 1.0,
        n_critic: Annotated[int, ganzoo.Range(1, 10)] = 1,
        scales: tuple[Annotated[float, Range(0, 1)], ...] = (),
        cap: Annotated[float, Range(0, finite=False)] | None = None,
    ) -> None:
        self.margin, self.n_critic, self.scales, self.cap = margin, n_critic, scales, cap

    def discriminator_loss(self, real_logits, fake_logits):
        return (self.margin - real_logits).relu().mean() + (self.margin + fake_logits).relu().mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()


class HingePlugin:
    @ganzoo.hookimpl
    def register_losses(register):  # a pluggy hook, not a method: no self
        register("margin-hinge", Hinge)


@pytest.fixture
def hinge_plugin(ganzoo_plugins):
    ganzoo_plugins.register(HingePlugin, name="margin")


def _one_error_line(result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


# --------------------------------------------------------------------------- Range itself


def test_range_describes_itself_and_holds_its_values():
    assert str(Range(1, 100)) == "between 1 and 100"
    assert str(Range(0)) == ">= 0" and str(Range(0, min_exclusive=True)) == "> 0"
    assert str(Range(max=1.5, max_exclusive=True)) == "< 1.5"
    assert str(Range(0, 1, min_exclusive=True)) == "> 0 and <= 1"
    assert 1 in Range(1, 100) and 100 in Range(1, 100) and 0 not in Range(1, 100) and 101 not in Range(1, 100)
    assert 0 not in Range(0, min_exclusive=True) and 1e-9 in Range(0, min_exclusive=True)
    not_a_number = float("nan")
    assert not_a_number not in Range(0) and True not in Range(0) and "3" not in Range(0)


def test_a_range_that_holds_nothing_is_refused_when_declared():
    with pytest.raises(ValueError, match="holds no value"):
        Range(5, 1)
    with pytest.raises(ValueError, match="holds no value"):
        Range(1, 1, max_exclusive=True)
    with pytest.raises(TypeError, match="numbers or None"):
        Range(True)


def test_coerce_checks_the_range_after_converting():
    tp = Annotated[int, Range(1, 100)]
    assert coerce("7", tp, "n") == 7
    with pytest.raises(UsageError, match=r"^n: must be between 1 and 100, got -3$"):
        coerce("-3", tp, "n")
    with pytest.raises(UsageError, match=r"^n: expected int \(between 1 and 100\), got 'x'$"):
        coerce("x", tp, "n")
    # a range inside an optional or a tuple applies there too
    assert coerce("none", Annotated[int, Range(1)] | None, "k") is None
    with pytest.raises(UsageError, match=r"^k: must be >= 1, got 0$"):
        coerce("0", Annotated[int, Range(1)] | None, "k")
    with pytest.raises(UsageError, match=r"^b: must be between 0 and 1, got 1\.5$"):
        coerce("0.5,1.5", tuple[Annotated[float, Range(0, 1)], ...], "b")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400"])
def test_floats_must_be_finite_unless_the_range_allows_it(text):
    with pytest.raises(UsageError, match=r"^x: must be a finite number, got (nan|inf|-inf)$"):
        coerce(text, float, "x")
    with pytest.raises(UsageError, match=r"^x: must be a finite number"):
        coerce(f"({text}, 1)", tuple[float, float], "x")
    with pytest.raises(UsageError, match=r"^x: must be a finite number"):
        coerce(text, float | None, "x")
    assert not math.isfinite(coerce(text, Annotated[float, Range(finite=False)], "x"))


def test_a_range_allowing_infinity_still_applies_its_bounds():
    assert coerce("inf", Annotated[float, Range(0, finite=False)], "x") == float("inf")
    with pytest.raises(UsageError, match=r"^x: must be >= 0, got -inf$"):
        coerce("-inf", Annotated[float, Range(0, finite=False)], "x")
    with pytest.raises(UsageError, match=r"^x: must be >= 0, got nan$"):
        coerce("nan", Annotated[float, Range(0, finite=False)], "x")


# --------------------------------------------------------------------------- built-in components


def test_loss_n_critic_out_of_range_from_set_is_one_line_and_exit_2(run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "gan", "--data", "ring", "--steps", "1", "--out", str(out), "--set", "loss.n_critic=-3")
    assert result.code == 2
    assert (
        _one_error_line(result)
        == "ganzoo: error: loss 'nonsaturating' option 'n_critic': must be between 1 and 100, got -3"
    )
    assert not out.exists()
    result = run_cli("train", "wgan", "--steps", "1", "--out", str(out), "--set", "loss.clip=-0.5")
    assert result.code == 2
    assert _one_error_line(result) == "ganzoo: error: loss 'wasserstein' option 'clip': must be >= 0, got -0.5"
    result = run_cli("train", "wgan-gp", "--steps", "1", "--out", str(out), "--set", "loss.gp_weight=nan")
    assert result.code == 2
    assert (
        _one_error_line(result) == "ganzoo: error: loss 'wgan-gp' option 'gp_weight': must be a finite number, got nan"
    )
    assert not out.exists()


def test_loss_ranges_hold_from_python_too(tmp_path):
    with pytest.raises(UsageError, match=r"^loss 'minimax' option 'n_critic': must be between 1 and 100, got 0$"):
        ganzoo.get_loss("minimax").create("loss 'minimax'", n_critic="0")
    # built directly, without create: the same declaration applies
    with pytest.raises(UsageError, match=r"^Wasserstein option 'n_critic': must be between 1 and 100, got 0$"):
        ganzoo.get_loss("wasserstein")(n_critic=0)
    with pytest.raises(UsageError, match=r"^GradientPenalty option 'gp_weight': must be >= 0, got -1\.0$"):
        ganzoo.get_loss("wgan-gp")(gp_weight=-1.0)
    with pytest.raises(UsageError, match="option 'n_critic': must be between 1 and 100, got -3"):
        ganzoo.train("gan", data="ring", steps=1, out=tmp_path / "run", set=["loss.n_critic=-3"], progress=False)
    assert not (tmp_path / "run").exists()
    assert ganzoo.get_loss("wasserstein").create(n_critic="3", clip="0").get_options() == {"n_critic": 3, "clip": 0.0}


@pytest.mark.parametrize(
    ("kind", "name", "option", "value", "rule"),
    [
        ("architecture", "mlp", "g_depth", "0", "between 1 and 64"),
        ("architecture", "mlp", "d_maxout", "-1", "between 0 and 64"),
        ("architecture", "dcgan", "g_width", "100000", "between 1 and 512"),
        ("architecture", "timm", "g_width", "0", "between 1 and 512"),
        ("dataset", "ring", "n", "0", "between 1 and 10000000"),
        ("dataset", "grid", "seed", "-1", "between 0 and 4294967295"),
        ("metric", "kid", "subset_size", "1", "between 2 and 1000000"),
        ("metric", "kid", "subsets", "0", "between 1 and 10000"),
        ("metric", "prdc", "k", "0", "between 1 and 1000"),
        ("metric", "is", "splits", "0", "between 1 and 1000"),
        ("metric", "modes", "threshold", "0", "> 0"),
    ],
)
def test_built_in_options_declare_their_ranges(kind, name, option, value, rule):
    cls = ganzoo.entry(kind, name).obj
    assert str(cls.options()[option].range) == rule
    with pytest.raises(UsageError, match=rf"^{kind} {name!r} option {option!r}: must be {rule}, got "):
        cls.create(f"{kind} {name!r}", **{option: value})


def test_info_shows_the_range_beside_the_type(run_cli):
    result = run_cli("info", "nonsaturating")
    assert result.code == 0
    assert "n_critic: int (between 1 and 100) = 1" in result.out
    result = run_cli("info", "wasserstein", "--json")
    options = json.loads(result.out)["options"]
    assert options["clip"] == {"type": "float (>= 0)", "default": 0.01}
    assert "size: int (between 8 and 256) = 32" in run_cli("info", "digits").out
    assert "channels: 1 | 3 = 3" in run_cli("info", "folder").out


# --------------------------------------------------------------------------- a third-party component


def test_a_third_party_component_gets_the_same_checks(run_cli, hinge_plugin, tmp_path):
    result = run_cli("info", "margin-hinge")
    assert result.code == 0
    assert "margin: float (> 0) = 1.0" in result.out
    assert "n_critic: int (between 1 and 10) = 1" in result.out
    assert "cap: float (>= 0) | None = None" in result.out
    out = tmp_path / "run"
    for setting, line in [
        ("loss.margin=0", "loss 'margin-hinge' option 'margin': must be > 0, got 0.0"),
        ("loss.n_critic=11", "loss 'margin-hinge' option 'n_critic': must be between 1 and 10, got 11"),
        ("loss.margin=inf", "loss 'margin-hinge' option 'margin': must be a finite number, got inf"),
        ("loss.scales=(0.5,2)", "loss 'margin-hinge' option 'scales': must be between 0 and 1, got 2.0"),
        ("loss.cap=-1", "loss 'margin-hinge' option 'cap': must be >= 0, got -1.0"),
    ]:
        result = run_cli(
            "train",
            "gan",
            "--data",
            "ring",
            "--steps",
            "1",
            "--out",
            str(out),
            "--set",
            "loss=margin-hinge",
            "--set",
            setting,
        )
        assert result.code == 2, setting
        assert _one_error_line(result) == f"ganzoo: error: {line}"
    assert not out.exists()
    made = Hinge.create("loss 'margin-hinge'", margin="0.5", cap="inf", scales="(0, 1)")
    assert made.get_options() == {"margin": 0.5, "n_critic": 1, "scales": (0.0, 1.0), "cap": float("inf")}
    with pytest.raises(UsageError, match=r"^Hinge option 'margin': must be > 0, got -1\.0$"):
        Hinge(margin=-1)
    with pytest.raises(UsageError, match=r"^Hinge option 'n_critic': expected int \(between 1 and 10\), got '3'$"):
        Hinge(n_critic="3")


def test_a_default_outside_its_own_range_is_caught_when_built():
    class Sloppy(Loss):
        def __init__(self, n_critic: Annotated[int, Range(1, 10)] = 0) -> None:
            self.n_critic = n_critic

    with pytest.raises(UsageError, match=r"^Sloppy option 'n_critic': must be between 1 and 10, got 0$"):
        Sloppy.create()


# --------------------------------------------------------------------------- image sizes and files


def test_data_size_is_bounded_before_anything_is_resized(run_cli, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "dcgan", "--steps", "1", "--out", str(out), "--set", "data.size=100000")
    assert result.code == 2
    assert (
        _one_error_line(result)
        == "ganzoo: error: data set 'mnist-5k' option 'size': must be between 8 and 256, got 100000"
    )
    result = run_cli(
        "train", "dcgan", "--data", f"folder:{tmp_path}", "--steps", "1", "--out", str(out), "--set", "data.size=4096"
    )
    assert result.code == 2
    assert (
        _one_error_line(result)
        == "ganzoo: error: data set 'folder' option 'size': must be between 8 and 1024, got 4096"
    )
    assert not out.exists()
    from ganzoo_datasets import CIFAR10, MNIST, Folder

    with pytest.raises(UsageError, match="must be between 8 and 256, got 512"):
        MNIST(size=512)
    with pytest.raises(UsageError, match="must be between 8 and 256, got 300"):
        CIFAR10.create("data set 'cifar10'", size="300")
    assert Folder.create("data set 'folder'", argument="x", size="1024").size == 1024


def _png(path: Path, side: int, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    from PIL import Image

    Image.new("RGB", (side, side), colour).save(path)
    return path


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    _png(folder / "a.png", 16)
    _png(folder / "b.png", 64, (0, 90, 200))  # 4,096 pixels: "too large" once the limit is lowered
    return folder


@pytest.mark.parametrize("limit", [3000, 1000])  # Pillow warns above the limit and raises above twice it
def test_an_image_over_the_pixel_limit_is_one_line_naming_it(run_cli, photos, tmp_path, monkeypatch, limit):
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    out = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_cli(
            "train", "dcgan", "--data", f"folder:{photos}", "--steps", "1", "--out", str(out), "--set", "data.size=16"
        )
    assert result.code == 1
    line = _one_error_line(result)
    assert line.startswith(f"ganzoo: error: image {photos / 'b.png'} has more pixels than Pillow's limit of {limit:,} ")
    assert "site-packages" not in result.err and "skip_bad=true" in line
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert not out.exists()


def test_skip_bad_skips_an_oversized_image_and_reports_it(photos, monkeypatch, capsys):
    from PIL import Image

    from ganzoo_datasets import Folder

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)
    samples = Folder(str(photos), size=16, skip_bad=True).load()
    assert len(samples) == 1
    assert samples.info["skipped"] == [str(photos / "b.png")]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"ganzoo: warning: folder {photos}: skipped 1 unreadable or oversized image(s), the first {photos / 'b.png'}"
    ]


def _corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # the image data garbled, the header intact
        start = data.index(b"IDAT") + 4
        data[start : start + 20] = b"\xff" * 20
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_a_truncated_or_corrupt_image_is_one_line_naming_it(run_cli, tmp_path, how):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    _png(folder / "a.png", 16)
    noise = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "bad.png")
    _corrupt(folder / "bad.png", how)
    out = tmp_path / "run"
    result = run_cli(
        "train", "dcgan", "--data", f"folder:{folder}", "--steps", "1", "--out", str(out), "--set", "data.size=16"
    )
    assert result.code == 1
    line = _one_error_line(result)
    assert line.startswith(f"ganzoo: error: cannot read image {folder / 'bad.png'} (")
    assert line.endswith("fix or delete it, or pass --set data.skip_bad=true to skip such images")
    assert not out.exists()


def test_an_oversized_image_from_the_hub_is_one_error(monkeypatch):
    from PIL import Image

    from ganzoo_datasets import HF

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PNG")
    module = types.ModuleType("datasets")

    class FakeImage:  # stands for datasets.Image
        pass

    class Split(list):
        pass

    split = Split([{"img": {"bytes": buffer.getvalue()}}])
    split.features = {"img": FakeImage()}
    module.Image = FakeImage
    module.load_dataset = lambda repo, *args, **kwargs: {"train": split}
    monkeypatch.setitem(sys.modules, "datasets", module)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)
    with pytest.raises(
        GanzooError, match=r"^hf:owner/big: an image in split 'train' has more pixels than Pillow's limit of 3,000 "
    ):
        HF("owner/big", size=16).load("train")
