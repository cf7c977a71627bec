"""What training leaves and says: checkpoint manifests that stay inside their folder, a metrics log that survives a
torn write, the console's start and progress lines, file modes, and which discriminators see real and fake together."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.files import sha256_file
from ganzoo.training.checkpoint import CorruptCheckpoint, read_checkpoint

MLP = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
DCGAN = ["arch.g_width=4", "arch.d_width=4"]


def tiny_run(path: Path, steps: int = 2, **kwargs):
    return ganzoo.train("gan", steps=steps, out=path, set=MLP, device="cpu", progress=False, **kwargs)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def edit_manifest(checkpoint: Path, change) -> None:
    manifest = json.loads((checkpoint / "state.json").read_text())
    change(manifest["files"])
    (checkpoint / "state.json").write_text(json.dumps(manifest))


@contextmanager
def fifo_that_records_openers(path: Path):
    """A FIFO at ``path``; ``opened.is_set()`` tells whether anything opened it. Nothing blocks either way."""
    os.mkfifo(path)
    opened = threading.Event()

    def writer() -> None:
        fd = os.open(path, os.O_WRONLY)  # returns only once a reader has opened the FIFO
        opened.set()
        os.close(fd)  # the reader then sees end of file instead of waiting

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        # an opener we did not see yet only makes the check weaker, never a passing test fail
        seen = opened.is_set()
        if not seen:  # release the writer ourselves
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        thread.join(10)
        if not seen:
            opened.clear()


# ----- checkpoint manifests ------------------------------------------------------------------------------------------
def test_a_manifest_naming_a_file_outside_the_run_is_refused_even_with_its_true_sha256(tmp_path, run_cli):
    run = tiny_run(tmp_path / "r")
    checkpoint = run.path / "checkpoints" / "step-000000002"
    outside = tmp_path / "escape.safetensors"
    shutil.copyfile(checkpoint / "generator.safetensors", outside)
    edit_manifest(checkpoint, lambda files: files.update({"../../../escape.safetensors": sha256_file(outside)}))
    before = snapshot(run.path / "checkpoints")

    result = run_cli("train", "--resume", str(run.path), "--steps", "4")

    assert result.code == 1
    (error,) = result.err.strip().splitlines()
    assert error.startswith("ganzoo: error: the only checkpoint in") and "failed to verify" in error
    assert "'../../../escape.safetensors'" in error and "refusing this checkpoint" in error
    assert snapshot(run.path / "checkpoints") == before


@pytest.mark.parametrize("how", ["absolute", "dot-dot", "backslash", "nul", "dot-dot-alone", "symlink"])
def test_a_manifest_entry_that_leads_out_of_its_folder_is_refused_without_opening_it(tmp_path, how):
    run = tiny_run(tmp_path / "r")
    checkpoint = run.path / "checkpoints" / "step-000000002"
    outside = tmp_path / "outside.safetensors"
    with fifo_that_records_openers(outside) as opened:
        name = {
            "absolute": str(outside),
            "dot-dot": "../../../outside.safetensors",
            "backslash": "..\\..\\..\\outside.safetensors",
            "nul": "generator.safetensors\x00x",
            "dot-dot-alone": "..",
            "symlink": "link.safetensors",
        }[how]
        if how == "symlink":
            (checkpoint / name).symlink_to(outside)
        edit_manifest(checkpoint, lambda files: files.update({name: "0" * 64}))
        with pytest.raises(CorruptCheckpoint, match="refusing this checkpoint") as caught:
            read_checkpoint(checkpoint, only=("generator",))  # a name is refused even when its file is not wanted
        assert "\n" not in str(caught.value)
    assert not opened.is_set()


def test_a_symlink_to_a_file_outside_with_its_true_sha256_is_refused(tmp_path):
    run = tiny_run(tmp_path / "r")
    checkpoint = run.path / "checkpoints" / "step-000000002"
    outside = tmp_path / "outside.safetensors"
    (checkpoint / "generator.safetensors").replace(outside)
    (checkpoint / "generator.safetensors").symlink_to(outside)
    with pytest.raises(CorruptCheckpoint, match=r"generator.safetensors is a link to .*outside the checkpoint folder"):
        read_checkpoint(checkpoint)


def test_a_manifest_that_is_a_fifo_or_too_large_is_refused(tmp_path):
    run = tiny_run(tmp_path / "r")
    checkpoint = run.path / "checkpoints" / "step-000000002"
    manifest = json.loads((checkpoint / "state.json").read_text())
    manifest["extra"]["padding"] = "x" * (1 << 20)
    (checkpoint / "state.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptCheckpoint, match=r"state.json is \d+ bytes, more than the 1048576"):
        read_checkpoint(checkpoint)

    (checkpoint / "state.json").unlink()
    with (
        fifo_that_records_openers(checkpoint / "state.json") as opened,
        pytest.raises(CorruptCheckpoint, match="state.json is not a regular file"),
    ):
        read_checkpoint(checkpoint)
    assert not opened.is_set()


def test_a_safetensors_file_that_cannot_be_parsed_is_reported_on_one_line(tmp_path, run_cli):
    run = tiny_run(tmp_path / "r")
    checkpoint = run.path / "checkpoints" / "step-000000002"
    broken = checkpoint / "discriminator.safetensors"
    header = b'{\n  "a": [1,\n 2]\n}'  # JSON, but not a safetensors header
    broken.write_bytes(len(header).to_bytes(8, "little") + header)
    edit_manifest(checkpoint, lambda files: files.update({broken.name: sha256_file(broken)}))
    result = run_cli("train", "--resume", str(run.path), "--steps", "4")
    assert result.code == 1
    (error,) = result.err.strip().splitlines()
    assert "discriminator.safetensors cannot be read" in error and "failed to verify" in error


def test_checkpoint_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        run = tiny_run(tmp_path / "r")
    finally:
        os.umask(old)
    checkpoint = run.path / "checkpoints" / "step-000000002"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in checkpoint.iterdir()}
    assert "generator.safetensors" in modes and set(modes.values()) == {0o644}, modes


# ----- metrics.jsonl -------------------------------------------------------------------------------------------------
def test_a_torn_last_metrics_line_is_dropped_with_one_warning_and_the_run_resumes(tmp_path, run_cli):
    run = tiny_run(tmp_path / "r", steps=4, log_every=1, ckpt_every=2)
    log = run.path / "metrics.jsonl"
    with log.open("a") as fh:
        fh.write('{"step": 5, "loss_d": 0.69')  # the process was killed in the middle of this write

    result = run_cli("train", "--resume", str(run.path), "--steps", "6")

    assert result.code == 0, result.err
    warning = f"ganzoo: warning: {log}: dropped an incomplete last line (the process stopped while writing it)"
    assert result.err.strip().splitlines() == [warning]
    lines = log.read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5, 6]


def test_an_unreadable_metrics_line_in_the_middle_is_dropped_with_a_warning(tmp_path, run_cli):
    run = tiny_run(tmp_path / "r", steps=4, log_every=1, ckpt_every=2)
    log = run.path / "metrics.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([*lines[:2], "{not json", *lines[2:]]) + "\n")

    result = run_cli("train", "--resume", str(run.path), "--steps", "5")

    assert result.code == 0, result.err
    assert result.err.strip().splitlines() == [f"ganzoo: warning: {log}: dropped 1 unreadable line (3)"]
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4, 5]


# ----- the console ---------------------------------------------------------------------------------------------------
def test_training_says_what_it_trains_before_the_first_step(tmp_path, run_cli, monkeypatch):
    out = tmp_path / "r"
    result = run_cli(
        "train",
        "gan",
        "--steps",
        "2",
        "--device",
        "cpu",
        "--no-amp",
        "--out",
        str(out),
        "--threads",
        "1",
        *[a for s in MLP for a in ("--set", s)],
    )
    assert result.code == 0, result.err
    assert (
        result.out.splitlines()[0]
        == f"training gan on ring (cpu, threads 1 (--threads), 2 steps, batch 100) into {out}"
    )

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    again = run_cli("train", "--resume", str(out), "--steps", "3", "--amp")
    assert again.code == 0, again.err
    assert again.out.splitlines()[0] == (
        "resuming gan at step 2 on ring (cpu, bf16 autocast, threads 1 (OMP_NUM_THREADS=1), "
        f"3 steps, batch 100) into {out}"
    )


def test_bf16_is_the_cpu_default_only_where_the_cpu_has_it(monkeypatch):
    import builtins
    import io

    from ganzoo.training import devices

    def cpuinfo(flags):
        real = builtins.open

        def fake(path, *args, **kwargs):
            if str(path) == "/proc/cpuinfo":
                return io.StringIO(f"processor\t: 0\nflags\t\t: {flags}\n")
            return real(path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake)

    cpuinfo("fpu sse2 avx2 avx512f avx512bw avx512_bf16")
    assert devices.default_amp(torch.device("cpu")) is True
    cpuinfo("fpu sse2 avx2 avx512f avx512bw")  # AVX-512 alone: bf16 would be emulated, so fp32
    assert devices.default_amp(torch.device("cpu")) is False
    assert devices.default_amp(torch.device("mps")) is False


def plain_steps(out: str) -> list[int]:
    return [int(line.split()[1].split("/")[0]) for line in out.splitlines() if line.startswith("step ")]


def test_without_a_bar_a_plain_line_comes_every_twentieth_of_the_run(tmp_path, capsys, monkeypatch):
    from ganzoo.training import loop

    monkeypatch.setattr(loop, "PLAIN_SECONDS", float("inf"))  # only the share of the run counts here
    tiny_run(tmp_path / "r", steps=40, log_every=1)
    assert plain_steps(capsys.readouterr().out) == list(range(2, 41, 2))


def test_without_a_bar_a_log_flush_long_after_the_last_plain_line_prints_one(tmp_path, capsys, monkeypatch):
    from ganzoo.training import loop

    monkeypatch.setattr(loop, "PLAIN_SECONDS", 0.0)  # every flush is "30 seconds later"
    tiny_run(tmp_path / "r", steps=20, log_every=1)
    assert plain_steps(capsys.readouterr().out) == list(range(1, 21))


def test_d_of_x_and_d_of_g_of_z_are_labelled_as_logits(tmp_path, capsys):
    run = tiny_run(tmp_path / "r", steps=2, log_every=1)
    out = capsys.readouterr().out
    last = run.metrics()[-1]
    line = next(line for line in out.splitlines() if line.startswith("step 2/2"))
    assert f"D(x) logit {last['d_real']:.3f}  D(G(z)) logit {last['d_fake']:.3f}" in line

    ganzoo.train("gan", steps=2, out=tmp_path / "bar", set=MLP, device="cpu", progress=True, log_every=1)
    bar = capsys.readouterr().err
    assert "D(x) logit=" in bar and "D(G(z)) logit=" in bar


# ----- which discriminators see real and fake in one batch -----------------------------------------------------------
class MinibatchStdDiscriminator(nn.Module):
    """A discriminator that looks at the batch's standard deviation: one sample's logit depends on the others."""

    def __init__(self, sample_shape):
        super().__init__()
        self.linear = nn.Linear(int(torch.tensor(sample_shape).prod()) + 1, 1)

    def forward(self, x):
        flat = x.flatten(1)
        spread = flat.std(0).mean().expand(flat.shape[0], 1)
        return self.linear(torch.cat([flat, spread], 1)).squeeze(1)


class Undeclared:
    """A test plugin: an architecture without batch norm that does not declare its discriminator per-sample."""

    from ganzoo import hookimpl

    @staticmethod
    @hookimpl
    def register_architectures(register):
        from ganzoo.architecture import Architecture

        class BatchWise(Architecture):
            """mlp's generator; a discriminator with a minibatch standard deviation feature."""

            def generator(self, sample_shape, latent_dim):
                return ganzoo.get_architecture("mlp")(g_width=8, g_depth=1).generator(sample_shape, latent_dim)

            def discriminator(self, sample_shape):
                return MinibatchStdDiscriminator(sample_shape)

        register("batch-wise", BatchWise)


