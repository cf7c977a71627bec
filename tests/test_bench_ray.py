"""`ganzoo bench --ray`: the runs as Ray tasks on a local Ray (2 CPUs, no GPU) give the one-process report, a rerun
reuses finished runs, a retried task resumes what its lost worker wrote, Ctrl-C cancels, and bad input is one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from ganzoo.bench import bench, plan_bench, units
from ganzoo.bench_ray import RayRunner, connect, parse_address, run_unit
from ganzoo.errors import UsageError
from ganzoo.training.seeds import stacking

ray = pytest.importorskip("ray")

SETS = ["arch=mlp", "arch.g_width=8", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
ARGS = dict(data="ring", steps=3, seeds=2, n=200, set=SETS, batch_size=16, progress=False)
WORDS = [
    "bench",
    "gan",
    "--data",
    "ring",
    "--steps",
    "3",
    "--seeds",
    "2",
    "--n",
    "200",
    "--batch-size",
    "16",
    *[w for pair in SETS for w in ("--set", pair)],
]


@pytest.fixture(scope="module")
def local_ray():
    """One Ray for this file, started here with 2 CPUs and no GPU (what ``--ray`` alone does, at a fixed size)."""
    started = connect(None, local_cpus=2, local_gpus=0)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def on_ray(local_ray, tmp_path_factory):
    """``gan`` x 2 seeds benchmarked on Ray, each run its own task."""
    out = tmp_path_factory.mktemp("ray") / "ring"
    report = bench(["gan"], out=out, runner=RayRunner(), **ARGS)
    return out, report


def checkpoint_times(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted((out / "runs").glob("*/checkpoints/*/*"))}


def figures(report: dict) -> list:
    """What a report says about the runs, without timings, the command line or the clock."""
    keep = ("seed", "run", "step", "skipped", "error", "results")
    return [
        (v["variant"], v["config"], v["summary"], v["failed"], [{k: r[k] for k in keep} for r in v["runs"]])
        for v in report["variants"]
    ] + [report["columns"], report["protocols"], report["metrics"], report["n"], report["trained"]]


def test_the_report_on_ray_equals_the_one_process_report(on_ray, tmp_path):
    out, report = on_ray
    # each Ray task trains one run alone; one process stacks a variant's seeds unless told to take turns, and seeds
    # taking turns are on the CPU bit for bit the runs alone
    with stacking(False):
        alone = bench(["gan"], out=tmp_path / "ring", **ARGS)
    assert figures(report) == figures(alone)
    assert report["trained"] == 2 and report["variants"][0]["runs"][0]["results"][0]["metric"] == "modes"
    assert report["command"].endswith("--ray")
    for name in ("report.md", "report.json", "samples.png", "metrics.png", "losses.png"):
        assert (out / name).is_file(), name
    for seed in (0, 1):  # the same folders, and the same weights in them
        ours = sorted((out / "runs" / f"gan-seed{seed}" / "checkpoints").glob("*/*.safetensors"))
        theirs = sorted((tmp_path / "ring" / "runs" / f"gan-seed{seed}" / "checkpoints").glob("*/*.safetensors"))
        assert [p.name for p in ours] == [p.name for p in theirs] and ours
        assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs]


def test_running_again_reuses_finished_runs(on_ray, run_cli):
    out, _ = on_ray
    before = checkpoint_times(out)
    again = run_cli(*WORDS, "--out", str(out), "--ray")
    assert again.code == 0, again.err
    assert again.err.count("skipped gan seed ") == 2
    assert checkpoint_times(out) == before
    report = json.loads((out / "report.json").read_text())
    assert (report["trained"], report["skipped"]) == (0, 2)


def test_a_retried_task_resumes_what_the_lost_worker_wrote(tmp_path):
    """A task planned as "train" finds the run its lost first try left at step 2 of 4, and resumes it."""
    out = tmp_path / "ring"
    bench(["gan"], **{**ARGS, "seeds": 1, "steps": 2}, out=out)
    plan = plan_bench(["gan"], **{k: v for k, v in ARGS.items() if k != "progress"} | {"seeds": 1, "steps": 4}, out=out)
    (job,) = plan.jobs
    assert job.action == "resume"
    job.action, job.step = "train", 0  # as planned before the first try began
    (back,), (line,) = run_unit(plan, [job])
    assert back.action == "resume" and back.step == 4 and back.error is None, line
    assert line.startswith("gan seed 0: step 4, trained in ")
    assert sorted(p.name for p in (out / "runs" / "gan-seed0" / "checkpoints").iterdir())[-1].endswith("4")


def task_processes() -> list[int]:
    """The processes running a ganzoo task now (Ray titles a worker by the function it runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::run_unit"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker through /proc")
def test_a_lost_worker_is_retried_and_its_run_finishes(local_ray, tmp_path):
    out = tmp_path / "ring"
    result: dict = {}
    # long enough (seconds of training) that the kill lands in training, not after it: a finished run is reused at
    # once on the retry, too briefly for the poll below to see its worker
    args = {**ARGS, "seeds": 1, "steps": 4000}
    thread = threading.Thread(target=lambda: result.update(bench(["gan"], out=out, runner=RayRunner(), **args)))
    thread.start()
    deadline = time.monotonic() + 60
    while not task_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # into its training
    (pid,) = task_processes()
    os.kill(pid, signal.SIGKILL)  # the worker is lost, as when its node goes down
    retried = False
    while thread.is_alive() and time.monotonic() < deadline + 120:
        retried = retried or any(other != pid for other in task_processes())  # the task again, in a new worker
        time.sleep(0.1)
    thread.join(timeout=1)
    assert retried
    assert not thread.is_alive()
    (run,) = result["variants"][0]["runs"]
    assert run["error"] is None and run["step"] == 4000 and run["results"][0]["metric"] == "modes"


