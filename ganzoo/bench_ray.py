"""Benchmarks on Ray: a benchmark's units run as Ray tasks, on a local Ray or an existing cluster, each with the CPUs
and GPUs Ray assigns it (``ganzoo bench ... --ray [ADDRESS]``).

Each task trains its runs and scores them where it runs, writing into the run folders the plain bench uses, so the
workers must see the driver's benchmark folder: the same machine, or a shared filesystem mounted at the same path.
The driver keeps the benchmark folder's lock, waits for the tasks, and writes the report and its pictures. A task
whose worker or node is lost is run again (``RETRIES`` times); it looks at its run folders anew first, so a retried run
resumes from its last checkpoint. Ctrl-C cancels the tasks not yet finished; finished runs stay, and the same command
run again skips them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import os
import re
import socket
import sys
from pathlib import Path
from typing import Any

import ganzoo.cpu as cpu
from ganzoo.bench import Done, Plan, finish_job, plan_job, train_unit, units
from ganzoo.bench_report import Job
from ganzoo.errors import GanzooError, UsageError
from ganzoo.values import is_int, is_number

__all__ = ["RayRunner", "connect", "parse_address", "run_unit", "EXTRA", "RETRIES"]

EXTRA = "pip install 'ganzoo[ray]'"
RETRIES = 3  # times a task whose worker or node was lost runs again
CONNECT_TIMEOUT_S = 3.0  # how long an address may take to accept a TCP connection before it counts as unreachable
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")
_BACK = ("action", "step", "results", "error", "train_s", "eval_s", "trained_steps", "trained_s", "trained")


def import_ray() -> Any:
    """The ``ray`` module, or a ``UsageError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed here: {EXTRA}") from None
    return ray


def parse_address(address: str | None) -> tuple[str, str | None, int | None]:
    """``(kind, host, port)`` of a ``--ray`` address: ``local`` (None or empty: start a Ray here), ``auto`` (the
    cluster this machine belongs to), ``gcs`` (``HOST:PORT``, a head node's port) or ``client`` (``ray://HOST:PORT``,
    Ray Client). Anything else raises a ``UsageError``."""
    text = (address or "").strip()
    if not text:
        return "local", None, None
    if text == "auto":
        return "auto", None, None
    kind, rest = ("client", text[len("ray://") :]) if text.startswith("ray://") else ("gcs", text)
    host, sep, port = rest.rpartition(":")
    if not sep or not _HOST.match(host) or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(
            f"--ray {text!r} is not an address: give HOST:PORT, ray://HOST:PORT or auto, "
            f"or --ray alone to start a Ray on this machine"
        )
    host = host.strip("[]")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"--ray {text!r}: {host!r} is not an IPv6 address") from None
    return kind, host, int(port)


