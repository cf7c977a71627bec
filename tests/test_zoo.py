"""The zoo: pretrained generators that plugins register, loaded by name (their sha256 checked first), rebuilt from
their recipes and scored again against the figures they record.

The test plugin tests/plugins/ganzoo-zootest ships one small generator folder (ring, float16). Most tests register
its module in this process; one pip-installs the distribution and runs `ganzoo` in a fresh process, and the Hub
tests run batches of commands in fresh processes against tests/hubserver.py (huggingface_hub reads its settings
when it is imported).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import ganzoo
from conftest import ROOT, TEST_PLUGINS, child_env, one_error_line, pip_install_into, snapshot
from ganzoo import Pretrained, hookimpl, plugins
from ganzoo.errors import PluginError, UnknownNameError, UsageError
from ganzoo.zoo import ChecksumError, sha256_of

ZOOTEST = TEST_PLUGINS / "ganzoo-zootest"
NAME = "zootest-ring"
TINY = ("arch.g_width=8", "arch.g_depth=1", "arch.d_width=8", "arch.d_depth=1", "arch.d_maxout=2")
SEED, N = 7, 12


def _zootest_module():
    """The test plugin's module, imported from its source file (its folder stays off sys.path: a pip build leaves
    metadata there that would make it an installed distribution)."""
    if "ganzoo_zootest" not in sys.modules:
        spec = importlib.util.spec_from_file_location("ganzoo_zootest", ZOOTEST / "ganzoo_zootest" / "__init__.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["ganzoo_zootest"] = module
    return sys.modules["ganzoo_zootest"]


@pytest.fixture
def zootest():
    """The test plugin's module, registered in this process as plugin 'zootest'; returns its entry."""
    plugins.load_plugins()
    plugins.pm.register(_zootest_module(), name="zootest")
    return ganzoo.get_pretrained(NAME)


def _register(name: str = "extra", **entries: Pretrained) -> None:
    """Load the plugins afresh, the test plugin's module and an in-process plugin registering ``entries``
    (name -> Pretrained; '_' in a keyword stands for '-') among them."""

    class Catalogue:
        @hookimpl
        def register_pretrained(register):  # noqa: N805 - a pluggy hook, not a method
            for key, value in entries.items():
                register(key.replace("_", "-"), value)

    _reload({name: Catalogue})


def _reload(extra: dict[str, object]) -> None:
    """Load the plugins afresh, with the test plugin's module and ``extra`` (plugin name -> object with hooks)."""
    plugins.reset()
    plugins.load_plugins()
    plugins.pm.register(_zootest_module(), name="zootest")
    for name, plugin in extra.items():
        plugins.pm.register(plugin, name=name)


def _like(entry: Pretrained, **changes) -> Pretrained:
    """A copy of ``entry`` with some fields changed (and checked again)."""
    fields = {k: v for k, v in entry.as_dict().items()}
    fields["sets"] = tuple(fields["sets"])
    fields.update(changes)
    return Pretrained(**fields)


def _copy_shipped(entry: Pretrained, dest: Path) -> Path:
    return Path(shutil.copytree(entry.folder, dest))


# --------------------------------------------------------------------------------------------------------------------
# Loading by name


def test_every_registered_shipped_entry_loads_by_name(zootest, run_cli, tmp_path):
    names = ganzoo.list_pretrained()
    assert NAME in names
    shipped = [n for n in names if ganzoo.get_pretrained(n).folder is not None]
    for name in shipped:
        entry = ganzoo.get_pretrained(name)
        assert sha256_of(entry.folder / "model.safetensors") == entry.sha256, name
        gen = ganzoo.load_generator(name, device="cpu")
        assert not gen.training and list(gen.sample_shape) == gen.config["sample_shape"]
        samples = gen.sample(N, seed=SEED)
        assert samples.shape == (N, *gen.sample_shape) and bool(samples.isfinite().all()), name
        assert torch.equal(samples, ganzoo.load_generator(f"zoo:{name}", device="cpu").sample(N, seed=SEED))
    result = run_cli(
        "sample", NAME, "-n", str(N), "--seed", str(SEED), "--format", "npy", "-o", str(tmp_path / "s.npy")
    )
    assert result.code == 0, result.err
    assert np.array_equal(np.load(tmp_path / "s.npy"), ganzoo.load_generator(NAME).sample(N, seed=SEED).cpu().numpy())


def test_float16_weights_load_into_the_float32_network(zootest):
    from safetensors.torch import load_file

    stored = load_file(zootest.folder / "model.safetensors")
    assert zootest.dtype == "float16"
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    assert any(not t.is_floating_point() for t in stored.values())  # batch norm's step counter stays an integer
    gen = ganzoo.load_generator(NAME, device="cpu")
    state = gen.net.state_dict()
    for key, tensor in stored.items():
        assert state[key].dtype == (torch.float32 if tensor.is_floating_point() else tensor.dtype)
        assert torch.equal(state[key], tensor.to(state[key].dtype))


