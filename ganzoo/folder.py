"""The generator folder format, locally: config.json validated before anything is built, weights checked
against the architecture, and loading a generator folder or a run folder. No network, no huggingface_hub."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import (
    GanzooError,
    GeneratorConfigError,
    MissingPluginError,
    UnsafeFileError,
    UsageError,
    WeightsMismatchError,
    fold,
)
from ganzoo.files import read_limited

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator

__all__ = [
    "validate_config",
    "read_generator_config",
    "load_folder",
    "load_local",
    "folder_problem",
    "is_run_folder",
    "folder_kind",
    "check_finite",
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
MAX_LATENT_DIM = 4096
MAX_SAMPLE_DIMS = 4
MAX_SAMPLE_SIDE = 16384
MAX_SAMPLE_NUMEL = 1 << 26
MAX_TEXT = 500
# what the registry accepts as a name, optionally qualified by its distribution (DISTRIBUTION:NAME)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,99}:)?[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# --------------------------------------------------------------------------------------------------------------------
# config.json: validated before anything is built


_KNOWN_KEYS = (
    "ganzoo_generator",
    "ganzoo_version",
    "architecture",
    "architecture_options",
    "architecture_plugin",
    "latent_dim",
    "sample_shape",
    "num_classes",
    "class_names",
    "data_kind",
    "variant",
    "loss",
    "data",
    "data_options",
    "steps",
    "ema",
    "weights",
    "seed",
    "training",
    "metrics",
    "license",
)
_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")  # a Hub licence id: apache-2.0, mit, cc-by-4.0, other, ...
MAX_CLASSES = 1000  # classes a class-conditional generator may make
_REQUIRED = ("architecture", "architecture_options", "latent_dim", "sample_shape")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain(value: Any, depth: int = 0) -> bool:
    """JSON scalars, and lists/objects of them a few levels deep."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= 4 * MAX_TEXT
    if depth >= 4:
        return False
    if isinstance(value, list):
        return len(value) <= 1000 and all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 1000 and all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def validate_config(data: Any, where: str = CONFIG_FILE) -> dict[str, Any]:
    """Check a generator's config (keys, types, sizes) and return a copy; raise GeneratorConfigError naming the fault."""

    def bad(message: str) -> GeneratorConfigError:
        return GeneratorConfigError(f"{where}: {message}")

    if not isinstance(data, dict):
        raise bad(f"expected a JSON object, got {type(data).__name__}")
    if "config" in data and "architecture" not in data:
        raise bad("this is a run's config.json, not a generator's; pass the run folder itself")
    version = data.get("ganzoo_generator", FORMAT)
    if not _is_int(version) or version < 1:
        raise bad(f"ganzoo_generator must be a positive integer, got {version!r}")
    if version > FORMAT:
        raise bad(f"generator format {version} is newer than this ganzoo reads ({FORMAT}); upgrade: pip install -U ganzoo")
    unknown = sorted(set(data) - set(_KNOWN_KEYS))
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(_KNOWN_KEYS)})")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise bad(f"missing key {missing[0]!r}")

    arch = data["architecture"]
    if not isinstance(arch, str) or not _NAME.match(arch):
        raise bad(f"architecture must be a registered name (letters, digits, _ . + -), got {arch!r}")
    for key in ("architecture_options", "data_options", "training"):
        value = data.get(key, {})
        if not isinstance(value, dict) or not _plain(value):
            raise bad(f"{key} must be an object of plain JSON values, got {_short(value)}")
    latent = data["latent_dim"]
    if not _is_int(latent) or not 1 <= latent <= MAX_LATENT_DIM:
        raise bad(f"latent_dim must be an integer from 1 to {MAX_LATENT_DIM}, got {_short(latent)}")
    shape = data["sample_shape"]
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= MAX_SAMPLE_DIMS
        or not all(_is_int(s) and 1 <= s <= MAX_SAMPLE_SIDE for s in shape)
    ):
        raise bad(
            f"sample_shape must be a list of 1 to {MAX_SAMPLE_DIMS} integers from 1 to {MAX_SAMPLE_SIDE}, got {_short(shape)}"
        )
    if math.prod(shape) > MAX_SAMPLE_NUMEL:
        raise bad(f"sample_shape {shape} has more than {MAX_SAMPLE_NUMEL} values per sample")
    classes = data.get("num_classes", 0)
    if not _is_int(classes) or not 0 <= classes <= MAX_CLASSES or classes == 1:
        raise bad(f"num_classes must be 0 (not class-conditional) or an integer from 2 to {MAX_CLASSES}, got {_short(classes)}")
    names = data.get("class_names")
    if names is not None and (
        not isinstance(names, list) or len(names) != classes or not all(isinstance(n, str) and len(n) <= MAX_TEXT for n in names)
    ):
        raise bad(f"class_names must be a list of num_classes ({classes}) short strings, got {_short(names)}")
    if data.get("data_kind", "image") not in ("image", "points"):
        raise bad(f"data_kind must be 'image' or 'points', got {_short(data.get('data_kind'))}")
    for key in ("ganzoo_version", "variant", "loss", "data"):
        value = data.get(key, "")
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise bad(f"{key} must be a short string, got {_short(value)}")
    plugin = data.get("architecture_plugin", {})
    if not isinstance(plugin, dict) or not all(
        isinstance(k, str) and (v is None or (isinstance(v, str) and len(v) <= MAX_TEXT)) for k, v in plugin.items()
    ):
        raise bad(f"architecture_plugin must be an object of strings, got {_short(plugin)}")
    for key in ("steps", "seed"):
        value = data.get(key, 0)
        if not _is_int(value) or (key == "steps" and value < 0):
            raise bad(f"{key} must be a{' non-negative' if key == 'steps' else 'n'} integer, got {_short(value)}")
    ema = data.get("ema")
    if ema is not None and not _is_number(ema):
        raise bad(f"ema must be a number or null, got {_short(ema)}")
    if data.get("weights", "generator") not in ("ema", "generator"):
        raise bad(f"weights must be 'ema' or 'generator', got {_short(data.get('weights'))}")
    license = data.get("license")
    if license is not None and (not isinstance(license, str) or not _LICENSE.match(license)):
        raise bad(f"license must be a Hub licence id (lower case, e.g. apache-2.0, mit, cc-by-4.0, other), got {_short(license)}")
    metrics = data.get("metrics", [])
    if not isinstance(metrics, list):
        raise bad(f"metrics must be a list, got {_short(metrics)}")
    for i, item in enumerate(metrics):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("metric"), str)
            or not isinstance(item.get("values"), dict)
            or not all(isinstance(k, str) and (_is_number(v) or v is None or v in ("inf", "-inf")) for k, v in item["values"].items())
            or not isinstance(item.get("protocol", {}), dict)
            or not _plain(item.get("protocol", {}))
        ):
            raise bad(f"metrics[{i}] must be {{'metric': name, 'values': {{name: number}}, 'protocol': {{...}}}}")
    return json.loads(json.dumps(data))


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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------------------------------------------------
# Building a generator: the architecture from the registry only; tensors checked against it before loading


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _architecture_entry(config: dict[str, Any]) -> Any:
    """The registry entry of the config's architecture, or a MissingPluginError saying what to install."""
    from ganzoo.plugins import registry

    name = config["architecture"]
    reg = registry()
    plugin = config.get("architecture_plugin") or {}
    dist = plugin.get("distribution") or ""
    if isinstance(dist, str) and ("architecture", f"{dist}:{name}") in reg:  # its own, when others share the name
        return reg.get("architecture", f"{dist}:{name}")
    if ("architecture", name) in reg:
        return reg.get("architecture", name)
    version = plugin.get("version") or ""
    plugin_name = plugin.get("plugin") or dist
    if dist and _DISTRIBUTION.match(dist) and _normalise(dist) != LIBRARY:
        from ganzoo.plugins import plugin_infos

        for info in plugin_infos():
            if _normalise(info.distribution) == _normalise(dist) and info.error:
                raise MissingPluginError(
                    f"this generator's architecture {name!r} comes from plugin {plugin_name!r} ({dist}), which is "
                    f"installed but failed to load: {fold(info.error)} (see: ganzoo plugins)"
                )
        spec = f"{dist} {version}".strip()
        raise MissingPluginError(
            f"this generator's architecture {name!r} comes from plugin {plugin_name!r} ({spec}), which is not "
            f"installed; install it with: ganzoo install {dist}"
        )
    if dist and _normalise(dist) == LIBRARY:
        raise MissingPluginError(
            f"architecture {name!r} is not registered; it was built into ganzoo {version or '(another version)'} "
            f"(upgrade: pip install -U ganzoo; see: ganzoo list architectures)"
        )
    raise MissingPluginError(
        f"architecture {name!r} is not registered by any installed plugin, and config.json does not say which "
        f"distribution provides it (see: ganzoo list architectures)"
    )


