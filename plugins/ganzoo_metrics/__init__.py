"""Built-in metrics (fid, kid, prdc, is, modes, classes) and feature extractors (digits-cnn, mnist-cnn, inception);
timm:MODEL lives in the timm plugin.

Importing this plugin imports neither torch nor numpy: the work happens in
``ganzoo.metrics.distances`` and in this package's submodules, imported inside methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from ganzoo import Range, hookimpl
from ganzoo.errors import UsageError
from ganzoo.metrics.base import FeatureExtractor, Metric, MetricContext

if TYPE_CHECKING:
    from torch import Tensor


# ---------------------------------------------------------------- metrics


class FID(Metric):
    """Fréchet distance between Gaussian fits of real and generated features (Heusel et al. 2017).

    ``features``: the extractor; empty means the default for the data (``digits-cnn`` for digits, ``mnist-cnn``
    for mnist-5k and mnist, ``inception`` for other images; 2-D points are scored on their coordinates).
    """

    applies_to = "any"
    min_samples = 2

    def __init__(self, features: str = "") -> None:
        self.features = features

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import feature_statistics, frechet_distance

        mu_r, sigma_r = feature_statistics(context.features(real, self.features))
        mu_f, sigma_f = feature_statistics(context.features(fake, self.features))
        return {"fid": frechet_distance(mu_r, sigma_r, mu_f, sigma_f)}


class KID(Metric):
    """Kernel distance: unbiased squared MMD with a cubic polynomial kernel, mean and std over subsets (Binkowski et al. 2018).

    ``subsets`` random subsets of ``subset_size`` samples each, at most half the samples at hand
    so that subsets differ (``kid_subset_size`` and ``kid_subsets`` in the protocol say what was
    used); ``kid_std`` is left out when subsets hold fewer than ``KID_MIN_STD_SUBSET`` (50)
    samples or there is one subset. ``features`` as for ``fid``.
    """  # noqa: E501 (the first line is the `ganzoo list` description, one line)

    applies_to = "any"
    min_samples = 2

    def __init__(
        self,
        subsets: Annotated[int, Range(1, 10_000)] = 100,
        subset_size: Annotated[int, Range(2, 1_000_000)] = 1000,
        features: str = "",
    ) -> None:
        self.subsets = subsets
        self.subset_size = subset_size
        self.features = features

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import kid, kid_subset_size

        real_f = context.features(real, self.features)
        fake_f = context.features(fake, self.features)
        context.protocol["kid_subset_size"] = kid_subset_size(real_f.shape[0], fake_f.shape[0], self.subset_size)
        context.protocol["kid_subsets"] = self.subsets
        mean, std = kid(real_f, fake_f, subsets=self.subsets, subset_size=self.subset_size, seed=context.seed)
        return {"kid": mean} if std is None else {"kid": mean, "kid_std": std}


class PRDC(Metric):
    """Precision, recall, density and coverage from k-nearest-neighbour balls in feature space (Naeem et al. 2020).

    ``k``: the neighbour whose distance sets each ball's radius; ``features`` as for ``fid``.
    """

    applies_to = "any"

    def __init__(self, k: Annotated[int, Range(1, 1000)] = 5, features: str = "") -> None:
        self.k = k
        self.features = features
        self.min_samples = k + 1

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import prdc

        return prdc(context.features(real, self.features), context.features(fake, self.features), k=self.k)


def _check_classifier(name: str, spec: str, context: MetricContext) -> None:
    extractor = context.extractor(spec)
    if not extractor.has_logits:
        used = (extractor.protocol() or {}).get("name") or spec or "the default extractor"
        raise UsageError(
            f"metric {name!r} needs a classifier with class logits, and {used!r} has none; "
            f"set its option features=digits-cnn or features=inception"
        )


class InceptionScore(Metric):
    """Inception Score: exp of the mean KL between each sample's class prediction and the average one (Salimans et al. 2016).

    ``splits``: the samples are scored in this many parts, giving a mean and std; ``features``: the classifier
    (default per data: ``digits-cnn`` for digits, ``mnist-cnn`` for MNIST, else ``inception``).
    """  # noqa: E501 (the first line is the `ganzoo list` description, one line)

    applies_to = "image"

    def __init__(self, splits: Annotated[int, Range(1, 1000)] = 10, features: str = "") -> None:
        self.splits = splits
        self.features = features
        self.min_samples = max(2, splits)

    def check(self, context: MetricContext) -> None:
        _check_classifier("is", self.features, context)

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import inception_score

        mean, std = inception_score(context.logits(fake, self.features), splits=self.splits)
        return {"is": mean, "is_std": std}


class Modes(Metric):
    """Modes covered, % high-quality samples and reverse KL of the mode histogram, for 2-D mixtures (VEEGAN, PacGAN).

    A sample is high quality within ``threshold`` standard deviations of its nearest mode;
    see ``ganzoo.metrics.distances.mode_statistics``. Needs a data set with known modes
    (``ring``, ``grid``).
    """

    applies_to = "points"
    min_samples = 1

    def __init__(self, threshold: Annotated[float, Range(0, min_exclusive=True)] = 3.0) -> None:
        self.threshold = threshold

    def check(self, context: MetricContext) -> None:
        samples = context.samples
        if samples.modes is None or samples.mode_std is None:
            where = context.protocol.get("data") or "this data set"
            raise UsageError(f"metric 'modes' needs a data set with known modes (ring, grid); {where} has none")

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import mode_statistics

        samples = context.samples
        context.protocol["mode_count"] = int(samples.modes.shape[0])
        context.protocol["mode_std"] = float(samples.mode_std)
        return mode_statistics(fake, samples.modes, samples.mode_std, threshold=self.threshold)


class Classes(Metric):
    """Classes covered by generated samples and the KL of their class histogram from the data's, by a classifier.

    ``features``: the classifier (default per data: ``digits-cnn`` for digits, ``mnist-cnn`` for MNIST). The data's
    histogram comes from the data set's labels when the classifier has exactly its
    ``num_classes`` outputs, otherwise from the classifier's predictions on the real samples
    (recorded as ``classes_reference`` in the protocol). See
    ``ganzoo.metrics.distances.class_statistics`` for the KL and its smoothing.
    """

    applies_to = "image"

    def __init__(self, features: str = "") -> None:
        self.features = features

    def check(self, context: MetricContext) -> None:
        _check_classifier("classes", self.features, context)

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import class_statistics

        fake_logits = context.logits(fake, self.features)
        num_classes = int(fake_logits.shape[1])
        labels = context.real_labels
        if labels is not None and context.samples.num_classes == num_classes:
            context.protocol["classes_reference"] = "labels"
        else:
            labels = context.logits(real, self.features).argmax(dim=1)
            context.protocol["classes_reference"] = "predictions"
        context.protocol["num_classes"] = num_classes
        return class_statistics(fake_logits.argmax(dim=1), labels, num_classes)


class ClassAccuracy(Metric):
    """For class-conditional generators: how often the classifier recognises the class each sample was asked for.

    ``accuracy``: % of generated samples classified as their requested class (every class asked for in turn);
    ``worst_class``: the lowest per-class %. ``features``: the classifier (default per data: ``digits-cnn``).
    """

    applies_to = "image"

    def __init__(self, features: str = "") -> None:
        self.features = features

    def check(self, context: MetricContext) -> None:
        if context.fake_labels is None:
            raise UsageError("metric 'class-accuracy' scores class-conditional generators; this generator is not one")
        _check_classifier("class-accuracy", self.features, context)

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        import torch

        predicted = context.logits(fake, self.features).argmax(dim=1)
        asked = context.fake_labels.to(predicted.device)
        right = (predicted == asked).float()
        per_class = [float(right[asked == c].mean()) for c in torch.unique(asked).tolist()]
        return {"accuracy": round(100 * float(right.mean()), 4), "worst_class": round(100 * min(per_class), 4)}


class IntraFID(Metric):
    """For class-conditional generators: each class's FID against that class's real images, averaged.

    The FID of each class's generated samples against that class's real ones (Miyato & Koyama 2018), averaged
    over the classes. ``intra_fid``: the mean, ``worst_class_fid``: the
    largest. Needs labelled real data; each class needs at least 2 samples on both sides (more for a stable
    figure: with the 360 test digits a class has about 36). ``features`` as for ``fid``.
    """

    applies_to = "image"

    def __init__(self, features: str = "") -> None:
        self.features = features

    def check(self, context: MetricContext) -> None:
        if context.fake_labels is None:
            raise UsageError("metric 'intra-fid' scores class-conditional generators; this generator is not one")
        if context.real_labels is None:
            raise UsageError("metric 'intra-fid' needs a data set with class labels")

    def compute(self, real: Tensor, fake: Tensor, context: MetricContext) -> dict[str, float]:
        from ganzoo.metrics.distances import feature_statistics, frechet_distance

        real_features, fake_features = context.features(real, self.features), context.features(fake, self.features)
        real_labels, fake_labels = context.real_labels, context.fake_labels
        scores = []
        for c in sorted(set(real_labels.tolist()) & set(fake_labels.tolist())):
            r, f = real_features[real_labels == c], fake_features[fake_labels == c]
            if len(r) >= 2 and len(f) >= 2:
                scores.append(frechet_distance(*feature_statistics(r), *feature_statistics(f)))
        if not scores:
            raise UsageError("metric 'intra-fid' found no class with 2 or more real and generated samples; raise --n")
        context.protocol["intra_fid_classes"] = len(scores)
        return {"intra_fid": sum(scores) / len(scores), "worst_class_fid": max(scores)}


# ---------------------------------------------------------------- feature extractors


class DigitsCNN(FeatureExtractor):
    """A small CNN trained on the digits data set (shipped weights, offline): 128-d features and 10 class logits.

    Takes 1x32x32 images in [-1, 1]; other sizes are resized bilinearly to 32 and three
    channels are averaged to one. Trained by ``tools/train_digits_cnn.py``.
    """

    has_logits = True
    batch_size = 500

    def __init__(self) -> None:
        from ganzoo_metrics import digits_cnn

        self._module = digits_cnn
        self._net = digits_cnn.load_model()

    def to(self, device: Any) -> DigitsCNN:
        self._net = self._net.to(device)
        return self

    def features(self, images: Tensor) -> Tensor:
        return self._net.features(self._module.prepare(images))

    def logits(self, images: Tensor) -> Tensor:
        return self._net(self._module.prepare(images))

    def protocol(self) -> dict[str, Any]:
        return {
            "name": "digits-cnn",
            "sha256": self._module.file_sha256(self._module.WEIGHTS),
            "input_size": self._module.INPUT_SIZE,
        }


class MnistCNN(DigitsCNN):
    """digits-cnn's design, wider, trained on real MNIST digits (shipped, sha256-checked, offline): 128-d features, 10 logits.

    Trained by ``tools/train_mnist_cnn.py`` on ``mnist-5k``'s 4,000-image train split only; its accuracy on the
    1,000-image test split is ``ganzoo_metrics.mnist_cnn.TEST_ACCURACY``. Takes images in [-1, 1], resized to
    32x32 like digits-cnn (28 px MNIST is resized the same way by the data sets).
    """  # noqa: E501 (the first line is the `ganzoo list` description, one line)

    def __init__(self) -> None:
        from ganzoo_metrics import digits_cnn, mnist_cnn

        self._module = digits_cnn
        self._weights = mnist_cnn.WEIGHTS
        self._net = mnist_cnn.load_model()

    def features(self, images: Tensor) -> Tensor:
        return self._net.features(self._module.prepare(images, "mnist-cnn"))

    def logits(self, images: Tensor) -> Tensor:
        return self._net(self._module.prepare(images, "mnist-cnn"))

    def protocol(self) -> dict[str, Any]:
        return {
            "name": "mnist-cnn",
            "sha256": self._module.file_sha256(self._weights),
            "input_size": self._module.INPUT_SIZE,
        }


class Inception(FeatureExtractor):
    """The standard FID Inception v3 (TensorFlow weights via torch-fidelity): 2048-d pool features and 1008 logits.

    Needs the optional extra: ``pip install 'ganzoo[fidelity]'``. Images are turned into
    uint8 RGB (one channel repeated) and resized to 299 px by torch-fidelity. ``weights``: a
    local copy of ``weights-inception-2015-12-05-6726825d.pth`` (default: torch-fidelity's
    download cache).
    """

    has_logits = True
    batch_size = 100

    def __init__(self, weights: str = "") -> None:
        from ganzoo_metrics import extractors

        self._module = extractors
        self.weights = weights
        self._net = extractors.load_inception(weights)

    def to(self, device: Any) -> Inception:
        self._net = self._net.to(device)
        return self

    def features(self, images: Tensor) -> Tensor:
        return self._module.inception_outputs(self._net, images)[0]

    def logits(self, images: Tensor) -> Tensor:
        return self._module.inception_outputs(self._net, images)[1]

    def protocol(self) -> dict[str, Any]:
        from ganzoo_metrics.digits_cnn import file_sha256

        return {
            "name": "inception",
            "sha256": file_sha256(self._module.inception_weights_path(self.weights)),
            "input_size": self._module.INCEPTION_SIZE,
        }


@hookimpl
def register_metrics(register):
    register("fid", FID)
    register("kid", KID)
    register("prdc", PRDC)
    register("is", InceptionScore)
    register("modes", Modes)
    register("classes", Classes)
    register("class-accuracy", ClassAccuracy)
    register("intra-fid", IntraFID)


@hookimpl
def register_features(register):
    register("digits-cnn", DigitsCNN)
    register("mnist-cnn", MnistCNN)
    register("inception", Inception)