def test_a_tampered_shipped_file_is_refused_before_it_is_parsed(zootest, run_cli, tmp_path):
    folder = _copy_shipped(zootest, tmp_path / "shipped")
    (folder / "model.safetensors").write_bytes(b"not safetensors at all")  # parsing it would fail differently
    _register(altered=_like(zootest, folder=folder))
    out = tmp_path / "never.png"
    result = run_cli("sample", "altered", "-o", str(out))
    line = one_error_line(result)
    assert result.code == 1 and not out.exists()
    found = sha256_of(folder / "model.safetensors")
    for text in (
        "pretrained generator 'altered'",
        f"has sha256 {found}",
        f"expects {zootest.sha256}",
        "nothing was loaded",
        "ganzoo install --force-reinstall",
    ):
        assert text in line, line
    with pytest.raises(ChecksumError):
        ganzoo.load_generator("altered")


def test_an_entry_whose_architecture_plugin_is_missing_says_what_to_install(zootest, run_cli, tmp_path):
    folder = _copy_shipped(zootest, tmp_path / "xyz")
    config = json.loads((folder / "config.json").read_text())
    config.update(
        architecture="xyz",
        architecture_plugin={"name": "xyz", "plugin": "xyz", "distribution": "ganzoo-xyz", "version": "0.3.1"},
    )
    (folder / "config.json").write_text(json.dumps(config))
    _register(needs_xyz=_like(zootest, folder=folder))
    line = one_error_line(run_cli("sample", "needs-xyz", "-o", str(tmp_path / "x.png")))
    assert "plugin 'xyz' (ganzoo-xyz 0.3.1), which is not installed; install it with: ganzoo install ganzoo-xyz" in line


