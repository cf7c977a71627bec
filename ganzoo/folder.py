"""The generator folder format: its file names and limits, config.json validated before anything is built, and
which kind of folder (run or generator) a path holds. Loading one is ``ganzoo.loading``'s job."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ganzoo.errors import (
    GanzooError,
    GeneratorConfigError,
    UnsafeFileError,
    UsageError,
    fold,
)
from ganzoo.files import read_limited
from ganzoo.limits import MAX_CLASSES, MAX_LATENT_DIM
from ganzoo.records import (
    Field,
    check_record,
    choice,
    integer,
    is_plain,
    json_copy,
    metric_entry_problem,
    sample_shape_problem,
    string,
    string_map,
)
from ganzoo.values import LICENSE, QUALIFIED_NAME, is_int, is_number

__all__ = [
    "validate_config",
    "read_generator_config",
    "folder_problem",
    "is_run_folder",
    "folder_kind",
    "check_finite",
    "pickle_files",
    "pickle_refusal",
]

FORMAT = 1  # the generator-folder format this ganzoo writes and reads (config key "ganzoo_generator")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
DISCRIMINATOR_FILE = "discriminator.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
LIBRARY = "ganzoo"
MAX_CONFIG_BYTES = 1 << 20
MAX_TEXT = 500
NOISES = ("normal", "uniform")  # the latents' distribution: standard normal (what ganzoo trains), or uniform on [-1, 1]


# --------------------------------------------------------------------------------------------------------------------
# config.json: validated before anything is built


def _number_or_null(value: Any) -> str | None:
    return None if value is None or is_number(value) else "must be a number or null"


def _classes(value: Any) -> str | None:
    if is_int(value) and 0 <= value <= MAX_CLASSES and value != 1:
        return None
    return f"must be 0 (not class-conditional) or an integer from 2 to {MAX_CLASSES}"


def _plain_object(value: Any) -> str | None:
    return None if isinstance(value, dict) and is_plain(value) else "must be an object of plain JSON values"


def _list(value: Any) -> str | None:
    return None if isinstance(value, list) else "must be a list"


# Every key of a generator folder's config.json; entries of "metrics" and "class_names" are checked after these.
GENERATOR_RECORD = (
    Field("ganzoo_generator", integer(1)),
    Field("ganzoo_version", string(MAX_TEXT)),
    Field(
        "architecture",
        lambda v: (
            None
            if isinstance(v, str) and QUALIFIED_NAME.match(v)
            else "must be a registered name (letters, digits, _ . + -)"
        ),
        required=True,
    ),
    Field("architecture_options", _plain_object, required=True),
    Field("architecture_plugin", string_map(allow_null=True, max_len=MAX_TEXT)),
    Field("latent_dim", integer(1, MAX_LATENT_DIM), required=True),
    Field("noise", choice(*NOISES)),  # absent: normal
    Field("sample_shape", sample_shape_problem, required=True),
    Field("num_classes", _classes),
    Field("class_names", _list),
    Field("data_kind", choice("image", "points")),
    Field("variant", string(MAX_TEXT)),
    Field("loss", string(MAX_TEXT)),
    Field("data", string(MAX_TEXT)),
    Field("data_options", _plain_object),
    Field("steps", integer(0)),
    Field("ema", _number_or_null),
    Field("weights", choice("ema", "generator")),
    Field("seed", integer()),
    Field("training", _plain_object),
    Field("metrics", _list),
    Field(
        "license",
        lambda v: (
            None
            if v is None or (isinstance(v, str) and LICENSE.match(v))
            else "must be a Hub licence id (lower case, e.g. apache-2.0, mit, cc-by-4.0, other)"
        ),
    ),
)


def validate_config(data: Any, where: str = CONFIG_FILE) -> dict[str, Any]:
    """Check a generator's config (keys, types, sizes) and return a copy; raise GeneratorConfigError naming the
    fault."""

    def bad(message: str) -> GeneratorConfigError:
        return GeneratorConfigError(f"{where}: {message}")

    def fail(key: str, problem: str) -> GeneratorConfigError:
        if problem.startswith("must"):
            return bad(f"{key} {problem}, got {fold(repr(data[key]), 80)}")
        return bad(f"{key!r} {problem}")

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object, got {type(data).__name__}")
    if "config" in data and "architecture" not in data:
        raise bad("this is a run's config.json, not a generator's; pass the run folder itself")
    version = data.get("ganzoo_generator", FORMAT)
    if is_int(version) and version > FORMAT:
        raise bad(
            f"generator format {version} is newer than this ganzoo reads ({FORMAT}); upgrade: pip install -U ganzoo"
        )
    check_record(data, GENERATOR_RECORD, fail)
    classes = data.get("num_classes", 0)
    names = data.get("class_names")
    short = names is None or all(isinstance(n, str) and len(n) <= MAX_TEXT for n in names)
    if names is not None and (len(names) != classes or not short):
        raise bad(f"class_names must be a list of num_classes ({classes}) short strings, got {fold(repr(names), 80)}")
    for i, item in enumerate(data.get("metrics", [])):
        problem = metric_entry_problem(item)
        if problem:
            raise bad(f"metrics[{i}] {problem}")
    return json_copy(data)


def _read_json(path: Path, where: str) -> Any:
    """A bounded read of a regular JSON file; a GeneratorConfigError names what is wrong with it."""
    try:
        raw = read_limited(path, MAX_CONFIG_BYTES, where)
    except GanzooError as exc:
        raise GeneratorConfigError(str(exc)) from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GeneratorConfigError(f"{where} is not valid JSON: {fold(exc)}") from None


def read_generator_config(path: str | Path, where: str | None = None) -> dict[str, Any]:
    """Parse and validate a generator's ``config.json`` (a regular file, size-limited, strict keys)."""
    path = Path(path)
    return validate_config(_read_json(path, where or str(path)), where or str(path))


