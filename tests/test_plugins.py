"""Third-party plugins: discovered after a real pip install; a broken one is reported and skipped."""

import json
import os

import pytest

from conftest import child_env, pip_install_into, run_process


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
        "train",
        "lsgan",
        "--steps",
        "2",
        "--out",
        str(tmp_path / "run"),
        "--set",
        "arch.g_width=4",
        "--set",
        "arch.d_width=4",
        env=env,
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


def test_a_hook_that_raises_skips_only_that_plugin(ganzoo_plugins, run_cli):
    from ganzoo import hookimpl

    class Faulty:
        @hookimpl
        def register_variants(register):  # noqa: N805 - pluggy hook, not a method
            raise RuntimeError("bad variant table")

    ganzoo_plugins.register(Faulty, name="faulty")
    result = run_cli("list", "variants")
    assert result.code == 0
    assert "dcgan" in result.out
    assert "plugin 'faulty'" in result.err and "RuntimeError: bad variant table" in result.err


def test_a_plugin_registering_a_builtin_name_is_reached_qualified_and_warned_about_once(ganzoo_plugins, run_cli):
    import ganzoo
    from ganzoo import hookimpl
    from ganzoo.variant import Variant

    again = Variant(description="again", architecture="mlp", loss="nonsaturating", data="ring")

    class Copycat:
        @hookimpl
        def register_variants(register):  # noqa: N805
            register("dcgan", again)

    ganzoo_plugins.register(Copycat, name="copycat", distribution="ganzoo-copycat", version="1.0")
    result = run_cli("list", "variants", "dcgan")
    assert result.code == 0, result.err
    assert [line.split()[:2] for line in result.out.splitlines()[2:]] == [
        ["dcgan", "dcgan"],
        ["ganzoo-copycat:dcgan", "copycat"],
    ]
    assert result.err.splitlines() == [
        f"ganzoo: warning: variant 'dcgan' is registered by ganzoo {ganzoo.__version__} and ganzoo-copycat 1.0; "
        "plain 'dcgan' is ganzoo's; pick one with ganzoo train ganzoo:dcgan or ganzoo train ganzoo-copycat:dcgan"
    ]
    assert ganzoo.get_variant("ganzoo-copycat:dcgan") is again
    assert ganzoo.get_variant("dcgan").architecture == "dcgan"
    assert run_cli("info", "ganzoo-copycat:dcgan").err == ""  # warned once per process


def test_registering_in_process_is_undone(run_cli):
    import ganzoo
    from ganzoo import hookimpl, plugins
    from ganzoo.variant import Variant

    class Extra:
        @hookimpl
        def register_variants(register):  # noqa: N805
            register("extra", Variant(description="extra", architecture="mlp", loss="nonsaturating"))

        @hookimpl
        def register_commands(cli):  # noqa: N805
            cli.command("extra-hello")(lambda: print("extra says hello"))

    undo = plugins.register_plugin(Extra, distribution="ganzoo-extra")
    assert ganzoo.list_variants("extra") == ["extra"]
    assert run_cli("extra-hello").out == "extra says hello\n"
    undo()
    assert ganzoo.list_variants("extra") == []
    assert run_cli("extra-hello").code == 2
    assert "Extra" not in [p.name for p in plugins.plugin_infos()]


def test_a_plugin_registering_a_malformed_object_is_named(ganzoo_plugins, run_cli):
    from ganzoo import hookimpl

    class Sloppy:
        @hookimpl
        def register_losses(register):  # noqa: N805
            register("sloppy", lambda logits: logits)

    ganzoo_plugins.register(Sloppy, name="sloppy")
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

    from conftest import TEST_PLUGINS

    target = tmp_path_factory.mktemp("clash-site")
    return pip_install_into(target, *(TEST_PLUGINS / name for name in ("ganzoo-lsgan", "ganzoo-clash")))