def test_an_unbuilt_entry_cannot_be_loaded(zootest, run_cli, tmp_path):
    _register(unbuilt=_like(zootest, folder=tmp_path / "nothing", sha256=None, size=None, metrics=[]))
    line = one_error_line(run_cli("sample", "unbuilt", "-o", str(tmp_path / "x.png")))
    assert "records no sha256 yet" in line and "ganzoo zoo build unbuilt" in line


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ("sample", "zootest-rng"),
            "'zootest-rng' is no pretrained generator, no folder here and no Hub repo id "
            "(namespace/name); did you mean 'zootest-ring'?",
        ),
        (
            ("sample", "zoo:zootest-rng"),
            "unknown pretrained generator 'zootest-rng'; did you mean 'zootest-ring'? (see: ganzoo zoo)",
        ),
        (("eval", "zootest-rng"), "did you mean 'zootest-ring'?"),
        (("info", "zootest-rng"), "unknown pretrained generator 'zootest-rng'; did you mean 'zootest-ring'?"),
        (("zoo", "build", "zootest-rng"), "unknown pretrained generator 'zootest-rng'; did you mean 'zootest-ring'?"),
        (("zoo", "verify", "zootest-rng"), "unknown pretrained generator 'zootest-rng'; did you mean 'zootest-ring'?"),
        (("sample", "zootest-ring@main"), "'zootest-ring@main' is no pretrained generator"),
    ],
)
def test_unknown_names_are_one_line_with_suggestions(zootest, run_cli, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.code == 2 and expected in one_error_line(result)
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_the_python_api_lists_gets_and_refuses_names(zootest):
    assert ganzoo.list_pretrained("zootest-*") == [NAME] and ganzoo.list_pretrained("nothing*") == []
    assert ganzoo.get_pretrained(NAME) is zootest and "Pretrained" in ganzoo.__all__
    with pytest.raises(UnknownNameError, match="did you mean 'zootest-ring'"):
        ganzoo.get_pretrained("zootest_ring")
    with pytest.raises(UnknownNameError, match="did you mean 'zootest-ring'"):
        ganzoo.load_generator("zootest-rin")
    with pytest.raises(UsageError, match="pinned by its catalogue entry"):
        ganzoo.load_generator(NAME, revision="main")


def test_resolution_order(zootest, tmp_path, monkeypatch):
    from ganzoo.sources import resolve_source

    monkeypatch.chdir(tmp_path)
    assert resolve_source(NAME).pretrained == NAME and str(resolve_source(NAME)) == f"zoo:{NAME}"
    assert resolve_source("hf-hub:someone/model").repo_id == "someone/model"
    assert resolve_source("someone/model").is_hub  # no folder 'someone' here: a repo id
    with pytest.raises(UsageError, match="there is no folder ./zootest-ring"):
        resolve_source(f"./{NAME}")
    shutil.copytree(zootest.folder, tmp_path / NAME)  # an existing local folder wins over the catalogue name ...
    assert resolve_source(NAME).path == Path(NAME)
    assert resolve_source(f"zoo:{NAME}").pretrained == NAME  # ... unless zoo: asks for the catalogue


# --------------------------------------------------------------------------------------------------------------------
# Malformed entries: the registering plugin is named and skipped, the rest of the catalogue works


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sha256": "abc"}, "sha256 must be 64 lower-case hex digits, got 'abc'"),
        ({"folder": None}, "say where the weights live"),
        ({"folder": "relative/folder"}, "folder must be an absolute path"),
        ({"hub_repo": "you/name"}, "hub_revision must pin the commit of you/name"),
        ({"hub_repo": "you/name", "hub_revision": "main"}, "hub_revision must be a commit: 40 lower-case hex digits"),
        ({"hub_repo": "not a repo"}, "hub_repo must be a Hub repo id"),
        ({"tolerance": {"modes": 0, "hq": 0.2, "rkl": 0.02}}, "tolerance has no entry for fid's value 'fid'"),
        (
            {"tolerance": {"modes": 0, "hq": 0.2, "rkl": 0.02, "fid": -1}},
            "tolerance['fid'] must be a finite number >= 0",
        ),
        (
            {"tolerance": {"modes": 0, "hq": 0.2, "rkl": 0.02, "fid": 1, "kid": 1}},
            "tolerance names 'kid', which no recorded metric reports",
        ),
        ({"dtype": "bfloat16"}, "dtype must be one of float32, float16"),
        ({"license": "Apache 2"}, "license must be a Hub licence id"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"sets": "arch.g_width=8"}, "sets must be a tuple of 'KEY=VALUE' strings"),
        ({"sets": ("g_width 8",)}, "sets must hold 'KEY=VALUE' strings"),
        (
            {"evaluation": {"metrics": ["modes", "fid"]}},
            "evaluation['n'] must be the positive number of samples scored",
        ),
        (
            {"evaluation": {"metrics": ["modes", "fid"], "n": 10, "splt": "test"}},
            "evaluation has an unknown key 'splt'",
        ),
        ({"evaluation": {"metrics": ["fid"], "n": 10}}, "metrics must be the figures of evaluation['metrics'] (fid)"),
        ({"metrics": [{"metric": "modes", "values": {"modes": "seven"}}]}, "metrics[0] (modes) must hold numbers"),
        ({"metrics": []}, "an entry with weights (sha256) must record the metrics they scored"),
        ({"size": None}, "size (bytes of model.safetensors) must be a positive integer with sha256"),
        ({"description": "two\nlines"}, "description must be one line of text"),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_fault(zootest, changes, message):
    with pytest.raises(PluginError) as refused:
        _like(zootest, **changes)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_plugin_registering_a_malformed_entry_is_named_and_skipped(zootest, run_cli):
    class Sloppy:
        @hookimpl
        def register_pretrained(register):  # noqa: N805 - a pluggy hook, not a method
            register("sloppy-ring", _like(zootest, sha256="not-a-digest"))

    class Wrong:
        @hookimpl
        def register_pretrained(register):  # noqa: N805
            register("wrong-ring", {"variant": "gan"})

    _reload({"sloppy": Sloppy, "wrong": Wrong})
    result = run_cli("zoo")
    assert (
        result.code == 0 and NAME in result.out and "sloppy-ring" not in result.out and "wrong-ring" not in result.out
    )
    lines = result.err.strip().splitlines()
    assert len(lines) == 2, result.err
    sloppy = next(line for line in lines if "plugin 'sloppy'" in line)
    wrong = next(line for line in lines if "plugin 'wrong'" in line)
    assert (
        "its pretrained entries skipped" in sloppy
        and "sha256 must be 64 lower-case hex digits, got 'not-a-digest'" in sloppy
    )
    assert "its pretrained entries skipped" in wrong and "expected an instance of ganzoo.Pretrained" in wrong
    assert run_cli("sample", NAME, "-o", os.devnull).code == 0  # the rest of the catalogue still works


def test_a_malformed_entry_costs_its_plugin_nothing_but_its_entries(zootest, run_cli):
    from ganzoo.variant import Variant

    class Mixed:
        @hookimpl
        def register_variants(register):  # noqa: N805
            register(
                "mixed-gan",
                Variant(
                    description="a variant beside a bad entry", architecture="mlp", loss="nonsaturating", data="ring"
                ),
            )

        @hookimpl
        def register_pretrained(register):  # noqa: N805
            register("mixed-ring", _like(zootest, sha256="not-a-digest"))

    _reload({"mixed": Mixed})
    assert "mixed-gan" in ganzoo.list_variants("mixed*")  # the plugin's variant still trains
    assert "mixed-ring" not in ganzoo.list_pretrained()


