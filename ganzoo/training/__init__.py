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
from ganzoo.training.config import TrainConfig, fit_intervals, fork_config, parse_sets, resolve_config, set_changes
from ganzoo.training.rundir import read_run_config, read_train_config

__all__ = ["train", "train_seeds", "open_run", "Run", "TrainConfig", "read_run_config", "default_run_dir"]

DEFAULT_VARIANT = "dcgan"  # what `ganzoo train` with no arguments trains (on digits, its default data set)


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
    name = config.data.replace(":", "-").replace("/", "_").strip("-_.")
    variant = config.variant.replace(":", "-")  # a qualified name, DISTRIBUTION:NAME
    return Path("runs") / f"{variant}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    variant: str | None = None,
    *,
    data: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    amp: bool | None = None,
    ema: float | None | str = "variant",
    compile: bool | None = None,
    cuda_graphs: bool | None = None,
    set: dict[str, Any] | list[str] | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    init_from: str | Path | None = None,
    sample_every: int | None = None,
    ckpt_every: int | None = None,
    log_every: int | None = None,
    keep: int | None = None,
    progress: bool | None = None,
) -> Run:
    """Train ``variant`` (default dcgan) and return its Run. Every argument mirrors a ``ganzoo train`` flag.

    ``cuda_graphs``: capture the whole training step in one CUDA graph and replay it (None: on when training on
    CUDA; True on another device is a UsageError).

    ``resume=RUN`` continues RUN from its latest checkpoint: the identity arguments (variant, data, batch_size,
    seed, ema, set) may only repeat RUN's values, ``steps`` and the run settings may change. ``init_from=RUN``
    starts a new run (in ``out``) whose networks start from RUN's latest checkpoint. ``force`` replaces the run
    in ``out``, once the new configuration, data set and networks have been checked.
    """
    from ganzoo.training.loop import Trainer

    ema = None if ema is None or ema == "none" else ema
    settings = _settings(sample_every, ckpt_every, log_every, keep, amp, device, compile, cuda_graphs)
    if resume is not None:
        run_dir = Path(resume)
        if force:
            raise UsageError(f"--force starts a run over while --resume {run_dir} continues it; drop one of the two")
        if init_from is not None:
            raise UsageError(f"--init-from starts a new run while --resume {run_dir} continues one; drop one of the two")
        if out is not None and not _same_folder(Path(out), run_dir):
            raise UsageError(
                f"--out {out} is not the folder being resumed: a resumed run stays in {run_dir}; drop --out, "
                f"or start a new run from its weights with --init-from {run_dir} --out {out}"
            )
        config = Run(run_dir).config
        _refuse_changes(run_dir, config, variant=variant, data=data, batch_size=batch_size, seed=seed, ema=ema,
                        sets=parse_sets(set))
        for key, value in settings.items():
            setattr(config, key, value)
        if steps is not None:
            config.steps = steps
        from ganzoo.training.config import check_config

        check_config(config)
        with writer_lock(run_dir):
            return Run(Trainer(config, run_dir, resume=True, progress=progress).run())

    source = Path(init_from) if init_from is not None else None
    config = _new_config(variant, source, data=data, steps=steps, batch_size=batch_size, seed=seed or 0, ema=ema,
                         sets=set, settings=settings)
    fit_intervals(config, sample_every, ckpt_every, log_every)
    run_dir = Path(out) if out is not None else default_run_dir(config)
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--out {run_dir} exists and is not a folder")
    with writer_lock(run_dir):  # before anything is checked in it, replaced or written
        _claim_run_dir(run_dir, config, force)
        return Run(Trainer(config, run_dir, resume=False, progress=progress, init_from=source, replace=force).run())


