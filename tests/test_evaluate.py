"""Tests of ganzoo.metrics.evaluate with the built-in metric plugin: results, protocol, caching, errors."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from ganzoo.data import Samples, to_model_range
from ganzoo.errors import UnknownNameError, UsageError
from ganzoo.metrics.evaluate import Result, evaluate
from ganzoo_metrics.digits_cnn import load_split

RING = torch.tensor([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)])


@pytest.fixture(scope="module")
def digits_test() -> Samples:
    images, labels = load_split("test")
    return Samples(data=images, kind="image", labels=labels, num_classes=10)


@pytest.fixture(scope="module")
def ring() -> Samples:
    gen = torch.Generator().manual_seed(0)
    data = RING[torch.randint(0, 8, (400,), generator=gen)] + 0.01 * torch.randn(400, 2, generator=gen)
    return Samples(data=data, kind="points", modes=RING, mode_std=0.01)


def _replay(samples: Samples):
    """A fake sampler that hands back the real samples (in model units)."""

    def sample(n: int, seed: int) -> torch.Tensor:
        return to_model_range(samples.data[:n])

    return sample


def test_real_images_score_as_perfect(digits_test, monkeypatch):
    from ganzoo_metrics import DigitsCNN

    calls = []
    original = DigitsCNN.features

    def counting(self, images):
        calls.append(images.shape[0])
        return original(self, images)

    monkeypatch.setattr(DigitsCNN, "features", counting)
    results = evaluate(
        _replay(digits_test),
        digits_test,
        ["fid", "kid", "prdc", "classes", "is"],
        n=360,
        seed=0,
        data="digits",
        split="test",
        options={"kid": {"subsets": 20}},
    )
    assert [r.metric for r in results] == ["fid", "kid", "prdc", "classes", "is"]
    values = {r.metric: r.values for r in results}
    assert 0 <= values["fid"]["fid"] < 1e-6
    assert values["kid"]["kid"] < 0.01  # identical sets: the unbiased estimate sits at or below 0
    assert values["prdc"]["precision"] == 1.0 and values["prdc"]["coverage"] == 1.0
    assert values["classes"]["classes"] == 10 and values["classes"]["kl"] < 0.01
    assert values["is"]["is"] > 5
    # fid, kid and prdc share one extraction of each set: 360 real + 360 generated images
    assert sum(calls) == 720

    protocol = results[0].protocol
    for key in ("n_real", "n_generated", "data", "split", "seed", "features", "features_sha256", "features_input_size"):
        assert key in protocol, key
    assert protocol["n_real"] == 360 and protocol["n_generated"] == 360
    assert protocol["data"] == "digits" and protocol["split"] == "test" and protocol["seed"] == 0
    assert protocol["features"] == "digits-cnn" and protocol["features_input_size"] == 32
    assert len(protocol["features_sha256"]) == 64
    assert results[1].protocol["options"] == {"subsets": 20, "subset_size": 1000, "features": ""}
    assert results[1].protocol["kid_subset_size"] == 180 and results[1].protocol["kid_subsets"] == 20
    assert results[3].protocol["classes_reference"] == "labels"

    as_dict = results[0].as_dict()
    assert set(as_dict) == {"metric", "values", "protocol"} and isinstance(results[0], Result)


def test_other_digits_score_close_and_noise_far(digits_test):
    train_images, _ = load_split("train")
    other = lambda n, seed: to_model_range(train_images[:n])  # noqa: E731
    noise = lambda n, seed: torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1  # noqa: E731
    close = {r.metric: r.values for r in evaluate(other, digits_test, ["fid", "kid"], n=360, data="digits")}
    far = {r.metric: r.values for r in evaluate(noise, digits_test, ["fid", "kid"], n=360, data="digits")}
    assert close["fid"]["fid"] < 2 and abs(close["kid"]["kid"]) < 0.01
    assert far["fid"]["fid"] > 50 and far["kid"]["kid"] > 1


def test_kid_std_on_the_digits_test_split_is_a_real_spread(digits_test):
    train_images, _ = load_split("train")
    other = lambda n, seed: to_model_range(train_images[:n])  # noqa: E731
    (result,) = evaluate(other, digits_test, ["kid"], n=360, data="digits", options={"kid": {"subsets": 20}})
    # subsets of the default 1000 cannot differ among 360 samples: half of them are drawn instead
    assert result.protocol["kid_subset_size"] == 180 and result.protocol["kid_subsets"] == 20
    assert result.values["kid_std"] > 1e-6  # a spread, not rounding noise around one repeated estimate
    assert result.values["kid_std"] > abs(result.values["kid"]) / 100


def test_kid_leaves_out_its_std_when_subsets_are_tiny(digits_test):
    (result,) = evaluate(
        _replay(digits_test), digits_test, ["kid"], n=60, data="digits", options={"kid": {"subsets": 5}}
    )
    assert result.protocol["kid_subset_size"] == 30
    assert set(result.values) == {"kid"}


def test_fewer_generated_than_real_uses_a_seeded_real_subset(digits_test):
    noise = lambda n, seed: torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1  # noqa: E731
    first = evaluate(noise, digits_test, ["fid"], n=100, seed=1, data="digits")
    again = evaluate(noise, digits_test, ["fid"], n=100, seed=1, data="digits")
    other_seed = evaluate(noise, digits_test, ["fid"], n=100, seed=2, data="digits")
    assert first[0].values == again[0].values
    assert first[0].values != other_seed[0].values
    assert first[0].protocol["n_real"] == 100


def test_mode_metric_on_points(ring):
    at_modes = lambda n, seed: RING.repeat(n // 8, 1)  # noqa: E731
    (result,) = evaluate(at_modes, ring, ["modes"], n=80, data="ring")
    assert result.values == {"modes": 8.0, "hq": 100.0, "rkl": pytest.approx(0.0, abs=1e-12)}
    assert result.protocol["mode_count"] == 8
    (fid,) = evaluate(at_modes, ring, ["fid"], n=80, data="ring")
    assert fid.protocol["features"] == "coordinates"


def test_unknown_metric_suggests_close_names(digits_test):
    with pytest.raises(UnknownNameError, match="unknown metric 'fdi'; did you mean 'fid'") as info:
        evaluate(_replay(digits_test), digits_test, ["fdi"], n=10, data="digits")
    assert isinstance(info.value, UsageError)


def test_metric_that_does_not_fit_the_data(ring, digits_test):
    with pytest.raises(UsageError, match="^metric 'is' applies to images; ring holds points$"):
        evaluate(_replay(ring), ring, ["is"], n=10, data="ring")
    with pytest.raises(UsageError, match="^metric 'modes' applies to points; digits holds images$"):
        evaluate(_replay(digits_test), digits_test, ["modes"], n=10, data="digits")
    no_modes = Samples(data=ring.data, kind="points")
    with pytest.raises(UsageError, match="needs a data set with known modes"):
        evaluate(_replay(no_modes), no_modes, ["modes"], n=10, data="blobs")
    with pytest.raises(UsageError, match="feature extractors take images; ring holds points"):
        evaluate(_replay(ring), ring, ["fid"], n=10, data="ring", features="digits-cnn")


def test_too_few_samples(digits_test):
    with pytest.raises(UsageError, match=r"^metric 'kid' needs at least 2 samples, got 1; raise --n$"):
        evaluate(_replay(digits_test), digits_test, ["kid"], n=1, data="digits")
    with pytest.raises(UsageError, match=r"^metric 'prdc' needs at least 11 samples, got 8; raise --n$"):
        evaluate(_replay(digits_test), digits_test, ["prdc"], n=8, data="digits", options={"prdc": {"k": 10}})


def test_bad_options_extractors_and_samples(digits_test):
    with pytest.raises(UsageError, match="metric 'kid' has no option 'subset'"):
        evaluate(_replay(digits_test), digits_test, ["kid"], n=10, options={"kid": {"subset": 3}})

    def never(n, seed):
        raise AssertionError("sampled before the extractor was checked")

    with pytest.raises(UsageError, match="unknown features 'nope'"):
        evaluate(never, digits_test, ["fid"], n=10, features="nope")
    with pytest.raises(UsageError, match="unknown features 'nope'"):
        evaluate(never, digits_test, ["kid"], n=10, options={"kid": {"features": "nope"}})
    with pytest.raises(UsageError, match="features 'timm' needs an argument"):
        evaluate(_replay(digits_test), digits_test, ["fid"], n=10, features="timm")
    wrong = lambda n, seed: torch.zeros(n, 3, 32, 32)  # noqa: E731
    with pytest.raises(UsageError, match=r"generated samples have shape \[3, 32, 32\] but digits has \[1, 32, 32\]"):
        evaluate(wrong, digits_test, ["fid"], n=10, data="digits")


def test_timm_extractor_shapes_without_weights():
    from ganzoo_timm import TimmFeatures as Timm

    extractor = Timm("resnet10t", pretrained=False)
    with torch.inference_mode():
        feats = extractor.features(torch.rand(2, 1, 32, 32) * 2 - 1)
    assert feats.shape == (2, 512)
    assert extractor.protocol()["name"] == "timm:resnet10t"
    assert extractor.protocol()["input_size"] == 176
    with pytest.raises(UsageError, match="unknown timm model"):
        Timm("no_such_model_xyz", pretrained=False)


def test_importing_the_plugin_does_not_import_torch():
    code = (
        "import sys, ganzoo_metrics\n"
        "names = []\n"
        "ganzoo_metrics.register_metrics(lambda name, obj: names.append(name))\n"
        "ganzoo_metrics.register_features(lambda name, obj: names.append(name))\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"
        "print(' '.join(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "fid",
        "kid",
        "prdc",
        "is",
        "modes",
        "classes",
        "class-accuracy",
        "intra-fid",
        "digits-cnn",
        "mnist-cnn",
        "inception",
    ]


def test_inception_without_torch_fidelity_says_what_to_install(monkeypatch):
    from ganzoo.errors import GanzooError
    from ganzoo_metrics import Inception

    monkeypatch.setitem(sys.modules, "torch_fidelity", None)
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", None)
    with pytest.raises(GanzooError, match=r"^the inception extractor needs: pip install 'ganzoo\[fidelity\]'$"):
        Inception()


def test_inception_offline_is_one_line(monkeypatch):
    import types
    import urllib.error

    from ganzoo.errors import GanzooError
    from ganzoo_metrics import Inception

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    fake = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    fake.FeatureExtractorInceptionV3 = offline
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", fake)
    with pytest.raises(GanzooError, match="could not load the Inception v3 weights") as info:
        Inception()
    assert "\n" not in str(info.value) and "weights-inception-2015-12-05-6726825d.pth" in str(info.value)


def test_timm_offline_is_one_line(monkeypatch):
    import timm

    from ganzoo.errors import GanzooError
    from ganzoo_timm import TimmFeatures as Timm

    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files.\nCheck your connection")

    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(GanzooError, match="could not load the pretrained weights of timm model 'resnet10t'") as info:
        Timm("resnet10t")
    assert "\n" not in str(info.value)


def test_digits_from_the_data_set_plugin_default_to_digits_cnn():
    from ganzoo.plugins import registry

    if ("dataset", "digits") not in registry():
        pytest.skip("the digits data set is not registered")
    real = registry().get("dataset", "digits").obj().load("test")
    (result,) = evaluate(_replay(real), real, ["classes"], n=50)  # no data name: Samples.info says digits
    assert result.protocol["features"] == "digits-cnn"
    assert result.values["classes"] >= 9


def test_a_data_set_declares_its_default_feature_extractor(ganzoo_plugins):
    """Dataset.features picks the extractor for a data set's images, by its registered name; a split's
    Samples.info["features"] still overrides it, and an unregistered name is only a label (Inception)."""
    import ganzoo
    from ganzoo.data import Dataset
    from ganzoo.metrics.evaluate import default_features

    class Glyphs(Dataset):
        features = "digits-cnn"

    class Plugin:
        @ganzoo.hookimpl
        def register_datasets(register):
            register("glyphs", Glyphs)

    ganzoo_plugins.register(Plugin, name="glyphs")
    real = Samples(data=torch.zeros(4, 1, 8, 8, dtype=torch.uint8), kind="image")
    assert default_features(real, "glyphs") == "digits-cnn"
    assert default_features(Samples(real.data, "image", info={"name": "glyphs"})) == "digits-cnn"
    assert default_features(Samples(real.data, "image", info={"features": "inception"}), "glyphs") == "inception"
    assert default_features(real, "nowhere") == default_features(real) == "inception"


def test_importing_the_timm_plugin_does_not_import_torch():
    code = (
        "import sys, ganzoo_timm\n"
        "names = []\n"
        "ganzoo_timm.register_features(lambda name, obj: names.append(name))\n"
        "assert 'torch' not in sys.modules and 'timm' not in sys.modules\n"
        "print(' '.join(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["timm"]