# --------------------------------------------------------------------------------------------------------------------
# ganzoo zoo, info, eval


def test_zoo_lists_the_catalogue(zootest, run_cli):
    table = run_cli("zoo")
    assert table.code == 0, table.err
    header, _, *rows = table.out.splitlines()
    assert header.split() == ["name", "variant", "data", "metrics", "size", "weights", "offline"]
    row = next(line for line in rows if line.startswith(NAME))
    assert row.split()[:3] == [NAME, "gan", "ring"] and "modes=7" in row and "shipped" in row and row.endswith("yes")
    listed = {item["name"]: item for item in json.loads(run_cli("zoo", "--json").out)}
    item = listed[NAME]
    assert (item["plugin"], item["size"], item["sha256"]) == ("zootest", zootest.size, zootest.sha256)
    assert item["available_offline"] is True and item["weights"] == "shipped" and item["dtype"] == "float16"
    assert item["size"] == (zootest.folder / "model.safetensors").stat().st_size
    assert NAME in run_cli("list", "pretrained").out


def test_info_shows_the_entry_and_its_generator(zootest, run_cli):
    result = run_cli("info", NAME)
    assert result.code == 0, result.err
    for text in (
        f"pretrained {NAME}: {zootest.description}",
        "from plugin zootest",
        f"sha256 {zootest.sha256}",
        "float16; available offline",
        "recipe: ganzoo train gan --data ring",
        f"generator zoo:{NAME}",
        "architecture: mlp",
        "steps: 1500",
    ):
        assert text in result.out, result.out
    data = json.loads(run_cli("info", NAME, "--json").out)
    assert data["kind"] == "pretrained" and data["entry"]["license"] == "apache-2.0"
    assert data["generator"]["config"]["latent_dim"] == 2 and data["generator"]["pretrained"]["name"] == NAME
    forced = run_cli("info", f"zoo:{NAME}")
    assert forced.code == 0 and f"pretrained {NAME}" in forced.out and "architecture: mlp" in forced.out


def test_eval_by_name_follows_the_entrys_protocol_unless_told_otherwise(zootest, run_cli):
    result = run_cli("eval", NAME, "--json")
    assert result.code == 0, result.err
    found = {r["metric"]: r for r in json.loads(result.out)}
    assert set(found) == {"modes", "fid"} and found["fid"]["protocol"]["n_generated"] == 1000
    recorded = {m["metric"]: m["values"] for m in zootest.metrics}
    assert found["modes"]["values"]["modes"] == recorded["modes"]["modes"]
    assert abs(found["fid"]["values"]["fid"] - recorded["fid"]["fid"]) <= zootest.tolerance["fid"]
    smaller = json.loads(run_cli("eval", NAME, "--n", "200", "--metrics", "fid", "--json").out)
    assert [r["metric"] for r in smaller] == ["fid"] and smaller[0]["protocol"]["n_generated"] == 200


# --------------------------------------------------------------------------------------------------------------------
# ganzoo zoo verify


def test_verify_passes_on_the_published_entry(zootest, run_cli):
    result = run_cli("zoo", "verify", NAME)
    assert result.code == 0, result.err
    assert f"{NAME}: weights sha256 ok; every figure within its tolerance" in result.out
    rows = [line.split() for line in result.out.splitlines()[3:] if line.strip()]
    assert [r[0] for r in rows] == ["modes", "modes.hq", "modes.rkl", "fid"] and all(r[-1] == "ok" for r in rows)


def test_verify_fails_in_one_line_when_a_figure_is_off(zootest, run_cli):
    metrics = [dict(m) for m in zootest.metrics]
    fid = next(m for m in metrics if m["metric"] == "fid")
    fid["values"] = {"fid": fid["values"]["fid"] + 10 * zootest.tolerance["fid"]}
    _register(drifted=_like(zootest, metrics=metrics))
    result = run_cli("zoo", "verify", "drifted")
    line = one_error_line(result)
    assert result.code == 1
    assert "drifted: fid.fid measured" in line and "off by more than its tolerance 0.0005" in line
    assert "OFF" in result.out and "modes" in result.out  # the table shows every figure first


def test_verify_refuses_tampered_weights(zootest, run_cli, tmp_path):
    folder = _copy_shipped(zootest, tmp_path / "shipped")
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    (folder / "model.safetensors").write_bytes(bytes(data))
    _register(flipped=_like(zootest, folder=folder))
    result = run_cli("zoo", "verify", "flipped")
    assert result.code == 1 and "has sha256" in one_error_line(result) and result.out == ""