def train_seeds(
    variant: str | None = None,
    *,
    seeds: int,
    data: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    amp: bool | None = None,
    ema: float | None | str = "variant",
    compile: bool | None = None,
    cuda_graphs: bool | None = None,
    set: dict[str, Any] | list[str] | None = None,
    force: bool = False,
    sample_every: int | None = None,
    ckpt_every: int | None = None,
    log_every: int | None = None,
    keep: int | None = None,
    progress: bool | None = None,
) -> list[Run]:
    """Train ``seeds`` runs of one configuration, seeds ``seed`` .. ``seed + seeds - 1``, in this one process:
    stacked into one batched step where the recipe allows (each run the run ``train`` would give alone, up to float
    order), else taking turns step by step (on a GPU, side by side: one CUDA graph and stream per run; on the CPU bit
    for bit the run alone); ``ganzoo.training.seeds.stacking`` chooses. Each run gets its own folder, ``OUT/seedN``,
    and resumes on its own with ``train(resume=OUT/seedN)``. The other arguments are ``train``'s.
    """
    from ganzoo.training.loop import Trainer
    from ganzoo.training.seeds import MAX_RUNS, Group

    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_RUNS:
        raise UsageError(f"--seeds must be an integer from 1 to {MAX_RUNS} (runs trained together), got {seeds!r}")
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise UsageError("--seeds trains its runs in one process; launch it without torchrun")
    ema = None if ema is None or ema == "none" else ema
    settings = _settings(sample_every, ckpt_every, log_every, keep, amp, device, compile, cuda_graphs)
    first = seed or 0
    configs = []
    for number in range(first, first + seeds):
        config = _new_config(variant, None, data=data, steps=steps, batch_size=batch_size, seed=number, ema=ema,
                             sets=set, settings=settings)
        fit_intervals(config, sample_every, ckpt_every, log_every)
        configs.append(config)
    root = Path(out) if out is not None else default_run_dir(configs[0])
    if root.exists() and not root.is_dir():
        raise UsageError(f"--out {root} exists and is not a folder")
    folders = [root / f"seed{config.seed}" for config in configs]
    with ExitStack() as locks:
        for folder, config in zip(folders, configs):
            locks.enter_context(writer_lock(folder))
            _claim_run_dir(folder, config, force)
        trainers = [Trainer(config, folder, progress=progress if i == 0 else False, replace=force)
                    for i, (config, folder) in enumerate(zip(configs, folders))]
        done = Group(trainers, labels=[f"seed {config.seed}" for config in configs]).run()
    return [Run(folder) for folder in done]


def writer_lock(run_dir: Path) -> AbstractContextManager[Any]:
    """The run folder's lock, which one training process holds while it writes (with torchrun: rank 0's process)."""
    if int(os.environ.get("RANK", "0") or 0) != 0:
        return nullcontext()
    return folder_lock(run_dir, "run folder", "choose another --out")


def _settings(sample_every: int | None, ckpt_every: int | None, log_every: int | None, keep: int | None,
              amp: bool | None, device: str | None, compile: bool | None, cuda_graphs: bool | None) -> dict[str, Any]:
    """The run settings given (a resumed run, too, gets device, compile and cuda_graphs afresh)."""
    settings = {
        k: v
        for k, v in dict(sample_every=sample_every, ckpt_every=ckpt_every, log_every=log_every, keep=keep, amp=amp).items()
        if v is not None
    }
    settings.update(device=device or "auto", compile=bool(compile), cuda_graphs=cuda_graphs)
    return settings


def _new_config(variant: str | None, source: Path | None, *, data: str | None, steps: int | None,
                batch_size: int | None, seed: int, ema: Any, sets: Any, settings: dict[str, Any]) -> TrainConfig:
    """A new run's configuration: the variant's with the arguments given, or with ``source``, the configuration of
    the run whose weights it starts from."""
    if source is not None:
        parent = Run(source).config
        _require_checkpoint(source)
        return fork_config(parent, variant, data=data, steps=steps, batch_size=batch_size, seed=seed, ema=ema,
                           overrides=parse_sets(sets), **settings)
    return resolve_config(variant or DEFAULT_VARIANT, data=data, steps=steps, batch_size=batch_size, seed=seed, ema=ema,
                          overrides=parse_sets(sets), **settings)


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _refuse_changes(run_dir: Path, stored: TrainConfig, *, variant: str | None, data: str | None, batch_size: int | None,
                    seed: int | None, ema: Any, sets: dict[str, Any]) -> None:
    """A UsageError naming the first given value that differs from the run's own (equal values are fine)."""

    def refuse(flag: str, key: str, old: Any, new: Any, drop: str) -> UsageError:
        return UsageError(
            f"{flag} would change the run {run_dir} ({key} is {old!r} there, {new!r} given); --resume continues a run "
            f"as it was configured: drop {drop}, or start a new run from its weights with --init-from {run_dir} --out NEW"
        )

    given = [
        ("variant", variant, f"variant {variant}", "the variant"),
        ("data", data, f"--data {data}", "--data"),
        ("batch_size", batch_size, f"--batch-size {batch_size}", "--batch-size"),
        ("seed", seed, f"--seed {seed}", "--seed"),
        ("ema", ema, f"--ema {'none' if ema is None else ema}", "--ema"),
    ]
    for key, value, flag, drop in given:
        unset = value == "variant" if key == "ema" else value is None
        if not unset and value != getattr(stored, key):
            raise refuse(flag, key, getattr(stored, key), value, drop)
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
    from ganzoo.training.rundir import config_difference

    try:
        difference = config_difference(run_dir, config)
    except GanzooError:
        difference = None
    if difference is not None:
        key, there, here = difference
        raise UsageError(
            f"--out {run_dir} holds a run with a different configuration ({key}: {there!r} there, "
            f"{here!r} here); use --resume {run_dir} to continue it, or --force to start over"
        )
    raise UsageError(f"--out {run_dir} already holds a run; use --resume {run_dir} to continue it, or --force to start over")