def _build_net(config: dict[str, Any], where: str, meta: bool = False) -> Any:
    from ganzoo.generator import build_networks

    _architecture_entry(config)
    args = (config["architecture"], config["architecture_options"], tuple(config["sample_shape"]), config["latent_dim"])
    classes = config.get("num_classes", 0)
    try:
        if meta:
            import torch

            with torch.device("meta"):
                return build_networks(*args, discriminator=False, num_classes=classes)[0]
        return build_networks(*args, discriminator=False, num_classes=classes)[0]
    except UsageError as exc:
        raise GeneratorConfigError(f"{where}: {exc}") from None
    except GanzooError:
        raise
    except Exception as exc:
        if meta:
            raise
        raise GeneratorConfigError(
            f"{where}: architecture {config['architecture']!r} cannot be built with options "
            f"{json.dumps(config['architecture_options'], sort_keys=True)}: {fold(f'{type(exc).__name__}: {exc}')}"
        ) from None


def _file_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors header (no tensor data is read)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            return {name: tuple(fh.get_slice(name).get_shape()) for name in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise GanzooError(f"{path} cannot be read as safetensors (truncated or not safetensors): {fold(exc)}") from None


def _check_shapes(path: Path, expected: dict[str, tuple[int, ...]], config: dict[str, Any], label: str) -> None:
    found = _file_shapes(path)
    problems = []
    for name, shape in expected.items():
        if name not in found:
            problems.append(f"tensor {name!r} {list(shape)} is missing from the file")
        elif found[name] != shape:
            problems.append(f"tensor {name!r} has shape {list(found[name])} in the file, the architecture expects {list(shape)}")
    problems += [f"the file has tensor {name!r}, which the architecture does not" for name in found if name not in expected]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise WeightsMismatchError(
            f"{label} does not fit architecture {config['architecture']!r} with options "
            f"{json.dumps(config['architecture_options'], sort_keys=True)}: {problems[0]}{more}"
        )


def _load_checked(config: dict[str, Any], weights: Path, where: str, label: str, device: Any) -> Generator:
    """Build the architecture, check the file's tensor names and shapes against it, then load the weights."""
    from safetensors.torch import load_file

    from ganzoo.generator import Generator, resolve_device

    target = resolve_device(device)  # a bad device is reported before anything is built or read
    try:  # shapes first, from a network on the meta device: nothing big is allocated for a bad file
        skeleton = _build_net(config, where, meta=True)
        expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    except GanzooError:
        raise
    except Exception:  # an architecture that cannot be built on the meta device: check after the real build
        expected = None
    if expected is not None:
        _check_shapes(weights, expected, config, label)
    net = _build_net(config, where)
    if expected is None:
        _check_shapes(weights, {k: tuple(v.shape) for k, v in net.state_dict().items()}, config, label)
    try:
        tensors = load_file(str(weights), device="cpu")
    except Exception as exc:  # safetensors raises its own error types
        raise GanzooError(f"{label} cannot be read: {fold(exc)}") from None
    check_finite(tensors, label)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise WeightsMismatchError(f"{label} does not fit architecture {config['architecture']!r}: {fold(exc)}") from None
    gen = Generator(net, config).eval().requires_grad_(False)
    return gen.to(target)


def _pickle_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES)