# --------------------------------------------------------------------------------------------------------------------
# save_generator(dtype=...) and ganzoo zoo build


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zoo-run") / "ring"
    return ganzoo.train("gan", data="ring", steps=3, batch_size=16, out=out, set=list(TINY), progress=False).path


def test_save_generator_stores_float16_and_saves_again_byte_for_byte(tiny_run, tmp_path):
    from safetensors.torch import load_file

    single = ganzoo.save_generator(tiny_run, tmp_path / "fp32")
    half = ganzoo.save_generator(tiny_run, tmp_path / "fp16", dtype="float16")
    full, halved = load_file(single / "model.safetensors"), load_file(half / "model.safetensors")
    assert set(full) == set(halved)
    for key, tensor in full.items():
        if tensor.is_floating_point():
            assert tensor.dtype == torch.float32 and halved[key].dtype == torch.float16
            assert torch.equal(halved[key], tensor.to(torch.float16))
        else:
            assert torch.equal(halved[key], tensor)  # integer buffers keep their type
    again = ganzoo.save_generator(half, tmp_path / "again", dtype="float16")  # load (casts to float32) and store again
    assert (again / "model.safetensors").read_bytes() == (half / "model.safetensors").read_bytes()
    a = ganzoo.load_generator(half).sample(64, seed=0)
    assert (a - ganzoo.load_generator(single).sample(64, seed=0)).abs().max() < 1e-2
    with pytest.raises(UsageError, match="dtype must be one of float32, float16"):
        ganzoo.save_generator(tiny_run, tmp_path / "x", dtype="int8")
    assert not (tmp_path / "x").exists()


def _tiny_entry(folder: Path, **changes) -> Pretrained:
    fields = dict(
        description="a tiny GAN on the ring",
        variant="gan",
        data="ring",
        sets=TINY,
        steps=4,
        batch_size=16,
        seed=3,
        folder=folder,
        dtype="float16",
        license="mit",
        evaluation={"metrics": ["fid"], "n": 200},
        tolerance={"fid": 0.001},
    )
    fields.update(changes)
    return Pretrained(**fields)


def _built(out: str) -> dict:
    """The Pretrained(...) keyword arguments `zoo build` printed, read as Python."""
    body = "\n".join(line for line in out.splitlines() if not line.startswith("#"))
    call = ast.parse(f"dict(\n{body}\n)", mode="eval").body
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def test_zoo_build_reproduces_its_sha256_and_reuses_the_finished_run(run_cli, tmp_path):
    _register(tiny=_tiny_entry(tmp_path / "unused", tolerance={}))  # a first build: no figures, no tolerances yet
    out = tmp_path / "build"
    first = run_cli("zoo", "build", "tiny", "--out", str(out), "--device", "cpu")
    assert first.code == 0, first.err
    assert first.out.startswith(
        f"# tiny: {out / 'tiny'} (run {out / 'runs' / 'tiny'}: trained; the entry records no sha256 yet)"
    )
    values = _built(first.out)
    folder = out / "tiny"
    assert (
        values["sha256"] == sha256_of(folder / "model.safetensors")
        and values["size"] == (folder / "model.safetensors").stat().st_size
    )
    assert [m["metric"] for m in values["metrics"]] == ["fid"] and values["metrics"][0]["protocol"][
        "dtype"
    ] == "float16"
    assert values.pop("tolerance") == {"fid": 0.0}  # printed for the entry to fill in
    config = json.loads((folder / "config.json").read_text())
    assert config["license"] == "mit" and config["metrics"] == values["metrics"] and (folder / "README.md").is_file()
    assert json.loads((out / "runs" / "tiny" / "eval.json").read_text())[0]["values"] == values["metrics"][0]["values"]

    run_files = snapshot(out / "runs" / "tiny" / "checkpoints")
    second = run_cli("zoo", "build", "tiny", "--out", str(out), "--device", "cpu")
    assert second.code == 0, second.err
    assert (
        "finished run reused" in second.out
        and "reusing the finished run" in second.err
        and "evaluation reused" in second.err
    )
    assert snapshot(out / "runs" / "tiny" / "checkpoints") == run_files  # nothing trained again
    assert {k: v for k, v in _built(second.out).items() if k != "tolerance"} == values

    # a zoo.json whose figures were altered is measured again rather than reused
    build_file = out / "runs" / "tiny" / "zoo.json"
    altered = json.loads(build_file.read_text())
    altered["metrics"][0]["values"] = {"fid": "low"}
    build_file.write_text(json.dumps(altered))
    third = run_cli("zoo", "build", "tiny", "--out", str(out), "--device", "cpu")
    assert third.code == 0 and "evaluation reused" not in third.err, third.err
    assert {k: v for k, v in _built(third.out).items() if k != "tolerance"} == values

    fresh = run_cli("zoo", "build", "tiny", "--out", str(tmp_path / "elsewhere"), "--device", "cpu")
    assert fresh.code == 0 and ": trained;" in fresh.out
    assert _built(fresh.out)["sha256"] == values["sha256"]  # training on the CPU repeats bit for bit

    # the printed values make a published entry that loads and verifies
    _register("published", tiny_built=_tiny_entry(folder, **values, tolerance={"fid": 0.001}))
    assert "sha256 matches the catalogue entry" in run_cli("zoo", "build", "tiny-built", "--out", str(out)).out
    verified = run_cli("zoo", "verify", "tiny-built")
    assert verified.code == 0, verified.err + verified.out


