"""Plugin contracts: a data set, architecture or metric that returns the wrong thing is one line naming the plugin,
the entry and the rule, exit 2, and nothing written; `ganzoo check NAME` runs the same checks on one entry."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from conftest import one_error_line, snapshot
from ganzoo import hookimpl
from ganzoo.architecture import Architecture
from ganzoo.data import Dataset, Samples
from ganzoo.metrics.base import Metric

DIST = "ganzoo-contracts"
TRAIN = ("--steps", "2", "--batch-size", "6", "--device", "cpu", "--no-amp")
WHO = "contractplugin (ganzoo-contracts 1.0)"


# ----- data sets returning each broken thing ------------------------------------------------------------------------
def _dataset(kind: str, make) -> type[Dataset]:
    class Made(Dataset):
        """A data set made for one test."""

        def load(self, split: str = "train") -> Samples:
            return make()

    Made.kind = kind
    return Made


def _images(n: int = 24, channels: int = 1, side: int = 8) -> torch.Tensor:
    return torch.randint(
        0, 256, (n, channels, side, side), generator=torch.Generator().manual_seed(0), dtype=torch.uint8
    )


def _points(n: int = 24) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(0))


def _nan_points() -> Samples:
    data = _points()
    data[5, 1] = float("nan")
    return Samples(data=data, kind="points")


BAD_DATA = {
    # name: (declared kind, what load() returns, the rule in the error line)
    "points-that-are-images": (
        "points",
        lambda: Samples(data=_images(), kind="image"),
        "the class declares kind 'points' but load('train') returned kind 'image'",
    ),
    "float-images": (
        "image",
        lambda: Samples(data=_images().float() / 255, kind="image"),
        "images must be uint8 0..255 [N, C, H, W], got dtype float32",
    ),
    "flat-images": (
        "image",
        lambda: Samples(data=_images().reshape(24, 64), kind="image"),
        "images must be a uint8 tensor [N, C, H, W], got shape [24, 64]",
    ),
    "nan-points": ("points", _nan_points, "load('train') returned NaN or infinite values (first in sample 5)"),
    "images-as-points": (
        "points",
        lambda: Samples(data=_images().float(), kind="points"),
        "points must be a float tensor [N, D], got shape [24, 1, 8, 8]",
    ),
    "int-points": (
        "points",
        lambda: Samples(data=_points().long(), kind="points"),
        "points must be a float tensor [N, D], got dtype int64",
    ),
    "labels-past-num-classes": (
        "points",
        lambda: Samples(data=_points(), kind="points", labels=torch.arange(24) % 4, num_classes=3),
        "label 3 is outside 0..2 (num_classes is 3)",
    ),
    "float-labels": (
        "points",
        lambda: Samples(data=_points(), kind="points", labels=torch.zeros(24), num_classes=2),
        "labels must be an integer tensor [N], got dtype float32",
    ),
    "labels-too-few": (
        "points",
        lambda: Samples(data=_points(), kind="points", labels=torch.zeros(5, dtype=torch.long), num_classes=2),
        "labels must be one per sample, shape [24], got [5]",
    ),
    "not-samples": ("points", lambda: _points(), "load('train') returned Tensor, not ganzoo.Samples"),
}


def _plugin(**entries):
    """A plugin class registering ``entries``: {"datasets": {...}, "architectures": {...}, "metrics": {...}}."""

    class ContractPlugin:
        @hookimpl
        def register_datasets(register):  # noqa: N805
            for name, obj in entries.get("datasets", {}).items():
                register(name, obj)

        @hookimpl
        def register_architectures(register):  # noqa: N805
            for name, obj in entries.get("architectures", {}).items():
                register(name, obj)

        @hookimpl
        def register_metrics(register):  # noqa: N805
            for name, obj in entries.get("metrics", {}).items():
                register(name, obj)

    return ContractPlugin


@pytest.fixture
def plugin(ganzoo_plugins):
    def register(**entries):
        ganzoo_plugins.register(_plugin(**entries), name="contractplugin", distribution=DIST, version="1.0")

    return register


def _refused(run_cli, tmp_path, *args) -> str:
    """Run ``ganzoo ARGS`` in ``tmp_path``: one error line, exit 2, nothing written there; returns the line."""
    before = snapshot(tmp_path)
    result = run_cli(*args)
    line = one_error_line(result)
    assert result.code == 2, result
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "run").exists()
    return line


@pytest.mark.parametrize("name", list(BAD_DATA))
def test_a_data_set_breaking_its_contract_is_one_line_before_any_folder(name, plugin, run_cli, tmp_path, monkeypatch):
    kind, make, rule = BAD_DATA[name]
    plugin(datasets={name: _dataset(kind, make)})
    monkeypatch.chdir(tmp_path)
    line = _refused(run_cli, tmp_path, "train", "gan", "--data", name, *TRAIN, "--out", "run")
    assert line.startswith(f"ganzoo: error: {WHO} data set {name!r}: {rule}"), line


def test_labels_past_num_classes_under_a_conditional_variant_are_one_line(plugin, run_cli, tmp_path, monkeypatch):
    kind, make, rule = BAD_DATA["labels-past-num-classes"]
    plugin(datasets={"labelled": _dataset(kind, make)})
    monkeypatch.chdir(tmp_path)
    line = _refused(run_cli, tmp_path, "train", "cgan-pd", "--data", "labelled", *TRAIN, "--out", "run")
    assert line.endswith(f"data set 'labelled': {rule}; labels must lie in 0..num_classes-1"), line


# ----- networks returning each broken thing -------------------------------------------------------------------------
class Linear(nn.Module):
    """``[B, latent] -> [B, *shape]`` times ``scale``, or through ``out`` when given."""

    def __init__(self, n_in: int, shape: tuple[int, ...], scale: float = 1.0, squash: bool = False) -> None:
        super().__init__()
        self.shape, self.scale, self.squash = shape, scale, squash
        self.layer = nn.Linear(n_in, math.prod(shape))

    def forward(self, x):
        out = self.layer(x.flatten(1)) * self.scale
        return (torch.tanh(out) if self.squash else out).reshape(x.shape[0], *self.shape)


def _architecture(g_shape=None, d_out="logits", scale=1.0, squash=True) -> type[Architecture]:
    """A tiny architecture whose generator returns ``g_shape`` per sample (default the sample shape) and whose
    discriminator returns ``d_out``: "logits" ([B]), "scalar", "column" ([B, 1]) or "half" ([B // 2])."""

    class Made(Architecture):
        """An architecture made for one test."""

        def default_latent_dim(self, sample_shape):
            return 4

        def generator(self, sample_shape, latent_dim):
            return Linear(
                latent_dim, tuple(g_shape or sample_shape), scale=scale, squash=squash and len(sample_shape) > 1
            )

        def discriminator(self, sample_shape):
            class D(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layer = nn.Linear(math.prod(sample_shape), 1)

                def forward(self, x):
                    logits = self.layer(x.flatten(1)).squeeze(1)
                    return {
                        "logits": logits,
                        "scalar": logits.mean(),
                        "column": logits[:, None],
                        "half": logits[: max(1, len(logits) // 2)],
                    }[d_out]

            return D()

    return Made


BAD_NETWORKS = {
    # name: (the architecture, data, the rule in the error line)
    "d-returns-a-scalar": (
        _architecture(d_out="scalar"),
        "ring",
        "the discriminator on a batch of 3 samples returns a scalar; it must return [B] logits, one "
        "raw score per sample, shape [3]",
    ),
    "d-returns-a-column": (
        _architecture(d_out="column"),
        "ring",
        "the discriminator on a batch of 3 samples returns shape [3, 1]; it must return [B] logits, "
        "one raw score per sample, shape [3] (end with .squeeze(1))",
    ),
    "d-returns-the-wrong-batch": (
        _architecture(d_out="half"),
        "ring",
        "the discriminator on a batch of 3 samples returns shape [1]; it must return [B] "
        "logits, one raw score per sample, shape [3]",
    ),
    "g-returns-3d-points": (
        _architecture(g_shape=(3,)),
        "ring",
        "the generator on noise [3, 4] returns shape [3, 3]; it must return [B, *sample_shape] = [3, 2]",
    ),
    "g-returns-flat-images": (
        _architecture(g_shape=(64,)),
        "tiny-images",
        "the generator on noise [3, 4] returns shape [3, 64]; it must return [B, *sample_shape] = [3, 1, 8, 8]",
    ),
    "g-without-tanh": (
        _architecture(scale=20.0, squash=False),
        "tiny-images",
        "the generator on noise [3, 4] returns images in [",
    ),
}


@pytest.mark.parametrize("name", list(BAD_NETWORKS))
def test_networks_breaking_their_contract_are_one_line_before_any_folder(name, plugin, run_cli, tmp_path, monkeypatch):
    arch, data, rule = BAD_NETWORKS[name]
    plugin(architectures={name: arch}, datasets={"tiny-images": _dataset("image", lambda: Samples(_images(), "image"))})
    monkeypatch.chdir(tmp_path)
    line = _refused(run_cli, tmp_path, "train", "gan", "--data", data, "--set", f"arch={name}", *TRAIN, "--out", "run")
    assert line.startswith(f"ganzoo: error: {WHO} architecture {name!r}: {rule}"), line
    if name == "g-without-tanh":
        assert line.endswith(
            "image generators must return values in [-1, 1], the range real images are scaled to (end with a tanh)"
        )


def test_a_packed_run_probes_one_logit_per_pack(plugin, run_cli, tmp_path, monkeypatch):
    plugin(architectures={"tiny": _architecture()})
    monkeypatch.chdir(tmp_path)
    result = run_cli("train", "gan", "--data", "ring", "--set", "arch=tiny", "--set", "pack=2", *TRAIN, "--out", "run")
    assert result.code == 0, result.err


def test_the_probe_leaves_training_exactly_as_it_was(tmp_path):
    """Two runs of one seed give the same weights whether or not the networks were probed first (the probe draws
    from its own generator and runs in eval mode)."""
    import ganzoo
    from ganzoo import contracts

    mlp = ["arch.g_width=8", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"]
    probed = ganzoo.train(
        "gan", data="ring", steps=3, batch_size=8, set=mlp, device="cpu", out=tmp_path / "a", progress=False
    )
    original = contracts.probe_networks
    try:
        import ganzoo.training.loop as loop

        loop.probe_networks = lambda *args, **kwargs: None
        plain = ganzoo.train(
            "gan", data="ring", steps=3, batch_size=8, set=mlp, device="cpu", out=tmp_path / "b", progress=False
        )
    finally:
        loop.probe_networks = original
    a = probed.generator(device="cpu").sample(16, seed=1)
    b = plain.generator(device="cpu").sample(16, seed=1)
    assert torch.equal(a, b)


# ----- metrics returning each broken thing --------------------------------------------------------------------------
def _metric(returns) -> type[Metric]:
    class Made(Metric):
        """A metric made for one test."""

        applies_to = "points"

        def compute(self, real, fake, context):
            return returns

    return Made


BAD_METRICS = {
    "returns-none": (None, "compute() returned NoneType; it must return a dict of figures {name: number}"),
    "returns-a-string": ("0.5", "compute() returned str; it must return a dict of figures {name: number}"),
    "returns-a-list": ([0.5], "compute() returned list; it must return a dict of figures {name: number}"),
    "returns-nothing": ({}, "compute() returned an empty dict; it must return at least one figure"),
    "returns-a-string-figure": ({"score": "high"}, "figure 'score' is str 'high'; each figure must be a number"),
    "returns-a-nan-figure": (
        {"score": float("nan")},
        "figure 'score' is NaN; return None for a figure that is undefined",
    ),
    "returns-a-vector-figure": ({"score": torch.ones(3)}, "figure 'score' is Tensor"),
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    import ganzoo

    mlp = ["arch.g_width=8", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"]
    folder = tmp_path_factory.mktemp("contracts") / "run"
    ganzoo.train("gan", data="ring", steps=2, batch_size=8, set=mlp, device="cpu", out=folder, progress=False)
    return folder


@pytest.mark.parametrize("name", list(BAD_METRICS))
def test_a_metric_breaking_its_contract_is_one_line_and_records_nothing(name, plugin, run_cli, tiny_run):
    returns, rule = BAD_METRICS[name]
    plugin(metrics={name: _metric(returns)})
    before = snapshot(tiny_run)
    result = run_cli("eval", str(tiny_run), "--metrics", name, "--n", "50", "--device", "cpu")
    line = one_error_line(result)
    assert result.code == 2, result
    assert line.startswith(f"ganzoo: error: {WHO} metric {name!r}: {rule}"), line
    assert snapshot(tiny_run) == before


def test_a_metric_may_return_none_for_an_undefined_figure_and_inf_and_tensors(plugin, run_cli, tiny_run):
    import json

    plugin(
        metrics={"mixed": _metric({"defined": torch.tensor(0.25), "undefined": None, "worst": math.inf, "count": 3})}
    )
    result = run_cli("eval", str(tiny_run), "--metrics", "mixed", "--n", "50", "--device", "cpu", "--json", "--no-save")
    assert result.code == 0, result.err
    ((_, values),) = [(r["metric"], r["values"]) for r in json.loads(result.out)]
    assert values["defined"] == 0.25 and values["worst"] == math.inf and values["count"] == 3.0
    assert math.isnan(values["undefined"])  # kept as NaN, which the catalogue and model cards record as None


# ----- ganzoo check ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, starts",
    [
        ("ring", "ok: datasets (ganzoo "),
        ("mlp", "ok: vanilla (ganzoo "),
        ("modes", "ok: metrics (ganzoo "),
        ("gan", "ok: vanilla (ganzoo "),
    ],
)
def test_check_passes_the_builtins(name, starts, run_cli):
    result = run_cli("check", name, "--device", "cpu")
    assert result.code == 0, result.err
    assert result.out.startswith(starts) and f"{name!r}: " in result.out, result.out


def test_check_passes_a_good_plugin_entry_of_each_kind(plugin, run_cli):
    plugin(
        datasets={"good-points": _dataset("points", lambda: Samples(_points(), "points"))},
        architectures={"good-arch": _architecture()},
        metrics={"good-metric": _metric({"score": 1.0})},
    )
    for name in ("good-points", "good-arch", "good-metric"):
        result = run_cli("check", name, "--device", "cpu")
        assert result.code == 0, result.err
        assert result.out.startswith(f"ok: {WHO} "), result.out
    shown = run_cli("check", "good-arch", "--device", "cpu").out
    assert "image [1, 32, 32] (plain, packed (pack=2))" in shown and "points [2] (plain, packed (pack=2))" in shown


@pytest.mark.parametrize(
    "entries, name, rule",
    [
        (
            {"datasets": {"flat": _dataset("image", BAD_DATA["flat-images"][1])}},
            "flat",
            "data set 'flat': images must be a uint8 tensor [N, C, H, W]",
        ),
        (
            {"architectures": {"scalar": BAD_NETWORKS["d-returns-a-scalar"][0]}},
            "scalar",
            "architecture 'scalar': the discriminator on a batch of 3 samples returns a scalar",
        ),
        (
            {"architectures": {"no-tanh": _architecture(scale=20.0, squash=False)}},
            "no-tanh",
            "architecture 'no-tanh': the generator on noise [3, 4] returns images in [",
        ),
        ({"metrics": {"listy": _metric([1.0])}}, "listy", "metric 'listy': compute() returned list"),
    ],
)
def test_check_refuses_a_bad_plugin_entry_in_one_line(entries, name, rule, plugin, run_cli, tmp_path, monkeypatch):
    plugin(**entries)
    monkeypatch.chdir(tmp_path)
    line = _refused(run_cli, tmp_path, "check", name, "--device", "cpu")
    assert line.startswith(f"ganzoo: error: {WHO} {rule}"), line


def test_check_probes_an_architecture_on_a_named_data_set(plugin, run_cli):
    plugin(
        architectures={"flat-g": _architecture(g_shape=(2,))},  # fine for 2-D points, wrong for anything else
        datasets={"tiny-images": _dataset("image", lambda: Samples(_images(), "image"))},
    )
    assert run_cli("check", "flat-g", "--data", "ring", "--device", "cpu").code == 0  # points: fine
    refused = run_cli("check", "flat-g", "--data", "tiny-images", "--device", "cpu")
    assert (
        refused.code == 2
        and "returns shape [3, 2]; it must return [B, *sample_shape] = [3, 1, 8, 8]" in one_error_line(refused)
    )


def test_check_of_an_unknown_name_or_another_kind_is_one_line(run_cli):
    result = run_cli("check", "no-such-thing")
    assert result.code == 2 and "unknown variant 'no-such-thing'" in one_error_line(result)
    loss = run_cli("check", "hinge")
    assert loss.code == 2 and one_error_line(loss) == (
        "ganzoo: error: 'hinge' is a loss; `ganzoo check` checks variants, architectures, data sets and metrics"
    )
