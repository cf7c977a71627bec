"""docs/plugins.md shows real code: its plugin listing is the test plugin byte for byte, and its examples run."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import torch

import ganzoo
from conftest import ROOT, TEST_PLUGINS, child_env, pip_install_into
from ganzoo.variant import Variant

GUIDE = ROOT / "docs" / "plugins.md"
PLUGIN = TEST_PLUGINS / "ganzoo-lsgan"
# The guide marks the blocks these tests read with an HTML comment on the line before the fence:
# `<!-- file: PATH -->` (the block is that file of this repository, byte for byte) or
# `<!-- example: NAME -->` (the block is code the tests below run).
MARKED = re.compile(r"^<!-- (file|example): (\S+) -->\n```[\w-]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FENCED = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BUILD_LEFTOVERS = ("build", "*.egg-info", "__pycache__")


def _guide() -> str:
    return GUIDE.read_bytes().decode("utf-8")  # no newline translation: the listings are compared byte for byte


def _marked(kind: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for marker, name, body in MARKED.findall(_guide()):
        if marker == kind:
            assert name not in found, f"docs/plugins.md marks two blocks as {kind} {name}"
            found[name] = body
    return found


def _python_blocks() -> list[str]:
    return [body for language, body in FENCED.findall(_guide()) if language == "python"]


def _run_example(name: str) -> dict:
    namespace: dict = {"__name__": f"plugins_md_{name.replace('-', '_')}"}
    exec(compile(_marked("example")[name], f"docs/plugins.md ({name})", "exec"), namespace)
    return namespace


def _source_files(folder: Path) -> list[str]:
    ignored = shutil.ignore_patterns(*BUILD_LEFTOVERS)
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(set(dirs) - ignored(here, dirs))
        found += [(Path(here) / f).relative_to(ROOT).as_posix() for f in files if f not in ignored(here, files)]
    return sorted(found)


def test_the_guide_lists_every_file_of_the_test_plugin_byte_for_byte():
    listed = _marked("file")
    assert sorted(listed) == _source_files(PLUGIN)
    for path, body in listed.items():
        assert body.encode("utf-8") == (ROOT / path).read_bytes(), (
            f"docs/plugins.md's listing of {path} is not the file"
        )


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_every_python_block_of_the_guide_runs(index):
    body = _python_blocks()[index]
    exec(compile(body, f"docs/plugins.md (python block {index})", "exec"), {"__name__": f"plugins_md_block_{index}"})


def test_the_variant_example_names_every_field_with_its_real_default():
    recipe = _run_example("variant")["recipe"]
    call = next(node for node in ast.walk(ast.parse(_marked("example")["variant"])) if isinstance(node, ast.Call))
    assert [keyword.arg for keyword in call.keywords] == [f.name for f in fields(Variant)]
    assert recipe == Variant(recipe.description, recipe.architecture, recipe.loss)


def test_the_dataset_example_loads_each_split_from_its_own_seed():
    Circle = _run_example("dataset")["Circle"]
    train, test, both = (Circle(n=50, seed=3).load(split) for split in ("train", "test", "all"))
    assert (train.kind, Circle.kind, train.data.dtype, tuple(train.data.shape)) == (
        "points",
        "points",
        torch.float32,
        (50, 2),
    )
    assert len(test) == 50 and not torch.equal(test.data, train.data)
    assert torch.equal(both.data, torch.cat([train.data, test.data]))
    torch.manual_seed(12345)  # the global generator's state does not matter: the data set draws from its own
    assert torch.equal(Circle(n=50, seed=3).load("train").data, train.data)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda Circle: Circle().load("valid"), "data set 'circle' has no split 'valid'; use one of: train, test, all"),
        (lambda Circle: Circle(noise=-1.0), "Circle option 'noise': must be >= 0, got -1.0"),
        (lambda Circle: Circle(n=0), "Circle option 'n': must be between 1 and 1000000, got 0"),
    ],
)
def test_the_dataset_example_refuses_a_bad_split_or_option(make, message):
    Circle = _run_example("dataset")["Circle"]
    with pytest.raises(ganzoo.UsageError) as refused:
        make(Circle)
    assert str(refused.value) == message


def test_the_dataset_example_trains_once_registered(ganzoo_plugins, run_cli, tmp_path):
    Circle = _run_example("dataset")["Circle"]

    class CirclePlugin:
        @ganzoo.hookimpl
        def register_datasets(register):  # a pluggy hook, not a method: no self
            register("circle", Circle)

    ganzoo_plugins.register(CirclePlugin, name="circle")
    result = run_cli(
        "train",
        "gan",
        "--data",
        "circle",
        "--set",
        "data.noise=0.1",
        "--set",
        "data.n=500",
        "--steps",
        "2",
        "--out",
        str(tmp_path / "run"),
    )
    assert result.code == 0, result.err
    run = ganzoo.open_run(tmp_path / "run")
    assert (run.config.data, run.config.architecture, run.info["data_kind"]) == ("circle", "mlp", "points")
    assert run.config.data_options == {"n": 500, "noise": 0.1, "seed": 0}


@pytest.fixture(scope="module")
def lsgan_project(tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the guide's plugin project and a folder it is pip-installed into, alone (not the venv)."""
    root = tmp_path_factory.mktemp("lsgan")
    project = root / "ganzoo-lsgan"
    shutil.copytree(PLUGIN, project, ignore=shutil.ignore_patterns(*BUILD_LEFTOVERS))
    site = root / "site"
    pip_install_into(site, project)
    return project, site