def test_zoo_build_prints_only_what_the_entry_lacks_or_holds_otherwise():
    from ganzoo.cli_hub import _python_values

    metrics = [{"metric": "fid", "values": {"fid": 1.5}, "protocol": {"n": 200}}]
    result = {
        "sha256": "a" * 64,
        "size": 10,
        "metrics": metrics,
        "tolerance_missing": [],
        "tolerance": {"fid": 0.1},
        "hub_repo": "org/tiny",
        "hub_revision": "b" * 40,
        "recorded": {
            "sha256": "c" * 64,
            "size": 10,
            "metrics": tuple(metrics),
            "tolerance": {"fid": 0.1},
            "hub_repo": "org/tiny",
            "hub_revision": None,
        },
    }
    assert _python_values(result) == [
        "# add these lines to the Pretrained(...) call:",
        f"    hub_revision={'b' * 40!r},",
        "# replace these keywords of the Pretrained(...) call (the entry holds other values):",
        f"    sha256={'a' * 64!r},",
    ]
    same = {**result, "recorded": {**result["recorded"], "sha256": "a" * 64, "hub_revision": "b" * 40}}
    assert _python_values(same) == ["# the entry already records these values: nothing to paste"]


def test_zoo_build_refuses_a_run_of_other_settings_without_force(run_cli, tmp_path):
    out = tmp_path / "build"
    ganzoo.train("gan", data="ring", steps=2, batch_size=16, out=out / "runs" / "tiny", set=list(TINY), progress=False)
    _register(tiny=_tiny_entry(tmp_path / "unused"))
    result = run_cli("zoo", "build", "tiny", "--out", str(out))
    assert result.code == 2 and "was trained with other settings (seed: 0 there, 3 in the entry)" in one_error_line(
        result
    )
    assert not (out / "tiny").exists()


def test_zoo_build_out_under_a_file_is_a_usage_error(run_cli, tmp_path):
    _register(tiny=_tiny_entry(tmp_path / "unused"))
    (tmp_path / "a-file").write_text("keep me")
    result = run_cli("zoo", "build", "tiny", "--out", str(tmp_path / "a-file" / "build"))
    assert result.code == 2 and "is under" in one_error_line(result) and "which is a file" in result.err
    assert (tmp_path / "a-file").read_text() == "keep me"
    result = run_cli("zoo", "build", "tiny", "--out", str(tmp_path / "a-file"))
    assert result.code == 2 and "is a file, not a folder" in one_error_line(result)


# --------------------------------------------------------------------------------------------------------------------
# Fresh processes: the installed test plugin, and Hub-backed entries through the local Hub server

RUNNER = r"""
import contextlib, importlib, io, json, os, sys, time, traceback
extra = os.environ.pop("ZOO_TEST_PLUGIN", "")
if extra:
    from ganzoo import plugins
    sys.path.insert(0, os.path.dirname(extra))
    plugins.load_plugins()
    plugins.pm.register(importlib.import_module(os.path.basename(extra)), name="hubzoo")
from ganzoo.cli import main

results = []
for args in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except BaseException:
            traceback.print_exc()
            code = 99
    results.append({"args": args, "code": code, "out": out.getvalue(), "err": err.getvalue()})
sys.stdout.write(json.dumps(results))
"""


