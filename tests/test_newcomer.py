"""What a new user trips over first: fine-tuning a zoo entry, labelled image folders, evaluating a folder run, progress
and timing lines, large sample counts, the precision of a zoo recipe, and which weights eval scores."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

import ganzoo
from ganzoo import Pretrained
from ganzoo.errors import GanzooError, PluginError
from ganzoo_datasets import Folder

MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
SMALL_DCGAN = ["--set", "data.size=32", "--set", "arch.g_width=8", "--set", "arch.d_width=8", "--batch-size", "8"]


@pytest.fixture
def classes(tmp_path):
    """Images sorted into two class subfolders, as a person's own labelled pictures are."""
    folder = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for name, level in (("circle", 60), ("square", 200)):
        (folder / name).mkdir(parents=True)
        for i in range(6):
            pixels = np.clip(rng.normal(level, 20, (20, 20, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(folder / name / f"{i}.png")
    return folder


# ---- --init-from a zoo entry -------------------------------------------------------------------------------------


def test_init_from_a_zoo_name_is_one_line_with_the_recipe_and_writes_nothing(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("train", "--init-from", "dcgan-digits", "--out", "tuned")
    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "names a pretrained generator" in line
    assert (
        "ganzoo zoo build dcgan-digits --out zoo-build && ganzoo train --init-from zoo-build/runs/dcgan-digits" in line
    )
    assert list(tmp_path.iterdir()) == []


def test_init_from_a_generator_folder_says_a_run_folder_is_needed(run_cli, tmp_path):
    folder = ganzoo.zoo.get_pretrained("dcgan-digits").folder
    result = run_cli("train", "--init-from", str(folder), "--out", str(tmp_path / "tuned"))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "is a generator folder" in result.err
    assert not (tmp_path / "tuned").exists()


# ---- folder: class subfolders as labels ----------------------------------------------------------------------------


def test_class_subfolders_label_a_folder_by_default(classes):
    samples = Folder(str(classes), size=16).load("train")
    assert samples.num_classes == 2 and samples.info["class_names"] == ["circle", "square"]
    assert samples.labels.tolist() == [0] * 6 + [1] * 6
    assert Folder(str(classes), size=16, labels="none").load("train").labels is None


def test_images_outside_the_class_subfolders_mean_no_labels_or_one_line_when_asked_for(classes):
    Image.new("RGB", (20, 20)).save(classes / "stray.png")
    assert Folder(str(classes), size=16).load("train").labels is None  # auto: not every image has a class
    with pytest.raises(GanzooError, match="stray.png sits in the folder itself"):
        Folder(str(classes), size=16, labels="subfolders").load("train")


def test_one_class_subfolder_is_not_enough_for_labels(tmp_path):
    (tmp_path / "only").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "only" / "a.png")
    assert Folder(str(tmp_path), size=16).load("train").labels is None
    with pytest.raises(GanzooError, match="needs 2 to 1000 class subfolders"):
        Folder(str(tmp_path), size=16, labels="subfolders").load("train")


def test_a_class_conditional_variant_trains_on_class_subfolders_and_draws_a_class(run_cli, classes, tmp_path):
    run = tmp_path / "cond"
    result = run_cli("train", "cgan-pd", "--data", f"folder:{classes}", "--steps", "2", "--out", str(run), *SMALL_DCGAN)
    assert result.code == 0, result.err
    info = json.loads((run / "config.json").read_text())
    assert info["num_classes"] == 2 and info["class_names"] == ["circle", "square"]
    assert run_cli("sample", str(run), "--class", "1", "-n", "4", "-o", str(tmp_path / "squares.png")).code == 0
    bad = run_cli(
        "train",
        "cgan-pd",
        "--data",
        f"folder:{classes}",
        "--set",
        "data.labels=none",
        "--steps",
        "2",
        "--out",
        str(tmp_path / "no"),
        *SMALL_DCGAN,
    )
    assert bad.code == 2 and "one subfolder per class" in bad.err


# ---- eval of a folder run -------------------------------------------------------------------------------------------


@pytest.fixture
def folder_run(run_cli, classes, tmp_path):
    run = tmp_path / "plain"
    result = run_cli("train", "dcgan", "--data", f"folder:{classes}", "--steps", "2", "--out", str(run), *SMALL_DCGAN)
    assert result.code == 0, result.err
    return run


def test_eval_of_a_folder_run_names_the_training_images_not_a_test_split(run_cli, folder_run):
    result = run_cli("eval", str(folder_run), "--features", "digits-cnn", "--metrics", "fid", "--no-save")
    assert result.code == 0, result.err
    protocol = next(line for line in result.out.splitlines() if line.startswith("protocol:"))
    assert "training images (folder has no test split" in protocol and "test split" not in protocol.split("(")[0]


def test_eval_without_inception_is_one_line_naming_another_extractor(run_cli, folder_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # as where the extra is not installed
    result = run_cli("eval", str(folder_run), "--no-save")
    assert result.code == 1
    [line] = result.err.strip().splitlines()
    assert "declares no feature extractor of its own, so the default is inception" in line
    assert "--features" in line and "pip install 'ganzoo[fidelity]'" in line


def test_eval_says_which_weights_it_scored_and_why(run_cli, folder_run):
    def weights(*flags: str) -> tuple[str, str]:
        result = run_cli("eval", str(folder_run), "--features", "digits-cnn", "--metrics", "fid", "--no-save", *flags)
        assert result.code == 0, result.err
        protocol = next(line for line in result.out.splitlines() if line.startswith("protocol:"))
        return protocol, next(line for line in result.out.splitlines() if line.startswith("weights:"))

    protocol, line = weights()  # 2 steps: younger than the step from which the EMA measured as well as the raw weights
    assert "(ema weights)" in protocol
    assert "the generator's EMA, which `ganzoo sample` draws and `ganzoo push` publishes" in line
    assert "before that worse: at step 2, --no-ema scores a run's raw generator" in line
    protocol, line = weights("--no-ema")
    assert "(generator weights)" in protocol and "the raw generator (--no-ema" in line


def test_eval_of_a_full_length_generator_scores_its_ema_and_says_why(run_cli):
    result = run_cli("eval", "dcgan-digits", "--metrics", "fid")
    assert result.code == 0, result.err
    assert "checkpoint step 1200 (ema weights)" in result.out
    line = next(line for line in result.out.splitlines() if line.startswith("weights:"))
    assert "from step 300 on it scored as well as the raw weights" in line and "before that" not in line


# ---- progress and timing lines ------------------------------------------------------------------------------------


def test_plain_progress_lines_give_the_share_done_and_an_eta(tmp_path, capsys):
    ganzoo.train("gan", steps=10, out=tmp_path / "r", set=MLP, device="cpu", progress=False, log_every=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")]
    assert re.search(r"  10%  ETA \d+m\d\ds$", lines[0]), lines[0]
    assert lines[-1].endswith("  100%")


def test_the_closing_line_of_a_resumed_run_gives_this_commands_steps_and_time(tmp_path, capsys):
    ganzoo.train("gan", steps=4, out=tmp_path / "r", set=MLP, device="cpu", progress=False)
    first = capsys.readouterr().out
    assert re.search(r"trained gan on ring: step 4 in 0m\d\d\.\ds", first)
    ganzoo.train(resume=tmp_path / "r", steps=8, device="cpu", progress=False)
    done = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("trained "))
    assert re.fullmatch(
        r"trained gan on ring: steps 4-8 in 0m\d\d\.\ds \(this command\); step 8 after 0m\d\d\.\ds of training in all",
        done,
    ), done


def test_many_samples_show_a_progress_bar_and_few_do_not(run_cli, tmp_path):
    many = run_cli("sample", "dcgan-digits", "-n", "2000", "--format", "npy", "-o", str(tmp_path / "many.npy"))
    assert many.code == 0 and "sampling" in many.err and "2000/2000" in many.err
    few = run_cli("sample", "dcgan-digits", "-n", "16", "-o", str(tmp_path / "few.png"))
    assert few.code == 0 and few.err == ""
    quiet = run_cli(
        "sample", "dcgan-digits", "-n", "2000", "--no-progress", "--format", "npy", "-o", str(tmp_path / "q.npy")
    )
    assert quiet.code == 0 and quiet.err == ""
    assert (tmp_path / "q.npy").read_bytes() == (tmp_path / "many.npy").read_bytes()


# ---- the zoo's recipe names its precision ---------------------------------------------------------------------------


def test_zoo_json_recipe_names_the_precision_the_entry_trained_in(run_cli):
    result = run_cli("zoo", "--json")
    assert result.code == 0
    entries = {e["name"]: e for e in json.loads(result.out)}
    assert entries["dcgan-digits"]["amp"] is False
    assert entries["dcgan-digits"]["recipe"] == "ganzoo train dcgan --data digits --steps 1200 --seed 0 --no-amp"


def test_a_bf16_entry_says_amp_and_a_bad_amp_is_refused():
    common = {
        "description": "x",
        "variant": "gan",
        "steps": 10,
        "folder": "/tmp/x",
        "license": "mit",
        "evaluation": {"metrics": ["modes"], "n": 100},
    }
    assert Pretrained(**common, amp=True).recipe().endswith("--seed 0 --amp")
    with pytest.raises(PluginError, match="amp must be True"):
        Pretrained(**common, amp="yes")
