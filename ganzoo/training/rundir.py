"""Run folders on disk: reading and checking their config.json, and replacing an old run only once a new one is
ready."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import read_limited
from ganzoo.limits import MAX_CLASSES
from ganzoo.records import Field, boolean, check_record, choice, integer, sample_shape_problem, string, string_map
from ganzoo.training.config import RunConfigError, TrainConfig
from ganzoo.values import is_int

CONFIG_FILE = "config.json"
CONFIG_LIMIT = 1 << 20  # a run's config.json holds a few dozen settings: kilobytes
# What a run writes into its folder; --force sets these aside (and nothing else the folder holds).
RUN_OUTPUTS = ("checkpoints", "samples", "tensorboard", "metrics.jsonl", "config.json", "eval.json")


def read_train_config(run_dir: str | os.PathLike) -> TrainConfig:
    """A run folder's training configuration, checked (a GanzooError naming the key when config.json is damaged)."""
    return TrainConfig.from_dict(read_run_config(run_dir)["config"], str(Path(run_dir) / "config.json"), "config.")


def read_run_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The parsed and checked ``config.json`` of a run folder, or one GanzooError naming the file and the key.

    The file is read bounded (a regular file of at most 1 MiB: a link to a device or a FIFO is refused),
    and every key is checked, so callers may index what it holds.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not Path(run_dir).is_dir() or not os.path.lexists(path):
        raise GanzooError(f"{run_dir} is not a ganzoo run folder (no {CONFIG_FILE})")
    raw = read_limited(path, CONFIG_LIMIT, str(path))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        problem = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "is not valid JSON"
        raise RunConfigError(f"{path} {problem}; the file was damaged (restore it, or start the run over)") from None
    check_run_info(data, str(path))
    return data


def config_difference(run_dir: str | os.PathLike, config: TrainConfig) -> tuple[str, Any, Any] | None:
    """The first setting in which the run in ``run_dir`` differs from ``config``: (key, its value there, here), or
    None when they would train the same run. An unreadable run config raises its one-line error."""
    old = TrainConfig.from_dict(read_run_config(run_dir)["config"]).identity()
    new = config.identity()
    if not new["latent_dim"]:  # the architecture's default, resolved once the data is loaded
        new["latent_dim"] = old["latent_dim"]
    key = next((k for k in new if old.get(k) != new[k]), None)
    return None if key is None else (key, old.get(key), new[key])


def refuse_other_run(
    run_dir: str | os.PathLike, config: TrainConfig, advice: str, *, label: str | None = None, here: str = "now"
) -> None:
    """A UsageError when ``run_dir`` holds a run that another configuration trained (or one that cannot be read):
    one line naming the first setting that differs, its value there and ``here``, then ``advice``.
    ``label`` names the folder in that line (the folder itself when None)."""
    label = str(run_dir) if label is None else label
    try:
        difference = config_difference(run_dir, config)
    except GanzooError as exc:
        raise UsageError(f"{label} holds an unreadable run ({exc}); {advice}") from None
    if difference is not None:
        key, there, value = difference
        raise UsageError(
            f"{label} was trained with other settings ({key}: {there!r} there, {value!r} {here}); {advice}"
        )


def _bad(where: str, key: str, problem: str) -> RunConfigError:
    return RunConfigError(
        f"{where}: {key!r} {problem}; the file was altered or damaged (restore it, or start the run over)"
    )


def _init_from(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != {"path", "step"}:
        return "must be an object with the keys path and step"
    if not isinstance(value["path"], str) or not is_int(value["step"]) or value["step"] < 0:
        return "must hold a path (a string) and a step (an integer >= 0)"
    return None


def _class_names(value: Any) -> str | None:
    short = isinstance(value, list) and all(isinstance(n, str) and len(n) <= 200 for n in value)
    if short and len(value) <= MAX_CLASSES:
        return None
    return "must be a list of short strings"


# Every top-level key of a run's config.json. "config" is checked by TrainConfig.from_dict; the sample shape by the
# generator folder's rule, so every run can be packaged.
RUN_RECORD = (
    Field("ganzoo_run", lambda v: None if v == 1 and is_int(v) else "must be 1 (this ganzoo reads run format 1)"),
    Field("config", lambda v: None, required=True),
    Field("sample_shape", sample_shape_problem, required=True),
    Field("data_kind", choice("image", "points")),
    Field("device", string()),
    Field("world_size", integer(1)),
    Field("amp", boolean),
    Field("versions", string_map()),
    Field("architecture_plugin", string_map()),
    Field("init_from", _init_from),
    Field("num_classes", integer(2, MAX_CLASSES)),
    Field("class_names", _class_names),
)


def check_run_info(data: Any, where: str = CONFIG_FILE) -> TrainConfig:
    """Check a run's parsed config.json (its top-level keys and its training settings); returns the settings."""
    if not isinstance(data, dict):
        raise RunConfigError(f"{where} is not a ganzoo run configuration (not a JSON object)")
    if "config" not in data:
        hint = (
            " (it looks like a generator folder's; load it with ganzoo.load_generator)"
            if "architecture" in data
            else ""
        )
        raise RunConfigError(f"{where} is not a ganzoo run configuration: it has no 'config' key{hint}")
    check_record(data, RUN_RECORD, lambda key, problem: _bad(where, key, problem))
    return TrainConfig.from_dict(data["config"], where, prefix="config.")


def set_aside(run_dir: Path) -> Path | None:
    """Move what an old run wrote in ``run_dir`` into a hidden folder inside it; None when there was nothing.

    On failure everything moved is put back before the OSError propagates, so the old run stays whole.
    """
    present = [name for name in RUN_OUTPUTS if os.path.lexists(run_dir / name)]
    if not present:
        return None
    aside = Path(tempfile.mkdtemp(prefix=".ganzoo-old-run-", dir=run_dir))
    try:
        for name in present:
            os.replace(run_dir / name, aside / name)
    except OSError:
        put_back(run_dir, aside)
        raise
    return aside


def put_back(run_dir: Path, aside: Path) -> None:
    """Undo ``set_aside``: move the old run's outputs back (over anything the new run began to write)."""
    for item in aside.iterdir():
        target = run_dir / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        elif os.path.lexists(target):
            target.unlink()
        os.replace(item, target)
    os.rmdir(aside)


def discard(aside: Path | None) -> None:
    """Delete what ``set_aside`` kept, once the new run has written its configuration."""
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