def _pickle_refusal(where: str, names: list[str]) -> UnsafeFileError:
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
        pickles = _pickle_files(folder)
        if pickles and not (folder / WEIGHTS_FILE).exists():
            raise _pickle_refusal(str(folder), pickles)
        raise GanzooError(f"{folder} is neither a ganzoo run folder nor a generator folder (no {CONFIG_FILE})")
    return "run" if _is_run_config(_read_json(config, str(config))) else "generator"


def _require_weights(folder: Path) -> Path:
    """The folder's model.safetensors, or an error saying why there is none (a pickle is refused, not read)."""
    weights = folder / WEIGHTS_FILE
    if weights.is_file():
        return weights
    pickles = _pickle_files(folder)
    if pickles:
        raise _pickle_refusal(str(folder), pickles)
    if not (folder / CONFIG_FILE).is_file():
        raise GanzooError(f"{folder} is neither a ganzoo run folder nor a generator folder (no {CONFIG_FILE})")
    raise GanzooError(f"{folder} has no {WEIGHTS_FILE}; a generator folder holds config.json and {WEIGHTS_FILE}")


def load_folder(folder: str | Path, device: str | torch.device | None = None) -> Generator:
    """A generator from a local generator folder (config.json + model.safetensors), checked before it is built."""
    folder = Path(folder)
    weights = _require_weights(folder)
    config = read_generator_config(folder / CONFIG_FILE)
    return _load_checked(config, weights, str(folder / CONFIG_FILE), str(weights), device)


def load_local(folder: str | os.PathLike, device: str | torch.device | None = None, ema: bool = True) -> Generator:
    """A generator from a local run folder (its latest good checkpoint; EMA weights when ``ema``) or generator folder."""
    if folder_kind(folder) == "run":
        from ganzoo.generator import load_run_generator

        return load_run_generator(folder, device=device, ema=ema)
    return load_folder(folder, device=device)


def check_finite(tensors: dict[str, Any], label: str) -> None:
    """Refuse weights holding NaN or infinity: such a generator only draws garbage."""
    import torch

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GanzooError(f"{label}: tensor {name!r} holds NaN or infinite values; these weights are broken (train again, or use an earlier checkpoint)")


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
        pickles = _pickle_files(folder)
        return str(_pickle_refusal(str(folder), pickles)) if pickles else f"{folder} has no {WEIGHTS_FILE}"
    return None
