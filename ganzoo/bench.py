"""Benchmarks: train variants x seeds on one data set, evaluate every run, and write a report with pictures.

``bench(["gan", "wgan-gp"], data="ring", seeds=3)`` trains each variant once per seed
(0..K-1) into ``OUT/runs/VARIANT-seedS``, scores each run on the test split with
``ganzoo.metrics.evaluate`` (results stored in the run's ``eval.json``) and writes
``OUT/report.md``, ``OUT/report.json``, ``OUT/samples.png``, ``OUT/metrics.png`` and
``OUT/losses.png``. Running it again with the same ``out`` skips finished runs.
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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

__all__ = ["bench", "machine", "markdown", "RUNS", "EVAL_SEED"]


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


def _command(variants: Sequence[str], data: str, steps: int | None, seeds: int, metrics: list[str] | None, n: int | None,
             out: Path, sets: list[str], batch_size: int | None, features: str | None, device: str) -> str:
    """The ``ganzoo bench`` command line that makes this benchmark."""
    words = ["ganzoo", "bench", *variants, "--data", data]
    if steps is not None:
        words += ["--steps", str(steps)]
    words += ["--seeds", str(seeds)]
    if metrics:
        words += ["--metrics", ",".join(metrics)]
    if n is not None:
        words += ["--n", str(n)]
    if batch_size is not None:
        words += ["--batch-size", str(batch_size)]
    for pair in sets:
        words += ["--set", pair]
    if features:
        words += ["--features", features]
    if device not in ("", "auto"):
        words += ["--device", device]
    words += ["--out", str(out)]
    return shlex.join(words)


def _check_device(device: str) -> Any:
    from ganzoo.training.devices import pick_device
    from ganzoo.training.distributed import World

    return pick_device(device, World())


def _plan(job: Job, metrics: list[str], n: int, features: str | None) -> None:
    """Decide what ``job`` needs (train, resume, restart, evaluate, skip), or raise when its folder holds another run."""
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
    elif step > job.config.steps:
        raise UsageError(
            f"{job.run_dir} is already at step {step}, beyond --steps {job.config.steps}; use another --out, or raise --steps"
        )
    elif step < job.config.steps:
        job.action = "resume"
    elif all(
        stored_result(job.run_dir, m, n=n, split=SPLIT, seed=EVAL_SEED, step=step, features=features) for m in metrics
    ):
        job.action = "skip"
        job.results = [
            stored_result(job.run_dir, m, n=n, split=SPLIT, seed=EVAL_SEED, step=step, features=features) for m in metrics
        ]
    else:
        job.action = "evaluate"


def _real_split(config: TrainConfig, cache: dict[str, Samples]) -> Samples:
    from ganzoo.training.loop import load_data

    key = json.dumps([config.data, config.data_options], sort_keys=True, default=str)
    if key not in cache:
        cache[key] = load_data(config, SPLIT)
    return cache[key]


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
) -> dict[str, Any]:
    """Train every variant ``seeds`` times on ``data``, evaluate each run, write the report; returns ``report.json``'s content.

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

    Every name, value and metric is checked before anything is trained or written. A run whose
    latest checkpoint is at ``steps`` and whose ``eval.json`` holds these metrics (same ``n``,
    split and seed) is skipped; an unfinished one is resumed.
    """
    from tqdm.auto import tqdm

    from ganzoo.metrics.report import check_metrics, default_metrics, default_n, parse_metrics
    from ganzoo.plugins import registry
    from ganzoo.training import TrainRequest
    from ganzoo.training.config import latent_dim_for

    started = time.perf_counter()
    names = list(dict.fromkeys(v.strip() for v in ([variants] if isinstance(variants, str) else variants) if v and v.strip()))
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
    _check_device(device)
    out = Path(out)
    check_output_folder(out, "the benchmark folder (--out)")

    configs = {name: dataclasses.replace(request, variant=name).resolve(seed=0) for name in names}
    cache: dict[str, Samples] = {}
    first_real = _real_split(configs[names[0]], cache)
    metric_names = parse_metrics(metrics) or default_metrics(first_real, data, features)
    n_scored = n if n is not None else default_n(first_real)
    for name in names:
        real = _real_split(configs[name], cache)
        latent_dim_for(configs[name], real.sample_shape)  # the architecture can make this data, or a UsageError
        classes = (real.num_classes or 0) if configs[name].conditional else 0
        check_metrics(real, metric_names, n_scored, data=data, split=SPLIT, features=features, num_classes=classes)

    jobs = []
    for name in names:
        for seed in range(seeds):
            config = dataclasses.replace(request, variant=name).resolve(seed=seed)
            job = Job(name, seed, config, out / RUNS / f"{name}-seed{seed}")
            _plan(job, metric_names, n_scored, features)
            jobs.append(job)

    command = _command(names, data, steps, seeds, parse_metrics(metrics) or None, n, out, sets, batch_size, features, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise GanzooError(f"cannot make the benchmark folder {out}: {reason}; choose another --out") from None
    again = "run the same ganzoo bench again (it keeps what is finished)"  # after a full disk
    with folder_lock(out, "benchmark folder", "choose another --out"), writing(hint=again):
        eval_device = None if device in ("", "auto") else device
        eta = Eta()
        for job in jobs:  # runs finished (or trained) earlier say what this machine takes per step
            timings = read_timings(job.run_dir) if job.step else {}
            eta.record(job.variant, job.step, as_seconds(timings.get("train_s")) or 0.0, as_seconds(timings.get("eval_s")))

        def left(pending: list[Job]) -> str:
            seconds = eta.remaining([(j.variant, j.steps_to_train, j.action != "skip") for j in pending])
            return "unknown" if seconds is None else tqdm.format_interval(round(seconds))

        interactive = progress if progress is not None else _is_terminal(sys.stderr)
        with tqdm(total=len(jobs), desc="bench", unit="run", file=sys.stderr, disable=not interactive, dynamic_ncols=True,
                  bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]") as bar:
            together: list[str] = []  # variants whose runs were trained together already
            for done, job in enumerate(jobs, 1):
                bar.set_postfix_str(f"{job.label}, ETA {left(jobs[done - 1:])}", refresh=True)
                if job.action in TRAINING and job.variant not in together:
                    together.append(job.variant)
                    _train_variant([j for j in jobs if j.variant == job.variant and j.action in TRAINING])
                if job.action == "skip":
                    text = f"skipped {job.label}: finished at step {job.step} and evaluated ({job.run_dir})"
                else:
                    text = _do(job, _real_split(job.config, cache), metric_names, n_scored, features, eval_device)
                    eta.record(job.variant, job.trained_steps, job.trained_s, job.eval_s)
                if interactive:
                    bar.write(text, file=sys.stderr)
                else:
                    after = f"; ETA {left(jobs[done:])}" if done < len(jobs) else ""
                    print(f"bench {done}/{len(jobs)}: {text}{after}", file=sys.stderr, flush=True)
                bar.update(1)

        report = build_report(jobs, names, data, metric_names, n_scored, features, command, out, steps, seeds, sets, batch_size,
                         device, time.perf_counter() - started)
        from ganzoo.bench_pictures import draw_pictures

        draw_pictures(jobs, names, report, out, _real_split(configs[names[0]], cache), eval_device)
        from ganzoo.files import write_json, write_text

        write_json(out / "report.json", report)
        write_text(out / "report.md", markdown(report))
        return report


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


TRAINING = ("train", "restart", "resume")


def _train_variant(jobs: list[Job]) -> None:
    """Train (or resume) one variant's runs together in this process (side by side on a GPU); each run's time is
    its share of the wall time; a run that fails keeps its error and the others go on."""
    import copy

    from ganzoo.files import write_json
    from ganzoo.training.config import fit_intervals
    from ganzoo.training.seeds import train_together

    entries = []
    for job in jobs:
        config = copy.deepcopy(job.config)
        if job.action != "resume":
            fit_intervals(config, None, None, None)
        entries.append((config, job.run_dir, "new" if job.action == "train" else job.action))
    begin = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        failures = train_together(entries)
    share = (time.perf_counter() - begin) / len(jobs)
    for index, job in enumerate(jobs):
        before = as_seconds(read_timings(job.run_dir).get("train_s")) if job.action == "resume" else None
        job.trained_steps, job.trained_s = job.steps_to_train, share
        job.train_s = (before or 0.0) + share
        write_json(job.run_dir / BENCH_FILE, {"train_s": round(job.train_s, 3)})
        job.trained = True
        if index in failures:
            job.error = str(failures[index])


def _do(job: Job, real: Samples, metrics: list[str], n: int, features: str | None, eval_device: str | None) -> str:
    """Evaluate one run (trained by ``_train_variant``), and say how it went; a run that failed (NaN losses, say) is
    reported in that line and the benchmark goes on."""
    if job.error is not None:
        return f"{job.label} failed: {job.error}"
    from ganzoo.files import write_json
    from ganzoo.metrics.evaluate import evaluate
    from ganzoo.metrics.report import record_eval
    from ganzoo.sources import load_generator

    job.train_s = as_seconds(read_timings(job.run_dir).get("train_s")) or 0.0
    try:
        begin = time.perf_counter()
        gen = load_generator(job.run_dir, device=eval_device)
        job.step = int(gen.config.get("steps", job.config.steps))
        results = evaluate(gen.sample, real, metrics, n, seed=EVAL_SEED, features=features, data=job.config.data,
                           split=SPLIT, device=str(next(gen.parameters()).device), num_classes=gen.num_classes)
        weights = "ema" if gen.config.get("ema") else "generator"
        record_eval(job.run_dir, results, step=job.step, weights=weights)
        job.results = [dict(r.as_dict(), protocol={**r.protocol, "step": job.step, "weights": weights}) for r in results]
        job.eval_s = time.perf_counter() - begin
        write_json(job.run_dir / BENCH_FILE, {"train_s": round(job.train_s, 3), "eval_s": round(job.eval_s, 3)})
    except UsageError:
        raise
    except GanzooError as exc:
        job.error = str(exc)
        return f"{job.label} failed: {exc}"
    figures = ", ".join(f"{k} {fmt(v)}" for r in job.results for k, v in r["values"].items() if not k.endswith("_std"))
    return f"{job.label}: step {job.step}, trained in {job.train_s:.1f}s, evaluated in {job.eval_s:.1f}s: {figures}"
