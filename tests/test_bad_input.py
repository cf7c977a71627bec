"""A corpus of bad inputs: every one ends in exactly one line on stderr, a non-zero exit, no traceback, and
leaves every file that was there before byte-for-byte (and mtime-for-mtime) as it was.

Each case builds what it needs in a fresh workspace (copies of one tiny run and one generator folder, made
once for the module), runs one ``ganzoo`` command in this process, and checks the rule. The cases are grouped
by what they attack: hostile files, side effects before validation, tracebacks, values accepted silently.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

import ganzoo
from conftest import one_error_line, run_process, snapshot
from ganzoo.files import sha256_file

MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    """One tiny gan run on ring (4 steps, checkpoints at 2 and 4) and the generator folder saved from it."""
    base = tmp_path_factory.mktemp("originals")
    run = ganzoo.train(
        "gan", data="ring", steps=4, ckpt_every=2, out=base / "run", set=MLP, device="cpu", progress=False
    )
    generator = ganzoo.save_generator(run, base / "generator")
    return {"run": run.path, "generator": generator}


@dataclass
class Case:
    """``ganzoo ARGS`` in a workspace that ``setup`` prepared; the one error line must contain ``expect``."""

    args: tuple[str, ...]
    expect: str
    code: int = 1
    setup: Callable[[Path, dict[str, Path]], None] = lambda work, originals: None
    env: dict[str, str] = field(default_factory=dict)


def copy(name: str, to: str = "") -> Callable[[Path, dict[str, Path]], None]:
    return lambda work, originals: shutil.copytree(originals[name], work / (to or name), symlinks=True)


def then(*steps: Callable[[Path, dict[str, Path]], None]) -> Callable[[Path, dict[str, Path]], None]:
    def run(work: Path, originals: dict[str, Path]) -> None:
        for step in steps:
            step(work, originals)

    return run


def edit_json(path: str, change: Callable[[dict], None]) -> Callable[[Path, dict[str, Path]], None]:
    def run(work: Path, originals: dict[str, Path]) -> None:
        data = json.loads((work / path).read_text())
        change(data)
        (work / path).write_text(json.dumps(data))

    return run


def do(action: Callable[[Path], object]) -> Callable[[Path, dict[str, Path]], None]:
    return lambda work, originals: action(work) and None


def escape_manifest(work: Path) -> None:
    """Every checkpoint's manifest also names a file outside the run, with that file's true sha256."""
    outside = work / "escape.safetensors"
    for checkpoint in sorted((work / "run" / "checkpoints").iterdir()):
        shutil.copyfile(checkpoint / "generator.safetensors", outside)
        manifest = json.loads((checkpoint / "state.json").read_text())
        manifest["files"]["../../../escape.safetensors"] = sha256_file(outside)
        (checkpoint / "state.json").write_text(json.dumps(manifest))


def replace_config(how: str) -> Callable[[Path], None]:
    def run(work: Path) -> None:
        config = work / "run" / "config.json"
        config.unlink()
        if how == "dev-zero":
            config.symlink_to("/dev/zero")
        else:
            os.mkfifo(config)

    return run


def nan_weights(work: Path) -> None:
    from safetensors.torch import load_file, save_file

    path = work / "generator" / "model.safetensors"
    tensors = load_file(path)
    first = sorted(tensors)[0]
    tensors[first] = torch.full_like(tensors[first], float("nan"))
    save_file(tensors, path)


def empty_run(work: Path) -> None:
    """A run killed before its first checkpoint: config.json and nothing else."""
    (work / "early").mkdir()
    shutil.copyfile(work / "run" / "config.json", work / "early" / "config.json")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CASES: dict[str, Case] = {
    # --- hostile files: names that leave their folder, devices that never end --------------------------------------
    "manifest-names-a-file-outside": Case(
        ("train", "--resume", "run", "--steps", "8"),
        "refusing this checkpoint",
        setup=then(copy("run"), do(escape_manifest)),
    ),
    "config-is-dev-zero/sample": Case(
        ("sample", "run", "-o", "out.png"),
        "not a regular file",
        setup=then(copy("run"), do(replace_config("dev-zero"))),
    ),
    "config-is-dev-zero/resume": Case(
        ("train", "--resume", "run", "--steps", "8"),
        "not a regular file",
        setup=then(copy("run"), do(replace_config("dev-zero"))),
    ),
    "config-is-a-fifo/info": Case(
        ("info", "run"), "not a regular file", setup=then(copy("run"), do(replace_config("fifo")))
    ),
    # --- side effects before validation ------------------------------------------------------------------------------
    "force-with-an-empty-image-folder": Case(
        ("train", "dcgan", "--data", "folder:empty", "--out", "run", "--force"),
        "no images",
        setup=then(copy("run"), do(lambda w: (w / "empty").mkdir())),
    ),
    "push-to-hub-with-a-bad-repo-id": Case(
        ("train", "gan", "--data", "ring", "--out", "new", "--push-to-hub", "not a repo id!"),
        "is not a Hub repo id",
        code=2,
    ),
    "push-of-weights-that-do-not-fit": Case(
        ("push", "generator", "someone/misfit"),
        "does not fit architecture 'mlp'",
        setup=then(
            copy("generator"),
            edit_json("generator/config.json", lambda c: c["architecture_options"].update(g_width=32)),
        ),
    ),
    "resume-that-would-change-the-seed": Case(
        ("train", "--resume", "run", "--steps", "8", "--seed", "3"),
        "--seed 3 would change the run",
        code=2,
        setup=copy("run"),
    ),
    # --- tracebacks where one line belongs ---------------------------------------------------------------------------
    "betas-out-of-range": Case(("train", "--set", "betas=(0.5,2)", "--out", "new"), "betas must be", code=2),
    "latent-size-of-a-billion": Case(
        ("train", "--set", "latent_dim=1000000000", "--out", "new"), "latent_dim must be", code=2
    ),
    "image-size-of-100000": Case(("train", "--set", "data.size=100000", "--out", "new"), "option 'size'", code=2),
    "sample-on-a-bogus-device": Case(
        ("sample", "run", "--device", "bogus"), "--device must be", code=2, setup=copy("run")
    ),
    "sample-on-cuda-99": Case(
        ("sample", "run", "--device", "cuda:99", "-o", "x.png"), "--device cuda:99", code=2, setup=copy("run")
    ),
    "eval-on-a-bogus-device": Case(("eval", "run", "--device", "bogus"), "--device must be", code=2, setup=copy("run")),
    "sample-into-a-path-under-a-file": Case(
        ("sample", "run", "-o", "afile/x.png"),
        "afile is a file",
        code=2,
        setup=then(copy("run"), do(lambda w: (w / "afile").write_text("keep me"))),
    ),
    "bench-into-a-path-under-a-file": Case(
        ("bench", "gan", "--data", "ring", "--steps", "2", "--seeds", "1", "--out", "afile/b"),
        "afile",
        code=2,
        setup=do(lambda w: (w / "afile").write_text("keep me")),
    ),
    "pull-into-a-path-under-a-file": Case(
        ("pull", "someone/model", "--dir", "afile/sub"),
        "a parent of it is a file",
        code=2,
        setup=do(lambda w: (w / "afile").write_text("keep me")),
    ),
    "run-config-without-architecture/sample": Case(
        ("sample", "run", "-o", "x.png"),
        "'config.architecture' is missing",
        setup=then(copy("run"), edit_json("run/config.json", lambda c: c["config"].pop("architecture"))),
    ),
    "run-config-without-betas/info": Case(
        ("info", "run"),
        "'config.betas' is missing",
        setup=then(copy("run"), edit_json("run/config.json", lambda c: c["config"].pop("betas"))),
    ),
    "run-config-without-betas/resume": Case(
        ("train", "--resume", "run", "--steps", "8"),
        "'config.betas' is missing",
        setup=then(copy("run"), edit_json("run/config.json", lambda c: c["config"].pop("betas"))),
    ),
    "run-latent-size-that-does-not-fit-its-weights": Case(
        ("sample", "run", "-o", "x.png"),
        "does not fit",
        setup=then(copy("run"), edit_json("run/config.json", lambda c: c["config"].update(latent_dim=3))),
    ),
    "resume-whose-checkpoint-does-not-fit": Case(
        ("train", "--resume", "run", "--steps", "8"),
        "does not fit",
        setup=then(
            copy("run"), edit_json("run/config.json", lambda c: c["config"]["architecture_options"].update(g_width=32))
        ),
    ),
    "load-plugins-naming-no-distribution": Case(
        ("plugins",), "GANZOO_LOAD_PLUGINS names 'nosuchdist'", code=2, env={"GANZOO_LOAD_PLUGINS": "nosuchdist"}
    ),
    "run-config-that-is-not-json": Case(
        ("sample", "run", "-o", "x.png"),
        "is not valid JSON",
        setup=then(copy("run"), do(lambda w: (w / "run" / "config.json").write_text('{"config": '))),
    ),
    "install-an-empty-folder-in-editable-mode": Case(
        ("install", "-e", "empty"), "empty", code=2, setup=do(lambda w: (w / "empty").mkdir())
    ),
    # --- bad input accepted silently before --------------------------------------------------------------------------
    "negative-n-critic-on-a-loss-that-steps-once": Case(
        ("train", "gan", "--data", "ring", "--set", "loss.n_critic=-3", "--out", "new"), "option 'n_critic'", code=2
    ),
    "resume-into-another-folder": Case(
        ("train", "--resume", "run", "--out", "other"), "is not the folder being resumed", code=2, setup=copy("run")
    ),
    "resume-with-another-variant": Case(
        ("train", "wgan", "--resume", "run"), "variant wgan would change the run", code=2, setup=copy("run")
    ),
    "sample-from-nan-weights": Case(
        ("sample", "generator", "-o", "x.png"), "NaN or infinite", setup=then(copy("generator"), do(nan_weights))
    ),
    # --- smaller -----------------------------------------------------------------------------------------------------
    "resume-a-run-killed-before-its-first-checkpoint": Case(
        ("train", "--resume", "early"), "--force", setup=then(copy("run"), do(empty_run))
    ),
    "mistyped-local-path": Case(
        ("sample", "runs/nope"), "there is no folder runs/nope", code=2, setup=do(lambda w: (w / "runs").mkdir())
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing(name, originals, tmp_path, monkeypatch, run_cli):
    case = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    case.setup(work, originals)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")  # nothing here may reach a Hub
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before = snapshot(work)

    result = run_cli(*case.args)

    line = one_error_line(result)
    assert result.code == case.code, result
    assert case.expect in line, line
    assert snapshot(work) == before  # nothing written, nothing deleted, nothing touched


def test_an_unreachable_hub_is_one_line_at_once(tmp_path):
    result = run_process("search", env={"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}", "HF_HOME": str(tmp_path)})
    assert result.code == 1 and "cannot be reached" in one_error_line(result)


def test_a_decompression_bomb_in_an_image_folder_is_one_line(tmp_path, monkeypatch, run_cli):
    from PIL import Image

    (tmp_path / "images").mkdir()
    Image.new("L", (64, 64)).save(tmp_path / "images" / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 pixels is "huge" here; no 100-megapixel file needed
    monkeypatch.chdir(tmp_path)
    result = run_cli("train", "dcgan", "--data", "folder:images", "--set", "data.size=16", "--out", "run")
    assert result.code != 0 and "huge.png" in one_error_line(result)
    assert not (tmp_path / "run").exists()


def test_a_no_op_resume_rewrites_nothing(originals, tmp_path, run_cli):
    run = shutil.copytree(originals["run"], tmp_path / "run")
    before = snapshot(run)
    result = run_cli("train", "--resume", str(run), "--steps", "2")
    assert result.code == 0 and "nothing to do" in result.out
    assert snapshot(run) == before


def test_a_torn_metrics_line_resumes_with_one_warning(originals, tmp_path, run_cli):
    run = shutil.copytree(originals["run"], tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as log:
        log.write('{"step": 5, "loss_d": 0.6')  # killed mid-write
    result = run_cli("train", "--resume", str(run), "--steps", "6", "--log-every", "2")
    assert result.code == 0, result.err
    assert [line for line in result.err.splitlines() if "warning" in line][0].count("metrics.jsonl") == 1
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 6


def test_non_finite_weights_are_never_saved(originals):
    gen = ganzoo.load_generator(originals["generator"], device="cpu")
    with torch.no_grad():
        next(gen.parameters()).fill_(float("inf"))
    with pytest.raises(ganzoo.GanzooError, match="NaN or infinite"):
        ganzoo.save_generator(gen, originals["generator"].parent / "never")
    assert not (originals["generator"].parent / "never").exists()