def test_the_guides_plugin_test_passes_as_printed(lsgan_project):
    project, site = lsgan_project
    body = _marked("example")["plugin-test"]
    (project / "tests").mkdir()
    (project / "tests" / "test_lsgan.py").write_text(body, encoding="utf-8")
    tests = [n for n in ast.parse(body).body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    env = child_env()
    env.update(PYTHONPATH=str(site), GANZOO_STRICT_PLUGINS="1", OMP_NUM_THREADS="1")
    # the command the guide prints, run in the plugin's folder
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(tests)} passed" in done.stdout


def _example_module(name: str):
    """The guide's example ``name`` as a module a plugin can be registered from."""
    import types

    module = types.ModuleType(f"plugins_md_{name.replace('-', '_')}")
    exec(compile(_marked("example")[name], f"docs/plugins.md ({name})", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory) -> dict[str, Path]:
    """A two-step gan run on ring and a one-step dcgan run on digits, tiny networks."""
    base = tmp_path_factory.mktemp("metric-example")
    ring = ganzoo.train(
        "gan",
        data="ring",
        steps=2,
        batch_size=8,
        device="cpu",
        out=base / "ring",
        progress=False,
        set=["arch.g_width=8", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"],
    )
    digits = ganzoo.train(
        "dcgan",
        data="digits",
        steps=1,
        batch_size=8,
        device="cpu",
        out=base / "digits",
        progress=False,
        set=["arch.g_width=4", "arch.d_width=4"],
    )
    return {"ring": ring.path, "digits": digits.path}


def test_the_metric_example_scores_points_and_images_and_passes_its_check(ganzoo_plugins, run_cli, tiny_runs):
    import json
    import math

    ganzoo_plugins.register(_example_module("metric"), name="meangap", distribution="ganzoo-meangap", version="1.0")
    checked = run_cli("check", "mean-gap", "--device", "cpu")
    assert checked.code == 0, checked.err
    assert checked.out.startswith("ok: meangap (ganzoo-meangap 1.0) metric 'mean-gap': scored ")

    points = run_cli(
        "eval", str(tiny_runs["ring"]), "--metrics", "mean-gap", "--n", "200", "--device", "cpu", "--json", "--no-save"
    )
    assert points.code == 0, points.err
    (result,) = json.loads(points.out)
    assert result["values"]["mean_gap"] > 0 and result["protocol"]["features"] == "coordinates"
    assert result["protocol"]["mean_gap_version"] == 1

    images = run_cli(
        "eval",
        str(tiny_runs["digits"]),
        "--metrics",
        "mean-gap,fid",
        "--features",
        "pooled",
        "--n",
        "100",
        "--device",
        "cpu",
        "--json",
        "--no-save",
    )
    assert images.code == 0, images.err
    gap, fid = json.loads(images.out)
    assert gap["protocol"]["features"] == fid["protocol"]["features"] == "pooled"
    assert gap["protocol"]["features_input_size"] == 4 and math.isfinite(fid["values"]["fid"])


def test_the_metric_example_says_none_for_an_undefined_figure():
    MeanGap = _run_example("metric")["MeanGap"]

    class Context:  # what compute uses of a MetricContext
        protocol: dict = {}

        def features(self, x, spec=None):
            return x

    same = torch.zeros(8, 2)
    assert MeanGap().compute(same, same, Context()) == {"mean_gap": 0.0, "relative_gap": None}
