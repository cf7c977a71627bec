"""CIFAR-10 from its binary archive (records of 1 label byte + 3,072 pixel bytes; never a pickle)."""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from ganzoo.data import Samples
from ganzoo.errors import GanzooError
from ganzoo_datasets.fetch import SOURCES, ensure_files
from ganzoo_datasets.images import resize_uint8

ARCHIVE = "cifar-10-binary.tar.gz"
RECORD = 1 + 3 * 32 * 32
BATCHES = {
    "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
    "test": ["test_batch.bin"],
}
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def read_batches(archive: Path, wanted: list[str]) -> dict[str, bytes]:
    """The bytes of each batch file in ``wanted`` (matched by base name) read from the archive, in one pass."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                base = PurePosixPath(member.name).name
                if member.isfile() and base in wanted and base not in found:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        found[base] = handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise GanzooError(f"{archive} is not a readable tar.gz archive ({exc}); delete it and run again") from None
    missing = [name for name in wanted if name not in found]
    if missing:
        raise GanzooError(
            f"{archive} lacks {', '.join(missing)}; it is not the CIFAR-10 binary archive, delete it and run again"
        )
    return found


def parse_batch(raw: bytes, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``uint8 [N, 3, 32, 32]`` and labels of one binary batch."""
    if len(raw) == 0 or len(raw) % RECORD:
        raise GanzooError(
            f"CIFAR-10 batch {label} has {len(raw)} bytes, not a multiple of {RECORD}; delete the archive and run again"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise GanzooError(
            f"CIFAR-10 batch {label} has label {int(labels.max())} (expected 0..9); delete the archive and run again"
        )
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(split: str, size: int, folder: Path) -> Samples:
    """CIFAR-10 ``split`` as ``uint8 [N, 3, size, size]`` with ``int64`` labels 0..9."""
    paths = ensure_files("cifar10", folder)
    wanted = BATCHES["train"] + BATCHES["test"] if split == "all" else BATCHES[split]
    raw = read_batches(paths[ARCHIVE], wanted)
    parsed = [parse_batch(raw[name], name) for name in wanted]
    images = torch.from_numpy(np.concatenate([im for im, _ in parsed]))
    labels = torch.from_numpy(np.concatenate([lab for _, lab in parsed]))
    return Samples(
        data=resize_uint8(images, size),
        kind="image",
        labels=labels,
        num_classes=10,
        info={
            "name": "cifar10",
            "split": split,
            "size": size,
            "root": str(folder),
            "source": SOURCES["cifar10"]["url"] + ARCHIVE,
            "classes": CLASSES,
        },
    )
