"""Packaging a generator folder from a run, a generator folder or a Generator: weights, config.json, card, samples."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.card import SAMPLES_IMAGES, SAMPLES_POINTS, SAMPLES_SEED, model_card
from ganzoo.errors import GanzooError, UsageError, fold
from ganzoo.folder import (
    CARD_FILE,
    CONFIG_FILE,
    DISCRIMINATOR_FILE,
    FORMAT,
    SAMPLES_FILE,
    WEIGHTS_FILE,
    check_finite,
    is_run_folder,
    validate_config,
)
from ganzoo.pretrained import DTYPES  # what ``save_generator(dtype=...)`` stores floating-point weights as
from ganzoo.records import metric_entry_problem
from ganzoo.training.config import packaged
from ganzoo.values import figure
from ganzoo.version import __version__

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator

__all__ = ["save_generator", "read_eval", "DTYPES"]


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
        key: ""
        if isinstance(value, str) and (key in ("root", "path", "dir") or os.path.isabs(value) or value.startswith("~"))
        else value
        for key, value in options.items()
    }


def read_eval(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The metrics ``ganzoo eval`` recorded in a run's ``eval.json`` (a list of {metric, values, protocol}, each
    checked as a generator's config.json holds metrics, values as ``figure`` stores them); [] when none. An
    unreadable file or a malformed entry is left out with a warning on stderr."""
    import sys

    path = Path(run_dir) / "eval.json"
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        print(f"ganzoo: warning: {path} is unreadable and was left out: {fold(exc)}", file=sys.stderr)
        return []
    if isinstance(data, dict):
        data = data.get("results", data.get("metrics", []))
    found = []
    for item in data if isinstance(data, list) else []:
        try:
            entry = {
                "metric": str(item["metric"]),
                "values": {str(k): figure(v) for k, v in item["values"].items()},
                "protocol": dict(item.get("protocol") or {}),
            }
            if metric_entry_problem(entry):
                raise ValueError(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
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
    from ganzoo.generator import Generator, generator_config_from_run, generator_network
    from ganzoo.training.checkpoint import latest_checkpoint
    from ganzoo.training.rundir import read_run_config

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
    config["training"] = packaged(train)
    config["metrics"] = _matching_metrics(read_eval(run_dir), ckpt.step, config["weights"], run_dir)
    config = validate_config(config, f"{run_dir}/{CONFIG_FILE}")
    net = generator_network(config)
    net.load_state_dict(weights)
    discriminator = None
    if with_discriminator:
        discriminator = ckpt.tensors.get("discriminator")
        if discriminator is None:
            raise GanzooError(f"the latest checkpoint of {run_dir} has no discriminator weights")
    return _Package(Generator(net, config).eval().requires_grad_(False), config, weights, discriminator)


def _package_generator(gen: Generator, discriminator: dict[str, Any] | None = None) -> _Package:
    config = dict(gen.config)
    config.setdefault("ganzoo_generator", FORMAT)
    config["ganzoo_version"] = __version__
    config["data"] = _public_data(config.get("data") or "")
    config["data_options"] = _public_options(config.get("data_options") or {})
    config = validate_config(config, "the generator's config")
    weights = {k: v.detach().to("cpu") for k, v in gen.net.state_dict().items()}
    return _Package(gen, config, weights, discriminator)


def _package(source: Any, ema: bool, with_discriminator: bool) -> _Package:
    from ganzoo.generator import Generator  # torch, kept off the Hub commands' start
    from ganzoo.loading import load_folder

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
    if is_run_folder(folder):
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


def default_license(data: str) -> str | None:
    """The Hub licence id the data set declares (its class attribute ``license``), or None."""
    from ganzoo.plugins import registry

    if not data:
        return None
    try:
        entry = registry().get("dataset", data)
    except GanzooError:
        return None
    value = getattr(entry.obj, "license", None)
    return value if isinstance(value, str) and value else None


def _with_license(config: dict[str, Any], license: str | None) -> dict[str, Any]:
    config = dict(config)
    if license is not None:
        config["license"] = license.strip().lower()
    elif not config.get("license"):
        found = default_license(config.get("data") or "")
        if found:
            config["license"] = found
    return validate_config(config, "the generator's config")


def _cast_weights(package: _Package, dtype: str) -> None:
    """Store the package's floating-point tensors (parameters and buffers; integer buffers stay as they are) as
    ``dtype``, and let ``samples.png`` show what those rounded weights draw."""
    import copy

    import torch

    target = getattr(torch, dtype)
    package.weights = {k: v.to(target) if v.is_floating_point() else v for k, v in package.weights.items()}
    for name, tensor in package.weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise GanzooError(
                f"the generator's tensor {name!r} holds values beyond the range of {dtype}; save it as float32"
            )
    generator = copy.deepcopy(package.generator)
    generator.net.load_state_dict(package.weights)  # cast back to the network's own dtype, values rounded
    package.generator = generator


def save_generator(
    source: Any,
    folder: str | os.PathLike,
    *,
    ema: bool = True,
    with_discriminator: bool = False,
    repo_id: str | None = None,
    license: str | None = None,
    dtype: str = "float32",
) -> Path:
    """Write a generator folder (config.json, model.safetensors, README.md, samples.png) from a run folder, a Run or
    a Generator.

    ``ema`` publishes a run's EMA weights when it has some; ``repo_id`` is named in the model card's usage example;
    ``license`` is a Hub licence id (default: the one config.json already names, else the data set's, when it
    declares one); ``dtype`` ("float32" or "float16") is the precision model.safetensors stores the floating-point
    weights and buffers in (integer buffers keep theirs; loading casts them back to the network's). Weights holding
    NaN or infinity are refused.
    """
    from ganzoo.files import write_json, write_safetensors, write_text

    if dtype not in DTYPES:
        raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    folder = Path(folder)
    if is_run_folder(folder):
        raise UsageError(f"{folder} holds a run; write the generator folder somewhere else")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    package = _package(source, ema, with_discriminator)
    package.config = _with_license(package.config, license)
    check_finite(package.weights, "the generator's weights")
    if dtype != "float32":
        _cast_weights(package, dtype)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt"}  # one key: safetensors orders metadata at random, and re-pushes should be no-ops
    write_safetensors(folder / WEIGHTS_FILE, {k: v.detach().clone() for k, v in package.weights.items()}, metadata=meta)
    if package.discriminator is not None:
        write_safetensors(
            folder / DISCRIMINATOR_FILE,
            {k: v.detach().clone() for k, v in package.discriminator.items()},
            metadata=meta,
        )
    else:
        (folder / DISCRIMINATOR_FILE).unlink(missing_ok=True)
    has_samples = _write_samples(package.generator, folder / SAMPLES_FILE)
    if not has_samples:
        (folder / SAMPLES_FILE).unlink(missing_ok=True)
    write_text(folder / CARD_FILE, str(model_card(package.config, repo_id=repo_id, samples=has_samples)))
    write_json(folder / CONFIG_FILE, package.config)  # last: a folder with config.json is complete
    return folder
