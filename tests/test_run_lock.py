"""One writer per run folder: a second writer is refused in one line (exit 2) and changes nothing; a killed holder
does not block the next run; readers never take the lock, never wait, and never see a half-written checkpoint."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import ganzoo
from conftest import child_env, one_error_line, snapshot
from ganzoo import plugins
from ganzoo.hookspecs import hookimpl
from ganzoo.lock import LOCK_FILE, FolderBusy, folder_lock
from ganzoo.training import Run
from ganzoo.training.checkpoint import latest_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="folders are locked with fcntl")

TINY = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
SETS = [arg for s in TINY for arg in ("--set", s)]
TRAIN = ["train", "gan", "--data", "ring", "--batch-size", "16", "--device", "cpu", *SETS]
HOLDER = (
    "import sys\nfrom ganzoo.lock import folder_lock\nwith folder_lock(sys.argv[1]):\n"
    "    print('held', flush=True)\n    sys.stdin.read()\n"
)


def _env() -> dict[str, str]:
    return child_env()


@contextmanager
def held(folder: Path) -> Iterator[subprocess.Popen]:
    """Another process holds ``folder``'s lock inside the block (it says so on a pipe; closing its stdin ends it)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def refused(result, folder: Path, holder: subprocess.Popen) -> None:
    line = one_error_line(result)
    assert result.code == 2
    pattern = (
        rf"ganzoo: error: \S+ folder {re.escape(str(folder))} is being written by process {holder.pid} on host "
        rf"{re.escape(socket.gethostname())} since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d; wait for it to finish or "
        r"choose another --out"
    )
    assert re.fullmatch(pattern, line), line


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lock") / "base"
    ganzoo.train("gan", data="ring", steps=2, batch_size=16, out=out, device="cpu", progress=False, set=TINY)
    return out


@pytest.fixture
def run(base_run, tmp_path) -> Path:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(base_run, copy)
    return copy


@pytest.mark.parametrize("how", [["--force"], ["--steps", "4"]], ids=["train-force", "train-new"])
def test_a_second_training_into_a_folder_being_written_is_refused_and_changes_nothing(how, run, run_cli):
    with held(run) as holder:
        before = snapshot(run)
        result = run_cli(*TRAIN, "--steps", "2", "--out", str(run), *how)
        refused(result, run, holder)
        assert snapshot(run) == before
    assert not (run / LOCK_FILE).exists()


def test_a_resume_of_a_folder_being_written_is_refused_and_changes_nothing(run, run_cli):
    before = snapshot(run)
    with held(run) as holder:
        refused(run_cli("train", "--resume", str(run), "--steps", "4", "--device", "cpu"), run, holder)
    assert snapshot(run) == before


def test_a_fork_into_a_folder_being_written_is_refused_and_leaves_nothing(base_run, run_cli, tmp_path):
    fork = tmp_path / "fork"
    with held(fork) as holder:
        refused(run_cli(*TRAIN, "--init-from", str(base_run), "--out", str(fork)), fork, holder)
        assert sorted(p.name for p in fork.iterdir()) == [LOCK_FILE]  # the holder's only


def test_seeds_with_one_folder_being_written_are_refused_and_leave_no_folder(run_cli, tmp_path):
    group = tmp_path / "group"
    with held(group / "seed1") as holder:
        refused(run_cli(*TRAIN, "--steps", "2", "--seeds", "2", "--out", str(group)), group / "seed1", holder)
        assert sorted(str(p.relative_to(group)) for p in group.rglob("*")) == ["seed1", f"seed1/{LOCK_FILE}"]


