"""Variant recipes per data kind: image variants train 2-D points with settings made for points."""

from __future__ import annotations

import json

import pytest

import ganzoo
from ganzoo.variant import Variant

TINY_MLP = ["--set", "arch.g_width=16", "--set", "arch.g_depth=2", "--set", "arch.d_width=8", "--set", "arch.d_depth=2"]


def trained_config(run_cli, tmp_path, *args: str) -> dict:
    """Train one step with ``ganzoo train ARGS`` and return the configuration the run folder records."""
    out = tmp_path / "run"
    result = run_cli("train", *args, "--steps", "1", "--batch-size", "8", "--out", str(out))
    assert result.code == 0, result.err
    return json.loads((out / "config.json").read_text())["config"]


def test_wgan_gp_on_points_trains_with_the_toy_penalty_and_betas(run_cli, tmp_path):
    config = trained_config(run_cli, tmp_path, "wgan-gp", "--data", "ring", *TINY_MLP)
    assert config["architecture"] == "mlp"
    assert "d_norm" not in config["architecture_options"]  # the DCGAN critic's option does not follow to the mlp
    assert config["loss_options"]["gp_weight"] == 0.1
    assert tuple(config["betas"]) == (0.5, 0.9)
    assert config["steps"] == 1 and config["lr_g"] == config["lr_d"] == 1e-4


def test_wgan_gp_on_images_keeps_the_paper_settings(run_cli, tmp_path):
    config = trained_config(
        run_cli,
        tmp_path,
        "wgan-gp",
        "--data",
        "digits",
        "--set",
        "arch.g_width=4",
        "--set",
        "arch.d_width=4",
        "--set",
        "data.size=16",
    )
    assert (config["architecture"], config["architecture_options"]["d_norm"]) == ("dcgan", "layer")
    assert config["loss_options"]["gp_weight"] == 10.0
    assert tuple(config["betas"]) == (0.0, 0.9)


def test_set_flags_override_the_points_settings(run_cli, tmp_path):
    config = trained_config(
        run_cli, tmp_path, "wgan-gp", "--data", "ring", *TINY_MLP, "--set", "loss.gp_weight=5", "--set", "betas=0,0.9"
    )
    assert config["loss_options"]["gp_weight"] == 5.0
    assert tuple(config["betas"]) == (0.0, 0.9)


def test_info_shows_the_points_settings(run_cli):
    result = run_cli("info", "wgan-gp", "--kind", "variant", "--json")
    assert result.code == 0, result.err
    overrides = json.loads(result.out)["recipe"]["data_kind_overrides"]
    assert overrides["points"]["loss_options"] == {"gp_weight": 0.1}


def test_for_data_kind_switches_architecture_then_applies_the_kinds_fields():
    recipe = Variant(
        "a recipe",
        "dcgan",
        "nonsaturating",
        steps=100,
        architecture_options={"d_norm": "layer"},
        points_architecture="mlp",
        data_kind_overrides={"points": {"steps": 300, "batch_size": 100}, "image": {"lr_g": 1e-3}},
    )
    points = recipe.for_data_kind("points")
    assert (points.architecture, points.architecture_options, points.steps, points.batch_size) == ("mlp", {}, 300, 100)
    assert (points.lr_g, points.data) == (2e-4, "digits")
    image = recipe.for_data_kind("image")
    assert (image.architecture, image.architecture_options, image.steps, image.lr_g) == (
        "dcgan",
        {"d_norm": "layer"},
        100,
        1e-3,
    )
    assert recipe.for_data_kind("audio") == recipe  # a kind the recipe says nothing about: the recipe as it is


@pytest.mark.parametrize("name", ["data", "description", "data_kind_overrides", "lr"])
def test_an_override_naming_a_field_it_cannot_replace_is_refused(name):
    with pytest.raises(ValueError, match=rf"data_kind_overrides\['points'\] names '{name}'"):
        Variant("a recipe", "mlp", "nonsaturating", data_kind_overrides={"points": {name: 1}})


def test_every_builtin_override_names_a_real_setting():
    """Each built-in variant resolves on points and on images without an error (names and values checked)."""
    from ganzoo.training.config import resolve_config

    for name in ganzoo.list_variants():
        for data in ("ring", "digits"):
            config = resolve_config(name, data=data)
            assert config.data == data
