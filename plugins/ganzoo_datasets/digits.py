"""The scikit-learn 8x8 digits (offline) with their fixed stratified train / test split."""

from __future__ import annotations

import numpy as np
import torch

from ganzoo.data import Samples, stratified_split
from ganzoo_datasets.images import resize_uint8

TEST_SIZE = 0.2
RANDOM_STATE = 0


def split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The contract split: ``train_test_split(indices, test_size=0.2, random_state=0, stratify=labels)``, each
    sorted."""
    return stratified_split(labels, TEST_SIZE, RANDOM_STATE)


def load_digits(split: str, size: int) -> Samples:
    """Digits of ``split`` as ``uint8 [N, 1, size, size]`` with ``int64`` labels 0..9."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    labels = np.asarray(bunch.target, dtype=np.int64)
    pixels = np.rint(np.asarray(bunch.images, dtype=np.float64) * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    if split == "all":
        chosen = np.arange(len(labels))
    else:
        train, test = split_indices(labels)
        chosen = train if split == "train" else test
    images = torch.from_numpy(pixels[chosen][:, None]).contiguous()
    return Samples(
        data=resize_uint8(images, size),
        kind="image",
        labels=torch.from_numpy(labels[chosen]).contiguous(),
        num_classes=10,
        info={
            "name": "digits",
            "split": split,
            "size": size,
            "source": "sklearn.datasets.load_digits",
            "split_rule": "train_test_split(range(1797), test_size=0.2, random_state=0, stratify=labels)",
        },
    )
