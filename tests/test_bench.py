"""`ganzoo bench` and ganzoo.bench.bench: variants x seeds trained, evaluated, reported; finished runs skipped."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from ganzoo.bench import bench
from ganzoo.errors import UsageError

TINY = [
    "--set",
    "arch=mlp",
    "--set",
    "arch.g_width=8",
    "--set",
    "arch.g_depth=2",
    "--set",
    "arch.d_width=8",
    "--set",
    "arch.d_depth=2",
    "--set",
    "arch.d_maxout=2",
    "--batch-size",
    "16",
]
COMMAND = ["bench", "gan", "wgan-gp", "--data", "ring", "--steps", "3", "--seeds", "2", "--n", "200", *TINY]
PICTURES = ("samples.png", "metrics.png", "losses.png")


def checkpoint_times(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted((out / "runs").glob("*/checkpoints/*/*"))}


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The benchmark run once for this file: its folder and the CLI's exit code, stdout and stderr."""
    from ganzoo import plugins
    from ganzoo.cli import main

    out = tmp_path_factory.mktemp("bench") / "ring"
    stdout, stderr = io.StringIO(), io.StringIO()
    plugins.reset()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([*COMMAND, "--out", str(out)])
    plugins.reset()
    return out, code, stdout.getvalue(), stderr.getvalue()


def test_bench_writes_the_report_json_markdown_and_pictures(first):
    out, code, stdout, stderr = first
    assert code == 0, stderr
    for name in ("report.md", "report.json", *PICTURES):
        assert (out / name).is_file(), name
    for name in PICTURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    assert [v["variant"] for v in report["variants"]] == ["gan", "wgan-gp"]
    assert report["trained"] == 4 and report["skipped"] == 0
    for entry in report["variants"]:
        assert [r["seed"] for r in entry["runs"]] == [0, 1]
        assert set(entry["summary"]) == {"modes", "hq", "rkl"}
        assert entry["summary"]["modes"]["runs"] == 2
        for run in entry["runs"]:
            (item,) = run["results"]
            assert item["metric"] == "modes" and set(item["values"]) == {"modes", "hq", "rkl"}
            assert item["protocol"]["n_generated"] == 200 and item["protocol"]["step"] == 3
            assert run["img_s"] > 0 and run["error"] is None
            assert (out / run["run"] / "eval.json").is_file()
        assert entry["config"]["architecture"] == "mlp" and entry["config"]["batch_size"] == 16
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "gan-seed0",
        "gan-seed1",
        "wgan-gp-seed0",
        "wgan-gp-seed1",
    ]
    assert {"platform", "cpu", "cpu_count", "torch", "device"} <= set(report["machine"])
    markdown = (out / "report.md").read_text()
    assert report["command"].startswith("ganzoo bench gan wgan-gp --data ring --steps 3 --seeds 2")
    assert report["command"] in markdown and "--set arch.d_maxout=2" in report["command"]
    assert "| gan |" in markdown and "| wgan-gp |" in markdown and "## Machine" in markdown
    assert "| variant | modes | hq | rkl | train img/s | wall s / run | runs |" in stdout
    assert "bench" in stderr and "gan seed 1" in stderr  # the progress bar and per-run lines


def test_running_again_skips_finished_runs(first, run_cli):
    out, code, _, _ = first
    assert code == 0
    before = checkpoint_times(out)
    assert len(before) >= 4
    again = run_cli(*COMMAND, "--out", str(out))
    assert again.code == 0, again.err
    assert again.err.count("skipped ") == 4
    assert checkpoint_times(out) == before
    report = json.loads((out / "report.json").read_text())
    assert (report["trained"], report["skipped"]) == (0, 4)
    assert all(r["skipped"] for v in report["variants"] for r in v["runs"])


def test_a_new_metric_evaluates_without_retraining_and_more_steps_resume(first):
    out, code, _, _ = first
    assert code == 0
    sets = [TINY[i + 1] for i in range(0, 12, 2)]
    before = checkpoint_times(out)
    report = bench(
        ["gan"], "ring", steps=3, seeds=2, metrics="modes,fid", n=200, out=out, set=sets, batch_size=16, progress=False
    )
    assert (report["trained"], report["evaluated"], report["skipped"]) == (0, 2, 0)
    assert {k: v for k, v in checkpoint_times(out).items() if k.startswith("runs/gan-")} == {
        k: v for k, v in before.items() if k.startswith("runs/gan-")
    }
    assert set(report["variants"][0]["summary"]) == {"modes", "hq", "rkl", "fid"}
    report = bench(["gan"], "ring", steps=4, seeds=1, n=200, out=out, set=sets, batch_size=16, progress=False)
    assert report["trained"] == 1 and report["variants"][0]["runs"][0]["step"] == 4


