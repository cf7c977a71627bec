"""The data-set interface: real samples, scaled or scalable to [-1, 1], their shape, and what a data set declares
(licence, feature extractor, Hub dataset id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ganzoo.options import Component

if TYPE_CHECKING:
    from torch import Tensor


@dataclass
class Samples:
    """A whole data set held in memory.

    Images are ``uint8`` tensors ``[N, C, H, W]`` (0..255, scaled to [-1, 1] per batch
    on the device); points are ``float32`` tensors ``[N, D]`` already in model units.
    """

    data: Tensor
    kind: Literal["image", "points"]
    labels: Tensor | None = None
    num_classes: int | None = None
    modes: Tensor | None = None
    mode_std: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[1:])

    def __len__(self) -> int:
        return int(self.data.shape[0])


def to_model_range(batch: Tensor) -> Tensor:
    """Scale a batch of stored samples to the generator's range: uint8 images to [-1, 1], floats as they are."""
    import torch

    if batch.dtype == torch.uint8:
        return batch.float().div_(127.5).sub_(1.0)
    return batch.float()


def stratified_split(labels: Any, test_size: int | float, seed: int = 0) -> tuple[Any, Any]:
    """A labelled data set's fixed split: scikit-learn's ``train_test_split`` of the indices (``test_size`` samples,
    or that share of them), stratified by ``labels``, with ``random_state=seed``; the train and test indices, each
    sorted."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train, test = train_test_split(indices, test_size=test_size, random_state=seed, stratify=labels)
    return np.sort(train), np.sort(test)


class Dataset(Component):
    """Loads real samples. ``takes_argument`` data sets are named ``NAME:ARGUMENT`` (``folder:PATH``)."""

    takes_argument: bool = False
    kind: Literal["image", "points"] = "image"
    # The data's licence as a Hub licence id (e.g. "cc-by-4.0"); model cards of generators trained on it default to it.
    license: str | None = None
    # The registered feature extractor metrics use on these images by default (e.g. "digits-cnn", a classifier made
    # for them); None: the standard Inception network. A split's ``Samples.info["features"]`` overrides it.
    features: str | None = None
    # The data's Hugging Face Hub dataset id (e.g. "ylecun/mnist"); model cards of generators trained on it link it
    # and report their metrics against it.
    hub_dataset: str | None = None

    @classmethod
    def hub_dataset_for(cls, argument: str | None) -> str | None:
        """The Hub dataset id of the data this class loads when named with ``argument`` (``NAME:ARGUMENT``):
        ``hub_dataset``, unless a data set whose argument names the Hub dataset says otherwise (``hf:ORG/NAME``)."""
        return cls.hub_dataset

    def load(self, split: str = "train") -> Samples:
        """Every sample of ``split`` (``train``, ``test`` or ``all``) in memory; any other split is a UsageError."""
        raise NotImplementedError
