"""The metric and feature-extractor interfaces that metric plugins implement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ganzoo.options import Component

if TYPE_CHECKING:
    from torch import Tensor

    from ganzoo.data import Samples


def rgb_images(images: Tensor) -> Tensor:
    """``[N, C, H, W]`` images with three channels (one channel is repeated); a UsageError for other shapes."""
    from ganzoo.errors import UsageError

    if images.ndim != 4:
        raise UsageError(f"feature extractors take [N, C, H, W] images, got shape {list(images.shape)}")
    if images.shape[1] == 1:
        return images.repeat(1, 3, 1, 1)
    if images.shape[1] != 3:
        raise UsageError(f"feature extractors take 1- or 3-channel images, got {images.shape[1]} channels")
    return images


class FeatureExtractor(Component):
    """Maps images in [-1, 1] to feature vectors (and, where it can, class logits).

    Registered through ``register_features``. A ``takes_argument`` extractor is named
    ``NAME:ARGUMENT`` (``timm:resnet50``) and receives ``ARGUMENT`` as the first positional
    argument of ``__init__``; other options are typed keyword arguments, as for every
    component. Keep torch imports inside the methods: plugins are imported to be listed.

    ``features`` and ``logits`` get one batch at a time, already on the device passed to
    ``to``, and are called under ``torch.inference_mode()``; they resize and normalise the
    images to whatever the network expects.
    """

    takes_argument: bool = False
    has_logits: bool = False  # True when ``logits`` returns class logits (metrics ``is`` and ``classes``)
    batch_size: int = 200  # images per call that evaluation feeds it

    def features(self, images: Tensor) -> Tensor:
        """``[N, C, H, W]`` images in [-1, 1] to ``[N, D]`` features."""
        raise NotImplementedError

    def logits(self, images: Tensor) -> Tensor | None:
        """Class logits ``[N, K]`` when the extractor is a classifier; ``None`` otherwise."""
        return None

    def protocol(self) -> dict[str, Any]:
        """What a result must record about this extractor: name, weights sha256, input size.

        Keys: ``name`` (how to ask for it again, e.g. ``timm:resnet50``), ``sha256`` (of the
        weights file, or ``None`` when unknown) and ``input_size`` (the side in pixels of the
        images the network actually sees), plus anything else that changes the numbers.
        """
        return {}

    def to(self, device: Any) -> FeatureExtractor:
        """Move the network to ``device`` (a torch device or its name); returns ``self``."""
        return self


class MetricContext:
    """What ``Metric.compute`` and ``Metric.check`` may use besides the two sample tensors.

    ``ganzoo.metrics.evaluate`` hands each metric its own context; the feature cache behind
    it is shared, so metrics that ask for the same extractor on the same tensor (fid, kid,
    prdc) extract once.

    Attributes:
        samples: the real ``ganzoo.Samples`` of the evaluated split (``kind``, ``labels``,
            ``num_classes``, ``modes``, ``mode_std``, ``info``). Its ``data`` is the whole
            split; ``real`` passed to ``compute`` is the subset actually scored.
        real_labels: labels of the rows of ``real`` when the data set has labels, else ``None``.
        fake_labels: the classes a class-conditional generator was asked for, one per generated
            sample (every class in turn; ``evaluate(..., num_classes=K)``), else ``None``.
        protocol: the dictionary that becomes ``Result.protocol``; already holds the
            counts, data name, split and seed; ``features``/``logits`` add the extractor's
            name, weights sha256 and input size; a metric may add its own entries.
        seed: the evaluation seed, for metrics that draw random subsets.
        device: the torch device feature extraction runs on.
    """

    samples: Samples
    real_labels: Tensor | None
    fake_labels: Tensor | None = None
    protocol: dict[str, Any]
    seed: int
    device: Any

    def extractor(self, spec: str | None = None) -> FeatureExtractor:
        """The feature extractor named ``spec`` (built once); empty or ``None``: the default for this data."""
        raise NotImplementedError

    def features(self, x: Tensor, spec: str | None = None) -> Tensor:
        """``[N, D]`` features of ``x`` (``real`` or ``fake``) from extractor ``spec``; points pass through as they
        are."""
        raise NotImplementedError

    def logits(self, x: Tensor, spec: str | None = None) -> Tensor:
        """``[N, K]`` class logits of ``x`` from classifier ``spec``; a UsageError when it has none."""
        raise NotImplementedError


class Metric(Component):
    """Scores generated samples against real ones and returns named numbers.

    Options are typed keyword arguments of ``__init__``. ``applies_to`` says which data it
    scores; ``min_samples`` (a class attribute an instance may override from its options)
    is the fewest generated and real samples it accepts.
    """

    applies_to: Literal["image", "points", "any"] = "any"
    min_samples: int = 2

    def check(self, context: MetricContext) -> None:
        """Raise ``ganzoo.UsageError`` when this metric cannot score this data (called before sampling)."""

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        """Figures for ``fake`` against ``real`` (both in model units; images in [-1, 1]).

        ``real`` and ``fake`` are float tensors on the CPU: ``[N, C, H, W]`` images or
        ``[N, D]`` points. Use ``context.features(real)`` / ``context.features(fake)`` for
        cached features and ``context.logits(...)`` for class logits.
        """
        raise NotImplementedError
