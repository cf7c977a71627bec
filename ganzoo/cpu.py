"""How many CPU threads torch computes with here: the cores this process may use that others leave free, capped
by the model's size, unless ``--threads``, ``GANZOO_THREADS`` or ``OMP_NUM_THREADS`` says.

torch's default is one thread per core. On a machine where other processes keep the cores busy, the threads of a
small model wait on each other and a run can take ten times as long; with one thread per free core it takes its
share. The rule, in order:

1. ``--threads N`` (``request``), then ``GANZOO_THREADS=N``: exactly N (a bad value is a UsageError);
2. ``OMP_NUM_THREADS=N`` when set to a positive integer: N, as torch itself would;
3. otherwise about one per core not already busy (the cores of ``os.sched_getaffinity``, at most the cgroup's CPU
   quota in ``/sys/fs/cgroup/cpu.max``, less the busy share measured from ``/proc/stat`` over a short sample, or the
   1-minute load average where there is no ``/proc/stat``), at least 1, and at most one per ``PARAMETERS_PER_THREAD``
   parameters of the model (a small model gains nothing from threads).

torch is imported only to apply the choice, so the CLI can check ``--threads`` without it.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ganzoo.errors import UsageError

ENV = "GANZOO_THREADS"
PARAMETERS_PER_THREAD = 100_000
MAX_THREADS = 1024
SAMPLE_SECONDS = 0.2  # how long /proc/stat is watched for the busy share
STAT = Path("/proc/stat")
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")

_requested: int | None = None  # --threads of the running command


@dataclass(frozen=True)
class Threads:
    """A choice of torch's CPU threads and why, as the start line says it: ``threads 1 (2 cores, 1.7 busy)``."""

    count: int
    why: str

    def __str__(self) -> str:
        return f"threads {self.count} ({self.why})"


def parse(value: object, where: str) -> int:
    """A thread count given as ``where`` (``--threads``, ``GANZOO_THREADS``): a whole number from 1 to MAX_THREADS,
    else a UsageError in one line."""
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_THREADS:
        raise UsageError(f"{where} must be a whole number of threads from 1 to {MAX_THREADS}, got {str(value)!r}")
    return int(text)


def request(value: object | None) -> None:
    """What ``--threads`` asked for in this command (None: nothing), checked now, before anything is done."""
    global _requested
    _requested = None if value is None else parse(value, "--threads")


def check_request() -> None:
    """Without ``--threads``, a ``GANZOO_THREADS`` that is set is checked now (a UsageError when bad)."""
    if _requested is None and os.environ.get(ENV, "").strip():
        parse(os.environ[ENV], ENV)


def requested() -> int | None:
    """The ``--threads`` of the running command, for work handed to other processes."""
    return _requested


def usable_cores() -> tuple[int, float | None]:
    """(the CPUs this process may run on, the cgroup's CPU quota in cores or None when it has none)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (not on Linux)
        cpus = os.cpu_count() or 1
    return max(1, cpus), cgroup_quota(CPU_MAX)


def cgroup_quota(path: Path) -> float | None:
    """The CPU quota of a cgroup v2 ``cpu.max`` file (``"200000 100000"`` -> 2.0), or None for ``max``, no file or a
    file that does not read as a quota."""
    try:
        fields = path.read_text().split()
        quota, period = fields[0], int(fields[1]) if len(fields) > 1 else 100_000
        if quota == "max" or period <= 0:
            return None
        return int(quota) / period
    except (OSError, ValueError, IndexError):
        return None


def cpu_times(text: str) -> dict[int, tuple[int, int]]:
    """``/proc/stat``'s per-CPU lines as ``{cpu: (busy ticks, all ticks)}`` (idle and iowait are not busy)."""
    found = {}
    for line in text.splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu" or not values:
            continue
        try:
            ticks = [int(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal (guests are in user)
            cpu = int(name[3:])
        except ValueError:
            continue
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        found[cpu] = (sum(ticks) - idle, sum(ticks))
    return found


def busy_between(before: str, after: str, cpus: set[int] | None = None) -> float:
    """How many of ``cpus`` (all when None) were busy between two ``/proc/stat`` readings, in cores (0.0 to their
    number): each CPU's busy share of its ticks, summed."""
    first, second = cpu_times(before), cpu_times(after)
    busy = 0.0
    for cpu, (was_busy, was_all) in first.items():
        if (cpus is not None and cpu not in cpus) or cpu not in second:
            continue
        now_busy, now_all = second[cpu]
        if now_all > was_all:
            busy += min(1.0, max(0.0, (now_busy - was_busy) / (now_all - was_all)))
    return busy


def measure_busy(cpus: set[int] | None, seconds: float = SAMPLE_SECONDS) -> float:
    """How many of ``cpus`` other work keeps busy now, in cores: ``/proc/stat`` read twice ``seconds`` apart, or the
    1-minute load average where there is no ``/proc/stat`` (not Linux)."""
    try:
        before = STAT.read_text()
        time.sleep(seconds)
        return busy_between(before, STAT.read_text(), cpus)
    except OSError:
        try:
            return float(os.getloadavg()[0])
        except (AttributeError, OSError):
            return 0.0


def by_rule(cpus: int, quota: float | None, busy: float, parameters: int | None) -> int:
    """About one thread per core not already busy (the cores: ``cpus``, at most ``quota``), at least 1, at most one
    per PARAMETERS_PER_THREAD parameters when ``parameters`` is known."""
    free = min(cpus - busy, quota if quota is not None else math.inf)
    count = max(1, math.floor(free + 0.5))
    if parameters is not None:
        count = min(count, max(1, parameters // PARAMETERS_PER_THREAD))
    return count


def choose(parameters: int | None = None) -> Threads:
    """The threads to compute with, and why (see the module's rule); a bad ``GANZOO_THREADS`` is a UsageError."""
    if _requested is not None:
        return Threads(_requested, "--threads")
    given = os.environ.get(ENV, "").strip()
    if given:
        return Threads(parse(given, ENV), f"{ENV}={given}")
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return Threads(int(omp), f"OMP_NUM_THREADS={omp}")
    cpus, quota = usable_cores()
    try:
        allowed: set[int] | None = set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = None
    busy = measure_busy(allowed)
    count = by_rule(cpus, quota, busy, parameters)
    cores = cpus if quota is None or quota >= cpus else quota
    why = f"{_number(cores)} cores" + (f" by the cgroup's quota, of {cpus}" if cores != cpus else "")
    why += f", {busy:.1f} busy"
    if parameters is not None and count < by_rule(cpus, quota, busy, None):
        why += f", {parameters:,} parameters"
    return Threads(count, why)


def use(parameters: int | None = None) -> Threads:
    """Choose the threads (``choose``) and set torch's intra-op thread count to them."""
    import torch  # (here, not at the top: the CLI checks --threads without loading torch)

    threads = choose(parameters)
    if torch.get_num_threads() != threads.count:
        torch.set_num_threads(threads.count)
    return threads


def _number(cores: float) -> str:
    return str(int(cores)) if float(cores).is_integer() else f"{cores:.1f}"
