"""Shared fixtures: run the CLI in-process or as a fresh process, keep the plugin registry clean, and train on the
CPU unless a test is marked ``cuda``."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import ganzoo.cpu as cpu
from ganzoo import plugins

pytest_plugins = ["ganzoo.testing"]  # the ganzoo_plugins fixture, as plugin authors use it

ROOT = Path(__file__).resolve().parent.parent
TEST_PLUGINS = Path(__file__).resolve().parent / "plugins"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch):
    """Each test sees the plugins its environment allows, loaded anew."""
    monkeypatch.delenv("GANZOO_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("GANZOO_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("GANZOO_DEBUG", raising=False)
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture(autouse=True)
def _idle_cores(monkeypatch):
    """The CPU threads' rule measures how busy the cores are; in tests they read as idle, so a choice depends only
    on the cores, the model and the settings, whatever else the machine runs. No --threads outlives its test, and
    torch's thread count is put back."""
    monkeypatch.setattr(cpu, "measure_busy", lambda cpus, seconds=cpu.SAMPLE_SECONDS: 0.0)
    monkeypatch.delenv(cpu.ENV, raising=False)
    cpu.request(None)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    yield
    cpu.request(None)
    torch = sys.modules.get("torch")
    if torch is not None and before is not None and torch.get_num_threads() != before:
        torch.set_num_threads(before)


def pytest_configure(config):
    """Pin ``auto`` to the CPU before any fixture runs: session-wide fixtures train and start processes too."""
    os.environ["GANZOO_DEVICE"] = "cpu"


@pytest.fixture(autouse=True)
def _cpu_unless_marked_cuda(request, monkeypatch):
    """``auto`` means the CPU in tests (GANZOO_DEVICE=cpu, inherited by the processes they start), so results compare
    bitwise on a machine with a GPU too; a test marked ``cuda`` gets the real choice, and is skipped without a GPU."""
    if request.node.get_closest_marker("cuda") is None:
        monkeypatch.setenv("GANZOO_DEVICE", "cpu")
        return
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    monkeypatch.delenv("GANZOO_DEVICE", raising=False)


@pytest.fixture
def run_cli(capsys):
    """Run ``ganzoo ARGS`` in this process; returns exit code, stdout and stderr."""
    from ganzoo.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_process(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: str | None = None) -> Result:
    """Run ``python -m ganzoo ARGS`` as a fresh process."""
    full_env = child_env()
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def child_env() -> dict[str, str]:
    """This environment without ganzoo's settings, but with the device the test runs on (GANZOO_DEVICE)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GANZOO_") or k == "GANZOO_DEVICE"}


def pip_install_into(target: Path, *projects: Path) -> Path:
    """pip-install plugin distributions (no dependencies, no build isolation) into the folder ``target``, not the
    virtual environment; returns ``target``, for a test to put on ``PYTHONPATH``."""
    for project in projects:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target"]
            + [str(target), str(project)],
            check=True,
            capture_output=True,
        )
    return target


@pytest.fixture(scope="session")
def installed_test_plugins(tmp_path_factory) -> Path:
    """pip-install the test plugin distributions into a temporary target folder (not the venv)."""
    target = tmp_path_factory.mktemp("site")
    return pip_install_into(target, *(TEST_PLUGINS / name for name in ("ganzoo-lsgan", "ganzoo-broken")))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden ones too, symlinks not followed): its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def one_error_line(result: Result) -> str:
    """The single stderr line of a refused command; fails when there is a traceback or any other line."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert lines[0].startswith("ganzoo: error: "), result.err
    return lines[0]