def check_reachable(address: str, host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise a ``UsageError`` unless ``host:port`` accepts a TCP connection within ``timeout`` seconds (``ray.init``
    would wait much longer)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        reason = f"no answer in {timeout:g}s" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UsageError(
            f"--ray {address}: nothing answers at {host}:{port} ({reason}); start Ray there "
            f"(ray start --head) or check the address"
        ) from None


def connect(address: str | None = None, local_cpus: int | None = None, local_gpus: int | None = None) -> bool:
    """Connect this process to Ray: start one here (``address`` None; ``local_cpus`` CPUs and ``local_gpus`` GPUs,
    default all), or join the cluster at ``address``. A process already connected stays with its Ray. Returns
    whether this call connected (and so should ``ray.shutdown()`` when done). Bad or unreachable addresses raise a
    ``UsageError`` before Ray waits."""
    ray = import_ray()
    kind, host, port = parse_address(address)
    if host is not None and port is not None:
        check_reachable(address or "", host, port)
    if kind == "client":
        try:
            import grpc  # noqa: F401  (Ray Client's transport, in ray[client])
        except ImportError:
            raise UsageError(f"--ray {address}: Ray Client is not installed here: {EXTRA}") from None
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if kind == "local":
            ray.init(address="local", num_cpus=local_cpus, num_gpus=local_gpus, **options)
        else:
            ray.init(address=address.strip() if address else None, **options)
    except ConnectionError as exc:
        raise UsageError(f"--ray {address}: {str(exc).splitlines()[0]}") from None
    return True


def worker_device(device: str) -> str:
    """The device a task trains on: a GPU is the one Ray assigned the task (CUDA_VISIBLE_DEVICES, set by Ray, shows
    only it, so it is ``cuda``); ``auto`` is what the task sees (the CPU when it was given no GPU)."""
    return "cuda" if device.startswith("cuda") else device


def run_unit(plan: Plan, jobs: list[Job], threads: int | None = None) -> tuple[list[Job], list[str]]:
    """One Ray task: look at each run's folder anew (a retried task resumes what the lost one wrote), train the runs
    together, score each; returns the runs and each one's line. ``threads`` is the driver's ``--threads`` (None: the
    worker chooses, and Ray sets its OMP_NUM_THREADS to the task's CPUs)."""
    cpu.request(threads)
    device = worker_device(plan.device)
    plan = dataclasses.replace(plan, device=device, real={})
    for job in jobs:
        job.config.device = device
        plan_job(job, plan)
    train_unit(jobs)
    return jobs, [finish_job(job, plan) for job in jobs]


class RayRunner:
    """A benchmark's units as Ray tasks: ``cpus`` and ``gpus`` per task (``gpus`` None: one when ``--device cuda``,
    else none), ``runs_per_task`` runs of one variant trained together in each task; ``address`` as ``--ray`` takes
    it (None: start a Ray here with ``local_cpus`` CPUs)."""

    def __init__(
        self,
        address: str | None = None,
        cpus: float = 1.0,
        gpus: float | None = None,
        runs_per_task: int = 1,
        local_cpus: int | None = None,
    ) -> None:
        self.address = (address or "").strip() or None
        self.cpus = cpus
        self.gpus = gpus
        self.asked_gpus = gpus  # as given (``gpus`` is filled in by ``start``)
        self.runs_per_task = runs_per_task
        self.local_cpus = local_cpus
        self.slots = 1
        self.picture_device: str | None = None  # the driver draws the pictures on what it has
        self._ray: Any = None
        self._owned = False

    def words(self) -> list[str]:
        words = ["--ray"] + ([self.address] if self.address else [])
        if self.cpus != 1:
            words += ["--ray-cpus", f"{self.cpus:g}"]
        if self.asked_gpus is not None:
            words += ["--ray-gpus", f"{self.asked_gpus:g}"]
        if self.runs_per_task != 1:
            words += ["--ray-runs-per-task", str(self.runs_per_task)]
        return words

    def start(self, plan: Plan) -> None:
        """Check the settings, connect to Ray and check that the cluster can run a task; nothing is written."""
        import_ray()
        parse_address(self.address)
        for label, value in (("--ray-cpus", self.cpus), ("--ray-gpus", self.gpus)):
            if value is not None and (not is_number(value) or not math.isfinite(value) or value < 0):
                raise UsageError(f"{label} must be a number of CPUs or GPUs >= 0, got {value!r}")
        if not is_int(self.runs_per_task) or self.runs_per_task < 1:
            raise UsageError(f"--ray-runs-per-task must be a positive integer, got {self.runs_per_task!r}")
        device = plan.device or "auto"
        if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
            raise UsageError(f"--device {device} with --ray: use auto, cpu or cuda (Ray assigns each task its GPU)")
        if re.fullmatch(r"cuda:\d+", device):
            raise UsageError(f"--device {device} with --ray: Ray assigns each task its GPU; use --device cuda")
        if self.gpus is None:
            self.gpus = 1.0 if device == "cuda" else 0.0
        if device == "cuda" and self.gpus == 0:
            raise UsageError("--device cuda with --ray-gpus 0: give each task a GPU (--ray-gpus 1, or a fraction)")
        if all(job.action == "skip" for job in plan.jobs):
            return  # every run is finished and scored: no task to run, no Ray to start
        self._owned = connect(self.address, self.local_cpus)
        self._ray = import_ray()
        try:
            self._check_cluster(device)
        except BaseException:
            self.close()
            raise

    def _check_cluster(self, device: str) -> None:
        ray = self._ray
        where = self.address or "this machine"
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        total = ray.cluster_resources()
        gpus = float(total.get("GPU", 0))
        if device == "cuda" and gpus == 0:
            raise UsageError(
                f"--device cuda: the Ray cluster on {where} has no GPUs; use --device cpu, or a cluster with GPU nodes"
            )
        for label, key, need in (("--ray-cpus", "CPU", self.cpus), ("--ray-gpus", "GPU", self.gpus or 0.0)):
            most = max((float(n.get(key, 0)) for n in nodes), default=0.0)
            if need > most:
                raise UsageError(
                    f"{label} {need:g}: no node of the Ray cluster on {where} has that many "
                    f"({most:g} at most); ask for fewer"
                )
        slots = [float(total.get("CPU", 0)) / self.cpus] if self.cpus else []
        if self.gpus:
            slots.append(gpus / self.gpus)
        self.slots = max(1, int(min(slots))) if slots else 1

    def run(self, plan: Plan, done: Done) -> None:
        """Submit every unit that has work as one task, then tell ``done`` each run as its task comes back; Ctrl-C (or
        any error) cancels the tasks still pending."""
        ray = self._ray
        if ray is None:  # nothing to run (``start`` found every run finished)
            for job in plan.jobs:
                done(job, finish_job(job, plan))
            return
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus, "max_retries": RETRIES}
        carried = {k: v for k, v in os.environ.items() if k.startswith("GANZOO_")}
        if self.address and carried:  # a cluster's workers do not share this shell's settings
            options["runtime_env"] = {"env_vars": carried}
        task = ray.remote(run_unit).options(**options)
        shipped = ray.put(dataclasses.replace(plan, jobs=[], real={}))
        pending: dict[Any, list[Job]] = {}
        try:
            for unit in units(plan.jobs, self.runs_per_task):
                for job in unit:
                    if job.action == "skip":
                        done(job, finish_job(job, plan))
                work = [job for job in unit if job.action != "skip"]
                if work:
                    sent = [dataclasses.replace(job, run_dir=Path(os.path.abspath(job.run_dir))) for job in work]
                    pending[task.remote(shipped, sent, cpu.requested())] = work
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    self._collect(ref, pending.pop(ref), done)
        except BaseException:
            if pending:
                for ref in pending:
                    ray.cancel(ref, force=True)
                print(
                    f"bench: cancelled {len(pending)} Ray task(s); finished runs are kept, and the same command "
                    f"run again goes on from them",
                    file=sys.stderr,
                    flush=True,
                )
            raise

    def _collect(self, ref: Any, jobs: list[Job], done: Done) -> None:
        ray = self._ray
        try:
            back, texts = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the task raised: a GanzooError is the user's one line
            cause = getattr(exc, "cause", None)
            if isinstance(cause, GanzooError):
                raise cause from None
            raise
        except ray.exceptions.RayError as exc:  # its worker or node was lost RETRIES + 1 times
            for job in jobs:
                job.error = f"its Ray worker was lost {RETRIES + 1} times ({type(exc).__name__})"
                done(job, f"{job.label} failed: {job.error}")
            return
        for job, result, text in zip(jobs, back, texts):
            for name in _BACK:
                setattr(job, name, getattr(result, name))
            done(job, text)

    def close(self) -> None:
        if self._owned and self._ray is not None:
            self._ray.shutdown()
        self._owned = False
