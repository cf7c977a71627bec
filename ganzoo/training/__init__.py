"""The one trainer: ``ganzoo.train(...)`` and the run folders it writes."""

from __future__ import annotations

import json
import os
import time
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, UsageError
from ganzoo.lock import folder_lock
from ganzoo.training.config import (
    TrainConfig,
    check_config,
    fit_intervals,
    fork_config,
    parse_sets,
    resolve_config,
    run_settings,
    set_changes,
)
from ganzoo.training.rundir import read_run_config, read_train_config, refuse_other_run
from ganzoo.values import folder_word, is_int

__all__ = [
    "train",
    "train_seeds",
    "TrainRequest",
    "open_run",
    "Run",
    "TrainConfig",
    "read_run_config",
    "default_run_dir",
]

DEFAULT_VARIANT = "dcgan"  # what `ganzoo train` with no arguments trains (on mnist-5k, its default data set)
# the default run's settings beside the dcgan recipe, when neither a variant nor a data set is named: at its 1,200
# steps the paper's learning rate (2e-4) leaves the generator at FID 5.1-5.6 on mnist-5k, 1.5e-3 at
# FID 1.0-1.3 (docs/benchmarks.md, "the default run's learning rate"); --set lr=... still wins
DEFAULT_RUN_SETS = {"lr": "1.5e-3"}


@dataclass
class Run:
    """A run folder: its configuration, checkpoints, samples and metrics log."""

    path: Path

    @property
    def config(self) -> TrainConfig:
        """The run's training configuration, checked (a GanzooError naming the key when config.json is damaged)."""
        return read_train_config(self.path)

    @property
    def info(self) -> dict[str, Any]:
        return read_run_config(self.path)

    @property
    def latest_samples(self) -> Path:
        return self.path / "samples" / "latest.png"

    def metrics(self) -> list[dict[str, Any]]:
        log = self.path / "metrics.jsonl"
        if not log.exists():
            return []
        rows = []
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except ValueError:  # a line torn by a kill mid-write: resuming drops it, reading skips it
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def generator(self, device: str | None = None, ema: bool = True):
        """The latest checkpoint's generator (its EMA weights when there are some), in eval mode."""
        from ganzoo.loading import load_local

        return load_local(self.path, device=device, ema=ema)


def open_run(path: str | os.PathLike) -> Run:
    """An existing run folder, after checking its config.json; one GanzooError saying why it is no run otherwise."""
    read_run_config(path)
    return Run(Path(path))


def default_run_dir(config: TrainConfig) -> Path:
    name = folder_word(config.data)
    variant = config.variant.replace(":", "-")  # a qualified name, DISTRIBUTION:NAME
    return Path("runs") / f"{variant}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"


@dataclass
class TrainRequest:
    """What one ``ganzoo train`` asks for: the variant, its flags and ``--set`` overrides, and where the run goes.

    ``train``, ``train_seeds``, the CLI and ``bench`` build one and pass it on; ``resolve`` turns it into a
    TrainConfig. Every field mirrors a ``ganzoo train`` flag (``set`` is the ``--set KEY=VALUE`` list or a dict;
    ``ema`` "variant" keeps the variant's decay, None or "none" trains without EMA; ``cuda_graphs`` None: on when
    training on CUDA, True elsewhere a UsageError; ``progress`` None: a bar only on a terminal).
    """

    variant: str | None = None
    data: str | None = None
    steps: int | None = None
    batch_size: int | None = None
    out: str | os.PathLike | None = None
    seed: int | None = None
    seeds: int | None = None
    device: str | None = None
    amp: bool | None = None
    ema: float | None | str = "variant"
    compile: bool | None = None
    cuda_graphs: bool | None = None
    set: dict[str, Any] | list[str] | tuple[str, ...] | None = None
    resume: str | os.PathLike | None = None
    force: bool = False
    init_from: str | os.PathLike | None = None
    sample_every: int | None = None
    ckpt_every: int | None = None
    log_every: int | None = None
    keep: int | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.ema is None or self.ema == "none":
            self.ema = None

    @property
    def overrides(self) -> dict[str, Any]:
        """The ``--set`` overrides as a dict (``["lr=1e-4"]`` -> ``{"lr": "1e-4"}``)."""
        return parse_sets(self.set)

    def run_settings(self) -> dict[str, Any]:
        """The run settings given (a resumed run, too, gets device, compile and cuda_graphs afresh)."""
        given = {name: getattr(self, name) for name in run_settings() if name != "steps"}  # steps: see resolve
        settings = {k: v for k, v in given.items() if v is not None}
        settings.update(device=self.device or "auto", compile=bool(self.compile), cuda_graphs=self.cuda_graphs)
        return settings

    def resolve(self, seed: int | None = None) -> TrainConfig:
        """A new run's configuration (with ``seed`` instead of the request's): the variant's with the flags given,
        or, with ``init_from``, the configuration of the run whose weights it starts from."""
        seed = (self.seed or 0) if seed is None else seed
        overrides = self.overrides
        if self.variant is None and self.data is None and self.init_from is None:
            overrides = {**DEFAULT_RUN_SETS, **overrides}
        common = dict(
            data=self.data,
            steps=self.steps,
            batch_size=self.batch_size,
            seed=seed,
            ema=self.ema,
            overrides=overrides,
            **self.run_settings(),
        )
        if self.init_from is not None:
            source = Path(self.init_from)
            parent = Run(source).config
            _require_checkpoint(source)
            return fork_config(parent, self.variant, **common)
        return resolve_config(self.variant or DEFAULT_VARIANT, **common)

    def new_config(self, seed: int | None = None) -> TrainConfig:
        """``resolve``, with the intervals the request leaves alone shrunk to fit a short run."""
        config = self.resolve(seed)
        fit_intervals(config, self.sample_every, self.ckpt_every, self.log_every)
        return config


