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


@pytest.fixture(scope="module")
def clashing_plugins(tmp_path_factory):
    """ganzoo-lsgan beside ganzoo-clash, whose entry points are called ``timm`` (like a built-in) and ``lsgan``."""
    import subprocess
    import sys

    from conftest import TEST_PLUGINS

    target = tmp_path_factory.mktemp("clash-site")
    for name in ("ganzoo-lsgan", "ganzoo-clash"):
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
             "--target", str(target), str(TEST_PLUGINS / name)],
            check=True, capture_output=True,
        )
    return target


def test_entry_points_sharing_a_name_all_load_and_are_reported(clashing_plugins):
    from ganzoo import __version__

    env = _env(clashing_plugins)
    listed = run_process("list", "--json", env=env)
    assert listed.code == 0, listed.err
    assert listed.err.strip().splitlines() == [
        (f"ganzoo: plugin entry point 'timm' is used by 2 distributions (ganzoo {__version__} and ganzoo-clash 0.0.3); "
         f"all load, as plugins 'timm' and 'ganzoo-clash:timm'"),
        ("ganzoo: plugin entry point 'lsgan' is used by 2 distributions (ganzoo-clash 0.0.3 and ganzoo-lsgan 0.2.0); "
         "all load, as plugins 'ganzoo-clash:lsgan' and 'ganzoo-lsgan:lsgan'"),
    ]
    found = json.loads(listed.out)
    origin = {(kind, e["name"]): (e["plugin"], e["distribution"]) for kind, entries in found.items() for e in entries}
    assert origin[("architectures", "timm")] == ("timm", "ganzoo")
    assert origin[("variants", "clash")] == ("ganzoo-clash:timm", "ganzoo-clash")
    assert origin[("variants", "lsgan")] == ("ganzoo-lsgan:lsgan", "ganzoo-lsgan")

    for command, said in (("clash-hello", "clash plugin says hello"), ("lsgan-hello", "lsgan plugin says hello")):
        hello = run_process(command, env=env)
        assert (hello.code, hello.out.strip()) == (0, said), hello.err

    shown = run_process("plugins", "--json", env=env)
    assert shown.code == 0
    rows = {(p["name"], p["entry_point"], p["distribution"]) for p in json.loads(shown.out) if "error" not in p}
    assert rows >= {("timm", "timm", "ganzoo"), ("ganzoo-clash:timm", "timm", "ganzoo-clash"),
                    ("ganzoo-clash:lsgan", "lsgan", "ganzoo-clash"), ("ganzoo-lsgan:lsgan", "lsgan", "ganzoo-lsgan")}
    table = run_process("plugins", env=env)
    shown_rows = [line.split()[:2] for line in table.out.splitlines()[2:] if line.strip()]
    assert ["timm", "ganzoo"] in shown_rows and ["ganzoo-clash:timm", "ganzoo-clash"] in shown_rows


def test_entry_points_sharing_a_name_are_an_error_under_strict_plugins(clashing_plugins):
    result = run_process("list", env=_env(clashing_plugins, GANZOO_STRICT_PLUGINS="1"))
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert line.startswith("ganzoo: error: plugin entry point 'timm' is used by 2 distributions (ganzoo ")
    assert "and ganzoo-clash 0.0.3)" in line
    assert "rename one of these entry points" in line


def test_only_the_allowed_distributions_count_as_sharing_a_name(clashing_plugins):
    result = run_process("list", "variants", env=_env(clashing_plugins, GANZOO_LOAD_PLUGINS="ganzoo-lsgan"))
    assert (result.code, result.err) == (0, "")
    assert "lsgan" in result.out and "clash" not in result.out


def _distribution(folder, name, entry_points, modules):
    """A real distribution (dist-info + modules) in ``folder``, which importlib.metadata finds on sys.path."""
    info = folder / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ganzoo]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(source)


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.startswith("ganzoo_fake")]:
        del sys.modules[module]


def test_a_plugin_sharing_a_name_that_registers_a_taken_name_is_still_caught(fake_site, run_cli):
    _distribution(fake_site, "ganzoo-fake", {"timm": "ganzoo_fake_timm"}, {"ganzoo_fake_timm": (
        "from ganzoo import hookimpl\n"
        "from ganzoo.variant import Variant\n"
        "@hookimpl\n"
        "def register_variants(register):\n"
        "    register('dcgan', Variant(description='again', architecture='dcgan', loss='nonsaturating'))\n"
    )})
    result = run_cli("list")
    assert result.code == 1
    assert "plugin entry point 'timm' is used by 2 distributions" in result.err
    assert "variant 'dcgan' is registered by two plugins" in result.err
    assert "dcgan (ganzoo " in result.err and "ganzoo-fake:timm (ganzoo-fake 1.0)" in result.err


def test_an_entry_point_naming_a_module_already_loaded_is_reported_and_skipped(fake_site, run_cli):
    _distribution(fake_site, "ganzoo-fake", {"dcgan-again": "ganzoo_dcgan"}, {})
    result = run_cli("list", "variants")
    assert result.code == 0 and "dcgan" in result.out
    assert ("plugin 'dcgan-again' from ganzoo-fake 1.0 failed and was skipped: PluginError: its module ganzoo_dcgan "
            "is already loaded as plugin 'dcgan' (ganzoo)") in result.err


def test_a_bad_load_plugins_entry_is_reported_once_by_plugins(monkeypatch, run_cli):
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "nosuchdist")
    result = run_cli("plugins")
    assert result.code == 2 and result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line.startswith("ganzoo: error: GANZOO_LOAD_PLUGINS names 'nosuchdist'")


def test_install_editable_needs_no_package_name(monkeypatch, run_cli):
    import subprocess
    import sys

    from conftest import TEST_PLUGINS

    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    project = str(TEST_PLUGINS / "ganzoo-lsgan")
    result = run_cli("install", "-e", project)
    assert (result.code, result.err) == (0, "")
    assert calls == [[sys.executable, "-m", "pip", "install", "-e", project]]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "name the plugin packages to install, or -e PATH for a local plugin project"),
        (["-e", "{empty}"], "-e {empty}: the folder holds no pyproject.toml or setup.py"),
        (["-e", "{empty}/nope"], "-e {empty}/nope: no such folder"),
    ],
)
def test_install_without_a_project_is_one_line_and_runs_no_pip(monkeypatch, run_cli, tmp_path, args, message):
    import subprocess

    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("install", *[a.format(empty=empty) for a in args])
    assert result.code == 2 and calls == []
    (line,) = result.err.strip().splitlines()
    assert line.startswith("ganzoo: error: " + message.format(empty=empty))


def test_install_e_of_an_empty_folder_ends_with_ganzoos_line(tmp_path):
    result = run_process("install", "-e", str(tmp_path))
    assert result.code == 2
    assert result.err.strip().splitlines()[-1].startswith(f"ganzoo: error: -e {tmp_path}: the folder holds no")