@pytest.mark.parametrize(
    "args, words",
    [
        (["gan", "wgn", "--data", "ring"], ["unknown variant 'wgn'", "did you mean"]),
        (["gan", "--data", "rign"], ["unknown dataset 'rign'"]),
        (["gan", "--data", "ring", "--metrics", "is"], ["'is' applies to images"]),
        (["gan", "--data", "ring", "--metrics", "fdi"], ["unknown metric 'fdi'", "did you mean 'fid'"]),
        (["gan", "--data", "ring", "--set", "nope=1"], ["unknown --set key 'nope'"]),
        (["gan", "wgan-gp", "--data", "ring", "--set", "arch=dcgan"], ["architecture 'dcgan' makes square images"]),
    ],
)
def test_bad_input_fails_before_anything_is_written(args, words, run_cli, tmp_path):
    out = tmp_path / "bench"
    result = run_cli("bench", *args, "--steps", "2", "--seeds", "1", "--out", str(out))
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error: "), result.err
    for word in words:
        assert word in lines[0]
    assert not out.exists()


def test_a_folder_with_other_settings_is_refused(first, run_cli):
    out, code, _, _ = first
    assert code == 0
    result = run_cli(
        "bench",
        "gan",
        "--data",
        "ring",
        "--steps",
        "3",
        "--seeds",
        "1",
        *TINY[:-2],
        "--batch-size",
        "8",
        "--out",
        str(out),
    )
    assert result.code == 2
    assert "other settings (batch_size: 16 there, 8 now)" in result.err


def test_digits_benchmark_shows_image_grids(tmp_path):
    report = bench(
        ["dcgan"],
        "digits",
        steps=2,
        seeds=1,
        metrics=["fid", "classes"],
        n=50,
        out=tmp_path / "d",
        set=["arch.g_width=4", "arch.d_width=4"],
        batch_size=8,
        progress=False,
    )
    assert set(report["variants"][0]["summary"]) == {"fid", "classes", "kl"}
    assert report["protocols"][0]["features"] == "digits-cnn"
    assert (tmp_path / "d" / "samples.png").stat().st_size > 1000


def test_without_a_terminal_each_finished_run_is_one_plain_line(first):
    _, code, _, stderr = first
    assert code == 0, stderr
    assert "\r" not in stderr  # no progress-bar frames in a log file
    lines = [line for line in stderr.splitlines() if line.startswith("bench ")]
    labels = ["gan seed 0", "gan seed 1", "wgan-gp seed 0", "wgan-gp seed 1"]
    assert [line.split(": ")[0] for line in lines] == [f"bench {i}/4" for i in range(1, 5)]
    for line, label in zip(lines, labels):
        assert line.split(": ")[1] == label
        assert "step 3, trained in " in line and "evaluated in " in line
    assert all("; ETA " in line for line in lines[:-1]) and "ETA" not in lines[-1]


def test_progress_flag_draws_the_bar_even_without_a_terminal(first, run_cli):
    out, code, _, _ = first
    assert code == 0
    wgan_only = [word for word in COMMAND if word != "gan"]  # gan's runs moved on in another test
    again = run_cli(*wgan_only, "--out", str(out), "--progress")
    assert again.code == 0, again.err
    assert "\r" in again.err and "2/2" in again.err
    assert again.err.count("skipped wgan-gp seed ") == 2 and "bench 1/2:" not in again.err


def test_the_eta_counts_each_variants_own_cost():
    from ganzoo.bench import Eta

    eta = Eta()
    assert eta.remaining([("gan", 100, True)]) is None  # nothing measured yet
    eta.record("gan", steps=100, train_s=1.0, eval_s=0.5)
    assert eta.remaining([("gan", 100, True), ("wgan", 200, False)]) == pytest.approx(1.5 + 2.0)  # wgan borrows gan's
    eta.record("wgan", steps=100, train_s=10.0, eval_s=None)  # a five-times-dearer step, measured
    assert eta.seconds("wgan", 200, evaluate=False) == pytest.approx(20.0)
    assert eta.seconds("wgan", 200) == pytest.approx(20.5)  # its evaluation not measured yet: gan's
    assert eta.seconds("gan", 300) == pytest.approx(3.5)
    assert eta.seconds("lsgan", 10, evaluate=False) == pytest.approx(10 * (0.01 + 0.1) / 2)  # the mean of the known
    assert eta.remaining([("gan", 0, False), ("wgan", 50, True)]) == pytest.approx(5.5)


def test_an_out_folder_under_a_file_is_one_line_and_the_file_is_kept(run_cli, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me\n")
    result = run_cli(
        "bench", "gan", "--data", "ring", "--steps", "2", "--seeds", "1", *TINY, "--out", str(blocker / "b")
    )
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"ganzoo: error: the benchmark folder (--out) {blocker / 'b'} cannot be written: "
        f"{blocker} is a file, not a folder"
    ]
    assert blocker.read_text() == "keep me\n"
    with pytest.raises(UsageError, match="exists and is not a folder"):
        bench(["gan"], "ring", steps=2, seeds=1, out=blocker, progress=False)
