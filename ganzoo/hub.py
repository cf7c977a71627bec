"""Generator folders: save and load them locally; push to and pull from the Hugging Face Hub."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, PluginError, UsageError

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator

__all__ = [
    "save_generator",
    "load_generator",
    "push_generator",
    "push_run",
    "pull_generator",
    "search_generators",
    "describe_generator",
    "read_generator_config",
    "validate_config",
    "model_card",
    "search_tags",
    "HubError",
    "UnsafeFileError",
    "GeneratorConfigError",
    "WeightsMismatchError",
    "MissingPluginError",
]

FORMAT = 1  # the generator-folder format this ganzoo writes and reads (config key "ganzoo_generator")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
SAMPLES_FILE = "samples.png"
DISCRIMINATOR_FILE = "discriminator.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
HUB_PREFIX = "hf-hub:"
LIBRARY = "ganzoo"
SAMPLES_SEED = 0
SAMPLES_IMAGES = 64
SAMPLES_POINTS = 1000
# Search tags written into every model card: `ganzoo-<key>:<value>` (see docs/hub.md).
TAG_KEYS = {"variant": "variant", "data": "data", "arch": "architecture", "loss": "loss"}
# Data-set names whose images are also a Hub data set (for the card's `datasets`).
HUB_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist", "cifar10": "uoft-cs/cifar10"}

MAX_CONFIG_BYTES = 1 << 20
MAX_LATENT_DIM = 4096
MAX_SAMPLE_DIMS = 4
MAX_SAMPLE_SIDE = 16384
MAX_SAMPLE_NUMEL = 1 << 26
MAX_TEXT = 500

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$")  # what the registry accepts as a name
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_REPO_ID = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")


class HubError(GanzooError):
    """The Hub could not be reached, or it refused or could not answer a request."""


class MissingFileError(HubError):
    """A file the Hub repo (at that revision) does not have."""


class UnsafeFileError(GanzooError):
    """Weights in a format ganzoo refuses to load (pickle can run code when read)."""


class GeneratorConfigError(GanzooError):
    """A generator's config.json that is malformed, unknown or out of range."""


class WeightsMismatchError(GanzooError):
    """A model.safetensors whose tensors do not fit the architecture config.json names."""


class MissingPluginError(PluginError):
    """The generator's architecture comes from a plugin that is not installed."""


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
)
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
    metrics = data.get("metrics", [])
    if not isinstance(metrics, list):
        raise bad(f"metrics must be a list, got {_short(metrics)}")
    for i, item in enumerate(metrics):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("metric"), str)
            or not isinstance(item.get("values"), dict)
            or not all(isinstance(k, str) and (_is_number(v) or v is None) for k, v in item["values"].items())
            or not isinstance(item.get("protocol", {}), dict)
            or not _plain(item.get("protocol", {}))
        ):
            raise bad(f"metrics[{i}] must be {{'metric': name, 'values': {{name: number}}, 'protocol': {{...}}}}")
    return json.loads(json.dumps(data))