def test_a_zoo_build_into_a_folder_being_written_is_refused(run_cli, tmp_path):
    from ganzoo.zoo import Pretrained

    class Catalogue:
        @hookimpl
        def register_pretrained(register):  # noqa: N805 - a pluggy hook, not a method
            register(
                "locktest",
                Pretrained(
                    description="a tiny GAN on the ring",
                    variant="gan",
                    data="ring",
                    sets=TINY,
                    steps=2,
                    batch_size=16,
                    seed=0,
                    folder=tmp_path / "unused",
                    license="mit",
                    evaluation={"metrics": ["fid"], "n": 200},
                ),
            )

    plugins.reset()
    plugins.load_plugins()
    plugins.pm.register(Catalogue, name="locktest")
    out = tmp_path / "build"
    with held(out) as holder:
        refused(run_cli("zoo", "build", "locktest", "--out", str(out), "--device", "cpu"), out, holder)
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]


def test_a_bench_into_a_folder_being_written_is_refused(run_cli, tmp_path):
    out = tmp_path / "bench"
    with held(out) as holder:
        result = run_cli(
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
            "--out",
            str(out),
        )
        refused(result, out, holder)
        assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]


def _train_in_background(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *TRAIN, "--out", str(out), "--log-every", "5", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def test_of_two_trainings_into_one_folder_exactly_one_proceeds(run_cli, tmp_path):
    out = tmp_path / "run"
    first = _train_in_background(out, "--steps", "1000000", "--ckpt-every", "1000000", "--sample-every", "1000000")
    try:
        assert first.stdout.readline().startswith("training gan on ring")  # said once it holds the folder
        second = run_cli(*TRAIN, "--steps", "2", "--out", str(out))
        refused(second, out, first)
        assert first.poll() is None  # the first trains on, untouched
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 143
    assert (
        run_cli("train", "--resume", str(out), "--steps", str(latest_checkpoint(out).step + 1), "--device", "cpu").code
        == 0
    )  # the folder is free again


def test_a_killed_holder_does_not_block_the_next_run(run_cli, tmp_path):
    out = tmp_path / "run"
    with held(out) as holder:
        holder.kill()  # SIGKILL: the OS lets go of its lock
        holder.wait(timeout=30)
        assert (out / LOCK_FILE).exists()  # its stale text is still there
        result = run_cli(*TRAIN, "--steps", "2", "--out", str(out))
    assert result.code == 0, result.err
    assert not (out / LOCK_FILE).exists() and Run(out).config.steps == 2


def test_the_lock_is_taken_and_given_back_in_this_process(tmp_path):
    folder = tmp_path / "a" / "b"
    with folder_lock(folder):
        assert f"{os.getpid()}\n" in (folder / LOCK_FILE).read_text()
        with pytest.raises(
            FolderBusy, match=rf"run folder {re.escape(str(folder))} is being written by process {os.getpid()}"
        ):
            with folder_lock(folder):
                pass
    assert not (tmp_path / "a").exists()  # made for the lock, empty, removed again
    with folder_lock(folder):
        (folder / "kept").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["kept"]


def test_readers_never_wait_and_never_see_a_half_written_checkpoint(run_cli, tmp_path):
    out = tmp_path / "run"
    writer = _train_in_background(out, "--steps", "20", "--ckpt-every", "1", "--keep", "1", "--sample-every", "1000")
    reads, steps = 0, set()
    try:
        assert writer.stdout.readline().startswith("training gan on ring")
        while writer.poll() is None or reads == 0:
            ckpt = latest_checkpoint(out, quiet=True)  # raises CorruptCheckpoint on a half-written or half-deleted one
            if ckpt is not None:
                reads += 1
                steps.add(ckpt.step)
                if len(steps) == 3:  # while the writer holds the folder: sample and info do not wait for it
                    assert (out / LOCK_FILE).exists()
                    sampled = run_cli("sample", str(out), "-n", "4", "-o", str(tmp_path / "s.png"), "--device", "cpu")
                    assert sampled.code == 0, sampled.err
                    assert run_cli("info", str(out)).code == 0
    finally:
        if writer.poll() is None:
            writer.kill()
        _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert reads > 0 and len(steps) >= 3
