"""`ganzoo eval`: scores a run or generator folder, prints a table or JSON, records eval.json, refuses bad input in
one line."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

import ganzoo
from ganzoo.metrics.report import read_eval, record_eval

DIGITS_TINY = ["arch.g_width=4", "arch.d_width=4"]
MLP_TINY = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2", "arch.d_maxout=2"]
PROTOCOL_KEYS = {
    "data",
    "split",
    "seed",
    "n_real",
    "n_generated",
    "features",
    "features_sha256",
    "features_input_size",
    "step",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny DCGAN run on digits and a tiny MLP GAN run on the ring, two steps each (trained once for this file)."""
    base = tmp_path_factory.mktemp("eval-runs")
    digits = ganzoo.train(
        "dcgan", data="digits", steps=2, batch_size=8, out=base / "digits", set=DIGITS_TINY, progress=False
    )
    ring = ganzoo.train("gan", data="ring", steps=2, batch_size=16, out=base / "ring", set=MLP_TINY, progress=False)
    return {"digits": digits.path, "ring": ring.path}


@pytest.fixture
def digits_run(runs, tmp_path) -> Path:
    """A private copy of the digits run, so each test sees its own eval.json."""
    return Path(shutil.copytree(runs["digits"], tmp_path / "digits"))


def one_error_line(result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_eval_json_of_a_digits_run_records_values_protocol_and_eval_json(digits_run, run_cli):
    result = run_cli("eval", str(digits_run), "--metrics", "fid,classes", "--n", "100", "--json")
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert [r["metric"] for r in found] == ["fid", "classes"]
    assert math.isfinite(found[0]["values"]["fid"]) and found[0]["values"]["fid"] >= 0
    assert set(found[1]["values"]) == {"classes", "kl"} and 1 <= found[1]["values"]["classes"] <= 10
    for item in found:
        p = item["protocol"]
        assert PROTOCOL_KEYS <= set(p), set(p)
        assert (p["data"], p["split"], p["n_real"], p["n_generated"], p["features"], p["step"]) == (
            "digits",
            "test",
            100,
            100,
            "digits-cnn",
            2,
        )
        assert len(p["features_sha256"]) == 64 and p["features_input_size"] == 32
    stored = json.loads((digits_run / "eval.json").read_text())
    assert stored == found


def test_eval_table_has_default_image_metrics_and_a_protocol_line(digits_run, run_cli):
    result = run_cli("eval", str(digits_run), "--n", "60", "--option", "kid.subsets=5")
    assert result.code == 0, result.err
    for name in ("fid", "kid", "precision", "recall", "density", "coverage", "classes", "kl"):
        assert f" {name} " in result.out, name
    protocol = next(line for line in result.out.splitlines() if line.startswith("protocol"))
    assert (
        "60 real / 60 generated" in protocol and "digits-cnn (sha256 " in protocol and "checkpoint step 2" in protocol
    )
    assert "test split" in protocol and "seed 0" in protocol
    assert "eval.json" in result.out


def test_eval_json_merges_by_metric_and_protocol(digits_run, run_cli):
    for n in ("50", "40", "50"):
        assert run_cli("eval", str(digits_run), "--metrics", "fid", "--n", n, "--json").code == 0
    stored = read_eval(digits_run)
    assert sorted(r["protocol"]["n_generated"] for r in stored) == [40, 50]
    # Results of an older checkpoint step describe weights that are gone: they are dropped.
    record_eval(digits_run, [{"metric": "fid", "values": {"fid": 1.0}, "protocol": {"n_generated": 40}}], step=9)
    assert [(r["protocol"]["step"], r["values"]["fid"]) for r in read_eval(digits_run)] == [(9, 1.0)]


def test_eval_of_a_generator_folder_uses_its_data_and_writes_no_eval_json(digits_run, run_cli, tmp_path):
    assert run_cli("eval", str(digits_run), "--metrics", "fid", "--n", "30").code == 0
    folder = ganzoo.save_generator(digits_run, tmp_path / "gen")
    assert json.loads((folder / "config.json").read_text())["metrics"][0]["protocol"]["step"] == 2  # goes to the card
    result = run_cli("eval", str(folder), "--metrics", "fid", "--n", "30", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["protocol"]["data"] == "digits"
    assert not (folder / "eval.json").exists()


def test_eval_of_a_ring_run_scores_modes_by_default(runs, run_cli):
    result = run_cli("eval", str(runs["ring"]), "--json", "--no-save")
    assert result.code == 0, result.err
    (item,) = json.loads(result.out)
    assert item["metric"] == "modes" and set(item["values"]) == {"modes", "hq", "rkl"}
    assert 0 <= item["values"]["modes"] <= 8 and 0 <= item["values"]["hq"] <= 100
    p = item["protocol"]
    assert (p["n_generated"], p["mode_count"], p["data"], p["step"]) == (2500, 8, "ring", 2)
    assert not (runs["ring"] / "eval.json").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["ring", "--metrics", "is"], ["'is' applies to images", "ring holds points"]),
        (["ring", "--metrics", "fdi"], ["unknown metric 'fdi'", "did you mean 'fid'"]),
        (["digits", "--metrics", "fid", "--n", "1"], ["needs at least 2 samples", "raise --n"]),
        (["digits", "--features", "digit-cnn"], ["unknown features 'digit-cnn'", "did you mean 'digits-cnn'"]),
        (["digits", "--data", "rign"], ["unknown dataset 'rign'", "did you mean 'ring'"]),
        (["digits", "--option", "kid"], ["METRIC.KEY=VALUE"]),
        (["missing", "--metrics", "fid"], ["there is no folder"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, words, runs, run_cli, tmp_path):
    source = str(runs[args[0]]) if args[0] in runs else str(tmp_path / "no-such-run")
    result = run_cli("eval", source, *args[1:])
    assert result.code == 2, (result.code, result.err)
    line = one_error_line(result)
    assert line.startswith("ganzoo: error: ")
    for word in words:
        assert word in line, line
    assert result.out == ""


def test_a_folder_that_is_no_generator_fails_cleanly(run_cli, tmp_path):
    result = run_cli("eval", str(tmp_path))
    assert result.code != 0
    assert "neither a ganzoo run folder nor a generator folder" in one_error_line(result)
