"""What `ganzoo train` does with a run folder that exists: resume, force, fork (--init-from), and checked
config.json."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from ganzoo.errors import GanzooError

TINY_MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
SETS = [arg for s in TINY_MLP for arg in ("--set", s)]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden ones too): its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def one_error_line(result) -> str:
    """The single stderr line of a refused command (and no traceback)."""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert lines[0].startswith("ganzoo: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A finished 2-step gan run on ring (tiny networks, EMA on) to copy from."""
    out = tmp_path_factory.mktemp("base") / "run"
    ganzoo.train("gan", data="ring", steps=2, out=out, set=TINY_MLP, ema=0.9, progress=False)
    return out


@pytest.fixture
def run(base_run, tmp_path) -> Path:
    """A private copy of the base run, free to change."""
    return Path(shutil.copytree(base_run, tmp_path / "run"))


def weights(run_dir: Path, stem: str) -> dict[str, torch.Tensor]:
    latest = sorted((run_dir / "checkpoints").glob("step-*"))[-1]
    return load_file(latest / f"{stem}.safetensors")


# ----- --resume with the run's own flags ---------------------------------------------------------------------------


def test_resume_accepts_flags_equal_to_the_runs_own_configuration(run, run_cli):
    result = run_cli(
        "train",
        "gan",
        "--data",
        "ring",
        "--batch-size",
        "100",
        "--seed",
        "0",
        "--ema",
        "0.9",
        "--set",
        "lr=1e-4",
        "--set",
        "betas=(0.8, 0.999)",
        "--set",
        "data.n=100000",
        "--set",
        "arch=mlp",
        *SETS,
        "--steps",
        "3",
        "--out",
        str(run),
        "--resume",
        str(run),
    )
    assert result.code == 0, result.err
    assert sorted(p.name for p in (run / "checkpoints").iterdir())[-1] == "step-000000003"
    assert json.loads((run / "config.json").read_text())["config"]["steps"] == 3


@pytest.mark.parametrize(
    "args, named",
    [
        (["wgan"], "variant wgan would change the run"),
        (["--data", "grid"], "--data grid would change the run"),
        (["--batch-size", "32"], "--batch-size 32 would change the run"),
        (["--seed", "5"], "--seed 5 would change the run"),
        (["--ema", "0.5"], "--ema 0.5 would change the run"),
        (["--ema", "none"], "--ema none would change the run"),
        (["--set", "lr=1"], "--set lr=1 would change the run"),
        (["--set", "arch.g_width=17"], "--set arch.g_width=17 would change the run"),
        (["--set", "loss.n_critic=2"], "--set loss.n_critic=2 would change the run"),
    ],
)
def test_resume_refuses_a_flag_that_would_change_the_run_naming_both_values(run, run_cli, args, named):
    before = snapshot(run)
    result = run_cli("train", *args, "--resume", str(run), "--steps", "4")
    assert result.code == 2
    line = one_error_line(result)
    assert named in line and "there" in line and "given" in line and f"--init-from {run}" in line
    assert snapshot(run) == before


def test_resume_names_the_runs_value_and_the_given_one(run, run_cli):
    line = one_error_line(run_cli("train", "--resume", str(run), "--set", "lr=0.5"))
    assert "(lr_g is 0.0001 there, 0.5 given)" in line
    line = one_error_line(run_cli("train", "--resume", str(run), "--set", "arch.d_width=9"))
    assert "(architecture_options.d_width is 8 there, 9 given)" in line


def test_resume_with_force_is_a_contradiction(run, run_cli):
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--force")
    assert result.code == 2 and "--force starts a run over while --resume" in one_error_line(result)
    assert snapshot(run) == before


def test_resume_with_another_out_folder_is_refused(run, run_cli, tmp_path):
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--out", str(tmp_path / "other"), "--steps", "4")
    assert result.code == 2 and f"--out {tmp_path / 'other'} is not the folder being resumed" in one_error_line(result)
    assert snapshot(run) == before and not (tmp_path / "other").exists()
    same = run_cli("train", "--resume", str(run), "--out", str(run / ".." / "run"), "--steps", "3")
    assert same.code == 0, same.err


def test_the_python_api_follows_the_same_rules(run):
    with pytest.raises(ganzoo.UsageError, match="--seed 3 would change the run"):
        ganzoo.train(resume=run, seed=3, progress=False)
    resumed = ganzoo.train("gan", resume=run, data="ring", seed=0, steps=3, progress=False)
    assert resumed.path == run and resumed.config.steps == 3