def train(variant: str | TrainRequest | None = None, **options: Any) -> Run:
    """Train ``variant`` (default dcgan; with no variant and no ``data``, with ``DEFAULT_RUN_SETS`` too) and return
    its Run; ``train(TrainRequest(...))`` or the request's fields as keywords (``data``, ``steps``,
    ``batch_size``, ``out``, ``seed``, ``device``, ``amp``, ``ema``, ``compile``, ``cuda_graphs``, ``set``,
    ``resume``, ``force``, ``init_from``, ``sample_every``, ``ckpt_every``, ``log_every``, ``keep``,
    ``progress``), each mirroring a ``ganzoo train`` flag.

    ``resume=RUN`` continues RUN from its latest checkpoint: the identity arguments (variant, data, batch_size,
    seed, ema, set) may only repeat RUN's values, ``steps`` and the run settings may change. ``init_from=RUN``
    starts a new run (in ``out``) whose networks start from RUN's latest checkpoint. ``force`` replaces the run
    in ``out``, once the new configuration, data set and networks have been checked.
    """
    from ganzoo.training.loop import Trainer

    request = _request(variant, options)
    if request.seeds is not None:
        raise UsageError("train() trains one run; train_seeds() trains --seeds runs")
    if request.resume is not None:
        run_dir = Path(request.resume)
        if request.force:
            raise UsageError(f"--force starts a run over while --resume {run_dir} continues it; drop one of the two")
        if request.init_from is not None:
            raise UsageError(
                f"--init-from starts a new run while --resume {run_dir} continues one; drop one of the two"
            )
        if request.out is not None and not _same_folder(Path(request.out), run_dir):
            raise UsageError(
                f"--out {request.out} is not the folder being resumed: a resumed run stays in {run_dir}; drop --out, "
                f"or start a new run from its weights with --init-from {run_dir} --out {request.out}"
            )
        config = Run(run_dir).config
        _refuse_changes(run_dir, config, request)
        for key, value in request.run_settings().items():
            setattr(config, key, value)
        if request.steps is not None:
            config.steps = request.steps
        check_config(config)
        with writer_lock(run_dir):
            return Run(Trainer(config, run_dir, resume=True, progress=request.progress).run())

    config = request.new_config()
    run_dir = Path(request.out) if request.out is not None else default_run_dir(config)
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--out {run_dir} exists and is not a folder")
    source = Path(request.init_from) if request.init_from is not None else None
    with writer_lock(run_dir):  # before anything is checked in it, replaced or written
        _claim_run_dir(run_dir, config, request.force)
        trainer = Trainer(
            config, run_dir, resume=False, progress=request.progress, init_from=source, replace=request.force
        )
        return Run(trainer.run())


