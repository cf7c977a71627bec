"""Third-party plugins: discovered after a real pip install; a broken one is reported and skipped."""

import json
import os

import pytest

from conftest import run_process


def _env(site, **extra):
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")])), **extra}


def test_an_installed_plugin_is_discovered_listed_and_trains(installed_test_plugins, tmp_path):
    env = _env(installed_test_plugins)
    result = run_process("list", "--json", env=env)
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    lsgan = next(v for v in listed["variants"] if v["name"] == "lsgan")
    assert (lsgan["plugin"], lsgan["distribution"], lsgan["version"]) == ("lsgan", "ganzoo-lsgan", "0.2.0")
    assert any(loss["name"] == "lsgan" for loss in listed["losses"])

    hello = run_process("lsgan-hello", env=env)
    assert (hello.code, hello.out.strip()) == (0, "lsgan plugin says hello")

    trained = run_process(
        "train", "lsgan", "--steps", "2", "--out", str(tmp_path / "run"), "--set", "arch.g_width=4",
        "--set", "arch.d_width=4", env=env,
    )
    assert trained.code == 0, trained.err
    assert (tmp_path / "run" / "samples" / "latest.png").is_file()


def test_a_broken_plugin_is_reported_and_the_rest_keeps_working(installed_test_plugins):
    env = _env(installed_test_plugins)
    listed = run_process("list", "variants", env=env)
    assert listed.code == 0
    assert "dcgan" in listed.out and "lsgan" in listed.out
    assert listed.err.count("plugin 'broken' from ganzoo-broken 0.0.1 failed and was skipped") == 1
    assert "ImportError: ganzoo_broken needs a module that is not installed" in listed.err

    shown = run_process("plugins", "--json", env=env)
    assert shown.code == 0
    broken = next(p for p in json.loads(shown.out) if p["name"] == "broken")
    assert broken["distribution"] == "ganzoo-broken"
    assert "ImportError" in broken["error"]


def test_strict_plugins_reraise(installed_test_plugins):
    result = run_process("list", env=_env(installed_test_plugins, GANZOO_STRICT_PLUGINS="1", GANZOO_DEBUG="1"))
    assert result.code != 0
    assert "ganzoo_broken needs a module that is not installed" in result.err


def test_load_plugins_limits_what_loads(installed_test_plugins):
    only_builtins = run_process("list", "--json", env=_env(installed_test_plugins, GANZOO_LOAD_PLUGINS=""))
    assert only_builtins.code == 0 and only_builtins.err == ""
    names = [v["name"] for v in json.loads(only_builtins.out)["variants"]]
    assert "lsgan" not in names and "dcgan" in names

    only_lsgan = run_process("list", "variants", env=_env(installed_test_plugins, GANZOO_LOAD_PLUGINS="ganzoo-lsgan"))
    assert only_lsgan.code == 0 and "lsgan" in only_lsgan.out and only_lsgan.err == ""


def test_a_bad_load_plugins_entry_is_one_clear_line(installed_test_plugins):
    result = run_process("list", env=_env(installed_test_plugins, GANZOO_LOAD_PLUGINS="ganzoo-nope"))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "GANZOO_LOAD_PLUGINS names 'ganzoo-nope'" in lines[0]


def test_a_hook_that_raises_skips_only_that_plugin(monkeypatch, run_cli):
    from ganzoo import hookimpl, plugins

    class Faulty:
        @hookimpl
        def register_variants(register):  # noqa: N805 - pluggy hook, not a method
            raise RuntimeError("bad variant table")

    plugins.load_plugins()
    plugins.pm.register(Faulty, name="faulty")
    result = run_cli("list", "variants")
    assert result.code == 0
    assert "dcgan" in result.out
    assert "plugin 'faulty'" in result.err and "RuntimeError: bad variant table" in result.err


def test_a_plugin_registering_a_duplicate_name_is_an_error_naming_both(run_cli):
    from ganzoo import hookimpl, plugins
    from ganzoo.variant import Variant

    class Copycat:
        @hookimpl
        def register_variants(register):  # noqa: N805
            register("dcgan", Variant(description="again", architecture="dcgan", loss="nonsaturating"))

    plugins.load_plugins()
    plugins.pm.register(Copycat, name="copycat")
    result = run_cli("list")
    assert result.code == 1
    assert "variant 'dcgan' is registered by two plugins" in result.err
    assert "dcgan (ganzoo" in result.err and "copycat" in result.err


def test_a_plugin_registering_a_malformed_object_is_named(run_cli):
    from ganzoo import hookimpl, plugins

    class Sloppy:
        @hookimpl
        def register_losses(register):  # noqa: N805
            register("sloppy", lambda logits: logits)

    plugins.load_plugins()
    plugins.pm.register(Sloppy, name="sloppy")
    result = run_cli("list", "losses")
    assert result.code == 0 and "nonsaturating" in result.out and "sloppy" not in result.out
    assert "plugin 'sloppy'" in result.err and "expected a subclass of ganzoo.Loss" in result.err


@pytest.mark.parametrize("pkg_args", [["install", "-U", "ganzoo-x"], ["uninstall", "-y", "ganzoo-x"]])
def test_install_and_uninstall_run_pip_in_ganzoos_interpreter(monkeypatch, run_cli, pkg_args):
    import subprocess
    import sys

    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    result = run_cli(*pkg_args)
    assert result.code == 0
    assert calls[0][:3] == [sys.executable, "-m", "pip"]
    assert calls[0][3] == pkg_args[0] and "ganzoo-x" in calls[0]
    assert ("--upgrade" in calls[0]) == ("-U" in pkg_args)
