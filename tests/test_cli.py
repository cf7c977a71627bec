"""The ganzoo command: listing, info, help without torch, and one-line errors."""

import json
import subprocess
import sys

from conftest import run_process


def test_list_json_shows_every_builtin(run_cli):
    result = run_cli("list", "--json")
    assert result.code == 0
    listed = {kind: {e["name"] for e in entries} for kind, entries in json.loads(result.out).items()}
    assert listed["variants"] >= {"gan", "gan-minimax", "dcgan", "wgan", "wgan-gp"}
    assert listed["losses"] >= {"minimax", "nonsaturating", "wasserstein", "wgan-gp"}
    assert listed["architectures"] >= {"mlp", "dcgan", "timm"}
    assert listed["datasets"] >= {"digits", "ring", "grid", "mnist", "fashion-mnist", "cifar10", "folder", "hf"}


def test_list_table_with_pattern(run_cli):
    result = run_cli("list", "variants", "wgan*")
    assert result.code == 0
    rows = [line.split()[0] for line in result.out.splitlines()[2:]]
    assert rows == ["wgan", "wgan-gp"]


def test_info_shows_defaults_and_origin(run_cli):
    result = run_cli("info", "wgan-gp", "--kind", "loss", "--json")
    assert result.code == 0
    info = json.loads(result.out)
    assert info["plugin"] == "wgan"
    assert info["options"]["gp_weight"] == {"type": "float (>= 0)", "default": 10.0}
    text = run_cli("info", "dcgan")
    assert (
        "variant dcgan" in text.out
        and "architecture dcgan" in text.out
        and "g_width: int (between 1 and 512) = 64" in text.out
    )


def test_unknown_names_are_one_line_with_suggestions(run_cli):
    result = run_cli("info", "dcgna")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "ganzoo: error: unknown variant 'dcgna'; did you mean 'dcgan' or 'acgan' or 'pacgan4'? "
        "(see: ganzoo list variants)"
    ]


def test_bad_kind_is_a_usage_error(run_cli):
    result = run_cli("list", "gizmos")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "gizmos" in result.err


def test_help_does_not_import_torch():
    code = "import sys; from ganzoo.cli import main; main(['--help']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
    assert "train" in out and "list" in out


def test_list_does_not_import_torch():
    code = "import sys; from ganzoo.cli import main; main(['list']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_errors_show_a_traceback_only_with_debug():
    quiet = run_process("train", "nope")
    assert quiet.code == 2 and "Traceback" not in quiet.err
    loud = run_process("--debug", "train", "nope")
    assert loud.code != 0 and "Traceback" in loud.err


def test_bare_ganzoo_prints_the_help_and_succeeds(run_cli):
    result = run_cli()
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("Usage: ganzoo [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.out and "train" in result.out


def test_dir_of_the_package_shows_every_public_name():
    import ganzoo

    names = dir(ganzoo)
    assert set(ganzoo.__all__) <= set(names)
    assert {"train", "load_generator", "save_generator"} <= set(names)
    assert names == sorted(names)