def test_train_without_a_variant_trains_dcgan_on_mnist_5k(run_cli, tmp_path):
    result = run_cli(
        "train",
        "--steps",
        "1",
        "--batch-size",
        "8",
        "--set",
        "arch.g_width=4",
        "--set",
        "arch.d_width=4",
        "--out",
        str(tmp_path / "r"),
    )
    assert result.code == 0, result.err
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())["config"]
    assert (cfg["variant"], cfg["data"], cfg["seed"], cfg["device"], cfg["compile"]) == (
        "dcgan",
        "mnist-5k",
        0,
        "auto",
        False,
    )


# ----- a no-op or failing --resume leaves config.json alone -----------------------------------------------------------


def test_a_resume_with_nothing_to_do_rewrites_nothing(run, run_cli):
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--steps", "1")
    assert result.code == 0 and "already at step 2 of 1; nothing to do" in result.out
    assert snapshot(run) == before
    assert json.loads((run / "config.json").read_text())["config"]["steps"] == 2


def test_a_resume_whose_checkpoint_does_not_fit_is_one_line_and_changes_nothing(run, run_cli):
    info = json.loads((run / "config.json").read_text())
    info["config"]["architecture_options"]["g_width"] = 12  # a valid value the stored weights do not fit
    (run / "config.json").write_text(json.dumps(info))
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--steps", "4")
    assert result.code == 1
    line = one_error_line(result)
    assert "checkpoint step 2" in line and "does not fit this configuration" in line and "size mismatch" in line
    assert snapshot(run) == before


# ----- a run killed before its first checkpoint ---------------------------------------------------------------------


def test_a_run_without_checkpoint_says_to_start_over_with_force(run, run_cli):
    shutil.rmtree(run / "checkpoints")  # what a kill before the first checkpoint leaves
    before = snapshot(run)
    resume = run_cli("train", "--resume", str(run), "--steps", "4")
    assert resume.code == 1
    line = one_error_line(resume)
    assert "stopped before its first checkpoint" in line and f"--out {run} --force" in line
    again = run_cli("train", "gan", "--data", "ring", "--steps", "2", "--out", str(run), *SETS)
    assert again.code == 2
    line = one_error_line(again)
    assert "stopped before its first checkpoint" in line and "add --force" in line and "--resume" not in line
    assert snapshot(run) == before
    forced = run_cli("train", "gan", "--data", "ring", "--steps", "2", "--out", str(run), "--force", *SETS)
    assert forced.code == 0, forced.err
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-000000002"]


# ----- --force checks everything before it replaces the old run ------------------------------------------------------


