"""The one trainer: ``ganzoo.train(...)`` and the run folders it writes."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, UsageError
from ganzoo.training.config import TrainConfig, parse_sets, resolve_config

__all__ = ["train", "Run", "TrainConfig", "read_run_config", "default_run_dir"]


@dataclass
class Run:
    """A run folder: its configuration, checkpoints, samples and metrics log."""

    path: Path

    @property
    def config(self) -> TrainConfig:
        return TrainConfig.from_dict(read_run_config(self.path)["config"])

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
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def generator(self, device: str | None = None, ema: bool = True):
        """The latest checkpoint's generator (its EMA weights when there are some), in eval mode."""
        from ganzoo.hub import load_generator

        return load_generator(self.path, device=device, ema=ema)


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run folder, or a clear error."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise GanzooError(f"{run_dir} is not a ganzoo run folder (no config.json)")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise GanzooError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "config" not in data:
        raise GanzooError(f"{path} is not a ganzoo run configuration")
    return data


def default_run_dir(config: TrainConfig) -> Path:
    name = config.data.replace(":", "-").replace("/", "_").strip("-_.")
    return Path("runs") / f"{config.variant}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    variant: str = "dcgan",
    *,
    data: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    amp: bool | None = None,
    ema: float | None | str = "variant",
    compile: bool = False,
    set: dict[str, Any] | list[str] | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    sample_every: int | None = None,
    ckpt_every: int | None = None,
    log_every: int | None = None,
    keep: int | None = None,
    progress: bool | None = None,
) -> Run:
    """Train ``variant`` and return its Run. Every argument mirrors a ``ganzoo train`` flag."""
    from ganzoo.training.loop import Trainer

    settings = {
        k: v
        for k, v in dict(
            sample_every=sample_every, ckpt_every=ckpt_every, log_every=log_every, keep=keep, device=device, compile=compile, amp=amp
        ).items()
        if v is not None
    }
    if resume is not None:
        run_dir = Path(resume)
        stored = TrainConfig.from_dict(read_run_config(run_dir)["config"])
        given_identity = {"data": data, "batch_size": batch_size, "set": set}
        clash = [k for k, v in given_identity.items() if v]
        if clash:
            raise UsageError(f"--resume continues the run's own configuration; drop --{clash[0].replace('_', '-')}")
        config = stored
        for key, value in settings.items():
            setattr(config, key, value)
        if steps is not None:
            config.steps = steps
        from ganzoo.training.config import check_config

        check_config(config)
        return Run(Trainer(config, run_dir, resume=True, progress=progress).run())

    config = resolve_config(
        variant,
        data=data,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        ema=ema if ema != "none" else None,
        overrides=parse_sets(set),
        **settings,
    )
    _fit_intervals(config, sample_every, ckpt_every, log_every)
    run_dir = Path(out) if out is not None else default_run_dir(config)
    _claim_run_dir(run_dir, config, force)
    return Run(Trainer(config, run_dir, resume=False, progress=progress).run())


def _fit_intervals(config: TrainConfig, sample_every: Any, ckpt_every: Any, log_every: Any) -> None:
    """Intervals the user left alone shrink to fit short runs (a 100-step run still logs and samples)."""
    if log_every is None:
        config.log_every = max(1, min(config.log_every, config.steps // 10 or 1))
    if sample_every is None:
        config.sample_every = max(1, min(config.sample_every, config.steps))
    if ckpt_every is None:
        config.ckpt_every = max(1, min(config.ckpt_every, config.steps))


def _claim_run_dir(run_dir: Path, config: TrainConfig, force: bool) -> None:
    """Refuse to train over an existing run unless ``force``; with ``force``, clear what the old run wrote."""
    if not (run_dir / "config.json").exists():
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"--out {run_dir} exists and is not a folder")
        return
    if not force:
        try:
            old = TrainConfig.from_dict(read_run_config(run_dir)["config"]).identity()
        except GanzooError:
            old = None
        new = config.identity()
        if old is not None and not new["latent_dim"]:  # the architecture's default, resolved once the data is loaded
            new["latent_dim"] = old["latent_dim"]
        if old is not None and old != new:
            diff = next(k for k in new if old.get(k) != new[k])
            raise UsageError(
                f"--out {run_dir} holds a run with a different configuration ({diff}: {old.get(diff)!r} there, "
                f"{new[diff]!r} here); use --resume {run_dir} to continue it, or --force to start over"
            )
        raise UsageError(f"--out {run_dir} already holds a run; use --resume {run_dir} to continue it, or --force to start over")
    for name in ("checkpoints", "samples", "tensorboard"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    for name in ("metrics.jsonl", "config.json", "eval.json"):
        (run_dir / name).unlink(missing_ok=True)


