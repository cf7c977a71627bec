"""A full disk (ENOSPC), an exceeded quota (EDQUOT) or an I/O error (EIO) at each place ganzoo writes: one line naming
what could not be written, where and how big it is; what was written before stays valid; no temp file is left; and
the work goes on once there is room. The faults are simulated (no real full disk is needed)."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from safetensors import SafetensorError

import ganzoo
from conftest import one_error_line, snapshot
from ganzoo import files
from ganzoo.training.checkpoint import latest_checkpoint, list_checkpoints

SETS = [
    "--set",
    "arch.g_width=16",
    "--set",
    "arch.g_depth=2",
    "--set",
    "arch.d_width=8",
    "--set",
    "arch.d_depth=2",
    "--set",
    "arch.d_maxout=2",
]
TRAIN = ["train", "gan", "--data", "ring", "--batch-size", "16", "--device", "cpu", *SETS]
REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded", errno.EIO: "I/O error"}


def fail_writes(monkeypatch, match, code: int = errno.ENOSPC, safetensors: bool = False) -> None:
    """Atomic writes of paths ``match`` accepts fail with ``code`` once their temp file is written (as a disk that
    fills mid-file does); ``safetensors``: raised as safetensors' own exception, the way its Rust writer reports it."""
    real = files._write_atomic

    def fake(path, write):
        if not match(Path(path)):
            return real(path, write)

        def then_fail(tmp):
            write(tmp)
            if safetensors:
                raise SafetensorError(f"Error while serializing: I/O error: {os.strerror(code)} (os error {code})")
            raise OSError(code, os.strerror(code))

        return real(path, then_fail)

    monkeypatch.setattr(files, "_write_atomic", fake)


def leftovers(folder: Path) -> list[str]:
    """Temp files and folders a failed write could have left behind."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith((".tmp", ".old", ".lock")))


def steps_logged(run: Path) -> list[int]:
    text = (run / "metrics.jsonl").read_text()
    assert text.endswith("\n")
    return [json.loads(line)["step"] for line in text.splitlines()]


def resumes(run_cli, run: Path, steps: int) -> None:
    result = run_cli("train", "--resume", str(run), "--steps", str(steps), "--device", "cpu")
    assert result.code == 0, result.err
    assert [p.name for p in list_checkpoints(run)][0] == f"step-{steps:09d}"
    logged = steps_logged(run)
    assert logged == sorted(set(logged)) and logged[-1] == steps


@pytest.mark.parametrize("code", sorted(REASONS))
def test_a_checkpoint_the_disk_cannot_take_is_one_line_and_the_run_resumes(code, run_cli, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        fail_writes(
            m,
            lambda p: p.parent.name == ".step-000000004.tmp" and p.name == "optimizer_g.safetensors",
            code,
            safetensors=True,
        )
        result = run_cli(*TRAIN, "--steps", "4", "--ckpt-every", "2", "--out", str(run))
    line = one_error_line(result)
    assert result.code == 1
    assert line.startswith(f"ganzoo: error: {REASONS[code]}")
    assert "cannot write checkpoint step-000000004 (about " in line and f" in {run / 'checkpoints'};" in line
    assert line.endswith(f"resume with --resume {run}")
    assert [p.name for p in list_checkpoints(run)] == ["step-000000002"]  # the last good one, whole
    assert latest_checkpoint(run).step == 2
    assert leftovers(run) == []
    resumes(run_cli, run, 4)


def test_a_sample_grid_the_disk_cannot_take_keeps_the_last_one(run_cli, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "step-000000004.png")
        result = run_cli(*TRAIN, "--steps", "4", "--ckpt-every", "2", "--sample-every", "2", "--out", str(run))
    line = one_error_line(result)
    assert "no space left on device: cannot write step-000000004.png (about " in line and str(run / "samples") in line
    assert (run / "samples" / "latest.png").read_bytes() == (run / "samples" / "step-000000002.png").read_bytes()
    assert not (run / "samples" / "step-000000004.png").exists() and leftovers(run) == []
    resumes(run_cli, run, 4)


class _LogDiskFull:
    """``os`` for ganzoo.files, whose ``write`` takes half of the third line appended and then finds the disk full."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        self.calls += 1
        if self.calls < 3:
            return os.write(fd, data)
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_metrics_line_the_disk_cannot_take_leaves_no_torn_line(run_cli, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(files, "os", _LogDiskFull())
        result = run_cli(*TRAIN, "--steps", "6", "--ckpt-every", "2", "--log-every", "1", "--out", str(run))
    line = one_error_line(result)
    assert "no space left on device: cannot write metrics.jsonl (about " in line and f"in {run};" in line
    assert steps_logged(run) == [1, 2]  # whole lines only: the third was cut off again
    assert latest_checkpoint(run).step == 2
    resumes(run_cli, run, 6)


def test_a_config_the_disk_cannot_take_leaves_no_run_behind(run_cli, tmp_path, monkeypatch):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "config.json", errno.EDQUOT)
        result = run_cli(*TRAIN, "--steps", "2", "--out", str(run))
    line = one_error_line(result)
    assert line.startswith("ganzoo: error: disk quota exceeded: cannot write config.json (about ")
    assert line.endswith(f"start the run over: the same command with --out {run} --force")
    assert not (run / "config.json").exists() and leftovers(run) == []
    assert run_cli(*TRAIN, "--steps", "2", "--out", str(run)).code == 0  # once there is room


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("disk") / "run"
    ganzoo.train(
        "gan",
        data="ring",
        steps=2,
        batch_size=16,
        out=out,
        device="cpu",
        progress=False,
        set=[s for s in SETS if s != "--set"],
    )
    return out


