"""Training settings are declared once, on TrainConfig: --set, the checks, config.json, packaging, `ganzoo info` and
docs/settings.md all follow the declarations."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import one_error_line
from ganzoo.records import json_problem
from ganzoo.training.config import (
    SETTING,
    RunConfigError,
    TrainConfig,
    optimizer_keywords,
    packaged,
    resolve_config,
    run_settings,
    settable,
    settings,
    split_sets,
)

ROOT = Path(__file__).resolve().parent.parent
TINY_MLP = ["--set", "arch.g_width=16", "--set", "arch.g_depth=2", "--set", "arch.d_width=8", "--set", "arch.d_depth=2"]


def test_every_field_of_train_config_is_declared_with_a_doc():
    for f in dataclasses.fields(TrainConfig):
        declared = f.metadata.get(SETTING)
        assert declared is not None, f"TrainConfig.{f.name} is not declared with setting(...)"
        assert declared.doc.strip(), f"TrainConfig.{f.name} has no doc"
    assert list(settings()) == [f.name for f in dataclasses.fields(TrainConfig)]


def test_docs_settings_page_is_what_the_declarations_give():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "settings_table.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr  # the message names the command that regenerates the page
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name, declared in settings().items():
        assert f"| `{name}` |" in page and declared.doc in page


def test_a_stale_settings_page_names_the_command_that_regenerates_it(tmp_path, monkeypatch):
    import runpy

    tool = runpy.run_path(str(ROOT / "tools" / "settings_table.py"))
    stale = tmp_path / "settings.md"
    stale.write_text("# Training settings\n", encoding="utf-8")
    tool["main"].__globals__["PAGE"] = stale
    assert tool["main"](["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "# Training settings\n"  # --check writes nothing


def test_set_keys_and_resume_rules_come_from_the_declarations():
    assert set(settable()) == {name for name, s in settings().items() if s.settable}
    assert "steps" in run_settings() and "batch_size" not in run_settings()
    top, _ = split_sets({"lr": "1e-3", "betas": "0.1,0.2", "ema": "none"})
    assert top == {"lr_g": 1e-3, "lr_d": 1e-3, "betas": (0.1, 0.2), "ema": None}
    config = resolve_config("gan", data="ring", steps=2)
    assert set(config.identity()) == set(settings()) - set(run_settings())


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("lr_g", "fast", "must be a number, got a string"),
        ("ema", "x", "must be a number or null, got a string"),
        ("amp", 1, "must be true, false or null, got a number"),
        ("steps", 1.5, "must be an integer, got a number"),
        ("betas", [1], "must be a list of two numbers"),
        ("optimizer", 3, "must be a string, got a number"),
        ("loss_options", [], "must be an object of option names and values"),
    ],
)
def test_config_json_types_are_checked_from_the_declared_type(name, value, problem):
    assert problem in json_problem(value, settings()[name].kind)
    data = resolve_config("gan", data="ring", steps=2).as_dict()
    data[name] = value
    with pytest.raises(RunConfigError, match=f"'{name}' {problem}"):
        TrainConfig.from_dict(data)


def test_the_optimiser_takes_the_declared_keywords():
    adam = resolve_config("gan", data="ring")
    assert optimizer_keywords(adam)["betas"] == tuple(adam.betas)
    rmsprop = resolve_config("gan", data="ring", overrides={"optimizer": "rmsprop"})
    assert "betas" not in optimizer_keywords(rmsprop)


def test_packaging_records_the_declared_settings():
    config = resolve_config("gan", data="ring").as_dict()
    training = packaged(config)
    assert {"optimizer", "lr_g", "lr_d", "betas", "batch_size", "loss_options"} <= set(training)
    assert "lr_decay" not in training  # recorded only when not the default
    assert packaged({**config, "lr_decay": "linear"})["lr_decay"] == "linear"
    assert "seed" not in training and "device" not in training


def test_ganzoo_info_lists_a_variants_settings(run_cli):
    result = run_cli("info", "wgan-gp", "--kind", "variant", "--json")
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in json.loads(result.out)["settings"]}
    assert list(rows) == list(settings())
    assert rows["betas"]["default"] == [0.0, 0.9] and rows["betas"]["set"] is True  # the variant's own value
    assert rows["steps"]["resume"] == "may change" and rows["steps"]["flag"] == "--steps"
    assert rows["seed"]["set"] is False


def test_an_unknown_set_key_lists_the_declared_ones(run_cli, tmp_path):
    result = run_cli(
        "train", "gan", "--data", "ring", "--steps", "1", "--set", "colour=red", "--out", str(tmp_path / "r")
    )
    line = one_error_line(result)
    assert result.code == 2 and "unknown --set key 'colour'" in line
    for name in settable():
        assert name in line
    assert not (tmp_path / "r").exists()


def test_train_takes_one_request_or_its_fields_as_keywords(run_cli, tmp_path):
    import ganzoo
    from ganzoo import TrainRequest

    tiny = [TINY_MLP[i + 1] for i in range(0, len(TINY_MLP), 2)]
    request = TrainRequest("gan", data="ring", steps=1, batch_size=8, set=tiny, device="cpu", out=tmp_path / "a")
    by_request = ganzoo.train(request)
    by_keywords = ganzoo.train("gan", data="ring", steps=1, batch_size=8, set=tiny, device="cpu", out=tmp_path / "b")
    result = run_cli(
        "train",
        "gan",
        "--data",
        "ring",
        "--steps",
        "1",
        "--batch-size",
        "8",
        *TINY_MLP,
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "c"),
    )
    assert result.code == 0, result.err
    by_cli = ganzoo.open_run(tmp_path / "c")
    assert by_request.config == by_keywords.config == by_cli.config
    with pytest.raises(TypeError):
        ganzoo.train("gan", colour="red")
    with pytest.raises(TypeError):
        ganzoo.train(request, steps=2)


def test_eps_is_set_recorded_passed_to_the_optimiser_and_packaged(run_cli, tmp_path):
    import torch

    import ganzoo
    from ganzoo.training.loop import make_optimizer

    run = tmp_path / "run"
    common = ["gan", "--data", "ring", "--steps", "1", "--batch-size", "8", *TINY_MLP, "--device", "cpu"]
    result = run_cli("train", *common, "--set", "eps=1e-7", "--out", str(run))
    assert result.code == 0, result.err
    assert json.loads((run / "config.json").read_text())["config"]["eps"] == 1e-7
    config = ganzoo.open_run(run).config
    optimizer = make_optimizer(config, [torch.nn.Parameter(torch.zeros(2))], config.lr_g, torch.device("cpu"))
    assert optimizer.param_groups[0]["eps"] == 1e-7
    ganzoo.save_generator(run, tmp_path / "gen")
    assert json.loads((tmp_path / "gen" / "config.json").read_text())["training"]["eps"] == 1e-7

    refused = run_cli("train", "--resume", str(run), "--steps", "2", "--set", "eps=1e-6")
    assert refused.code == 2 and "eps is 1e-07 there" in one_error_line(refused)
    bad = run_cli("train", *common, "--set", "eps=0", "--out", str(tmp_path / "bad"))
    assert bad.code == 2 and "eps must be a finite number > 0, got 0.0" in one_error_line(bad)
    assert not (tmp_path / "bad").exists()

    older = resolve_config("gan", data="ring").as_dict()
    del older["eps"]  # a run folder written before the setting existed
    assert TrainConfig.from_dict(older).eps == 1e-8


def test_the_default_run_sets_its_learning_rate_only_when_nothing_is_named():
    """`ganzoo train` alone trains dcgan on mnist-5k at the default run's learning rate; naming a variant, a data set
    or `--set lr` gives the recipe's (or the one set)."""
    from ganzoo import TrainRequest
    from ganzoo.training import DEFAULT_RUN_SETS

    default = TrainRequest().resolve()
    fast = float(DEFAULT_RUN_SETS["lr"])
    assert (default.variant, default.data, default.lr_g, default.lr_d) == ("dcgan", "mnist-5k", fast, fast)
    paper = 2e-4  # the dcgan recipe's
    assert TrainRequest("dcgan").resolve().lr_g == paper
    assert TrainRequest(data="mnist-5k").resolve().lr_g == paper
    assert TrainRequest(set=["lr=1e-4"]).resolve().lr_d == 1e-4
    assert TrainRequest(set=["lr_g=1e-4"]).resolve().lr_g == 1e-4