def read_generator_config(path: str | Path, where: str | None = None) -> dict[str, Any]:
    """Parse and validate a generator's ``config.json`` (size-limited, strict keys)."""
    path = Path(path)
    where = where or str(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise GeneratorConfigError(f"{where} is missing") from None
    if size > MAX_CONFIG_BYTES:
        raise GeneratorConfigError(f"{where} is {size} bytes; a generator's config.json is far smaller (limit {MAX_CONFIG_BYTES})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GeneratorConfigError(f"{where} is not valid JSON: {_one_line(exc)}") from None
    return validate_config(data, where)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_line(exc: BaseException | str, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------------------------
# Building a generator: the architecture from the registry only; tensors checked against it before loading


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _architecture_entry(config: dict[str, Any]) -> Any:
    """The registry entry of the config's architecture, or a MissingPluginError saying what to install."""
    from ganzoo.plugins import registry

    name = config["architecture"]
    reg = registry()
    if ("architecture", name) in reg:
        return reg.get("architecture", name)
    plugin = config.get("architecture_plugin") or {}
    dist = plugin.get("distribution") or ""
    version = plugin.get("version") or ""
    plugin_name = plugin.get("plugin") or dist
    if dist and _DISTRIBUTION.match(dist) and _normalise(dist) != LIBRARY:
        from ganzoo.plugins import plugin_infos

        for info in plugin_infos():
            if _normalise(info.distribution) == _normalise(dist) and info.error:
                raise MissingPluginError(
                    f"this generator's architecture {name!r} comes from plugin {plugin_name!r} ({dist}), which is "
                    f"installed but failed to load: {_one_line(info.error)} (see: ganzoo plugins)"
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
    try:
        if meta:
            import torch

            with torch.device("meta"):
                return build_networks(*args, discriminator=False)[0]
        return build_networks(*args, discriminator=False)[0]
    except UsageError as exc:
        raise GeneratorConfigError(f"{where}: {exc}") from None
    except GanzooError:
        raise
    except Exception as exc:
        if meta:
            raise
        raise GeneratorConfigError(
            f"{where}: architecture {config['architecture']!r} cannot be built with options "
            f"{json.dumps(config['architecture_options'], sort_keys=True)}: {_one_line(f'{type(exc).__name__}: {exc}')}"
        ) from None


def _file_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors header (no tensor data is read)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            return {name: tuple(fh.get_slice(name).get_shape()) for name in fh.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise GanzooError(f"{path} cannot be read as safetensors (truncated or not safetensors): {_one_line(exc)}") from None


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
        raise GanzooError(f"{label} cannot be read: {_one_line(exc)}") from None
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise WeightsMismatchError(f"{label} does not fit architecture {config['architecture']!r}: {_one_line(exc)}") from None
    gen = Generator(net, config).eval().requires_grad_(False)
    return gen.to(resolve_device(device))


def _pickle_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES)


def _pickle_refusal(where: str, names: list[str]) -> UnsafeFileError:
    what = "a pickle file" if len(names) == 1 else "pickle files"
    return UnsafeFileError(
        f"{where} has no {WEIGHTS_FILE}, only {', '.join(names)}: {what}, which ganzoo never loads because "
        f"unpickling can run arbitrary code; publish the weights as {WEIGHTS_FILE} (safetensors) instead"
    )


def _is_run_folder(folder: Path) -> bool:
    config = folder / CONFIG_FILE
    if not config.is_file() or config.stat().st_size > MAX_CONFIG_BYTES:
        return False
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "config" in data and "architecture" not in data


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
    raise GanzooError(f"{folder} has no {WEIGHTS_FILE}")


def load_folder(folder: str | Path, device: str | torch.device | None = None) -> Generator:
    """A generator from a local generator folder (config.json + model.safetensors), checked before it is built."""
    folder = Path(folder)
    weights = _require_weights(folder)
    config = read_generator_config(folder / CONFIG_FILE)
    return _load_checked(config, weights, str(folder / CONFIG_FILE), str(weights), device)


# --------------------------------------------------------------------------------------------------------------------
# Sources: a run folder, a generator folder, or a Hub repo


@dataclass(frozen=True)
class Source:
    """Where a generator comes from: a local folder, or a Hub repo at a revision."""

    path: Path | None = None
    repo_id: str | None = None
    revision: str | None = None

    @property
    def is_hub(self) -> bool:
        return self.repo_id is not None

    def __str__(self) -> str:
        if self.repo_id is None:
            return str(self.path)
        return f"{HUB_PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


def check_repo_id(repo_id: str) -> str:
    """``namespace/name`` as the Hub spells repo ids, or a UsageError."""
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise UsageError(f"{repo_id!r} is not a Hub repo id; expected namespace/name (letters, digits, - _ .)")
    return repo_id


def parse_repo(spec: str) -> tuple[str, str | None]:
    """``[hf-hub:]namespace/name[@revision]`` -> (repo_id, revision or None)."""
    text = spec[len(HUB_PREFIX) :] if spec.startswith(HUB_PREFIX) else spec
    repo_id, at, revision = text.partition("@")
    if at and not revision.strip():
        raise UsageError(f"{spec!r} ends with '@' but names no revision")
    return check_repo_id(repo_id), (revision if at else None)


def looks_like_hub(spec: str) -> bool:
    """True for ``hf-hub:...``, and for ``namespace/name[@rev]`` that is no existing path."""
    if spec.startswith(HUB_PREFIX):
        return True
    if Path(spec).expanduser().exists() or spec.startswith((".", "/", "~")):
        return False
    repo_id = spec.partition("@")[0]
    return bool(_REPO_ID.match(repo_id))


def resolve_source(source: str | os.PathLike, revision: str | None = None) -> Source:
    """Local path or Hub repo: an existing path wins; the ``hf-hub:`` prefix forces the Hub."""
    if isinstance(source, str) and (source.startswith(HUB_PREFIX) or looks_like_hub(source)):
        repo_id, rev = parse_repo(source)
        return Source(repo_id=repo_id, revision=revision or rev)
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{path} is a file; pass the generator or run folder that holds it")
        return Source(path=path)
    raise UsageError(f"{source} is no folder here and no Hub repo id (namespace/name, or hf-hub:namespace/name[@revision])")


def load_generator(
    source: str | os.PathLike,
    device: str | torch.device | None = None,
    ema: bool = True,
    *,
    revision: str | None = None,
    token: str | None = None,
) -> Generator:
    """A generator in eval mode from a run folder, a generator folder, ``hf-hub:ns/name[@rev]`` or ``ns/name``.

    ``.sample(n, seed)`` draws samples in [-1, 1]; only safetensors are ever read. ``ema`` picks a run's EMA weights.
    """
    where = resolve_source(source, revision)
    if where.is_hub:
        assert where.repo_id is not None
        try:
            return _load_from_hub(where.repo_id, where.revision, device, token)
        except HubError as exc:
            if isinstance(source, str) and not source.startswith(HUB_PREFIX) and "was not found" in str(exc):
                raise HubError(f"{exc}; there is no local folder {source} either") from None
            raise
    assert where.path is not None
    if _is_run_folder(where.path):
        from ganzoo.generator import load_run_generator

        return load_run_generator(where.path, device=device, ema=ema)
    return load_folder(where.path, device=device)


# --------------------------------------------------------------------------------------------------------------------
# Saving a generator folder


@dataclass
class _Package:
    generator: Generator
    config: dict[str, Any]
    weights: dict[str, Any]
    discriminator: dict[str, Any] | None


def _public_data(name: str) -> str:
    """A data-set name fit to publish: a local folder's path shrinks to its last part."""
    base, sep, argument = name.partition(":")
    if sep and base == "folder":
        return f"folder:{Path(argument.rstrip('/')).name or 'images'}"
    return name


def _public_options(options: dict[str, Any]) -> dict[str, Any]:
    """Data-set options fit to publish: local paths (``root`` and any absolute path) are blanked."""
    return {
        key: "" if isinstance(value, str) and (key in ("root", "path", "dir") or os.path.isabs(value) or value.startswith("~")) else value
        for key, value in options.items()
    }


def _read_eval(run_dir: Path) -> list[dict[str, Any]]:
    """The metrics ``ganzoo eval`` recorded in ``eval.json`` (a list of {metric, values, protocol}); [] when none."""
    import sys

    path = run_dir / "eval.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        print(f"ganzoo: warning: {path} is unreadable and was left out: {_one_line(exc)}", file=sys.stderr)
        return []
    if isinstance(data, dict):
        data = data.get("results", data.get("metrics", []))
    found = []
    for item in data if isinstance(data, list) else []:
        try:
            entry = {
                "metric": str(item["metric"]),
                "values": {str(k): (None if v is None or not math.isfinite(float(v)) else float(v)) for k, v in item["values"].items()},
                "protocol": dict(item.get("protocol") or {}),
            }
            validate_config({"architecture": "x", "architecture_options": {}, "latent_dim": 1, "sample_shape": [1], "metrics": [entry]})
        except (KeyError, TypeError, ValueError, AttributeError, GeneratorConfigError):
            print(f"ganzoo: warning: {path} holds a malformed metric entry; it was left out", file=sys.stderr)
            continue
        found.append(entry)
    return found


def _matching_metrics(metrics: list[dict[str, Any]], step: int, weights: str, run_dir: Path) -> list[dict[str, Any]]:
    """The metrics measured on the weights being published (protocol ``step`` and ``weights``, when recorded)."""
    import sys

    kept = []
    for item in metrics:
        protocol = item.get("protocol") or {}
        if protocol.get("step") not in (None, step) or protocol.get("weights") not in (None, weights):
            print(
                f"ganzoo: warning: {run_dir}/eval.json: {item['metric']} was measured on other weights "
                f"(step {protocol.get('step')}, {protocol.get('weights') or 'unknown'} weights) and is left out",
                file=sys.stderr,
            )
            continue
        kept.append(item)
    return kept


def _package_run(run_dir: Path, ema: bool, with_discriminator: bool) -> _Package:
    from ganzoo.generator import Generator, build_networks, generator_config_from_run
    from ganzoo.training import read_run_config
    from ganzoo.training.checkpoint import latest_checkpoint

    info = read_run_config(run_dir)
    wanted = ("generator", "generator_ema") + (("discriminator",) if with_discriminator else ())
    ckpt = latest_checkpoint(run_dir, only=wanted)
    if ckpt is None:
        raise GanzooError(f"run {run_dir} has no checkpoint yet; train it first")
    config: dict[str, Any] = {"ganzoo_generator": FORMAT, **generator_config_from_run(info, ckpt.step)}
    use_ema = ema and "generator_ema" in ckpt.tensors
    weights = ckpt.tensors["generator_ema" if use_ema else "generator"]
    config["weights"] = "ema" if use_ema else "generator"
    config["data"] = _public_data(config.get("data", ""))
    config["data_options"] = _public_options(config.get("data_options", {}))
    train = info.get("config", {})
    config["training"] = {k: train[k] for k in ("optimizer", "lr_g", "lr_d", "betas", "batch_size", "loss_options") if k in train}
    config["metrics"] = _matching_metrics(_read_eval(run_dir), ckpt.step, config["weights"], run_dir)
    config = validate_config(config, f"{run_dir}/{CONFIG_FILE}")
    net, _ = build_networks(config["architecture"], config["architecture_options"], tuple(config["sample_shape"]), config["latent_dim"], discriminator=False)
    net.load_state_dict(weights)
    discriminator = None
    if with_discriminator:
        discriminator = ckpt.tensors.get("discriminator")
        if discriminator is None:
            raise GanzooError(f"the latest checkpoint of {run_dir} has no discriminator weights")
    return _Package(Generator(net, config).eval().requires_grad_(False), config, weights, discriminator)


def _package_generator(gen: Generator, discriminator: dict[str, Any] | None = None) -> _Package:
    from ganzoo import __version__

    config = dict(gen.config)
    config.setdefault("ganzoo_generator", FORMAT)
    config["ganzoo_version"] = __version__
    config["data"] = _public_data(config.get("data") or "")
    config["data_options"] = _public_options(config.get("data_options") or {})
    config = validate_config(config, "the generator's config")
    weights = {k: v.detach().to("cpu") for k, v in gen.net.state_dict().items()}
    return _Package(gen, config, weights, discriminator)


def _package(source: Any, ema: bool, with_discriminator: bool) -> _Package:
    from ganzoo.generator import Generator

    if isinstance(source, Generator):
        if with_discriminator:
            raise UsageError("a Generator object carries no discriminator; save from the run folder instead")
        return _package_generator(source)
    path = getattr(source, "path", source)  # a Run, or a path
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"save_generator takes a run folder, a Run or a Generator, not {type(source).__name__}")
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    if _is_run_folder(folder):
        return _package_run(folder, ema, with_discriminator)
    gen = load_folder(folder, device="cpu")
    discriminator = None
    if with_discriminator:
        if not (folder / DISCRIMINATOR_FILE).is_file():
            raise GanzooError(f"{folder} has no {DISCRIMINATOR_FILE}")
        from safetensors.torch import load_file

        discriminator = load_file(str(folder / DISCRIMINATOR_FILE))
    return _package_generator(gen, discriminator)


def _grid_png(images: torch.Tensor, columns: int = 8, padding: int = 2) -> bytes:
    """A PNG tiling ``[N, C, H, W]`` samples in [-1, 1] on a white background (numpy + Pillow; no torchvision)."""
    import io

    import numpy as np
    import torch
    from PIL import Image

    x = images.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).numpy()
    n, c, h, w = x.shape
    if c not in (1, 3, 4):
        x, c = x[:, :1], 1
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    canvas = np.full((padding + rows * (h + padding), padding + columns * (w + padding), c), 255, dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        canvas[top : top + h, left : left + w] = x[i].transpose(1, 2, 0)
    buffer = io.BytesIO()
    Image.fromarray(canvas[:, :, 0] if c == 1 else canvas).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_samples(gen: Generator, path: Path) -> bool:
    """``samples.png``: exactly what ``.sample(64, seed=0)`` draws (a grid), or a scatter plot for 2D points."""
    from ganzoo.files import write_bytes

    shape = tuple(gen.sample_shape)
    if len(shape) == 3:
        write_bytes(path, _grid_png(gen.sample(SAMPLES_IMAGES, seed=SAMPLES_SEED)))
        return True
    if shape == (2,):
        from ganzoo.pictures import save_scatter

        samples = gen.sample(SAMPLES_POINTS, seed=SAMPLES_SEED).cpu()
        save_scatter(samples, path, title=f"{SAMPLES_POINTS} samples, seed {SAMPLES_SEED}")
        return True
    return False


def save_generator(
    source: Any,
    folder: str | os.PathLike,
    *,
    ema: bool = True,
    with_discriminator: bool = False,
    repo_id: str | None = None,
) -> Path:
    """Write a generator folder (config.json, model.safetensors, README.md, samples.png) from a run folder, a Run or a Generator.

    ``ema`` publishes a run's EMA weights when it has some; ``repo_id`` is named in the model card's usage example.
    """
    from ganzoo.files import write_json, write_safetensors, write_text

    folder = Path(folder)
    if _is_run_folder(folder):
        raise UsageError(f"{folder} holds a run; write the generator folder somewhere else")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    package = _package(source, ema, with_discriminator)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt"}  # one key: safetensors orders metadata at random, and re-pushes should be no-ops
    write_safetensors(folder / WEIGHTS_FILE, {k: v.detach().clone() for k, v in package.weights.items()}, metadata=meta)
    if package.discriminator is not None:
        write_safetensors(folder / DISCRIMINATOR_FILE, {k: v.detach().clone() for k, v in package.discriminator.items()}, metadata=meta)
    else:
        (folder / DISCRIMINATOR_FILE).unlink(missing_ok=True)
    has_samples = _write_samples(package.generator, folder / SAMPLES_FILE)
    if not has_samples:
        (folder / SAMPLES_FILE).unlink(missing_ok=True)
    write_text(folder / CARD_FILE, str(model_card(package.config, repo_id=repo_id, samples=has_samples)))
    write_json(folder / CONFIG_FILE, package.config)  # last: a folder with config.json is complete
    return folder


# --------------------------------------------------------------------------------------------------------------------
# The model card


def _tag(value: str) -> str:
    return re.sub(r"[^a-z0-9._:+-]+", "-", value.lower()).strip("-")[:100]


def search_tags(config: dict[str, Any]) -> list[str]:
    """Card tags: ``ganzoo``, ``gan``, the variant and architecture, and ``ganzoo-<key>:<value>`` for search."""
    tags = [LIBRARY, "gan"]
    for key in ("variant", "architecture"):
        if config.get(key):
            tags.append(_tag(config[key]))
    for short, key in TAG_KEYS.items():
        if config.get(key):
            tags.append(f"{LIBRARY}-{short}:{_tag(config[key])}")
    seen: set[str] = set()
    return [t for t in tags if t and not (t in seen or seen.add(t))]


def _hub_dataset(data: str) -> str | None:
    base, sep, argument = data.partition(":")
    if sep and base == "hf" and _REPO_ID.match(argument.partition("@")[0]):
        return argument.partition("@")[0]
    return HUB_DATASETS.get(data)


def _metric_rows(config: dict[str, Any]) -> list[tuple[str, str, float, dict[str, Any]]]:
    """(metric name, value name, value, protocol) for every reported figure."""
    rows = []
    for item in config.get("metrics", []):
        for key, value in item["values"].items():
            if value is None or not math.isfinite(value):
                continue
            label = item["metric"] if len(item["values"]) == 1 or key == item["metric"] else f"{item['metric']}-{key}"
            rows.append((item["metric"], label, float(value), item.get("protocol", {})))
    return rows


def _md(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.replace("|", "\\|").replace("\n", " ")


def model_card(config: dict[str, Any], repo_id: str | None = None, samples: bool = True) -> Any:
    """The README.md model card (a ``huggingface_hub.ModelCard``) for a generator config."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    variant = config.get("variant") or config["architecture"]
    data = config.get("data") or ""
    image = config.get("data_kind", "image") == "image"
    name = repo_id.split("/")[-1] if repo_id else _tag(f"{variant}-{data}" if data else variant)
    hub_dataset = _hub_dataset(data) if data else None
    task = "unconditional-image-generation" if image else "unconditional-generation"
    rows = _metric_rows(config)
    results = []
    for metric, label, value, protocol in rows:
        split = protocol.get("split")
        results.append(
            EvalResult(
                task_type=task,
                dataset_type=hub_dataset or (data or "unknown"),
                dataset_name=data or "unknown",
                dataset_split=split if isinstance(split, str) else None,
                metric_type=_tag(label),
                metric_name=label,
                metric_value=round(value, 6),
            )
        )
    card_data = ModelCardData(
        library_name=LIBRARY,
        tags=search_tags(config),
        datasets=[hub_dataset] if hub_dataset else None,
        pipeline_tag="unconditional-image-generation" if image else None,
        model_name=name,
        eval_results=results or None,
    )
    source = f"hf-hub:{repo_id}" if repo_id else "hf-hub:NAMESPACE/NAME"
    shape = list(config["sample_shape"])
    lines = [
        f"# {name}",
        "",
        f"A **{variant}** generator ({config['architecture']} architecture, {config.get('loss') or 'unknown'} loss) "
        f"trained with [ganzoo](https://pypi.org/project/ganzoo/) on `{data or 'unknown data'}` for "
        f"{config.get('steps', 0)} steps. It maps {config['latent_dim']}-dimensional standard normal noise to "
        f"{'images' if image else 'points'} of shape {shape} in [-1, 1].",
        "",
    ]
    if samples:
        what = f"{SAMPLES_IMAGES} samples" if image else f"{SAMPLES_POINTS} samples"
        lines += [f"![{what}, seed {SAMPLES_SEED}]({SAMPLES_FILE})", "", f"*{what}, seed {SAMPLES_SEED}: exactly what `.sample({SAMPLES_IMAGES if image else SAMPLES_POINTS}, seed={SAMPLES_SEED})` draws.*", ""]
    lines += [
        "## Use it",
        "",
        "```python",
        "import ganzoo",
        f'samples = ganzoo.load_generator("{source}").sample(16, seed=0)  # [16, {", ".join(map(str, shape))}] in [-1, 1]',
        "```",
        "",
        f"or `ganzoo sample {source} -n 64 --seed 0 -o samples.png`. Loading needs ganzoo"
        + _plugin_note(config)
        + "; it reads only `config.json` and `model.safetensors`.",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    training = config.get("training", {})
    settings: list[tuple[str, Any]] = [
        ("variant", variant),
        ("architecture", f"{config['architecture']} {json.dumps(config['architecture_options'], sort_keys=True)}"),
        ("loss", config.get("loss")),
        ("data set", data),
        ("steps", config.get("steps")),
        ("latent size", config["latent_dim"]),
        ("sample shape", shape),
        ("weights", "EMA of the generator (decay %s)" % config.get("ema") if config.get("weights") == "ema" else "the generator's own"),
        ("seed", config.get("seed")),
    ]
    settings += [(key.replace("_", " "), value) for key, value in training.items()]
    plugin = config.get("architecture_plugin") or {}
    if plugin.get("distribution"):
        settings.append(("architecture plugin", f"{plugin.get('plugin') or ''} ({plugin['distribution']} {plugin.get('version') or ''})".strip()))
    settings.append(("ganzoo", config.get("ganzoo_version")))
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in settings if v not in (None, "", {})]
    lines.append("")
    if rows:
        lines += ["## Evaluation", "", "| metric | value | protocol |", "|---|---|---|"]
        for _, label, value, protocol in rows:
            shown = ", ".join(f"{k}={_md(v)}" for k, v in protocol.items() if v not in (None, "", {}, []))
            lines.append(f"| {_md(label)} | {value:.6g} | {shown} |")
        lines.append("")
    lines += [
        "## Files",
        "",
        f"- `{CONFIG_FILE}`: architecture and options, latent size, sample shape, training recipe, metrics with protocols",
        f"- `{WEIGHTS_FILE}`: the generator's weights (safetensors; no pickle anywhere)",
    ]
    if samples:
        lines.append(f"- `{SAMPLES_FILE}`: the sample grid above")
    content = f"---\n{card_data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n"
    return ModelCard(content)


def _plugin_note(config: dict[str, Any]) -> str:
    plugin = config.get("architecture_plugin") or {}
    dist = plugin.get("distribution") or ""
    if dist and _normalise(dist) != LIBRARY and _DISTRIBUTION.match(dist):
        return f" and the plugin that provides the architecture (`ganzoo install {dist}`)"
    return ""


# --------------------------------------------------------------------------------------------------------------------
# The Hub


def _hf() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise GanzooError("Hub support needs huggingface_hub: pip install huggingface_hub") from None
    return huggingface_hub


def _endpoint() -> str:
    return _hf().constants.ENDPOINT


def _offline() -> bool:
    constants = _hf().constants
    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if callable(check) else getattr(constants, "HF_HUB_OFFLINE", False))


def _http_base_error() -> type | None:
    """httpx's (1.x) or httpx2's (2.x) HTTPError, found through huggingface_hub's own error class."""
    from huggingface_hub.errors import HfHubHTTPError

    for cls in HfHubHTTPError.__mro__[1:]:
        if cls.__name__ == "HTTPError" and cls.__module__.split(".")[0].startswith("httpx"):
            return cls
    return None


def _is_transport_error(exc: BaseException) -> bool:
    from huggingface_hub.errors import HfHubHTTPError

    base = _http_base_error()
    if base is not None and isinstance(exc, base) and not isinstance(exc, HfHubHTTPError):
        return type(exc).__name__ != "HTTPStatusError"
    return isinstance(exc, (ConnectionError, TimeoutError))


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def describe_hub_error(exc: BaseException, action: str, repo_id: str | None = None, revision: str | None = None, filename: str | None = None) -> str | None:
    """One line saying what failed for a huggingface_hub exception, or None when it is not a Hub failure."""
    from huggingface_hub import errors

    endpoint = _endpoint()
    repo = repo_id or "the repo"
    at = f"{repo}@{revision}" if revision else repo
    local_missing = getattr(errors, "LocalEntryNotFoundError", ())
    if isinstance(exc, errors.OfflineModeIsEnabled) or (_offline() and isinstance(exc, (local_missing, FileNotFoundError))):
        return (
            f"cannot {action}: {at} is not in the local cache and HF_HUB_OFFLINE=1 forbids downloads; "
            f"run `ganzoo pull {repo}` while online, or unset HF_HUB_OFFLINE"
        )
    if isinstance(exc, errors.RevisionNotFoundError):
        return f"cannot {action}: {repo} has no revision {revision or 'main'!r} on {endpoint} (check --revision or the @REVISION part)"
    if isinstance(exc, errors.RepositoryNotFoundError):
        if _status(exc) == 401 and "Invalid credentials" in str(getattr(exc, "server_message", "") or exc):
            return _bad_token(action, endpoint)
        return (
            f"cannot {action}: repo {repo} was not found on {endpoint} (check the name; a private repo also needs a "
            f"token that may read it: --token or HF_TOKEN)"
        )
    if local_missing and isinstance(exc, local_missing):
        cause = exc.__cause__ or exc.__context__
        if cause is not None and _status(cause) == 401:
            return _bad_token(action, endpoint)
        why = _one_line(f"{type(cause).__name__}: {cause}", 160) if cause is not None else "no answer"
        return (
            f"cannot {action}: the Hub at {endpoint} cannot be reached ({why}) and {at} is not in the local cache; "
            f"check the connection or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use cached files"
        )
    if isinstance(exc, errors.EntryNotFoundError) or (isinstance(exc, errors.HfHubHTTPError) and _status(exc) == 404 and filename):
        return f"cannot {action}: {at} has no file {filename!r}" if filename else f"cannot {action}: a file is missing from {at}"
    if isinstance(exc, errors.HfHubHTTPError):
        status = _status(exc)
        if status == 401:
            return _bad_token(action, endpoint)
        if status == 403:
            return f"cannot {action}: {endpoint} refused access to {repo} (403 Forbidden); the token needs write access to it"
        message = getattr(exc, "server_message", None) or str(exc).strip().splitlines()[0]
        return f"cannot {action}: {endpoint} answered {status}: {_one_line(message, 200)}"
    if _is_transport_error(exc):
        return (
            f"cannot {action}: the Hub at {endpoint} cannot be reached ({_one_line(f'{type(exc).__name__}: {exc}', 160)}); "
            f"check the connection or HF_ENDPOINT"
        )
    if isinstance(exc, getattr(errors, "HFValidationError", ())):
        return f"cannot {action}: {_one_line(exc, 200)}"
    return None


def _bad_token(action: str, endpoint: str) -> str:
    return f"cannot {action}: {endpoint} rejected the token (401 Unauthorized); check HF_TOKEN, --token or `hf auth login`"


@contextmanager
def hub_errors(action: str, repo_id: str | None = None, revision: str | None = None, filename: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub and network failures inside the block into one-line HubErrors."""
    try:
        yield
    except GanzooError:
        raise
    except Exception as exc:
        message = describe_hub_error(exc, action, repo_id, revision, filename)
        if message is None:
            raise
        from huggingface_hub import errors

        missing = isinstance(exc, errors.EntryNotFoundError) and not isinstance(exc, getattr(errors, "LocalEntryNotFoundError", ()))
        raise (MissingFileError if missing else HubError)(message) from None


def _download(repo_id: str, filename: str, revision: str | None, token: str | None) -> Path:
    from ganzoo import __version__

    hf = _hf()
    with hub_errors(f"download {filename} from {repo_id}", repo_id, revision, filename):
        return Path(hf.hf_hub_download(repo_id, filename, revision=revision, token=token, library_name=LIBRARY, library_version=__version__))


def _repo_files(repo_id: str, revision: str | None, token: str | None) -> list[str]:
    hf = _hf()
    with hub_errors(f"list the files of {repo_id}", repo_id, revision):
        return list(hf.HfApi(token=token).list_repo_files(repo_id, revision=revision))


def _load_from_hub(repo_id: str, revision: str | None, device: Any, token: str | None) -> Generator:
    config_path = _download(repo_id, CONFIG_FILE, revision, token)
    where = f"{HUB_PREFIX}{repo_id}" + (f"@{revision}" if revision else "")
    config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
    _architecture_entry(config)  # a missing plugin is reported before the weights are downloaded
    try:
        weights = _download(repo_id, WEIGHTS_FILE, revision, token)
    except MissingFileError:
        try:
            pickles = sorted(f for f in _repo_files(repo_id, revision, token) if f.lower().endswith(PICKLE_SUFFIXES))
        except HubError:
            pickles = []
        if pickles:
            raise _pickle_refusal(where, pickles) from None
        raise
    return _load_checked(config, weights, f"{where} {CONFIG_FILE}", f"{where} {WEIGHTS_FILE}", device)


def push_generator(
    source: Any,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    create_pr: bool = False,
    token: str | None = None,
    with_discriminator: bool = False,
    message: str | None = None,
    ema: bool = True,
) -> str:
    """Publish a run (or generator folder, or Generator) as a Hub repo in one commit; returns the repo (or PR) URL."""
    from ganzoo import __version__

    hf = _hf()
    check_repo_id(repo_id)
    if revision is not None and not revision.strip():
        raise UsageError("--revision must name a branch")
    _precheck(source)  # cheap checks first; the Hub is asked before the folder is built, so its faults show fast
    api = hf.HfApi(library_name=LIBRARY, library_version=__version__, token=token)
    with hub_errors(f"create repo {repo_id}", repo_id):
        api.create_repo(repo_id, private=True if private else None, exist_ok=True)
    if revision and revision != "main":
        with hub_errors(f"create branch {revision!r} in {repo_id}", repo_id):
            api.create_branch(repo_id, branch=revision, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        folder = save_generator(source, Path(tmp) / "generator", ema=ema, with_discriminator=with_discriminator, repo_id=repo_id)
        config = json.loads((folder / CONFIG_FILE).read_text())
        operations = [
            hf.CommitOperationAdd(path_in_repo=path.name, path_or_fileobj=str(path))
            for path in sorted(folder.iterdir())
            if path.is_file()
        ]
        summary = message or (
            f"Upload {config.get('variant') or config['architecture']} generator "
            f"({config.get('steps', 0)} steps on {config.get('data') or 'unknown data'}) with ganzoo {__version__}"
        )
        with hub_errors(f"push to {repo_id}", repo_id, revision):
            info = api.create_commit(repo_id, operations, commit_message=summary, revision=revision, create_pr=create_pr)
    if create_pr and getattr(info, "pr_url", None):
        return str(info.pr_url)
    url = f"{api.endpoint}/{repo_id}"
    return url + (f"/tree/{revision}" if revision and revision != "main" else "")


def _precheck(source: Any) -> None:
    """Refuse a source that cannot make a generator folder, without importing torch."""
    path = getattr(source, "path", source)
    if not isinstance(path, (str, os.PathLike)):
        return  # a Generator object
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    if _is_run_folder(folder):
        from ganzoo.training import read_run_config

        read_run_config(folder)
        checkpoints = folder / "checkpoints"
        if not checkpoints.is_dir() or not any(p.is_dir() and p.name.startswith("step-") for p in checkpoints.iterdir()):
            raise GanzooError(f"run {folder} has no checkpoint yet; train it first")
        return
    _require_weights(folder)
    read_generator_config(folder / CONFIG_FILE)


def push_run(run_dir: str | os.PathLike, repo_id: str, **options: Any) -> str:
    """Publish a run folder's generator to ``repo_id`` (what ``ganzoo train --push-to-hub`` calls); returns the URL."""
    return push_generator(Path(run_dir), repo_id, **options)


def pull_generator(repo: str, revision: str | None = None, local_dir: str | os.PathLike | None = None, token: str | None = None) -> Path:
    """Download a Hub repo (all its files) into the cache, or into ``local_dir``; returns the folder."""
    from ganzoo import __version__

    hf = _hf()
    repo_id, rev = parse_repo(repo)
    revision = revision or rev
    with hub_errors(f"pull {repo_id}", repo_id, revision):
        path = hf.snapshot_download(
            repo_id,
            revision=revision,
            local_dir=str(local_dir) if local_dir is not None else None,
            token=token,
            library_name=LIBRARY,
            library_version=__version__,
        )
    return Path(path)


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


def _card_metrics(card_path: Path | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(front matter, metrics of the model-index) of a README.md, both empty when there is none."""
    if card_path is None or not card_path.is_file():
        return {}, []
    from huggingface_hub import ModelCard

    try:
        card = ModelCard.load(card_path, ignore_metadata_errors=True)
    except Exception as exc:  # a broken card must not hide the config
        return {"error": _one_line(exc)}, []
    metrics = [
        {
            "metric": r.metric_name or r.metric_type,
            "type": r.metric_type,
            "value": r.metric_value,
            "dataset": r.dataset_name,
            "split": r.dataset_split,
        }
        for r in (card.data.eval_results or [])
    ]
    return card.data.to_dict(), metrics


def describe_generator(source: str, revision: str | None = None, token: str | None = None) -> dict[str, Any]:
    """A generator's config and its card's metrics, without loading its weights (for ``ganzoo info``)."""
    where = resolve_source(source, revision)
    card_path: Path | None
    if where.is_hub:
        assert where.repo_id is not None
        config_path = _download(where.repo_id, CONFIG_FILE, where.revision, token)
        config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
        try:
            card_path = _download(where.repo_id, CARD_FILE, where.revision, token)
        except MissingFileError:
            card_path = None
    else:
        assert where.path is not None
        if _is_run_folder(where.path):
            from ganzoo.generator import generator_config_from_run
            from ganzoo.training import read_run_config
            from ganzoo.training.checkpoint import list_checkpoints

            checkpoints = list_checkpoints(where.path)
            step = int(checkpoints[0].name.split("-")[-1]) if checkpoints else 0
            config = generator_config_from_run(read_run_config(where.path), step)
            config["metrics"] = _read_eval(where.path)
            card_path = None
        else:
            pickles = _pickle_files(where.path) if not (where.path / WEIGHTS_FILE).exists() else []
            if pickles:
                raise _pickle_refusal(str(where.path), pickles)
            config = read_generator_config(where.path / CONFIG_FILE)
            card_path = where.path / CARD_FILE
    front, card_metrics = _card_metrics(card_path)
    return {"source": str(where), "config": config, "card": {"tags": front.get("tags", []), "datasets": front.get("datasets", []), "metrics": card_metrics}}


def _tag_value(tags: list[str], key: str) -> str | None:
    prefix = f"{LIBRARY}-{key}:"
    return next((t[len(prefix) :] for t in tags if t.startswith(prefix)), None)


def search_generators(query: str | None = None, limit: int = 20, token: str | None = None) -> list[dict[str, Any]]:
    """Generators published with ``library_name: ganzoo``: id, variant, data, architecture, headline metric."""
    from ganzoo import __version__

    hf = _hf()
    api = hf.HfApi(library_name=LIBRARY, library_version=__version__, token=token)
    with hub_errors("search the Hub"):
        models = list(api.list_models(filter=LIBRARY, search=query or None, limit=limit, cardData=True))
    found = []
    for model in models:
        tags = list(getattr(model, "tags", None) or [])
        card = getattr(model, "card_data", None)
        metric = None
        results = getattr(card, "eval_results", None) or []
        if results:
            first = results[0]
            metric = {"name": first.metric_name or first.metric_type, "value": first.metric_value}
        modified = getattr(model, "last_modified", None)
        found.append(
            {
                "id": model.id,
                "variant": _tag_value(tags, "variant"),
                "data": _tag_value(tags, "data"),
                "architecture": _tag_value(tags, "arch"),
                "loss": _tag_value(tags, "loss"),
                "metric": metric,
                "downloads": getattr(model, "downloads", None),
                "likes": getattr(model, "likes", None),
                "last_modified": modified.isoformat() if hasattr(modified, "isoformat") else modified,
            }
        )
    return found
