"""The model card: only real Hub ids in its front matter, honest units, every reported figure shown."""

from __future__ import annotations

import math

import pytest

from ganzoo.card import model_card
from ganzoo.folder import validate_config
from ganzoo.packaging import _with_license


def _config(**changes):
    config = {
        "architecture": "dcgan",
        "architecture_options": {},
        "latent_dim": 100,
        "sample_shape": [1, 32, 32],
        "data_kind": "image",
        "variant": "dcgan",
        "loss": "nonsaturating",
        "data": "digits",
        "steps": 100,
        "metrics": [],
    }
    config.update(changes)
    return validate_config(config)


def _fid(split="test"):
    return {"metric": "fid", "values": {"fid": 12.5}, "protocol": {"split": split, "features": "digits-cnn"}}


def test_hub_dataset_gets_a_model_index():
    card = model_card(_config(data="mnist", sample_shape=[1, 28, 28], metrics=[_fid()]))
    assert card.data.datasets == ["ylecun/mnist"]
    (result,) = card.data.eval_results
    assert (result.task_type, result.dataset_type, result.metric_value) == (
        "unconditional-image-generation",
        "ylecun/mnist",
        12.5,
    )
    assert card.data.model_name and card.data.pipeline_tag == "unconditional-image-generation"


def test_local_dataset_names_no_hub_dataset():
    card = model_card(_config(metrics=[_fid()]))
    assert card.data.datasets is None and card.data.eval_results is None
    assert card.data.ganzoo_results == [{"metric": "fid", "value": 12.5, "dataset": "digits", "split": "test"}]
    assert "model_name" not in card.data.to_dict()
    assert "| fid | 12.5 |" in card.text


def test_card_without_results_has_no_model_name():
    data = model_card(_config()).data.to_dict()
    assert "model_name" not in data and "eval_results" not in data and "ganzoo_results" not in data


def test_points_card_says_data_units_and_scatter_plot():
    config = _config(architecture="mlp", latent_dim=2, sample_shape=[2], data_kind="points", variant="gan", data="ring")
    card = model_card(config)
    assert "in [-1, 1]" not in card.text and "in the data set's own coordinates" in card.text
    assert "scatter plot" in card.text and "grid" not in card.text
    front = card.data.to_dict()
    assert "pipeline_tag" not in front and "unconditional-generation" not in card.content


def test_infinite_reverse_kl_is_shown_not_dropped():
    metrics = [{"metric": "modes", "values": {"modes": 7.0, "rkl": "inf"}, "protocol": {"split": "test"}}]
    card = model_card(
        _config(architecture="mlp", latent_dim=2, sample_shape=[2], data_kind="points", data="ring", metrics=metrics)
    )
    assert "| modes-rkl | inf" in card.text
    assert all(math.isfinite(r["value"]) for r in card.data.ganzoo_results)


def test_license_defaults_to_the_data_sets_and_can_be_set():
    assert _with_license(_config(), None)["license"] == "cc-by-4.0"
    assert "license" not in _with_license(_config(data="ring", data_kind="points", sample_shape=[2]), None)
    assert _with_license(_config(), "Apache-2.0")["license"] == "apache-2.0"
    card = model_card(_with_license(_config(), "mit"))
    assert card.data.license == "mit" and "| licence | mit |" in card.text


@pytest.mark.parametrize("bad", ["Not a licence!", "", 7])
def test_bad_license_is_refused(bad):
    from ganzoo.errors import GeneratorConfigError

    with pytest.raises(GeneratorConfigError, match="license must be a Hub licence id"):
        validate_config({**_config(), "license": bad})


def test_a_data_set_declares_its_hub_dataset(ganzoo_plugins, capsys):
    """The card links the Hub dataset a data set declares (a class attribute, or its argument for ``hf:``), and
    says in one line when the data set's plugin is missing."""
    import ganzoo
    from ganzoo.data import Dataset

    class Sketches(Dataset):
        hub_dataset = "someone/sketches"

    class Plugin:
        @ganzoo.hookimpl
        def register_datasets(register):
            register("sketches", Sketches)

    ganzoo_plugins.register(Plugin, name="sketches")
    assert model_card(_config(data="sketches", metrics=[_fid()])).data.datasets == ["someone/sketches"]
    assert model_card(_config(data="hf:org/faces@v2", metrics=[_fid()])).data.datasets == ["org/faces"]
    assert capsys.readouterr().err == ""
    card = model_card(_config(data="not-installed", metrics=[_fid()]))
    assert card.data.datasets is None and card.data.ganzoo_results[0]["dataset"] == "not-installed"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown dataset 'not-installed'" in err and "names no Hub dataset" in err