def test_force_with_an_empty_data_folder_leaves_the_old_run_untouched(run, run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    before = snapshot(run)
    result = run_cli("train", "gan", "--out", str(run), "--force", "--data", f"folder:{tmp_path / 'empty'}")
    assert result.code != 0 and "holds no images" in one_error_line(result)
    assert snapshot(run) == before


def test_force_whose_networks_cannot_take_the_init_weights_leaves_the_old_run_untouched(run, base_run, run_cli):
    before = snapshot(run)
    result = run_cli("train", "--init-from", str(base_run), "--out", str(run), "--force", "--set", "arch.g_width=32")
    assert result.code == 2 and "does not fit the networks" in one_error_line(result)
    assert snapshot(run) == before


def test_force_puts_the_old_run_back_when_the_new_config_cannot_be_written(run, monkeypatch):
    from ganzoo.training import loop

    def refuse(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loop, "write_json", refuse)
    before = snapshot(run)
    with pytest.raises(GanzooError, match="cannot write the run folder .*No space left on device"):
        ganzoo.train("gan", data="ring", steps=1, out=run, force=True, set=TINY_MLP, progress=False)
    assert snapshot(run) == before
    assert not [p for p in run.iterdir() if p.name.startswith(".ganzoo")]  # the set-aside folder is gone too


def test_force_replaces_the_old_run_and_keeps_other_files(run, run_cli):
    (run / "notes.txt").write_text("mine")
    old = json.loads((run / "config.json").read_text())
    result = run_cli(
        "train", "gan", "--data", "ring", "--steps", "3", "--set", "lr=1e-3", *SETS, "--out", str(run), "--force"
    )
    assert result.code == 0, result.err
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-000000003"]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()][0] == 1
    new = json.loads((run / "config.json").read_text())
    assert (old["config"]["lr_g"], new["config"]["lr_g"]) == (1e-4, 1e-3)
    assert (run / "notes.txt").read_text() == "mine"
    assert not [p for p in run.iterdir() if p.name.startswith(".ganzoo")]


# ----- fork: --init-from RUN ---------------------------------------------------------------------------------------


def params(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights only (batch-norm running statistics move with every forward pass)."""
    return {k: v for k, v in tensors.items() if "running_" not in k and "num_batches" not in k}


def test_init_from_starts_a_new_run_from_the_old_weights(base_run, run_cli, tmp_path):
    fork = tmp_path / "fork"
    result = run_cli("train", "--init-from", str(base_run), "--out", str(fork), "--steps", "1", "--set", "lr=1e-30")
    assert result.code == 0, result.err
    info = json.loads((fork / "config.json").read_text())
    parent = json.loads((base_run / "config.json").read_text())
    assert info["init_from"] == {"path": str(base_run.resolve()), "step": 2}
    cfg = info["config"]
    assert (cfg["variant"], cfg["data"], cfg["steps"], cfg["lr_g"], cfg["ema"]) == ("gan", "ring", 1, 1e-30, 0.9)
    for key in (
        "architecture",
        "architecture_options",
        "latent_dim",
        "optimizer",
        "betas",
        "batch_size",
        "data_options",
    ):
        assert cfg[key] == parent["config"][key], key
    assert [p.name for p in (fork / "checkpoints").iterdir()] == ["step-000000001"]  # step 0 + 1, fresh
    for stem in ("generator", "discriminator"):
        # one step at lr 1e-30 leaves every weight where the parent's checkpoint had it
        old, new = params(weights(base_run, stem)), params(weights(fork, stem))
        assert old.keys() == new.keys() and all(torch.allclose(old[k], new[k], atol=1e-6) for k in old), stem
    # the same comparison tells a fresh run from its parent
    ganzoo.train("gan", data="ring", steps=1, set=[*TINY_MLP, "lr=1e-30"], out=tmp_path / "fresh", progress=False)
    fresh, parent_g = params(weights(tmp_path / "fresh", "generator")), params(weights(base_run, "generator"))
    assert not all(torch.allclose(fresh[k], parent_g[k], atol=1e-6) for k in fresh)


def test_init_from_loads_generator_discriminator_and_ema_weights_exactly(base_run, tmp_path):
    from ganzoo.training.config import fork_config
    from ganzoo.training.loop import Trainer

    config = fork_config(ganzoo.open_run(base_run).config, steps=1)
    trainer = Trainer(config, tmp_path / "f", init_from=base_run, progress=False)
    trainer.setup()
    trainer.initialize_from(base_run)
    for module, stem in ((trainer.G, "generator"), (trainer.D, "discriminator"), (trainer.ema.module, "generator_ema")):
        saved, loaded = weights(base_run, stem), module.state_dict()
        assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved), stem
    assert not torch.equal(
        weights(base_run, "generator")["net.0.weight"], weights(base_run, "generator_ema")["net.0.weight"]
    )
    assert trainer.ema.step_offset == 2  # the EMA goes on from the parent's step instead of warming up again
    assert not (tmp_path / "f").exists()  # nothing is written before the run starts


def test_a_resumed_fork_continues_exactly(base_run, tmp_path):
    args = dict(init_from=base_run, set=["lr=1e-3"], ckpt_every=2, log_every=1, progress=False)
    whole = ganzoo.train(out=tmp_path / "whole", steps=4, **args)
    half = ganzoo.train(out=tmp_path / "half", steps=2, **args)
    ganzoo.train(resume=half.path, steps=4, progress=False)
    for stem in ("generator", "generator_ema", "discriminator"):
        a, b = weights(whole.path, stem), weights(half.path, stem)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), stem
    assert half.info["init_from"] == whole.info["init_from"] == {"path": str(base_run.resolve()), "step": 2}


def test_init_from_with_another_variant_keeps_the_networks_and_takes_the_new_recipe(base_run, tmp_path):
    fork = ganzoo.train("wgan", init_from=base_run, out=tmp_path / "w", steps=1, progress=False)
    cfg = fork.config
    parent = ganzoo.open_run(base_run).config
    assert (cfg.variant, cfg.optimizer, cfg.loss) == ("wgan", "rmsprop", "wasserstein")
    assert (cfg.architecture, cfg.architecture_options, cfg.latent_dim) == (
        parent.architecture,
        parent.architecture_options,
        parent.latent_dim,
    )
    assert fork.info["init_from"]["step"] == 2


def test_init_from_networks_that_do_not_fit_is_one_line(base_run, run_cli, tmp_path):
    before = snapshot(base_run)
    result = run_cli("train", "--init-from", str(base_run), "--out", str(tmp_path / "f"), "--set", "arch.d_width=12")
    assert result.code == 2
    line = one_error_line(result)
    assert f"--init-from {base_run}: its checkpoint step 2 does not fit" in line and "size mismatch" in line
    assert not (tmp_path / "f").exists() and snapshot(base_run) == before


def test_init_from_a_run_without_checkpoint_is_refused(run, run_cli, tmp_path):
    shutil.rmtree(run / "checkpoints")
    result = run_cli("train", "--init-from", str(run), "--out", str(tmp_path / "f"))
    assert result.code == 1 and "the run has no checkpoint yet" in one_error_line(result)
    assert not (tmp_path / "f").exists()


def test_init_from_with_resume_is_a_contradiction(run, run_cli):
    result = run_cli("train", "--init-from", str(run), "--resume", str(run))
    assert result.code == 2 and "--init-from starts a new run while --resume" in one_error_line(result)


# ----- config.json is read bounded and checked key by key ------------------------------------------------------------


def _edit(run_dir: Path, change) -> None:
    info = json.loads((run_dir / "config.json").read_text())
    change(info)
    (run_dir / "config.json").write_text(json.dumps(info))


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda d: d["config"].pop("architecture"), "'config.architecture' is missing"),
        (lambda d: d["config"].pop("betas"), "'config.betas' is missing"),
        (lambda d: d["config"].update(betas="fast"), "'config.betas' must be a list of two numbers"),
        (lambda d: d["config"].update(betas=[0.5, 2]), "'config.betas' must be two numbers each in [0, 1)"),
        (lambda d: d["config"].update(lr_g="fast"), "'config.lr_g' must be a number, got a string"),
        (lambda d: d["config"].update(lr_g=10**400), "'config.lr_g' must be a number, got an integer too large"),
        (lambda d: d["config"].update(latent_dim=10**9), "'config.latent_dim' must be an integer from 1 to 4096"),
        (lambda d: d["config"].update(steps=True), "'config.steps' must be an integer"),
        (lambda d: d["config"].update(architecture_options=[1]), "'config.architecture_options' must be an object"),
        (lambda d: d["config"].update(colour="red"), "'config.colour' is not a setting ganzoo knows"),
        (lambda d: d.update(config=[1]), "'config' must be a JSON object"),
        (lambda d: d.pop("sample_shape"), "'sample_shape' is missing"),
        (lambda d: d.update(sample_shape=[0]), "'sample_shape' must be a list of 1 to 4 sizes"),
        (lambda d: d.update(init_from={"path": 1}), "'init_from' must be an object with the keys path and step"),
        (lambda d: d.update(extra=1), "'extra' is not a key ganzoo writes"),
    ],
)
def test_a_damaged_run_config_is_one_line_naming_the_file_and_key(run, run_cli, change, named):
    _edit(run, change)
    before = snapshot(run)
    for args in (
        ["train", "--resume", str(run), "--steps", "4"],
        ["sample", str(run), "-o", str(run.parent / "s.png")],
    ):
        result = run_cli(*args)
        assert result.code == 1, result.err
        line = one_error_line(result)
        assert f"{run / 'config.json'}: " in line and named in line, line
    with pytest.raises(GanzooError, match="config.json"):
        ganzoo.open_run(run)
    assert snapshot(run) == before


def test_run_config_that_is_not_json_or_not_a_run_is_one_line(run, run_cli):
    (run / "config.json").write_text("{not json")
    assert "is not valid JSON" in one_error_line(run_cli("train", "--resume", str(run)))
    (run / "config.json").write_text(json.dumps({"architecture": "mlp"}))
    assert "is not a ganzoo run configuration" in one_error_line(run_cli("train", "--resume", str(run)))


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "mkfifo"), reason="needs /dev/zero and FIFOs")
def test_a_run_config_that_is_a_device_or_a_fifo_is_refused_without_reading_it(run, run_cli):
    (run / "config.json").unlink()
    (run / "config.json").symlink_to("/dev/zero")
    result = run_cli("train", "--resume", str(run))
    assert result.code == 1 and "is not a regular file" in one_error_line(result)
    (run / "config.json").unlink()
    os.mkfifo(run / "config.json")
    result = run_cli("train", "--resume", str(run))  # opened without blocking: no writer needed
    assert result.code == 1 and "is not a regular file" in one_error_line(result)


def test_a_run_config_over_one_mebibyte_is_refused(run, run_cli):
    (run / "config.json").write_text(" " * (1 << 20) + "{}")
    result = run_cli("train", "--resume", str(run))
    assert result.code == 1 and "more than the 1048576" in one_error_line(result)


def test_from_dict_never_raises_key_or_type_errors():
    from ganzoo.training.config import RunConfigError, TrainConfig

    for bad in (None, [], {"variant": "gan"}, {"variant": 1}, {"betas": None}):
        with pytest.raises(RunConfigError):
            TrainConfig.from_dict(bad)


# ----- bounds checked before anything is allocated -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "betas=(0.5,2)"], "betas must be two numbers each in [0, 1)"),
        (["--set", "betas=(-0.1,0.9)"], "betas must be two numbers each in [0, 1)"),
        (["--set", "latent_dim=1000000000"], "latent_dim must be an integer from 1 to 4096"),
        (["--batch-size", "1000000"], "batch-size must be at most 65536"),
        (["--set", "lr=inf"], "lr"),
        (["--set", "lr_d=nan"], "lr_d"),
        (["--seed", "-1"], "seed must be an integer from 0 to 4294967295"),
    ],
)
def test_impossible_values_are_refused_before_training(run_cli, tmp_path, args, message):
    result = run_cli("train", "gan", *args, "--out", str(tmp_path / "r"))
    assert result.code == 2 and message in one_error_line(result)
    assert not (tmp_path / "r").exists()


# ----- --push-to-hub is checked before training --------------------------------------------------------------------


def test_a_bad_push_repo_id_is_refused_before_training(run_cli, tmp_path):
    result = run_cli("train", "gan", "--steps", "1", "--out", str(tmp_path / "r"), "--push-to-hub", "not a repo id!")
    assert result.code == 2 and "is not a Hub repo id" in one_error_line(result)
    assert not (tmp_path / "r").exists()


def test_a_push_without_a_token_is_refused_before_training(run_cli, tmp_path, monkeypatch):
    import huggingface_hub.constants

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    result = run_cli("train", "gan", "--steps", "1", "--out", str(tmp_path / "r"), "--push-to-hub", "someone/model")
    assert result.code == 1 and "no Hub token found" in one_error_line(result)
    assert not (tmp_path / "r").exists()


# ----- the Python API opens existing runs ----------------------------------------------------------------------------


def test_open_run_returns_a_checked_run(base_run, tmp_path):
    opened = ganzoo.open_run(base_run)
    assert isinstance(opened, ganzoo.Run) and opened.path == base_run
    assert opened.config.variant == "gan" and [m["step"] for m in opened.metrics()] == [1, 2]
    assert {"open_run", "Run"} <= set(ganzoo.__all__)
    with pytest.raises(GanzooError, match="is not a ganzoo run folder"):
        ganzoo.open_run(tmp_path / "nowhere")


def test_a_run_folder_takes_no_sample_shape_a_generator_folder_would_refuse():
    """One set of limits: every run that reads as valid can be packaged as a generator folder."""
    from ganzoo.limits import MAX_SAMPLE_NUMEL, MAX_SAMPLE_SIDE
    from ganzoo.training.config import RunConfigError, resolve_config
    from ganzoo.training.rundir import check_run_info

    config = resolve_config("gan").as_dict()
    for shape in ([MAX_SAMPLE_SIDE + 1], [1, 8192, 16384]):  # one axis too long; too many values in all
        with pytest.raises(RunConfigError, match="sample_shape"):
            check_run_info({"config": config, "sample_shape": shape})
    check_run_info({"config": config, "sample_shape": [1, 8192, MAX_SAMPLE_NUMEL // 8192]})  # the largest allowed