def _batch(calls: list[list[str]], env: dict[str, str], cwd: Path) -> list[dict]:
    """Run ``ganzoo`` commands one after another in one fresh process; their exit codes, stdout and stderr."""
    full = {k: v for k, v in child_env().items() if not k.startswith(("HF_", "HUGGING_FACE_"))}
    full.update(OMP_NUM_THREADS="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1", **env)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _error(result: dict) -> str:
    lines = [line for line in result["err"].splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ganzoo: error: "), result
    return lines[0]


@pytest.fixture(scope="module")
def installed_zootest(tmp_path_factory) -> Path:
    """The test plugin distribution, pip-installed (package data included) into a folder of its own."""
    target = tmp_path_factory.mktemp("zoo-site")
    return pip_install_into(target, ZOOTEST)


def test_an_installed_plugin_ships_its_catalogue_entry(installed_zootest, hub_jobs):
    shipped = installed_zootest / "ganzoo_zootest" / "pretrained" / NAME
    r = hub_jobs["results"]
    listed, sampled, verified = r["offline/zoo"], r["installed/sample"], r["installed/verify"]
    assert listed["code"] == 0, listed
    item = next(i for i in json.loads(listed["out"]) if i["name"] == NAME)
    assert (item["plugin"], item["distribution"], item["version"]) == ("zootest", "ganzoo-zootest", "0.1.0")
    assert Path(item["folder"]) == shipped and item["available_offline"] is True
    assert sampled["code"] == 0, sampled
    expected = ganzoo.load_generator(shipped, device="cpu").sample(N, seed=SEED)
    assert np.array_equal(np.load(hub_jobs["base"] / "installed.npy"), expected.numpy())
    assert verified["code"] == 0 and "every figure within its tolerance" in verified["out"], verified


HUB_PLUGIN = '''"""Catalogue entries whose weights live on the test Hub."""

from ganzoo import Pretrained, hookimpl


@hookimpl
def register_pretrained(register):
    for name, repo, revision in {entries!r}:
        register(name, Pretrained(**{{**{fields!r}, "hub_repo": repo, "hub_revision": revision, "folder": None}}))
    register("tiny-build", Pretrained(**{tiny!r}))  # not built yet: zoo build --push makes and publishes it
'''


@pytest.fixture(scope="module")
def hub_jobs(tmp_path_factory, installed_zootest):
    """Fresh processes: Hub-backed catalogue entries used online, then offline on the cache the online process
    filled, where the installed test plugin's shipped entry is listed, sampled and verified too."""
    from hubserver import HubServer

    plugins.load_plugins()
    plugins.pm.register(_zootest_module(), name="zootest")
    entry = ganzoo.get_pretrained(NAME)
    plugins.reset()
    files = {name: (entry.folder / name).read_bytes() for name in ("config.json", "model.safetensors", "README.md")}
    base = tmp_path_factory.mktemp("zoo-hub")
    token = "hf_zoo_test_token"
    with HubServer({token: "tester"}) as hub:
        pinned = hub.put_repo("tester/ring", files)
        # a later commit on main with other weights: the pinned entry must not see it
        other = bytearray(files["model.safetensors"])
        other[-1] ^= 0x01
        hub.put_repo("tester/ring", {**files, "model.safetensors": bytes(other)})
        tampered = hub.put_repo("tester/tampered", {**files, "model.safetensors": bytes(other)})
        uncached = hub.put_repo("tester/uncached", files)
        fields = {k: v for k, v in entry.as_dict().items()}
        module = base / "plugin" / "hubzoo_entries.py"
        module.parent.mkdir()
        module.write_text(
            HUB_PLUGIN.format(
                entries=[
                    ("hub-ring", "tester/ring", pinned),
                    ("hub-tampered", "tester/tampered", tampered),
                    ("hub-uncached", "tester/uncached", uncached),
                ],
                fields=fields,
                tiny={**_tiny_entry(base / "unused").as_dict(), "sets": TINY, "hub_repo": "tester/tiny-build"},
            )
        )
        env = {
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(base / "hf-home"),
            "HF_TOKEN": token,
            "ZOO_TEST_PLUGIN": str(module.with_suffix("")),
        }
        sample = ["-n", str(N), "--seed", str(SEED), "--format", "npy", "--device", "cpu"]
        online = [
            ["zoo", "--json"],
            ["sample", "hub-ring", *sample, "-o", str(base / "online.npy")],
            ["info", "hub-ring"],
            ["sample", "hub-tampered", "-o", str(base / "never.png")],
            ["zoo", "--json"],
            ["zoo", "build", "tiny-build", "--out", str(base / "build"), "--push", "tester", "--device", "cpu"],
        ]
        offline = [
            ["sample", "hub-ring", *sample, "-o", str(base / "offline.npy")],
            ["sample", "hub-uncached", "-o", str(base / "never.png")],
            ["zoo", "--json"],
        ]
        # the offline process also has the installed test plugin: its shipped entry needs no network
        offline += [["sample", NAME, *sample, "-o", str(base / "installed.npy")], ["zoo", "verify", NAME]]
        results = dict(zip(["before", "sample", "info", "tampered", "after", "push"], _batch(online, env, base)))
        offline_env = {**env, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(installed_zootest)}
        names = ["offline/sample", "offline/uncached", "offline/zoo", "installed/sample", "installed/verify"]
        results.update(zip(names, _batch(offline, offline_env, base)))
        requests = hub.requests()
        pushed = hub.files("tester/tiny-build") if "tester/tiny-build" in hub.state.repos else {}
        head = hub.state.repos["tester/tiny-build"].branches["main"] if pushed else None
    return {
        "results": results,
        "base": base,
        "entry": entry,
        "pinned": pinned,
        "requests": requests,
        "pushed": pushed,
        "head": head,
    }


def test_a_hub_entry_loads_at_its_pinned_commit_then_offline_from_the_cache(hub_jobs):
    r, base = hub_jobs["results"], hub_jobs["base"]
    expected = ganzoo.load_generator(hub_jobs["entry"].folder, device="cpu").sample(N, seed=SEED).numpy()
    assert r["sample"]["code"] == 0, r["sample"]
    assert np.array_equal(np.load(base / "online.npy"), expected)
    assert any(f"/resolve/{hub_jobs['pinned']}/model.safetensors" in path for _, path, _ in hub_jobs["requests"])
    assert r["offline/sample"]["code"] == 0, r["offline/sample"]
    assert np.array_equal(np.load(base / "offline.npy"), expected)
    before = {i["name"]: i for i in json.loads(r["before"]["out"])}
    after = {i["name"]: i for i in json.loads(r["offline/zoo"]["out"])}
    assert before["hub-ring"]["available_offline"] is False and after["hub-ring"]["available_offline"] is True
    assert after["hub-uncached"]["available_offline"] is False
    assert after["hub-ring"]["weights"] == f"hub tester/ring@{hub_jobs['pinned'][:12]}"
    assert (
        r["info"]["code"] == 0
        and "generator zoo:hub-ring" in r["info"]["out"]
        and "architecture: mlp" in r["info"]["out"]
    )


def test_a_tampered_download_is_refused(hub_jobs):
    result = hub_jobs["results"]["tampered"]
    line = _error(result)
    assert result["code"] == 1 and not (hub_jobs["base"] / "never.png").exists()
    for text in (
        "pretrained generator 'hub-tampered'",
        f"expects {hub_jobs['entry'].sha256}",
        "nothing was loaded",
        "hf cache rm model/tester/tampered",
    ):
        assert text in line, line


def test_a_hub_entry_offline_and_not_cached_is_one_line(hub_jobs):
    result = hub_jobs["results"]["offline/uncached"]
    line = _error(result)
    assert result["code"] == 1
    assert (
        "pretrained generator 'hub-uncached'" in line and "not in the local cache" in line and "HF_HUB_OFFLINE" in line
    )


def test_the_docs_list_the_test_plugin_byte_for_byte():
    guide = (ROOT / "docs" / "zoo.md").read_text(encoding="utf-8")
    for path in ("pyproject.toml", "ganzoo_zootest/__init__.py"):
        marker = f"<!-- file: tests/plugins/ganzoo-zootest/{path} -->\n"
        assert marker in guide, path
        body = guide.split(marker, 1)[1].split("\n", 1)[1].split("```\n", 1)[0]
        assert body == (ZOOTEST / path).read_text(encoding="utf-8"), path


def test_zoo_build_push_publishes_the_folder_and_prints_the_commit_to_pin(hub_jobs):
    result = hub_jobs["results"]["push"]
    assert result["code"] == 0, result
    values = _built(result["out"])
    # the entry names its repo already (docs/zoo.md, step 1): the lines to paste leave hub_repo out
    assert "hub_repo" not in values and values["hub_revision"] == hub_jobs["head"]
    # pasted into the entry as its author wrote it (only the fields set), the printed lines make a valid entry
    written = {k: v for k, v in _tiny_entry(hub_jobs["base"] / "unused").as_dict().items() if v not in (None, [], {})}
    body = "\n".join(result["out"].splitlines()[1:])
    pasted = eval(
        f"Pretrained(**{{**{written!r}, 'sets': {TINY!r}, 'hub_repo': 'tester/tiny-build'}},\n{body}\n)",
        {"Pretrained": Pretrained},
    )
    assert (pasted.hub_repo, pasted.hub_revision, pasted.sha256) == (
        "tester/tiny-build",
        hub_jobs["head"],
        values["sha256"],
    )
    weights = hub_jobs["pushed"]["model.safetensors"].data
    assert hashlib.sha256(weights).hexdigest() == values["sha256"]  # the pushed file is the one built
    assert (hub_jobs["base"] / "build" / "tiny-build" / "model.safetensors").read_bytes() == weights
    assert json.loads(hub_jobs["pushed"]["config.json"].data)["license"] == "mit"
