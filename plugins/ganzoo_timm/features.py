"""timm models as feature extractors: loading, input preparation and the weights' sha256."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F

from ganzoo.errors import GanzooError, UsageError, one_line
from ganzoo.files import sha256_file
from ganzoo.metrics.base import rgb_images


def load_timm(model_name: str, pretrained: bool = True) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A timm model without its classifier (``num_classes=0``: pooled features) and its data config."""
    import timm
    import timm.data

    if not timm.is_model(model_name):
        raise UsageError(
            f"unknown timm model {model_name!r}; "
            "list them with: python -c \"import timm; print(timm.list_models('*'))\""
        )
    try:
        model = timm.create_model(model_name, pretrained=pretrained, num_classes=0)
    except Exception as exc:  # offline, no weights for this tag, ...
        from huggingface_hub.constants import HF_HUB_CACHE

        raise GanzooError(
            f"could not load the pretrained weights of timm model {model_name!r} ({one_line(exc)}); "
            f"timm downloads them once into {HF_HUB_CACHE} - run once online"
        ) from None
    config = timm.data.resolve_data_config({}, model=model)
    return model.eval(), config


def timm_weights_sha256(model: torch.nn.Module) -> str | None:
    """sha256 of the cached pretrained weights file when it can be found locally; else ``None``."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    hub_id = cfg.get("hf_hub_id")
    if not hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo, _, revision = hub_id.partition("@")
    for filename in (
        cfg.get("hf_hub_filename"),
        "model.safetensors",
        "open_clip_pytorch_model.bin",
        "pytorch_model.bin",
    ):
        if not filename:
            continue
        try:
            path = try_to_load_from_cache(repo, filename, revision=revision or None)
        except Exception:
            continue
        if isinstance(path, str) and os.path.isfile(path):
            return sha256_file(path)
    return None


def timm_prepare(images: torch.Tensor, config: dict[str, Any]) -> torch.Tensor:
    """Images in [-1, 1] resized to the model's input size and normalised with its mean and std."""
    x = rgb_images((images.float() + 1.0) / 2.0)
    _, height, width = config["input_size"]
    if tuple(x.shape[2:]) != (height, width):
        mode = "bicubic" if config.get("interpolation") == "bicubic" else "bilinear"
        shrink = x.shape[2] > height or x.shape[3] > width
        x = F.interpolate(x, size=(height, width), mode=mode, align_corners=False, antialias=shrink).clamp(0, 1)
    mean = torch.tensor(config["mean"], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(config["std"], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std