def test_entry_points_sharing_a_name_all_load_and_are_reported(clashing_plugins):
    from ganzoo import __version__

    env = _env(clashing_plugins)
    listed = run_process("list", "--json", env=env)
    assert listed.code == 0, listed.err
    assert listed.err.strip().splitlines() == [
        (
            f"ganzoo: plugin entry point 'timm' is used by 2 distributions "
            f"(ganzoo {__version__} and ganzoo-clash 0.0.3); "
            f"all load, as plugins 'timm' and 'ganzoo-clash:timm'"
        ),
        (
            "ganzoo: plugin entry point 'lsgan' is used by 2 distributions "
            "(ganzoo-clash 0.0.3 and ganzoo-lsgan 0.2.0); "
            "all load, as plugins 'ganzoo-clash:lsgan' and 'ganzoo-lsgan:lsgan'"
        ),
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
    assert rows >= {
        ("timm", "timm", "ganzoo"),
        ("ganzoo-clash:timm", "timm", "ganzoo-clash"),
        ("ganzoo-clash:lsgan", "lsgan", "ganzoo-clash"),
        ("ganzoo-lsgan:lsgan", "lsgan", "ganzoo-lsgan"),
    }
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


def test_a_plugin_sharing_a_name_that_registers_a_taken_name_is_still_reported(fake_site, run_cli):
    _distribution(
        fake_site,
        "ganzoo-fake",
        {"timm": "ganzoo_fake_timm"},
        {
            "ganzoo_fake_timm": (
                "from ganzoo import hookimpl\n"
                "from ganzoo.variant import Variant\n"
                "@hookimpl\n"
                "def register_variants(register):\n"
                "    register('dcgan', Variant(description='again', architecture='dcgan', loss='nonsaturating'))\n"
            )
        },
    )
    result = run_cli("list", "--json")
    assert result.code == 0
    assert "plugin entry point 'timm' is used by 2 distributions" in result.err
    assert "warning: variant 'dcgan' is registered by ganzoo " in result.err
    assert "ganzoo train ganzoo-fake:dcgan" in result.err
    fake = next(v for v in json.loads(result.out)["variants"] if v["name"] == "ganzoo-fake:dcgan")
    assert (fake["plugin"], fake["distribution"]) == ("ganzoo-fake:timm", "ganzoo-fake")


def test_an_entry_point_naming_a_module_already_loaded_is_reported_and_skipped(fake_site, run_cli):
    _distribution(fake_site, "ganzoo-fake", {"dcgan-again": "ganzoo_dcgan"}, {})
    result = run_cli("list", "variants")
    assert result.code == 0 and "dcgan" in result.out
    assert (
        "plugin 'dcgan-again' from ganzoo-fake 1.0 failed and was skipped: PluginError: its module ganzoo_dcgan "
        "is already loaded as plugin 'dcgan' (ganzoo)"
    ) in result.err


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
    assert calls[0] == [sys.executable, "-m", "pip", "install", "-e", project]


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


# ---- name clashes: docs/plugins.md, "Name clashes" ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hinge_site(tmp_path_factory):
    """ganzoo-hinge, written before ganzoo had a built-in ``hinge`` loss: its own ``hinge`` and variant
    ``sngan-toy``."""

    from conftest import TEST_PLUGINS

    target = tmp_path_factory.mktemp("hinge-site")
    return pip_install_into(target, TEST_PLUGINS / "ganzoo-hinge")


def _warnings(err):
    return [line for line in err.splitlines() if line.startswith("ganzoo: warning: ")]


HINGE_WARNING = (
    "ganzoo: warning: loss 'hinge' is registered by ganzoo {version} and ganzoo-hinge 1.0.0; plain 'hinge' "
    "is ganzoo's; pick one with --set loss=ganzoo:hinge or --set loss=ganzoo-hinge:hinge"
)


def test_a_plugin_whose_name_a_builtin_took_later_leaves_every_command_working(hinge_site):
    from ganzoo import __version__

    env = _env(hinge_site)
    warning = HINGE_WARNING.format(version=__version__)
    listed = run_process("list", "losses", env=env)
    assert listed.code == 0 and listed.err.splitlines() == [warning]
    rows = [line.split()[:2] for line in listed.out.splitlines()[2:]]
    assert rows[:2] == [["hinge", "sngan"], ["ganzoo-hinge:hinge", "hinge"]]

    builtin = run_process("info", "hinge", "--kind", "loss", env=env)
    assert builtin.code == 0 and builtin.err.splitlines() == [warning]
    assert "from plugin sngan (ganzoo " in builtin.out and "n_critic" in builtin.out
    theirs = run_process("info", "ganzoo-hinge:hinge", "--json", env=env)
    assert theirs.code == 0 and theirs.err.splitlines() == [warning]
    assert json.loads(theirs.out)["options"]["margin"]["default"] == 1.0

    shown = run_process("plugins", "--json", env=env)
    assert shown.code == 0 and shown.err.splitlines() == [warning]
    plugin = next(p for p in json.loads(shown.out) if p["distribution"] == "ganzoo-hinge")
    assert plugin["clashes"] == [
        {
            "kind": "loss",
            "name": "hinge",
            "distributions": ["ganzoo", "ganzoo-hinge"],
            "qualified_names": ["ganzoo:hinge", "ganzoo-hinge:hinge"],
            "plain_name_means": "ganzoo:hinge",
            "warning": warning.removeprefix("ganzoo: warning: "),
        }
    ]
    table = run_process("plugins", env=env)
    assert table.code == 0 and warning.removeprefix("ganzoo: warning: ") in table.out


def test_both_clashing_losses_train_by_qualified_name_and_a_plugins_recipe_keeps_its_own(
    hinge_site, monkeypatch, run_cli, tmp_path
):
    import ganzoo

    monkeypatch.syspath_prepend(str(hinge_site))
    trained = {}
    for label, args in [
        ("plain", []),
        ("builtin", ["--set", "loss=ganzoo:hinge"]),
        ("theirs", ["--set", "loss=ganzoo-hinge:hinge"]),
        ("recipe", []),
    ]:
        variant = "sngan-toy" if label == "recipe" else "gan"
        result = run_cli(
            "train", variant, "--data", "ring", "--steps", "2", "--device", "cpu", "--out", str(tmp_path / label), *args
        )
        assert result.code == 0, result.err
        trained[label] = ganzoo.open_run(tmp_path / label).config
        assert len(_warnings(result.err)) == (1 if label == "plain" else 0)  # once per process
    assert trained["plain"].loss == "nonsaturating"
    assert trained["builtin"].loss == "ganzoo:hinge" and "n_critic" in trained["builtin"].loss_options
    assert trained["theirs"].loss == "ganzoo-hinge:hinge" and trained["theirs"].loss_options == {"margin": 1.0}
    # sngan-toy says loss="hinge": in its own distribution's recipe that is its own hinge, recorded qualified
    assert trained["recipe"].loss == "ganzoo-hinge:hinge" and trained["recipe"].loss_options == {"margin": 1.0}


def test_a_name_clash_is_an_error_under_strict_plugins(hinge_site):
    result = run_process("list", env=_env(hinge_site, GANZOO_STRICT_PLUGINS="1"))
    assert result.code == 1
    (line,) = result.err.splitlines()
    assert line.startswith("ganzoo: error: loss 'hinge' is registered by ganzoo ")
    assert line.endswith("(GANZOO_STRICT_PLUGINS=1 makes a name clash an error)")


def _margin_plugin(distribution):
    from ganzoo import hookimpl
    from ganzoo.loss import Loss

    class Margin(Loss):
        """A hinge with a margin of 2."""

        def discriminator_loss(self, real_logits, fake_logits):
            return (2 - real_logits).relu().mean() + (2 + fake_logits).relu().mean()

        def generator_loss(self, fake_logits):
            return -fake_logits.mean()

    class Plugin:
        @hookimpl
        def register_losses(register):  # noqa: N805
            register("margin", Margin)

    Plugin.__name__ = distribution
    return Plugin


def test_a_name_two_plugins_share_is_refused_by_itself_and_each_trains_qualified(ganzoo_plugins, run_cli, tmp_path):
    from conftest import one_error_line

    for dist in ("ganzoo-a", "ganzoo-b"):
        ganzoo_plugins.register(_margin_plugin(dist), distribution=dist, version="1.0")
    listed = run_cli("list", "losses", "*margin")
    assert listed.code == 0
    assert [line.split()[0] for line in listed.out.splitlines()[2:]] == ["ganzoo-a:margin", "ganzoo-b:margin"]
    assert _warnings(listed.err) == [
        "ganzoo: warning: loss 'margin' is registered by ganzoo-a 1.0 and ganzoo-b 1.0; plain 'margin' is ambiguous "
        "and refused; pick one with --set loss=ganzoo-a:margin or --set loss=ganzoo-b:margin"
    ]
    train = ("train", "gan", "--data", "ring", "--steps", "2", "--device", "cpu")
    refused = run_cli(*train, "--out", str(tmp_path / "plain"), "--set", "loss=margin")
    assert refused.code == 2 and not (tmp_path / "plain").exists()
    assert one_error_line(refused) == (
        "ganzoo: error: loss 'margin' is registered by ganzoo-a and ganzoo-b; name one: "
        "--set loss=ganzoo-a:margin or --set loss=ganzoo-b:margin"
    )
    chosen = run_cli(*train, "--out", str(tmp_path / "b"), "--set", "loss=ganzoo-b:margin")
    assert chosen.code == 0, chosen.err


def _command_plugin(name, command, said):
    import click

    from ganzoo import hookimpl

    class Plugin:
        @hookimpl
        def register_commands(cli):  # noqa: N805
            @cli.command(command)
            def hello():
                """Hijacked command."""
                click.echo(said)

    Plugin.__name__ = name
    return Plugin


def test_a_plugin_command_named_like_a_builtin_is_reached_qualified_and_never_shadows_it(ganzoo_plugins, run_cli):
    from ganzoo import __version__

    ganzoo_plugins.register(_command_plugin("hijack", "train", "hijacked"), distribution="ganzoo-hijack")
    shown = run_cli("--help")
    assert shown.code == 0
    rows = {line.split()[0]: line for line in shown.out.splitlines() if line.startswith("  ")}
    assert "Hijacked" not in rows["train"] and "Hijacked command" in rows["ganzoo-hijack:train"]
    assert _warnings(shown.err) == [
        f"ganzoo: warning: command 'train' is registered by ganzoo {__version__} and ganzoo-hijack; plain 'train' is "
        "ganzoo's; pick one with ganzoo ganzoo:train or ganzoo ganzoo-hijack:train"
    ]
    assert run_cli("ganzoo-hijack:train").out == "hijacked\n"
    assert "Train VARIANT" in run_cli("train", "--help").out
    assert "Train VARIANT" in run_cli("ganzoo:train", "--help").out


def test_a_command_two_plugins_add_is_refused_by_itself_and_reached_qualified(ganzoo_plugins, run_cli, monkeypatch):
    ganzoo_plugins.register(_command_plugin("one", "hello", "one says hello"), distribution="ganzoo-one")
    ganzoo_plugins.register(_command_plugin("two", "hello", "two says hello"), distribution="ganzoo-two")
    refused = run_cli("hello", "--loud")
    assert refused.code == 2
    assert len(_warnings(refused.err)) == 1 and "plain 'hello' is ambiguous and refused" in refused.err
    assert refused.err.splitlines()[-1] == (
        "ganzoo: error: command 'hello' is registered by ganzoo-one and ganzoo-two; "
        "name one: ganzoo ganzoo-one:hello or ganzoo ganzoo-two:hello"
    )
    assert run_cli("ganzoo-two:hello").out == "two says hello\n"
    shown = json.loads(run_cli("plugins", "--json").out)
    (clash,) = next(p for p in shown if p["name"] == "one")["clashes"]
    assert (clash["kind"], clash["name"], clash["plain_name_means"]) == ("command", "hello", None)

    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    ganzoo_plugins.register(_command_plugin("three", "other", "three"), distribution="ganzoo-three")  # a new set
    strict = run_cli("hello")
    assert strict.code == 1
    assert strict.err.splitlines()[-1].endswith("(GANZOO_STRICT_PLUGINS=1 makes a name clash an error)")


def test_install_warns_of_the_clash_the_new_plugin_brings(hinge_site, monkeypatch, run_cli):
    import subprocess

    from ganzoo import __version__

    real_run = subprocess.run
    calls = []

    def pip_that_installs_into_the_hinge_site(command, **kwargs):
        calls.append(command)
        if command[1:3] == ["-m", "pip"]:
            monkeypatch.setenv("PYTHONPATH", str(hinge_site))  # now ganzoo-hinge is on the path
            return subprocess.CompletedProcess(command, 0)
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", pip_that_installs_into_the_hinge_site)
    result = run_cli("install", "ganzoo-hinge")
    assert result.code == 0 and len(calls) == 2
    assert result.err.splitlines() == [HINGE_WARNING.format(version=__version__) + ' (docs/plugins.md, "Name clashes")']


def test_a_catalogue_entry_two_plugins_register_samples_by_qualified_name(ganzoo_plugins, run_cli, tmp_path):
    import importlib.util
    import sys

    import ganzoo
    from conftest import TEST_PLUGINS
    from ganzoo import hookimpl

    if "ganzoo_zootest" not in sys.modules:
        init = TEST_PLUGINS / "ganzoo-zootest" / "ganzoo_zootest" / "__init__.py"
        spec = importlib.util.spec_from_file_location("ganzoo_zootest", init)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["ganzoo_zootest"] = module
    ganzoo_plugins.register(sys.modules["ganzoo_zootest"], name="zootest", distribution="ganzoo-zootest")
    original = ganzoo.get_pretrained("zootest-ring")

    class Copy:
        @hookimpl
        def register_pretrained(register):  # noqa: N805
            register("zootest-ring", original)

    ganzoo_plugins.register(Copy, name="copy", distribution="ganzoo-copy")
    assert ganzoo.list_pretrained("*zootest-ring") == ["ganzoo-copy:zootest-ring", "ganzoo-zootest:zootest-ring"]
    refused = run_cli("sample", "zootest-ring", "-o", str(tmp_path / "plain.png"))
    assert refused.code == 2 and not (tmp_path / "plain.png").exists()
    assert refused.err.splitlines()[-1] == (
        "ganzoo: error: pretrained generator 'zootest-ring' is registered by ganzoo-zootest and ganzoo-copy; name one: "
        "ganzoo sample ganzoo-zootest:zootest-ring or ganzoo sample ganzoo-copy:zootest-ring"
    )
    drawn = run_cli("sample", "ganzoo-copy:zootest-ring", "-n", "4", "-o", str(tmp_path / "copy.png"))
    assert drawn.code == 0, drawn.err
    shown = run_cli("info", "ganzoo-zootest:zootest-ring", "--kind", "pretrained", "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["name"] == "ganzoo-zootest:zootest-ring"
    listed = run_cli("zoo")
    assert listed.code == 0, listed.err
    assert "ganzoo-copy:zootest-ring" in listed.out and "ganzoo-zootest:zootest-ring" in listed.out


def test_the_guides_fixture_example_passes_as_printed(installed_test_plugins, tmp_path):
    import subprocess
    import sys

    from test_docs import _marked

    (tmp_path / "conftest.py").write_text('pytest_plugins = ["ganzoo.testing"]\n')
    (tmp_path / "test_square.py").write_text(_marked("example")["plugin-fixture"], encoding="utf-8")
    env = child_env()
    env.update(
        PYTHONPATH=str(installed_test_plugins),
        GANZOO_STRICT_PLUGINS="1",
        GANZOO_LOAD_PLUGINS="ganzoo-lsgan",
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
