"""The mnist-cnn feature extractor's network and shipped weights: digits-cnn's design, wider, trained on MNIST."""

from __future__ import annotations

import os
from pathlib import Path

from ganzoo_metrics.digits_cnn import INPUT_SIZE, DigitsNet, load_weights

WEIGHTS = Path(__file__).with_name("mnist_cnn.safetensors")
WIDTHS = (32, 64, 128)
TOOL = "tools/train_mnist_cnn.py"
# what tools/train_mnist_cnn.py writes (byte-reproducible); the weights are refused when they differ
SHA256 = "af7b8c767bebdd3b5ab2b40e3261b4a7ce66072b9e0bdd16cee65ff3401d56a7"
# its accuracy on mnist-5k's 1,000-image test split (it never saw them), as the script printed it
TEST_ACCURACY = 0.987  # 987 of 1,000

__all__ = ["WEIGHTS", "WIDTHS", "SHA256", "TEST_ACCURACY", "INPUT_SIZE", "new_model", "load_model"]


def new_model() -> DigitsNet:
    """The untrained network: three conv blocks of 32, 64 and 128 channels, 128-d features, 10 logits."""
    return DigitsNet(WIDTHS)


def load_model(path: str | os.PathLike = WEIGHTS, sha256: str | None = SHA256) -> DigitsNet:
    """The network with the shipped weights (safetensors, sha256-checked when ``sha256`` is set), in eval mode."""
    return load_weights(new_model(), path, "mnist-cnn", TOOL, sha256 or None)