def train_seeds(variant: str | TrainRequest | None = None, **options: Any) -> list[Run]:
    """Train ``seeds`` runs of one configuration, seeds ``seed`` .. ``seed + seeds - 1``, in this one process:
    stacked into one batched step where the recipe allows (each run the run ``train`` would give alone, up to float
    order), else taking turns step by step (on a GPU, side by side: one CUDA graph and stream per run; on the CPU bit
    for bit the run alone); ``ganzoo.training.seeds.stacking`` chooses. Each run gets its own folder, ``OUT/seedN``,
    and resumes on its own with ``train(resume=OUT/seedN)``. The other arguments are ``train``'s.
    """
    from ganzoo.training.loop import Trainer
    from ganzoo.training.seeds import MAX_RUNS, Group

    request = _request(variant, options)
    seeds = request.seeds
    if not is_int(seeds) or not 1 <= seeds <= MAX_RUNS:
        raise UsageError(f"--seeds must be an integer from 1 to {MAX_RUNS} (runs trained together), got {seeds!r}")
    if request.resume is not None or request.init_from is not None:
        raise UsageError("--seeds starts new runs from scratch; drop --resume and --init-from, or --seeds")
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise UsageError("--seeds trains its runs in one process; launch it without torchrun")
    first = request.seed or 0
    configs = [request.new_config(number) for number in range(first, first + seeds)]
    root = Path(request.out) if request.out is not None else default_run_dir(configs[0])
    if root.exists() and not root.is_dir():
        raise UsageError(f"--out {root} exists and is not a folder")
    folders = [root / f"seed{config.seed}" for config in configs]
    with ExitStack() as locks:
        for folder, config in zip(folders, configs):
            locks.enter_context(writer_lock(folder))
            _claim_run_dir(folder, config, request.force)
        trainers = [
            Trainer(config, folder, progress=request.progress if i == 0 else False, replace=request.force)
            for i, (config, folder) in enumerate(zip(configs, folders))
        ]
        done = Group(trainers, labels=[f"seed {config.seed}" for config in configs]).run()
    return [Run(folder) for folder in done]


def _request(variant: str | TrainRequest | None, options: dict[str, Any]) -> TrainRequest:
    """``train``'s arguments as one TrainRequest (an unknown keyword is a TypeError, as for any function)."""
    if isinstance(variant, TrainRequest):
        if options:
            raise TypeError(f"train() takes a TrainRequest or keywords, not both (got {', '.join(options)})")
        return variant
    return TrainRequest(variant, **options)


def writer_lock(run_dir: Path) -> AbstractContextManager[Any]:
    """The run folder's lock, which one training process holds while it writes (with torchrun: rank 0's process)."""
    if int(os.environ.get("RANK", "0") or 0) != 0:
        return nullcontext()
    return folder_lock(run_dir, "run folder", "choose another --out")


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _refuse_changes(run_dir: Path, stored: TrainConfig, request: TrainRequest) -> None:
    """A UsageError naming the first given value that differs from the run's own (equal values are fine)."""

    def refuse(flag: str, key: str, old: Any, new: Any, drop: str) -> UsageError:
        return UsageError(
            f"{flag} would change the run {run_dir} ({key} is {old!r} there, {new!r} given); --resume continues a run "
            f"as it was configured: drop {drop}, or start a new run from its weights "
            f"with --init-from {run_dir} --out NEW"
        )

    ema = request.ema
    given = [
        ("variant", request.variant, f"variant {request.variant}", "the variant"),
        ("data", request.data, f"--data {request.data}", "--data"),
        ("batch_size", request.batch_size, f"--batch-size {request.batch_size}", "--batch-size"),
        ("seed", request.seed, f"--seed {request.seed}", "--seed"),
        ("ema", ema, f"--ema {'none' if ema is None else ema}", "--ema"),
    ]
    for key, value, flag, drop in given:
        unset = value == "variant" if key == "ema" else value is None
        if not unset and value != getattr(stored, key):
            raise refuse(flag, key, getattr(stored, key), value, drop)
    sets = request.overrides
    for set_key, key, old, new in set_changes(stored, sets):
        flag = f"--set {set_key}={sets[set_key]}"
        raise refuse(flag, key, old, new, flag)


def _require_checkpoint(source: Path) -> None:
    from ganzoo.training.checkpoint import list_checkpoints

    if not list_checkpoints(source):
        raise GanzooError(
            f"--init-from {source}: the run has no checkpoint yet, so there are no weights to start from; "
            f"train it (or resume it) until it writes one"
        )


def _claim_run_dir(run_dir: Path, config: TrainConfig, force: bool) -> None:
    """Refuse to train over an existing run unless ``force``; with ``force`` the Trainer replaces it, but only
    once the new run is ready to write (nothing is cleared here)."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--out {run_dir} exists and is not a folder")
    if force or not os.path.lexists(run_dir / "config.json"):
        return
    from ganzoo.training.checkpoint import list_checkpoints

    if not list_checkpoints(run_dir):
        raise UsageError(
            f"--out {run_dir} holds a run that stopped before its first checkpoint, so it cannot be resumed; "
            f"add --force to start it over"
        )
    advice = f"use --resume {run_dir} to continue it, or --force to start over"
    refuse_other_run(run_dir, config, advice, label=f"--out {run_dir}", here="here")
    raise UsageError(
        f"--out {run_dir} already holds a run; use --resume {run_dir} to continue it, or --force to start over"
    )
