"""torch's CPU threads: one per core that is not busy, fewer for a small model, or as --threads, GANZOO_THREADS or
OMP_NUM_THREADS says; each bad value one line. (conftest makes the cores read as idle unless a test says otherwise.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganzoo.cpu as cpu
from conftest import one_error_line, snapshot
from ganzoo.cpu import measure_busy as measured  # the real measurement (conftest replaces the module's)

BIG = 5_000_000  # parameters enough for any number of threads here
TINY = ["arch.g_width=16", "arch.g_depth=2", "arch.d_width=8", "arch.d_depth=2"]


@pytest.mark.parametrize(
    ("cpus", "quota", "busy", "parameters", "threads"),
    [
        (2, None, 1.7, BIG, 1),  # a busy 2-core machine: one thread
        (2, None, 0.3, BIG, 2),  # nearly idle: both cores
        (2, None, 0.0, None, 2),  # model size unknown: no cap
        (2, None, 3.5, BIG, 1),  # more busy than there are cores: still one
        (16, None, 4.2, BIG, 12),
        (16, 2.0, 0.0, BIG, 2),  # the cgroup's quota bounds the cores
        (16, 2.0, 15.0, BIG, 1),  # ... and the busy ones count too
        (4, 1.5, 0.0, BIG, 2),  # "about one per core": 1.5 free cores round to 2
        (8, None, 0.0, 250_000, 2),  # one thread per 100,000 parameters at most
        (8, None, 0.0, 875, 1),  # a tiny model: one thread
    ],
)
def test_the_rule(cpus, quota, busy, parameters, threads):
    assert cpu.by_rule(cpus, quota, busy, parameters) == threads


STAT_BEFORE = """cpu  300 0 100 1000 0 0 0 0 0 0
cpu0 100 0 0 500 0 0 0 0 0 0
cpu1 200 0 100 500 0 0 0 0 0 0
cpu2 0 0 0 500 0 0 0 0 0 0
intr 12345 0 0
ctxt 999
procs_running 3
"""
# between the readings: cpu0 all busy (100 user ticks), cpu1 half (50 system, 40 idle, 10 iowait), cpu2 idle
STAT_AFTER = """cpu  450 0 150 1050 10 0 0 0 0 0
cpu0 200 0 0 500 0 0 0 0 0 0
cpu1 200 0 150 540 10 0 0 0 0 0
cpu2 0 0 0 600 0 0 0 0 0 0
intr 22345 0 0
"""


def test_busy_cores_are_read_from_two_proc_stat_readings():
    assert cpu.busy_between(STAT_BEFORE, STAT_AFTER) == pytest.approx(1.5)
    assert cpu.busy_between(STAT_BEFORE, STAT_AFTER, {1, 2}) == pytest.approx(0.5)  # only the CPUs we may use
    assert cpu.busy_between(STAT_BEFORE, STAT_BEFORE) == 0.0  # no ticks between: nothing known busy
    assert cpu.busy_between("cpu0 garbled line\nnonsense", STAT_AFTER) == 0.0


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs /proc/stat (Linux)")
def test_the_real_measurement_is_a_share_of_the_cores():
    cpus, _ = cpu.usable_cores()
    assert 0.0 <= measured(None, seconds=0.05) <= len(cpu.cpu_times(Path("/proc/stat").read_text()))
    assert cpus >= 1


@pytest.mark.parametrize(
    ("text", "quota"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("150000 100000", 1.5), ("garbage", None), ("", None)],
)
def test_the_cgroup_quota(tmp_path, text, quota):
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert cpu.cgroup_quota(path) == quota
    assert cpu.cgroup_quota(tmp_path / "missing") is None


def idle_two_cores(monkeypatch, busy: float = 0.0) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "usable_cores", lambda: (2, None))
    monkeypatch.setattr(cpu, "measure_busy", lambda cpus, seconds=0.0: busy)


def test_the_choice_and_why_in_order_of_priority(monkeypatch):
    idle_two_cores(monkeypatch, busy=1.7)
    assert str(cpu.choose(BIG)) == "threads 1 (2 cores, 1.7 busy)"
    idle_two_cores(monkeypatch, busy=0.2)
    assert str(cpu.choose(BIG)) == "threads 2 (2 cores, 0.2 busy)"
    assert str(cpu.choose(875)) == "threads 1 (2 cores, 0.2 busy, 875 parameters)"
    monkeypatch.setenv("OMP_NUM_THREADS", "2,1")  # a nested OpenMP setting: not a count, so the rule decides
    assert cpu.choose(BIG).count == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert str(cpu.choose(BIG)) == "threads 3 (OMP_NUM_THREADS=3)"
    monkeypatch.setenv(cpu.ENV, "4")
    assert str(cpu.choose(BIG)) == "threads 4 (GANZOO_THREADS=4)"
    cpu.request("5")
    assert str(cpu.choose(BIG)) == "threads 5 (--threads)"
    assert cpu.requested() == 5


def test_a_quota_is_named_when_it_binds(monkeypatch):
    idle_two_cores(monkeypatch)
    monkeypatch.setattr(cpu, "usable_cores", lambda: (16, 1.5))
    assert str(cpu.choose(BIG)) == "threads 2 (1.5 cores by the cgroup's quota, of 16, 0.0 busy)"


def test_use_sets_torchs_threads(monkeypatch):
    idle_two_cores(monkeypatch)
    cpu.request("1")
    assert cpu.use(BIG).count == 1 and torch.get_num_threads() == 1
    cpu.request("2")
    assert cpu.use(BIG).count == 2 and torch.get_num_threads() == 2


def test_the_start_line_says_the_choice_and_torch_computes_with_it(run_cli, tmp_path, monkeypatch):
    idle_two_cores(monkeypatch, busy=1.7)
    out = tmp_path / "r"
    result = run_cli("train", "gan", "--data", "ring", "--steps", "2", "--device", "cpu", "--no-amp", "--out", str(out))
    assert result.code == 0, result.err
    assert (
        result.out.splitlines()[0]
        == f"training gan on ring (cpu, threads 1 (2 cores, 1.7 busy), 2 steps, batch 100) into {out}"
    )
    assert torch.get_num_threads() == 1
    small = tmp_path / "small"
    idle_two_cores(monkeypatch)
    result = run_cli(
        "train",
        "gan",
        "--data",
        "ring",
        "--steps",
        "2",
        "--device",
        "cpu",
        "--no-amp",
        "--out",
        str(small),
        *[a for s in TINY for a in ("--set", s)],
    )
    assert result.code == 0, result.err
    assert "(cpu, threads 1 (2 cores, 0.0 busy, 875 parameters), 2 steps" in result.out.splitlines()[0]


BAD = ["0", "-1", "abc", "2.5", "1025", " "]
COMMANDS = {
    "train": ["train", "gan", "--data", "ring", "--steps", "2"],
    "sample": ["sample", "RUN", "-n", "4"],
    "eval": ["eval", "RUN", "--n", "10"],
    "bench": ["bench", "gan", "--data", "ring", "--steps", "2", "--seeds", "1"],
}


def command(name: str, tmp_path: Path) -> list[str]:
    args = [a.replace("RUN", str(tmp_path / "run")) for a in COMMANDS[name]]
    return [
        *args,
        *(
            ["--out", str(tmp_path / "out")]
            if name in ("train", "bench")
            else ["-o", str(tmp_path / "s.png")]
            if name == "sample"
            else []
        ),
    ]


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_bad_threads_flag_is_one_line_and_writes_nothing(run_cli, tmp_path, name, value):
    (tmp_path / "keep").write_text("here before")
    before = snapshot(tmp_path)
    result = run_cli(*command(name, tmp_path), "--threads", value)
    assert result.code == 2
    line = one_error_line(result)
    assert line == f"ganzoo: error: --threads must be a whole number of threads from 1 to 1024, got {value!r}"
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("value", ["0", "many", "-3", "99999"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_bad_ganzoo_threads_is_one_line_and_writes_nothing(run_cli, tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(cpu.ENV, value)
    result = run_cli(*command(name, tmp_path))
    assert result.code == 2
    line = one_error_line(result)
    assert line == f"ganzoo: error: GANZOO_THREADS must be a whole number of threads from 1 to 1024, got {value!r}"
    assert list(tmp_path.iterdir()) == []


def test_threads_given_on_the_command_line_win_over_a_bad_environment(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv(cpu.ENV, "many")
    result = run_cli(
        *command("train", tmp_path), "--device", "cpu", "--threads", "1", *[a for s in TINY for a in ("--set", s)]
    )
    assert result.code == 0, result.err
    assert "threads 1 (--threads)" in result.out.splitlines()[0]


def test_the_library_refuses_a_bad_ganzoo_threads_before_writing(tmp_path, monkeypatch):
    import ganzoo
    from ganzoo.errors import UsageError

    monkeypatch.setenv(cpu.ENV, "0")
    with pytest.raises(UsageError, match="GANZOO_THREADS must be a whole number"):
        ganzoo.train("gan", data="ring", steps=2, out=tmp_path / "r", device="cpu", progress=False, set=TINY)
    assert not (tmp_path / "r").exists()
