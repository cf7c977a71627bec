"""Networks behind the inception and timm feature extractors (imported only when one is used)."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F

from ganzoo.errors import GanzooError, UsageError

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_SIZE = 299


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def to_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] as uint8 0..255 with three channels (one channel is repeated)."""
    x = ((images.float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return _rgb(x)


def _rgb(x: torch.Tensor) -> torch.Tensor:
    if x.ndim != 4:
        raise UsageError(f"feature extractors take [N, C, H, W] images, got shape {list(x.shape)}")
    if x.shape[1] == 1:
        return x.repeat(1, 3, 1, 1)
    if x.shape[1] != 3:
        raise UsageError(f"feature extractors take 1- or 3-channel images, got {x.shape[1]} channels")
    return x


def inception_weights_path(weights: str = "") -> str:
    """Where the Inception weights are read from: ``weights`` or torch-fidelity's download cache."""
    if weights:
        return weights
    return os.path.join(torch.hub.get_dir(), "checkpoints", INCEPTION_FILE)


def load_inception(weights: str = "") -> torch.nn.Module:
    """torch-fidelity's FID Inception v3 giving (2048-d pool features, 1008 unbiased logits) per batch."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise GanzooError("the inception extractor needs: pip install 'ganzoo[fidelity]'") from None
    if weights and not os.path.isfile(weights):
        raise UsageError(f"inception weights file {weights!r} does not exist")
    try:
        model = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=weights or None
        )
    except Exception as exc:  # offline download, corrupt cache, ...
        raise GanzooError(
            f"could not load the Inception v3 weights ({_short(exc)}); torch-fidelity downloads them once to "
            f"{inception_weights_path()} - run once online or put {INCEPTION_FILE} there"
        ) from None
    return model.eval()


def inception_outputs(model: torch.nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, logits) of images in [-1, 1]; torch-fidelity takes uint8 and resizes to 299 itself."""
    features, logits = model(to_uint8_rgb(images))
    return features, logits


def load_timm(model_name: str, pretrained: bool = True) -> tuple[torch.nn.Module, dict[str, Any]]:
    """A timm model without its classifier (``num_classes=0``: pooled features) and its data config."""
    import timm
    import timm.data

    if not timm.is_model(model_name):
        raise UsageError(f"unknown timm model {model_name!r}; list them with: python -c \"import timm; print(timm.list_models('*'))\"")
    try:
        model = timm.create_model(model_name, pretrained=pretrained, num_classes=0)
    except Exception as exc:  # offline, no weights for this tag, ...
        from huggingface_hub.constants import HF_HUB_CACHE

        raise GanzooError(
            f"could not load the pretrained weights of timm model {model_name!r} ({_short(exc)}); "
            f"timm downloads them once into {HF_HUB_CACHE} - run once online"
        ) from None
    config = timm.data.resolve_data_config({}, model=model)
    return model.eval(), config


def timm_weights_sha256(model: torch.nn.Module) -> str | None:
    """sha256 of the cached pretrained weights file when it can be found locally; else ``None``."""
    from ganzoo_metrics.digits_cnn import file_sha256

    cfg = getattr(model, "pretrained_cfg", None) or {}
    hub_id = cfg.get("hf_hub_id")
    if not hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo, _, revision = hub_id.partition("@")
    for filename in (cfg.get("hf_hub_filename"), "model.safetensors", "open_clip_pytorch_model.bin", "pytorch_model.bin"):
        if not filename:
            continue
        try:
            path = try_to_load_from_cache(repo, filename, revision=revision or None)
        except Exception:
            continue
        if isinstance(path, str) and os.path.isfile(path):
            return file_sha256(path)
    return None


def timm_prepare(images: torch.Tensor, config: dict[str, Any]) -> torch.Tensor:
    """Images in [-1, 1] resized to the model's input size and normalised with its mean and std."""
    x = _rgb((images.float() + 1.0) / 2.0)
    _, height, width = config["input_size"]
    if tuple(x.shape[2:]) != (height, width):
        mode = "bicubic" if config.get("interpolation") == "bicubic" else "bilinear"
        shrink = x.shape[2] > height or x.shape[3] > width
        x = F.interpolate(x, size=(height, width), mode=mode, align_corners=False, antialias=shrink).clamp(0, 1)
    mean = torch.tensor(config["mean"], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(config["std"], dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - mean) / std