def test_an_eval_json_the_disk_cannot_take_stays_as_it_was(tiny_run, run_cli, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    assert run_cli("eval", str(run), "--n", "200", "--device", "cpu").code == 0
    before = snapshot(run)
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "eval.json", errno.EIO)
        result = run_cli("eval", str(run), "--n", "300", "--device", "cpu")
    line = one_error_line(result)
    assert line.startswith("ganzoo: error: I/O error") and "cannot write eval.json (about " in line
    assert snapshot(run) == before


def test_a_sample_file_the_disk_cannot_take_is_not_left_half_written(tiny_run, run_cli, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "grid.png")
        result = run_cli("sample", str(tiny_run), "-n", "16", "-o", str(tmp_path / "grid.png"), "--device", "cpu")
    assert "no space left on device: cannot write grid.png (about " in one_error_line(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_generator_folder_the_disk_cannot_take_keeps_the_one_there(tiny_run, run_cli, tmp_path, monkeypatch):
    folder = ganzoo.save_generator(tiny_run, tmp_path / "gen")
    before = snapshot(folder)
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "model.safetensors", safetensors=True)
        with pytest.raises(files.DiskWriteError, match=r"cannot write model.safetensors \(about .*\) in .*gen; free"):
            ganzoo.save_generator(tiny_run, folder, dtype="float16")
        pushed = run_cli("push", str(tiny_run), "someone/tiny")  # the folder is built before the Hub is called
    assert "no space left on device: cannot write model.safetensors (about " in one_error_line(pushed)
    assert snapshot(folder) == before and leftovers(folder) == []


def test_a_hub_download_the_disk_cannot_take_is_one_line(run_cli, tmp_path, monkeypatch):
    import huggingface_hub

    from ganzoo import hub

    def snapshot_download(repo_id, local_dir=None, **kwargs):
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(local_dir) / "model.safetensors"))

    monkeypatch.setattr(hub, "is_offline", lambda: True)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    result = run_cli("pull", "someone/tiny", "--dir", str(tmp_path / "gen"))
    line = one_error_line(result)
    assert line == (
        f"ganzoo: error: no space left on device: cannot write the files of someone/tiny in {tmp_path / 'gen'}; "
        "free some space and try again"
    )


BENCH = [
    "bench",
    "gan",
    "--data",
    "ring",
    "--steps",
    "2",
    "--seeds",
    "1",
    "--n",
    "200",
    "--device",
    "cpu",
    "--set",
    "arch=mlp",
    *SETS,
    "--batch-size",
    "16",
]


def test_a_bench_report_the_disk_cannot_take_is_one_line_and_the_bench_goes_on(run_cli, tmp_path, monkeypatch):
    out = tmp_path / "bench"
    with monkeypatch.context() as m:
        fail_writes(m, lambda p: p.name == "report.json")
        result = run_cli(*BENCH, "--out", str(out))
    assert result.code == 1 and "Traceback" not in result.err
    line = result.err.splitlines()[-1]  # after the progress lines
    assert "no space left on device: cannot write report.json (about " in line and f"in {out};" in line
    assert line.endswith("free some space and run the same ganzoo bench again (it keeps what is finished)")
    assert not (out / "report.json").exists() and leftovers(out) == []
    again = run_cli(*BENCH, "--out", str(out))
    assert again.code == 0, again.err
    assert (out / "report.json").is_file()
