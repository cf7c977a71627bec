"""MNIST and Fashion-MNIST from their gzip idx files (parsed with numpy; no pickle)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from ganzoo.data import Samples
from ganzoo.errors import GanzooError
from ganzoo_datasets.fetch import SOURCES, ensure_files
from ganzoo_datasets.images import resize_uint8

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

CLASSES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}


def read_idx(path: Path) -> np.ndarray:
    """The unsigned-byte array stored in a (gzip) idx file: magic ``0x0000 08 NDIM``, big-endian sizes, data."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise GanzooError(f"{path} is not a readable gzip idx file ({exc}); delete it and run again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise GanzooError(f"{path} is not an unsigned-byte idx file (bad magic number); delete it and run again")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise GanzooError(f"{path} has a truncated idx header; delete it and run again")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise GanzooError(
            f"{path} holds {len(raw) - header} data bytes but its header promises {expected} {shape}; "
            "delete it and run again"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_split(paths: dict[str, Path], part: str) -> tuple[np.ndarray, np.ndarray]:
    image_file, label_file = FILES[part]
    images = read_idx(paths[image_file])
    labels = read_idx(paths[label_file])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise GanzooError(
            f"{paths[image_file].parent}: {image_file} {images.shape} and {label_file} {labels.shape} do not match; "
            "delete them and run again"
        )
    return images, labels


def load_idx_dataset(name: str, split: str, size: int, folder: Path) -> Samples:
    """MNIST-like ``name`` (mnist, fashion-mnist) as ``uint8 [N, 1, size, size]`` with ``int64`` labels 0..9."""
    paths = ensure_files(name, folder)
    parts = ["train", "test"] if split == "all" else [split]
    read = [_read_split(paths, part) for part in parts]
    images = np.concatenate([im for im, _ in read])
    labels = np.concatenate([lab for _, lab in read]).astype(np.int64)
    tensor = torch.from_numpy(images[:, None].copy())
    return Samples(
        data=resize_uint8(tensor, size),
        kind="image",
        labels=torch.from_numpy(labels),
        num_classes=10,
        info={
            "name": name,
            "split": split,
            "size": size,
            "root": str(folder),
            "source": SOURCES[name]["url"],
            "classes": CLASSES[name],
        },
    )