def discriminator_batches(tmp_path: Path, data: str, sets: list[str]) -> list[int]:
    """The batch sizes the discriminator sees during one training step (batch 8)."""
    from ganzoo.training.config import parse_sets, resolve_config
    from ganzoo.training.loop import COLUMNS, Trainer

    config = resolve_config("gan", data=data, steps=1, batch_size=8, overrides=parse_sets(sets), device="cpu")
    trainer = Trainer(config, tmp_path / "r", progress=False)
    trainer.setup()
    seen: list[int] = []
    trainer.D.register_forward_pre_hook(lambda _module, args: seen.append(args[0].shape[0]))
    trainer.train_step(torch.zeros(1, len(COLUMNS)))
    return seen


@pytest.mark.parametrize(
    ("data", "sets", "joint"),
    [
        ("ring", MLP, True),
        ("digits", ["arch=dcgan", *DCGAN, "arch.d_norm=none"], True),
        ("digits", ["arch=dcgan", *DCGAN, "arch.d_norm=layer"], True),
        ("digits", ["arch=dcgan", *DCGAN, "arch.d_norm=batch"], False),
        ("ring", ["arch=batch-wise"], False),
    ],
    ids=["mlp", "dcgan-no-norm", "dcgan-layer-norm", "dcgan-batch-norm", "undeclared-minibatch-std"],
)
def test_real_and_fake_share_a_discriminator_batch_only_when_declared_and_free_of_batch_norm(
    ganzoo_plugins, tmp_path, data, sets, joint
):
    ganzoo_plugins.register(Undeclared, name="undeclared")
    # one discriminator step then the generator step
    assert discriminator_batches(tmp_path, data, sets) == ([16, 8] if joint else [8, 8, 8])


def test_timm_discriminators_are_not_declared_per_sample():
    assert ganzoo.get_architecture("timm").joint_discriminator_batch is False
    assert ganzoo.get_architecture("mlp").joint_discriminator_batch is True
