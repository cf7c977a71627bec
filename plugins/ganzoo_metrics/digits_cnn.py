"""The digits-cnn feature extractor's network, its shipped weights and the digits images it was trained on.

The network (``DigitsNet``), the input preparation and the weight loading are shared with mnist-cnn, which
is the same design made wider and trained on real MNIST digits."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.data import stratified_split
from ganzoo.errors import GanzooError, UsageError

WEIGHTS = Path(__file__).with_name("digits_cnn.safetensors")
INPUT_SIZE = 32
FEATURE_DIM = 128
NUM_CLASSES = 10
SPLIT_SEED = 0
TEST_SIZE = 0.2


class DigitsNet(nn.Module):
    """Three conv blocks (32 -> 16 -> 8 -> 2 px), a 128-d penultimate layer (the features), a 10-way head.

    ``widths``: the channels of the three blocks (digits-cnn: 16, 32, 64; mnist-cnn: 32, 64, 128).

    The features are the penultimate layer before its ReLU (every unit carries information),
    divided by ``feature_scale``: the training script sets it so that the root mean square
    of a feature on the training images is 1, the order of magnitude KID's polynomial
    kernel ``(x.y / d + 1)^3`` is made for.
    """

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        a, b, c = widths
        self.body = nn.Sequential(
            nn.Conv2d(1, a, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(a, b, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(b, c, 3, padding=1),
            nn.ReLU(),
            nn.AvgPool2d(4),
            nn.Flatten(),
            nn.Linear(c * 2 * 2, FEATURE_DIM),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) / self.feature_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(F.relu(self.body(x))))


def digits_images(images) -> torch.Tensor:
    """scikit-learn's 8x8 digit images (values 0..16) as uint8 ``[N, 1, 32, 32]`` images (0..255).

    The one conversion shared by the training script, the tests and (by agreement) the
    ``digits`` data set: 0..16 -> 0..255 rounded to uint8, then a bilinear resize with
    antialias (``torch.nn.functional.interpolate``, ``align_corners=False``) in float,
    rounded and clamped back to uint8.
    """
    x = torch.as_tensor(images, dtype=torch.float32).reshape(-1, 1, 8, 8)
    x = (x * (255.0 / 16.0)).round().clamp(0, 255)
    x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8)


def load_split(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed digits split: uint8 images ``[N, 1, 32, 32]`` and int64 labels (train 1437, test 360).

    ``train_test_split(arange(1797), test_size=0.2, random_state=0, stratify=labels)``.
    """
    from sklearn.datasets import load_digits

    if split not in ("train", "test"):
        raise UsageError(f"digits has splits 'train' and 'test', not {split!r}")
    digits = load_digits()
    train_idx, test_idx = stratified_split(digits.target, TEST_SIZE, SPLIT_SEED)
    idx = train_idx if split == "train" else test_idx
    return digits_images(digits.images[idx]), torch.as_tensor(digits.target[idx], dtype=torch.int64)


def prepare(images: torch.Tensor, name: str = "digits-cnn") -> torch.Tensor:
    """Images in [-1, 1] of any size, 1 or 3 channels, as the ``[N, 1, 32, 32]`` float input the network expects."""
    if images.ndim != 4:
        raise UsageError(f"{name} takes [N, C, H, W] images, got shape {list(images.shape)}")
    x = images.float()
    if x.shape[1] == 3:
        x = x.mean(dim=1, keepdim=True)
    elif x.shape[1] != 1:
        raise UsageError(f"{name} takes 1- or 3-channel images, got {x.shape[1]} channels")
    if tuple(x.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
        shrink = x.shape[2] > INPUT_SIZE or x.shape[3] > INPUT_SIZE
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=shrink)
    return x


def load_model(path: str | os.PathLike = WEIGHTS) -> DigitsNet:
    """The network with the shipped weights (safetensors; never pickle), in eval mode."""
    return load_weights(DigitsNet(), path, "digits-cnn", "tools/train_digits_cnn.py")


def load_weights(
    model: DigitsNet, path: str | os.PathLike, name: str, tool: str, sha256: str | None = None
) -> DigitsNet:
    """``model`` with the safetensors weights at ``path`` (never pickle), in eval mode; ``name`` and the training
    script ``tool`` go into the error when they are missing, corrupt, do not fit, or differ from ``sha256``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    rebuild = f"rebuild them with: python {tool}"
    if not path.is_file():
        raise GanzooError(f"{name} weights are missing at {path}; {rebuild}")
    if sha256 is not None and file_sha256(path) != sha256:
        raise GanzooError(f"{name} weights at {path} are not the ones shipped (sha256 differs); {rebuild}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise GanzooError(f"{name} weights at {path} are corrupt ({exc}); {rebuild}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError:
        raise GanzooError(f"{name} weights at {path} do not fit the network; {rebuild}") from None
    return model.eval()


@functools.lru_cache(maxsize=8)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str | None:
    """sha256 of a file (cached while it is unchanged), or ``None`` when it does not exist."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _sha256(str(path), stat.st_mtime_ns, stat.st_size)
