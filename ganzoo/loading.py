"""Loading a generator from a local folder: a generator folder (its tensors checked against the architecture
before they are read) or a run folder's latest good checkpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ganzoo.device import resolve_device
from ganzoo.errors import GanzooError, GeneratorConfigError, MissingPluginError, UsageError, WeightsMismatchError, fold
from ganzoo.folder import (
    CONFIG_FILE,
    LIBRARY,
    WEIGHTS_FILE,
    check_finite,
    folder_kind,
    pickle_files,
    pickle_refusal,
    read_generator_config,
)
from ganzoo.generator import Generator, generator_config_from_run, generator_network
from ganzoo.plugins import plugin_infos, registry
from ganzoo.training.checkpoint import latest_checkpoint
from ganzoo.training.rundir import read_run_config
from ganzoo.values import DISTRIBUTION, normalise_distribution

__all__ = ["architecture_entry", "load_checked", "load_folder", "load_local", "load_run_generator"]


def architecture_entry(config: dict[str, Any]) -> Any:
    """The registry entry of the config's architecture, or a MissingPluginError saying what to install."""
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
    if dist and DISTRIBUTION.match(dist) and normalise_distribution(dist) != LIBRARY:
        for info in plugin_infos():
            if normalise_distribution(info.distribution) == normalise_distribution(dist) and info.error:
                raise MissingPluginError(
                    f"this generator's architecture {name!r} comes from plugin {plugin_name!r} ({dist}), which is "
                    f"installed but failed to load: {fold(info.error)} (see: ganzoo plugins)"
                )
        spec = f"{dist} {version}".strip()
        raise MissingPluginError(
            f"this generator's architecture {name!r} comes from plugin {plugin_name!r} ({spec}), which is not "
            f"installed; install it with: ganzoo install {dist}"
        )
    if dist and normalise_distribution(dist) == LIBRARY:
        raise MissingPluginError(
            f"architecture {name!r} is not registered; it was built into ganzoo {version or '(another version)'} "
            f"(upgrade: pip install -U ganzoo; see: ganzoo list architectures)"
        )
    raise MissingPluginError(
        f"architecture {name!r} is not registered by any installed plugin, and config.json does not say which "
        f"distribution provides it (see: ganzoo list architectures)"
    )


def _build_net(config: dict[str, Any], where: str, meta: bool = False) -> Any:
    architecture_entry(config)
    try:
        if meta:
            with torch.device("meta"):
                return generator_network(config)
        return generator_network(config)
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
            problems.append(
                f"tensor {name!r} has shape {list(found[name])} in the file, the architecture expects {list(shape)}"
            )
    problems += [
        f"the file has tensor {name!r}, which the architecture does not" for name in found if name not in expected
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise WeightsMismatchError(
            f"{label} does not fit architecture {config['architecture']!r} with options "
            f"{json.dumps(config['architecture_options'], sort_keys=True)}: {problems[0]}{more}"
        )


def load_checked(config: dict[str, Any], weights: Path, where: str, label: str, device: Any) -> Generator:
    """Build the architecture, check the file's tensor names and shapes against it, then load the weights."""
    from safetensors.torch import load_file

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
        raise WeightsMismatchError(
            f"{label} does not fit architecture {config['architecture']!r}: {fold(exc)}"
        ) from None
    gen = Generator(net, config).eval().requires_grad_(False)
    return gen.to(target)


def _require_weights(folder: Path) -> Path:
    """The folder's model.safetensors, or an error saying why there is none (a pickle is refused, not read)."""
    weights = folder / WEIGHTS_FILE
    if weights.is_file():
        return weights
    pickles = pickle_files(folder)
    if pickles:
        raise pickle_refusal(str(folder), pickles)
    if not (folder / CONFIG_FILE).is_file():
        raise GanzooError(f"{folder} is neither a ganzoo run folder nor a generator folder (no {CONFIG_FILE})")
    raise GanzooError(f"{folder} has no {WEIGHTS_FILE}; a generator folder holds config.json and {WEIGHTS_FILE}")


def load_folder(folder: str | Path, device: str | torch.device | None = None) -> Generator:
    """A generator from a local generator folder (config.json + model.safetensors), checked before it is built."""
    folder = Path(folder)
    weights = _require_weights(folder)
    config = read_generator_config(folder / CONFIG_FILE)
    return load_checked(config, weights, str(folder / CONFIG_FILE), str(weights), device)


def load_local(folder: str | os.PathLike, device: str | torch.device | None = None, ema: bool = True) -> Generator:
    """A generator from a local run folder (its latest good checkpoint; EMA weights when ``ema``) or generator
    folder."""
    if folder_kind(folder) == "run":
        return load_run_generator(folder, device=device, ema=ema)
    return load_folder(folder, device=device)


def load_run_generator(run_dir: str | Path, device: str | torch.device | None = None, ema: bool = True) -> Generator:
    """The generator of a run folder's latest good checkpoint (EMA weights when present and ``ema``), in eval mode."""
    target = resolve_device(device)  # a bad --device is reported before anything is read
    info = read_run_config(run_dir)
    ckpt = latest_checkpoint(Path(run_dir), only=("generator", "generator_ema"))
    if ckpt is None:
        raise GanzooError(
            f"run {run_dir} has no checkpoint yet: nothing to load "
            f"(start it over with: ganzoo train --out {run_dir} --force)"
        )
    config = generator_config_from_run(info, ckpt.step)
    net = generator_network(config)
    use_ema = ema and "generator_ema" in ckpt.tensors
    config["weights"] = "ema" if use_ema else "generator"
    if "generator" not in ckpt.tensors and not use_ema:
        raise GanzooError(f"checkpoint step {ckpt.step} of {run_dir} has no generator weights")
    weights = ckpt.tensors["generator_ema" if use_ema else "generator"]
    label = f"run {run_dir}, checkpoint step {ckpt.step} ({'EMA' if use_ema else 'raw'} generator)"
    check_finite(weights, label)
    try:
        net.load_state_dict(weights)
    except RuntimeError as exc:
        raise WeightsMismatchError(
            f"{label} does not fit the run's config.json (architecture {config['architecture']!r}, "
            f"latent size {config['latent_dim']}): {fold(exc, 200)}"
        ) from None
    gen = Generator(net, config).eval().requires_grad_(False)
    return gen.to(target)