def pickle_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES)


def pickle_refusal(where: str, names: list[str]) -> UnsafeFileError:
    what = "a pickle file" if len(names) == 1 else "pickle files"
    return UnsafeFileError(
        f"{where} has no {WEIGHTS_FILE}, only {', '.join(names)}: {what}, which ganzoo never loads because "
        f"unpickling can run arbitrary code; publish the weights as {WEIGHTS_FILE} (safetensors) instead"
    )


def _is_run_config(data: Any) -> bool:
    return isinstance(data, dict) and "config" in data and "architecture" not in data


def is_run_folder(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds a run's config.json (never raises: a folder that cannot be read is no run)."""
    try:
        return _is_run_config(_read_json(Path(folder) / CONFIG_FILE, CONFIG_FILE))
    except GanzooError:
        return False


def folder_kind(folder: str | os.PathLike) -> str:
    """``"run"`` or ``"generator"`` for a local folder, from its config.json; a clear error when it is neither."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    config = folder / CONFIG_FILE
    if not config.exists() and not config.is_symlink():
        pickles = pickle_files(folder)
        if pickles and not (folder / WEIGHTS_FILE).exists():
            raise pickle_refusal(str(folder), pickles)
        raise GanzooError(f"{folder} is neither a ganzoo run folder nor a generator folder (no {CONFIG_FILE})")
    return "run" if _is_run_config(_read_json(config, str(config))) else "generator"


def check_finite(tensors: dict[str, Any], label: str) -> None:
    """Refuse weights holding NaN or infinity: such a generator only draws garbage."""
    import torch

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GanzooError(
                f"{label}: tensor {name!r} holds NaN or infinite values; these weights are broken "
                "(train again, or use an earlier checkpoint)"
            )


def folder_problem(folder: str | os.PathLike) -> str | None:
    """Why a downloaded folder is not a loadable ganzoo generator, or None when it looks fine (weights not read)."""
    folder = Path(folder)
    if not (folder / CONFIG_FILE).is_file():
        return f"{folder} has no {CONFIG_FILE}: not a ganzoo generator"
    try:
        read_generator_config(folder / CONFIG_FILE)
    except GanzooError as exc:
        return str(exc)
    if not (folder / WEIGHTS_FILE).is_file():
        pickles = pickle_files(folder)
        return str(pickle_refusal(str(folder), pickles)) if pickles else f"{folder} has no {WEIGHTS_FILE}"
    return None
