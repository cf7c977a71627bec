"""The one trainer: every variant trains, runs resume exactly, and faults keep the last good checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganzoo
from conftest import ROOT, child_env, run_process
from ganzoo.errors import GanzooError

TINY = {
    "dcgan": ["arch.g_width=4", "arch.d_width=4"],
    "mlp": ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"],
}


def tiny(variant: str, data: str) -> list[str]:
    """Small widths for whichever architecture the variant uses on this data (image variants switch to mlp for
    points)."""
    recipe = ganzoo.get_variant(variant)
    arch = recipe.points_architecture or recipe.architecture if data in ("ring", "grid") else recipe.architecture
    return TINY[arch]


def weights(run: Path, stem: str = "generator") -> dict[str, torch.Tensor]:
    latest = sorted((run / "checkpoints").glob("step-*"))[-1]
    return load_file(latest / f"{stem}.safetensors")


BUILTIN_VARIANTS = [
    "gan",
    "gan-minimax",
    "dcgan",
    "wgan",
    "wgan-gp",
    "sngan",
    "pacgan2",
    "pacgan3",
    "pacgan4",
    "cgan-pd",
    "acgan",
]


def test_the_variant_list_below_is_every_builtin_variant():
    from ganzoo.plugins import registry

    assert sorted(e.name for e in registry().list("variant") if e.distribution == "ganzoo") == sorted(BUILTIN_VARIANTS)


@pytest.mark.parametrize("data", ["digits", "ring"])
@pytest.mark.parametrize("variant", BUILTIN_VARIANTS)
def test_every_builtin_variant_trains(variant, data, tmp_path):
    # batch 48 splits into whole packs of 2, 3 and 4 (the pacgan variants)
    run = ganzoo.train(
        variant,
        data=data,
        steps=3,
        batch_size=48,
        out=tmp_path / "run",
        set=tiny(variant, data),
        log_every=1,
        progress=False,
    )
    logged = run.metrics()
    assert [m["step"] for m in logged] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor([m["loss_d"], m["loss_g"]])).all() for m in logged)
    assert {"d_real", "d_fake", "grad_norm_d", "grad_norm_g", "img_s"} <= set(logged[-1])
    assert (run.path / "samples" / "latest.png").is_file()
    info = json.loads((run.path / "config.json").read_text())
    assert info["config"]["variant"] == variant and info["versions"]["torch"] == torch.__version__
    if data == "ring":  # image variants switch to the mlp architecture for points, with the PacGAN latent size
        assert (info["config"]["architecture"], info["config"]["latent_dim"]) == ("mlp", 2)
    assert sorted(p.name for p in (run.path / "checkpoints").iterdir()) == ["step-000000003"]


def test_resume_continues_exactly(tmp_path):
    args = dict(data="digits", batch_size=8, set=TINY["dcgan"], log_every=2, ckpt_every=3, progress=False)
    whole = ganzoo.train("dcgan", steps=6, out=tmp_path / "whole", **args)
    half = ganzoo.train("dcgan", steps=3, out=tmp_path / "half", **args)
    ganzoo.train(resume=half.path, steps=6, progress=False)
    for stem in ("generator", "generator_ema", "discriminator"):
        a, b = weights(whole.path, stem), weights(half.path, stem)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), stem
    assert [m["step"] for m in half.metrics()] == [m["step"] for m in whole.metrics()] == [2, 3, 4, 6]


def test_resume_with_gradient_penalty_and_several_critic_steps_is_exact(tmp_path):
    args = dict(data="ring", batch_size=8, set=["arch=mlp", *TINY["mlp"]], ckpt_every=2, progress=False)
    whole = ganzoo.train("wgan-gp", steps=4, out=tmp_path / "whole", **args)
    half = ganzoo.train("wgan-gp", steps=2, out=tmp_path / "half", **args)
    ganzoo.train(resume=half.path, steps=4, progress=False)
    a, b = weights(whole.path), weights(half.path)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_finished_run_resumed_with_more_steps_continues(tmp_path, run_cli):
    run = ganzoo.train("gan", steps=2, out=tmp_path / "r", set=TINY["mlp"], progress=False)
    again = run_cli("train", "--resume", str(run.path), "--steps", "2")
    assert again.code == 0 and "nothing to do" in again.out
    more = run_cli("train", "--resume", str(run.path), "--steps", "4")
    assert more.code == 0
    assert sorted(p.name for p in (run.path / "checkpoints").iterdir())[-1] == "step-000000004"


def test_keep_limits_checkpoints(tmp_path):
    run = ganzoo.train("gan", steps=5, out=tmp_path / "r", set=TINY["mlp"], ckpt_every=1, keep=2, progress=False)
    assert sorted(p.name for p in (run.path / "checkpoints").iterdir()) == ["step-000000004", "step-000000005"]


def test_a_corrupt_latest_checkpoint_falls_back_to_the_previous(tmp_path, capsys):
    run = ganzoo.train("gan", steps=4, out=tmp_path / "r", set=TINY["mlp"], ckpt_every=2, progress=False)
    latest = run.path / "checkpoints" / "step-000000004" / "generator.safetensors"
    latest.write_bytes(latest.read_bytes()[:100])  # truncated
    capsys.readouterr()
    ganzoo.train(resume=run.path, steps=6, progress=False)
    err = capsys.readouterr().err
    assert "step-000000004" in err and "does not match its recorded sha256" in err and "using step-000000002" in err
    assert (run.path / "checkpoints" / "step-000000006").is_dir()


def test_resume_needs_a_good_checkpoint(tmp_path, run_cli):
    missing = run_cli("train", "--resume", str(tmp_path / "nowhere"))
    assert missing.code == 1 and "is not a ganzoo run folder" in missing.err
    run = ganzoo.train("gan", steps=2, out=tmp_path / "r", set=TINY["mlp"], progress=False)
    for f in (run.path / "checkpoints" / "step-000000002").glob("*.safetensors"):
        f.write_bytes(b"garbage")
    corrupt = run_cli("train", "--resume", str(run.path), "--steps", "4")
    assert corrupt.code == 1 and "the only checkpoint" in corrupt.err and "failed to verify" in corrupt.err
    assert len(corrupt.err.strip().splitlines()) == 1  # one line, naming the fault


class NanAfter:
    """A test plugin: a loss that turns NaN on its third discriminator call."""

    from ganzoo import hookimpl

    @staticmethod
    @hookimpl
    def register_losses(register):
        from ganzoo.loss import Loss

        class Exploding(Loss):
            """Non-saturating, until it is not."""

            calls = 0

            def discriminator_loss(self, real_logits, fake_logits):
                Exploding.calls += 1
                value = real_logits.mean() * 0
                return value + float("nan") if Exploding.calls >= 3 else value + 1.0

            def generator_loss(self, fake_logits):
                return fake_logits.mean() * 0

        register("exploding", Exploding)


def test_a_non_finite_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(ganzoo_plugins, tmp_path):
    ganzoo_plugins.register(NanAfter, name="nan-after")
    with pytest.raises(
        GanzooError, match=r"non-finite loss_d \(nan\) at step 3; .*last good checkpoint is .*step-000000002"
    ):
        ganzoo.train(
            "gan",
            steps=6,
            out=tmp_path / "r",
            set=["loss=exploding", *TINY["mlp"]],
            ckpt_every=2,
            log_every=3,
            progress=False,
        )
    assert sorted(p.name for p in (tmp_path / "r" / "checkpoints").iterdir()) == ["step-000000002"]


def test_amp_with_gradient_penalty_on_cpu_stays_finite(tmp_path):
    run = ganzoo.train(
        "wgan-gp",
        data="digits",
        steps=3,
        batch_size=8,
        out=tmp_path / "r",
        amp=True,
        set=TINY["dcgan"],
        log_every=1,
        progress=False,
    )
    assert json.loads((run.path / "config.json").read_text())["amp"] is True
    assert all(torch.isfinite(torch.tensor(m["reg"])) and m["reg"] >= 0 for m in run.metrics())


def _train_in_background(out: Path, ckpt_every: int, steps: int = 100_000) -> subprocess.Popen:
    env = child_env()
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganzoo",
            "train",
            "gan",
            "--steps",
            str(steps),
            "--out",
            str(out),
            "--ckpt-every",
            str(ckpt_every),
            "--log-every",
            "5",
            "--sample-every",
            "100000",
            *sum((["--set", s] for s in TINY["mlp"]), []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_checkpoint(out: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (out / "checkpoints").is_dir() and any(p.name.startswith("step-") for p in (out / "checkpoints").iterdir()):
            return
        time.sleep(0.1)
    raise AssertionError("no checkpoint appeared")


def test_sigterm_writes_a_checkpoint_then_exits_143(tmp_path):
    out = tmp_path / "r"
    proc = _train_in_background(out, ckpt_every=1_000_000)
    deadline = time.time() + 120
    while not (out / "metrics.jsonl").exists() or not (out / "metrics.jsonl").read_text().strip():
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by signal" in err
    ckpts = list((out / "checkpoints").iterdir())
    assert len(ckpts) == 1 and int(ckpts[0].name.split("-")[1]) > 0


def test_sigkill_loses_at_most_ckpt_every_steps_and_resumes(tmp_path, run_cli):
    out = tmp_path / "r"
    proc = _train_in_background(out, ckpt_every=10)
    _wait_for_checkpoint(out)
    time.sleep(0.5)
    proc.kill()
    proc.communicate(timeout=30)
    logged = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    saved = max(int(p.name.split("-")[1]) for p in (out / "checkpoints").iterdir() if p.name.startswith("step-"))
    assert max(logged) - saved < 10 + 5  # lost at most ckpt_every steps (plus the unflushed log window)
    resumed = run_cli("train", "--resume", str(out), "--steps", str(saved + 10))
    assert resumed.code == 0, resumed.err
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == saved + 10


def test_two_processes_with_torchrun_end_with_identical_weights(tmp_path):
    script = tmp_path / "both.py"
    script.write_text(
        "import os, sys\n"
        "from safetensors.torch import save_file\n"
        "from ganzoo.training.config import resolve_config\n"
        "from ganzoo.training.loop import Trainer\n"
        "out = sys.argv[1]\n"
        f"cfg = resolve_config('wgan-gp', data='ring', steps=4, batch_size=8, overrides={{'arch': 'mlp', "
        f"**dict(s.split('=') for s in {TINY['mlp']!r})}}, ckpt_every=2, log_every=2)\n"
        "t = Trainer(cfg, out, progress=False)\n"
        "t.run()\n"
        "rank = os.environ['RANK']\n"
        "save_file({k: v.contiguous() for k, v in t.G.state_dict().items()}, f'{out}/g{rank}.safetensors')\n"
        "save_file({k: v.contiguous() for k, v in t.D.state_dict().items()}, f'{out}/d{rank}.safetensors')\n"
    )
    env = child_env()  # (keeps GANZOO_DEVICE: two processes on a one-GPU machine would each want cuda:RANK)
    env["OMP_NUM_THREADS"] = "1"
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            str(script),
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for net in ("g", "d"):
        a, b = load_file(tmp_path / "run" / f"{net}0.safetensors"), load_file(tmp_path / "run" / f"{net}1.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a), net
    info = json.loads((tmp_path / "run" / "config.json").read_text())
    assert info["world_size"] == 2
    # The two ranks drew different data: their per-rank RNG states differ in the checkpoint.
    rng = load_file(tmp_path / "run" / "checkpoints" / "step-000000004" / "rng.safetensors")
    assert not torch.equal(rng["cpu.0"], rng["cpu.1"])


def test_sampling_is_seeded(tmp_path, run_cli):
    run = ganzoo.train(
        "dcgan", data="digits", steps=2, batch_size=8, out=tmp_path / "r", set=TINY["dcgan"], progress=False
    )
    gen = run.generator()
    assert torch.equal(gen.sample(6, seed=3), gen.sample(6, seed=3))
    assert not torch.equal(gen.sample(6, seed=3), gen.sample(6, seed=4))
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert run_cli("sample", str(run.path), "-n", "6", "--seed", "3", "-o", str(a)).code == 0
    assert run_cli("sample", str(run.path), "-n", "6", "--seed", "3", "--format", "npy", "-o", str(b)).code == 0
    import numpy as np

    assert np.array_equal(np.load(a), np.load(b)) and np.load(a).shape == (6, 1, 32, 32)
    assert np.array_equal(np.load(a), gen.sample(6, seed=3).numpy())
    png = run_cli("sample", str(run.path), "-n", "16", "--nrow", "4", "-o", str(tmp_path / "g.png"))
    from PIL import Image

    # 32 px samples are enlarged to 64 px cells by default, each with a 2 px border
    assert png.code == 0 and Image.open(tmp_path / "g.png").size == (4 * 66 + 2, 4 * 66 + 2)
    png = run_cli("sample", str(run.path), "-n", "16", "--nrow", "4", "--scale", "1", "-o", str(tmp_path / "g1.png"))
    assert png.code == 0 and Image.open(tmp_path / "g1.png").size == (4 * 34 + 2, 4 * 34 + 2)


def test_points_runs_draw_scatter_plots(tmp_path):
    run = ganzoo.train("gan", data="ring", steps=2, out=tmp_path / "r", set=TINY["mlp"], progress=False)
    from PIL import Image

    assert Image.open(run.latest_samples).size[0] > 300  # a matplotlib figure, not an 8x8 grid
    assert run.generator().sample(10, seed=0).shape == (10, 2)


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["train", "dcgna"], "unknown variant 'dcgna'; did you mean 'dcgan'", 2),
        (["train", "--data", "digts"], "unknown dataset 'digts'; did you mean 'digits'", 2),
        (["train", "--steps", "0"], "--steps", 2),
        (["train", "--steps", "ten"], "'ten' is not a valid integer", 2),
        (["train", "--batch-size", "-4"], "must be a positive integer, got -4", 2),
        (["train", "--set", "learning_rate=1"], "unknown --set key 'learning_rate'", 2),
        (["train", "--set", "lr=fast"], "--set lr: expected float, got 'fast'", 2),
        (["train", "--set", "arch.g_width=wide"], "option 'g_width': expected int (between 1 and 512), got 'wide'", 2),
        (["train", "--set", "nokeyvalue"], "--set expects KEY=VALUE", 2),
        (["train", "--data", "ring", "--set", "arch=dcgan"], "architecture 'dcgan' makes square images", 2),
        (["train", "--data", "folder"], "data set 'folder' needs an argument", 2),
        (["train", "--device", "tpu"], "--device must be auto, cpu, cuda, cuda:K or mps", 2),
    ],
)
def test_bad_train_input_is_one_line(run_cli, tmp_path, args, message, code):
    result = run_cli(*args, "--out", str(tmp_path / "r"))
    assert result.code == code
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_an_empty_image_folder_is_refused(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("train", "--data", f"folder:{tmp_path / 'empty'}", "--out", str(tmp_path / "r"))
    assert result.code != 0 and "holds no images" in result.err and len(result.err.strip().splitlines()) == 1


def test_out_holding_another_run_is_refused_unless_forced(run_cli, tmp_path):
    out = tmp_path / "r"
    ganzoo.train("gan", steps=2, out=out, set=TINY["mlp"], progress=False)
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    other = run_cli(
        "train",
        "gan",
        "--steps",
        "2",
        "--out",
        str(out),
        "--set",
        "lr=0.001",
        *sum((["--set", s] for s in TINY["mlp"]), []),
    )
    assert other.code == 2 and "was trained with other settings (lr_g" in other.err and "--force" in other.err
    same = run_cli("train", "gan", "--steps", "2", "--out", str(out), *sum((["--set", s] for s in TINY["mlp"]), []))
    assert same.code == 2 and "already holds a run" in same.err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before  # nothing lost
    forced = run_cli(
        "train", "gan", "--steps", "3", "--out", str(out), "--force", *sum((["--set", s] for s in TINY["mlp"]), [])
    )
    assert forced.code == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-000000003"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_out_folder_is_refused(run_cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run_cli("train", "gan", "--steps", "1", "--out", str(locked / "run"))
    assert result.code == 1 and "cannot write the run folder" in result.err


def test_an_out_path_that_is_a_file_is_refused(run_cli, tmp_path):
    (tmp_path / "file").write_text("x")
    result = run_cli("train", "gan", "--steps", "1", "--out", str(tmp_path / "file" / "run"))
    assert (
        result.code == 1 and "cannot write the run folder" in result.err and len(result.err.strip().splitlines()) == 1
    )


def test_resume_refuses_new_configuration_flags(run_cli, tmp_path):
    run = ganzoo.train("gan", steps=1, out=tmp_path / "r", set=TINY["mlp"], progress=False)
    result = run_cli("train", "--resume", str(run.path), "--set", "lr=1")
    assert result.code == 2 and "drop --set" in result.err


def test_plain_progress_lines_when_not_a_terminal(tmp_path):
    result = run_process(
        "train",
        "gan",
        "--steps",
        "4",
        "--log-every",
        "1",
        "--out",
        str(tmp_path / "r"),
        *sum((["--set", s] for s in TINY["mlp"]), []),
    )
    assert result.code == 0, result.err
    assert "step 4/4  loss_d" in result.out
    assert f"run:        {tmp_path / 'r'}" in result.out and "samples:" in result.out and "checkpoint:" in result.out
