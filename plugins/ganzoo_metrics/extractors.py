"""The network behind the inception feature extractor (imported only when it is used)."""

from __future__ import annotations

import os

import torch

from ganzoo.errors import GanzooError, UsageError, one_line
from ganzoo.metrics.base import rgb_images

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_SIZE = 299


def to_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] as uint8 0..255 with three channels (one channel is repeated)."""
    x = ((images.float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return rgb_images(x)


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
            f"could not load the Inception v3 weights ({one_line(exc)}); torch-fidelity downloads them once to "
            f"{inception_weights_path()} - run once online or put {INCEPTION_FILE} there"
        ) from None
    return model.eval()


def inception_outputs(model: torch.nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(features, logits) of images in [-1, 1]; torch-fidelity takes uint8 and resizes to 299 itself."""
    features, logits = model(to_uint8_rgb(images))
    return features, logits