def test_ctrl_c_cancels_the_pending_tasks_and_keeps_finished_runs(local_ray, tmp_path, monkeypatch, capsys):
    cancelled = []
    real_cancel = ray.cancel

    def cancel(ref, *, force=False, **kwargs):
        cancelled.append(force)
        return real_cancel(ref, force=force, **kwargs)

    monkeypatch.setattr(ray, "cancel", cancel)
    out = tmp_path / "ring"
    plan = plan_bench(["gan"], **{k: v for k, v in ARGS.items() if k != "progress"} | {"seeds": 3}, out=out)
    runner = RayRunner()
    runner.start(plan)
    finished = []

    def done(job, text):
        finished.append(job)
        raise KeyboardInterrupt  # the user presses Ctrl-C as the first run comes back

    with pytest.raises(KeyboardInterrupt):
        runner.run(plan, done)
    runner.close()
    assert cancelled == [True, True]  # the two other tasks, forced
    assert "cancelled 2 Ray task(s); finished runs are kept" in capsys.readouterr().err
    (first,) = finished
    assert (first.run_dir / "checkpoints").is_dir() and first.error is None and first.results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "extra, words",
    [
        (
            ["--ray", "127.0.0.1:{port}"],
            ["--ray 127.0.0.1:{port}: nothing answers at 127.0.0.1:{port}", "ray start --head"],
        ),
        (["--ray", "ray://127.0.0.1:{port}"], ["nothing answers at 127.0.0.1:{port}"]),
        (["--ray", "head node"], ["--ray 'head node' is not an address", "HOST:PORT, ray://HOST:PORT or auto"]),
        (["--ray", "head:99999"], ["is not an address"]),
        (["--ray", "http://head:6379"], ["is not an address"]),
        (["--device", "cuda", "--ray"], ["--device cuda: the Ray cluster on this machine has no GPUs"]),
        (["--device", "cuda:1", "--ray"], ["Ray assigns each task its GPU; use --device cuda"]),
        (["--ray", "--ray-cpus", "3"], ["--ray-cpus 3: no node of the Ray cluster", "(2 at most)"]),
        (["--ray-gpus", "1"], ["--ray-gpus applies only with --ray"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(extra, words, local_ray, run_cli, tmp_path, monkeypatch):
    port = free_port()
    out = tmp_path / "bench"
    result = run_cli(*WORDS, "--out", str(out), *[w.format(port=port) for w in extra])
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error: "), result.err
    for word in words:
        assert word.format(port=port) in lines[0]
    assert not out.exists()
    assert ray.is_initialized()  # the file's Ray is still there for the other tests


def test_without_ray_installed_the_line_says_how_to_install_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError, as when the extra is missing
    out = tmp_path / "bench"
    result = run_cli(*WORDS, "--out", str(out), "--ray")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "ganzoo: error: --ray needs Ray, which is not installed here: pip install 'ganzoo[ray]'"
    ]
    assert not out.exists()


def test_ray_client_without_its_part_installed_is_one_line(local_ray, run_cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc", None)  # ray installed without its [client] part
    with socket.socket() as server:  # something answers at the address
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = run_cli(*WORDS, "--out", str(tmp_path / "bench"), "--ray", f"ray://127.0.0.1:{port}")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"ganzoo: error: --ray ray://127.0.0.1:{port}: Ray Client is not installed here: pip install 'ganzoo[ray]'"
    ]
    assert not (tmp_path / "bench").exists()


def test_units_hold_one_variants_runs_in_groups_of_the_size_asked(tmp_path):
    plan = plan_bench(
        ["gan", "pacgan4"], **{k: v for k, v in ARGS.items() if k != "progress"} | {"seeds": 3}, out=tmp_path / "b"
    )
    labels = [[job.label for job in unit] for unit in units(plan.jobs, 2)]
    assert labels == [
        ["gan seed 0", "gan seed 1"],
        ["gan seed 2"],
        ["pacgan4 seed 0", "pacgan4 seed 1"],
        ["pacgan4 seed 2"],
    ]
    assert [len(unit) for unit in units(plan.jobs)] == [3, 3]  # the one-process bench: a variant's runs together
    assert [len(unit) for unit in units(plan.jobs, 1)] == [1] * 6


def test_addresses_are_read_as_ray_writes_them():
    assert parse_address(None) == ("local", None, None)
    assert parse_address("auto") == ("auto", None, None)
    assert parse_address("10.0.0.5:6379") == ("gcs", "10.0.0.5", 6379)
    assert parse_address("ray://head.cluster.local:10001") == ("client", "head.cluster.local", 10001)
    assert parse_address("[::1]:6379") == ("gcs", "::1", 6379)
    for bad in ("6379", "head:", ":6379", "head:port", "ray://", "[::g]:1"):
        with pytest.raises(UsageError):
            parse_address(bad)
