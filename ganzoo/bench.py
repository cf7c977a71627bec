"""Benchmarks: train variants x seeds on one data set, evaluate every run, and write a report with pictures.

``bench(["gan", "wgan-gp"], data="ring", seeds=3)`` trains each variant once per seed
(0..K-1) into ``OUT/runs/VARIANT-seedS``, scores each run on the test split with
``ganzoo.metrics.evaluate`` (results stored in the run's ``eval.json``) and writes
``OUT/report.md``, ``OUT/report.json``, ``OUT/samples.png``, ``OUT/metrics.png`` and
``OUT/losses.png``. Running it again with the same ``out`` skips finished runs.

The work is cut at four seams, each a public function: ``plan_bench`` (which runs, their folders, what each needs;
nothing written), ``units`` (the runs trained together in one process), ``train_unit`` and ``finish_job`` (a unit
trained, a run scored) and ``write_report``. A ``Runner`` decides where the units run: ``LocalRunner`` here, one after
another; ``ganzoo.bench_ray.RayRunner`` as Ray tasks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ganzoo.bench_report import (
    BENCH_FILE,
    EVAL_SEED,
    RUNS,
    SPLIT,
    Job,
    as_seconds,
    build_report,
    fmt,
    machine,
    markdown,
    read_timings,
)
from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import check_output_folder, writing
from ganzoo.lock import folder_lock
from ganzoo.values import is_int

if TYPE_CHECKING:
    from ganzoo.data import Samples
    from ganzoo.training.config import TrainConfig

__all__ = [
    "bench",
    "plan_bench",
    "train_all",
    "write_report",
    "LocalRunner",
    "Runner",
    "Plan",
    "machine",
    "markdown",
    "RUNS",
    "EVAL_SEED",
]


class Eta:
    """The time a benchmark has left, per variant: steps to train x that variant's measured seconds per step,
    plus its measured evaluation time.

    Variants differ a lot in cost (WGAN takes five critic steps per generator step), so one mean over all
    finished runs misjudges the rest. A variant not measured yet borrows the mean seconds per step of those
    that are; with nothing measured at all the estimate is unknown (None).
    """

    def __init__(self) -> None:
        self._train: dict[str, list[float]] = {}  # variant -> [seconds, steps]
        self._eval: dict[str, list[float]] = {}  # variant -> seconds of each evaluation

    def record(self, variant: str, steps: int = 0, train_s: float = 0.0, eval_s: float | None = None) -> None:
        """Add what one run took: ``steps`` generator steps in ``train_s`` seconds, then ``eval_s`` to evaluate."""
        if steps > 0 and train_s > 0:
            slot = self._train.setdefault(variant, [0.0, 0.0])
            slot[0] += train_s
            slot[1] += steps
        if eval_s is not None and eval_s >= 0:
            self._eval.setdefault(variant, []).append(eval_s)

    def _per_step(self, variant: str) -> float | None:
        if variant in self._train:
            seconds, steps = self._train[variant]
            return seconds / steps
        known = [seconds / steps for seconds, steps in self._train.values()]
        return statistics.fmean(known) if known else None

    def _evaluation(self, variant: str) -> float | None:
        if variant in self._eval:
            return statistics.fmean(self._eval[variant])
        known = [t for times in self._eval.values() for t in times]
        return statistics.fmean(known) if known else None

    def seconds(self, variant: str, steps: int, evaluate: bool = True) -> float | None:
        """Estimated seconds to train ``variant`` for ``steps`` steps (and evaluate it), or None when unknown."""
        total = 0.0
        if steps > 0:
            per_step = self._per_step(variant)
            if per_step is None:
                return None
            total += steps * per_step
        if evaluate:
            evaluation = self._evaluation(variant)
            if evaluation is None:
                return None
            total += evaluation
        return total

    def remaining(self, pending: Sequence[tuple[str, int, bool]]) -> float | None:
        """Estimated seconds for every (variant, steps to train, evaluate) in ``pending``; None when any is unknown."""
        total = 0.0
        for variant, steps, evaluate in pending:
            if steps <= 0 and not evaluate:
                continue
            seconds = self.seconds(variant, steps, evaluate)
            if seconds is None:
                return None
            total += seconds
        return total


# ------------------------------------------------------------------------------------------------ planning


@dataclass
class Plan:
    """What a benchmark will do, decided and checked before anything is written: its runs (``jobs``, one per variant
    x seed, each with its folder and what it needs) and how each run is scored."""

    variants: list[str]
    data: str
    steps: int | None
    seeds: int
    metrics: list[str]  # the metrics every run is scored with
    asked_metrics: list[str] | None  # the metrics named on the command line (None: the defaults)
    n: int
    n_asked: int | None  # --n as given (None: the default ``n``)
    features: str | None
    sets: list[str]
    batch_size: int | None
    device: str
    out: Path
    jobs: list[Job] = field(default_factory=list)
    real: dict[str, Samples] = field(default_factory=dict, repr=False)  # real splits loaded, by data set and options

    @property
    def eval_device(self) -> str | None:
        return None if self.device in ("", "auto") else self.device

    def command(self, extra: Sequence[str] = ()) -> str:
        """The ``ganzoo bench`` command line that makes this benchmark (``extra``: the runner's own words)."""
        words = ["ganzoo", "bench", *self.variants, "--data", self.data]
        if self.steps is not None:
            words += ["--steps", str(self.steps)]
        words += ["--seeds", str(self.seeds)]
        if self.asked_metrics:
            words += ["--metrics", ",".join(self.asked_metrics)]
        if self.n_asked is not None:
            words += ["--n", str(self.n_asked)]
        if self.batch_size is not None:
            words += ["--batch-size", str(self.batch_size)]
        for pair in self.sets:
            words += ["--set", pair]
        if self.features:
            words += ["--features", self.features]
        if self.device not in ("", "auto"):
            words += ["--device", self.device]
        words += ["--out", str(self.out), *extra]
        return shlex.join(words)


def plan_bench(
    variants: Sequence[str] | str,
    data: str | None = None,
    *,
    steps: int | None = None,
    seeds: int = 3,
    metrics: Sequence[str] | str | None = None,
    n: int | None = None,
    out: str | os.PathLike = "bench",
    set: Sequence[str] | None = None,
    batch_size: int | None = None,
    features: str | None = None,
    device: str = "auto",
) -> Plan:
    """Check every name, value and metric of a benchmark and decide what each of its runs needs; writes nothing.
    Arguments as for ``bench``; a bad one raises ``UsageError``."""
    from ganzoo.metrics.report import check_metrics, default_metrics, default_n, parse_metrics
    from ganzoo.plugins import registry
    from ganzoo.training import TrainRequest
    from ganzoo.training.config import latent_dim_for

    names = list(
        dict.fromkeys(v.strip() for v in ([variants] if isinstance(variants, str) else variants) if v and v.strip())
    )
    if not names:
        raise UsageError("name at least one variant to benchmark (see: ganzoo list variants)")
    if not is_int(seeds) or seeds < 1:
        raise UsageError(f"seeds must be a positive integer, got {seeds!r}")
    for label, value in (("steps", steps), ("n", n), ("batch size", batch_size)):
        if value is not None and (not is_int(value) or value < 1):
            raise UsageError(f"{label} must be a positive integer, got {value!r}")
    reg = registry()
    for name in names:
        reg.get("variant", name)  # unknown names fail here, with suggestions
    if data is None:
        own = sorted({reg.get("variant", name).obj.data for name in names})
        if len(own) > 1:
            raise UsageError(f"the variants train on different data sets ({', '.join(own)}); choose one with --data")
        data = own[0]
    sets = list(set or [])
    request = TrainRequest(data=data, steps=steps, batch_size=batch_size, set=sets, device=device)
    features = (features or "").strip() or None
    out = Path(out)
    check_output_folder(out, "the benchmark folder (--out)")

    configs = {name: dataclasses.replace(request, variant=name).resolve(seed=0) for name in names}
    cache: dict[str, Samples] = {}
    first_real = real_split(configs[names[0]], cache)
    metric_names = parse_metrics(metrics) or default_metrics(first_real, data, features)
    n_scored = n if n is not None else default_n(first_real)
    for name in names:
        real = real_split(configs[name], cache)
        latent_dim_for(configs[name], real.sample_shape)  # the architecture can make this data, or a UsageError
        classes = (real.num_classes or 0) if configs[name].conditional else 0
        check_metrics(real, metric_names, n_scored, data=data, split=SPLIT, features=features, num_classes=classes)

    plan = Plan(
        names,
        data,
        steps,
        seeds,
        metric_names,
        parse_metrics(metrics) or None,
        n_scored,
        n,
        features,
        sets,
        batch_size,
        device,
        out,
        real=cache,
    )
    for name in names:
        for seed in range(seeds):
            config = dataclasses.replace(request, variant=name).resolve(seed=seed)
            job = Job(name, seed, config, out / RUNS / f"{name}-seed{seed}")
            plan_job(job, plan)
            plan.jobs.append(job)
    return plan


def check_device(device: str) -> Any:
    """The torch device ``device`` names on this machine, or a ``UsageError`` when there is none."""
    from ganzoo.training.devices import pick_device
    from ganzoo.training.distributed import World

    return pick_device(device, World())


def plan_job(job: Job, plan: Plan) -> None:
    """Decide what ``job`` needs (train, resume, restart, evaluate, skip) from what its folder holds now, or raise when
    that folder holds another run. A finished run whose ``eval.json`` holds every metric of the plan is skipped."""
    from ganzoo.metrics.report import stored_result
    from ganzoo.training.checkpoint import latest_step
    from ganzoo.training.rundir import refuse_other_run

    if not (job.run_dir / "config.json").exists():
        if job.run_dir.exists() and not job.run_dir.is_dir():
            raise UsageError(f"{job.run_dir} exists and is not a folder; use another --out")
        job.action = "train"
        return
    refuse_other_run(job.run_dir, job.config, "use another --out, or delete that folder")
    step = latest_step(job.run_dir)
    job.step = step or 0
    if step is None:
        job.action = "restart"
        return
    if step > job.config.steps:
        raise UsageError(
            f"{job.run_dir} is already at step {step}, beyond --steps {job.config.steps}; "
            "use another --out, or raise --steps"
        )
    if step < job.config.steps:
        job.action = "resume"
        return
    stored = [
        stored_result(job.run_dir, m, n=plan.n, split=SPLIT, seed=EVAL_SEED, step=step, features=plan.features)
        for m in plan.metrics
    ]
    if all(stored):
        job.action = "skip"
        job.results = stored
    else:
        job.action = "evaluate"


def real_split(config: TrainConfig, cache: dict[str, Samples]) -> Samples:
    """The real split every run of ``config``'s data set is scored against, loaded once per ``cache``."""
    from ganzoo.training.loop import load_data

    key = json.dumps([config.data, config.data_options], sort_keys=True, default=str)
    if key not in cache:
        cache[key] = load_data(config, SPLIT)
    return cache[key]


def units(jobs: Sequence[Job], size: int | None = None) -> list[list[Job]]:
    """The plan's runs cut into units, each trained together in one process: one variant's runs in groups of ``size``
    (None: all of them), in the plan's order."""
    if size is not None and size < 1:
        raise UsageError(f"runs per unit must be a positive integer, got {size!r}")
    found: list[list[Job]] = []
    for variant in dict.fromkeys(job.variant for job in jobs):
        mine = [job for job in jobs if job.variant == variant]
        step = size or len(mine)
        found += [mine[i : i + step] for i in range(0, len(mine), step)]
    return found


# ------------------------------------------------------------------------------------------------ training and scoring

TRAINING = ("train", "restart", "resume")


def train_unit(jobs: Sequence[Job]) -> None:
    """Train (or resume) the runs of ``jobs`` that need it together in this process (side by side on a GPU); each run's
    time is its share of the wall time; a run that fails keeps its error and the others go on."""
    import copy

    from ganzoo.files import write_json
    from ganzoo.training.config import fit_intervals
    from ganzoo.training.seeds import train_together

    todo = [job for job in jobs if job.action in TRAINING and not job.trained]
    if not todo:
        return
    entries = []
    for job in todo:
        config = copy.deepcopy(job.config)
        if job.action != "resume":
            fit_intervals(config, None, None, None)
        entries.append((config, job.run_dir, "new" if job.action == "train" else job.action))
    begin = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        failures = train_together(entries)
    share = (time.perf_counter() - begin) / len(todo)
    for index, job in enumerate(todo):
        before = as_seconds(read_timings(job.run_dir).get("train_s")) if job.action == "resume" else None
        job.trained_steps, job.trained_s = job.steps_to_train, share
        job.train_s = (before or 0.0) + share
        write_json(job.run_dir / BENCH_FILE, {"train_s": round(job.train_s, 3)})
        job.trained = True
        if index in failures:
            job.error = str(failures[index])


def finish_job(job: Job, plan: Plan, device: str | None = None) -> str:
    """Evaluate one run once trained (on ``device``; None: the plan's), and say how it went in one line; a skipped
    run says so, and a run that failed (NaN losses, say) is reported in that line and the benchmark goes on."""
    if job.action == "skip":
        return f"skipped {job.label}: finished at step {job.step} and evaluated ({job.run_dir})"
    if job.error is not None:
        return f"{job.label} failed: {job.error}"
    from ganzoo.files import write_json
    from ganzoo.metrics.evaluate import evaluate
    from ganzoo.metrics.report import record_eval
    from ganzoo.sources import load_generator

    real = real_split(job.config, plan.real)
    job.train_s = as_seconds(read_timings(job.run_dir).get("train_s")) or 0.0
    try:
        begin = time.perf_counter()
        gen = load_generator(job.run_dir, device=device or plan.eval_device)
        job.step = int(gen.config.get("steps", job.config.steps))
        results = evaluate(
            gen.sample,
            real,
            plan.metrics,
            plan.n,
            seed=EVAL_SEED,
            features=plan.features,
            data=job.config.data,
            split=SPLIT,
            device=str(next(gen.parameters()).device),
            num_classes=gen.num_classes,
        )
        weights = "ema" if gen.config.get("ema") else "generator"
        record_eval(job.run_dir, results, step=job.step, weights=weights)
        job.results = [
            dict(r.as_dict(), protocol={**r.protocol, "step": job.step, "weights": weights}) for r in results
        ]
        job.eval_s = time.perf_counter() - begin
        write_json(job.run_dir / BENCH_FILE, {"train_s": round(job.train_s, 3), "eval_s": round(job.eval_s, 3)})
    except UsageError:
        raise
    except GanzooError as exc:
        job.error = str(exc)
        return f"{job.label} failed: {exc}"
    figures = ", ".join(f"{k} {fmt(v)}" for r in job.results for k, v in r["values"].items() if not k.endswith("_std"))
    return f"{job.label}: step {job.step}, trained in {job.train_s:.1f}s, evaluated in {job.eval_s:.1f}s: {figures}"


# ------------------------------------------------------------------------------------------------ runners


Done = Callable[[Job, str], None]  # told each run as it is finished: the run and its one line


class Runner(Protocol):
    """Where a benchmark's units are trained and scored. ``start`` connects and checks (before anything is written:
    a bad setting raises ``UsageError``); ``run`` cuts the plan's runs into units (``units``), trains them
    (``train_unit``) and scores each run (``finish_job``), telling ``done`` each run as it finishes; ``close`` lets
    go of what ``start`` took."""

    slots: int  # units it works on at once (the time left is divided by it)
    picture_device: str | None  # where the report's pictures are drawn (None: auto)

    def words(self) -> list[str]: ...

    def start(self, plan: Plan) -> None: ...

    def run(self, plan: Plan, done: Done) -> None: ...

    def close(self) -> None: ...


class LocalRunner:
    """Every unit in this process, one after another, each variant's runs trained together: ``ganzoo bench``'s way."""

    slots = 1

    def __init__(self) -> None:
        self.picture_device: str | None = None

    def words(self) -> list[str]:
        return []

    def start(self, plan: Plan) -> None:
        check_device(plan.device)
        self.picture_device = plan.eval_device

    def run(self, plan: Plan, done: Done) -> None:
        for unit in units(plan.jobs):
            train_unit(unit)
            for job in unit:
                done(job, finish_job(job, plan))

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------------ the benchmark


def bench(
    variants: Sequence[str],
    data: str | None = None,
    *,
    steps: int | None = None,
    seeds: int = 3,
    metrics: Sequence[str] | str | None = None,
    n: int | None = None,
    out: str | os.PathLike = "bench",
    set: Sequence[str] | None = None,
    batch_size: int | None = None,
    features: str | None = None,
    device: str = "auto",
    progress: bool | None = None,
    runner: Runner | None = None,
) -> dict[str, Any]:
    """Train every variant ``seeds`` times on ``data``, evaluate each run, write the report; returns
    ``report.json``'s content.

    Args:
        variants: registered variant names (``ganzoo list variants``).
        data: the data set (default: the variants' own, when they share one).
        steps: generator steps per run (default: each variant's own).
        seeds: runs per variant, with seeds 0..seeds-1.
        metrics: metric names (default: ``ganzoo.metrics.report.default_metrics``).
        n: samples scored per run (default: 2,500 points, or the test split's size for images).
        out: the benchmark folder; runs live in ``OUT/runs/VARIANT-seedS``.
        set: ``KEY=VALUE`` overrides applied to every variant (as ``ganzoo train --set``).
        batch_size, device: as for ``ganzoo train``; features: the extractor for image metrics.
        progress: show a tqdm bar on stderr across the whole benchmark (None: only when stderr is a terminal);
            without it, one line per finished run (variant, seed, times, estimated time left).
        runner: where the runs train (default: ``LocalRunner``, this process; ``ganzoo.bench_ray.RayRunner``:
            Ray tasks).

    Every name, value and metric is checked before anything is trained or written. A run whose
    latest checkpoint is at ``steps`` and whose ``eval.json`` holds these metrics (same ``n``,
    split and seed) is skipped; an unfinished one is resumed.
    """
    started = time.perf_counter()
    plan = plan_bench(
        variants,
        data,
        steps=steps,
        seeds=seeds,
        metrics=metrics,
        n=n,
        out=out,
        set=set,
        batch_size=batch_size,
        features=features,
        device=device,
    )
    runner = runner or LocalRunner()
    runner.start(plan)
    try:
        out = plan.out
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or exc
            raise GanzooError(f"cannot make the benchmark folder {out}: {reason}; choose another --out") from None
        again = "run the same ganzoo bench again (it keeps what is finished)"  # after a full disk
        with folder_lock(out, "benchmark folder", "choose another --out"), writing(hint=again):
            train_all(plan, runner, progress)
            return write_report(plan, time.perf_counter() - started, runner)
    finally:
        runner.close()


def train_all(plan: Plan, runner: Runner, progress: bool | None = None) -> None:
    """Train and evaluate every run of ``plan`` with ``runner``, one line (or a progress bar) per finished run."""
    from tqdm.auto import tqdm

    jobs = plan.jobs
    eta = Eta()
    for job in jobs:  # runs finished (or trained) earlier say what this machine takes per step
        timings = read_timings(job.run_dir) if job.step else {}
        eta.record(job.variant, job.step, as_seconds(timings.get("train_s")) or 0.0, as_seconds(timings.get("eval_s")))
    finished: list[Job] = []

    def left() -> str:
        pending = [j for j in jobs if all(j is not f for f in finished)]
        seconds = eta.remaining([(j.variant, j.steps_to_train, j.action != "skip") for j in pending])
        return "unknown" if seconds is None else tqdm.format_interval(round(seconds / max(1, runner.slots)))

    interactive = progress if progress is not None else _is_terminal(sys.stderr)
    with tqdm(
        total=len(jobs),
        desc="bench",
        unit="run",
        file=sys.stderr,
        disable=not interactive,
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
    ) as bar:

        def done(job: Job, text: str) -> None:
            finished.append(job)
            if job.action != "skip":
                eta.record(job.variant, job.trained_steps, job.trained_s, job.eval_s)
            if interactive:
                bar.write(text, file=sys.stderr)
            else:
                after = f"; ETA {left()}" if len(finished) < len(jobs) else ""
                print(f"bench {len(finished)}/{len(jobs)}: {text}{after}", file=sys.stderr, flush=True)
            bar.update(1)
            if len(finished) < len(jobs):
                bar.set_postfix_str(f"ETA {left()}", refresh=True)

        bar.set_postfix_str(f"ETA {left()}", refresh=True)
        runner.run(plan, done)


def write_report(plan: Plan, wall_s: float, runner: Runner | None = None) -> dict[str, Any]:
    """Build the report of ``plan``'s finished runs and write ``report.json``, ``report.md`` and the pictures in its
    folder; returns ``report.json``'s content."""
    from ganzoo.bench_pictures import draw_pictures
    from ganzoo.files import write_json, write_text

    runner = runner or LocalRunner()
    real = real_split(plan.jobs[0].config, plan.real)
    report = build_report(
        plan.jobs,
        plan.variants,
        plan.data,
        plan.metrics,
        plan.n,
        plan.features,
        plan.command(runner.words()),
        plan.out,
        plan.steps,
        plan.seeds,
        plan.sets,
        plan.batch_size,
        plan.device,
        wall_s,
    )
    draw_pictures(plan.jobs, plan.variants, report, plan.out, real, runner.picture_device)
    write_json(plan.out / "report.json", report)
    write_text(plan.out / "report.md", markdown(report))
    return report


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False
