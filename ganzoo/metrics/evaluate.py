"""Evaluation: score a sampler against a real data split with registered metrics, recording the protocol."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, UsageError, fold
from ganzoo.metrics.base import FeatureExtractor, Metric, MetricContext
from ganzoo.values import is_int
from ganzoo.version import __version__

if TYPE_CHECKING:
    from torch import Tensor

    from ganzoo.data import Samples

__all__ = ["Result", "evaluate", "default_features", "make_extractor", "Context"]

_KIND_WORDS = {"image": "images", "points": "points"}
_PROGRESS_FROM = 2000  # show a progress bar when extracting at least this many samples


@dataclass
class Result:
    """One metric's figures and the protocol that produced them (what a model card must record)."""

    metric: str
    values: dict[str, float]
    protocol: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "values": dict(self.values), "protocol": dict(self.protocol)}


def default_features(real: Samples, data: str = "") -> str:
    """The extractor a metric uses when neither it nor the caller names one.

    A split may name its own in ``Samples.info["features"]``; otherwise the data set declares one
    (``Dataset.features``: ``digits-cnn``, a small classifier trained on digits, for ``digits``), found through
    the registry by ``data`` or, without it, by ``info["name"]`` (eval and bench load the split through that entry,
    so a missing plugin has been named already); otherwise ``inception`` (the standard FID
    Inception v3, needs torch-fidelity), so figures are comparable with published ones.
    """
    info = real.info or {}
    if info.get("features"):
        return str(info["features"])
    from ganzoo.plugins import registry

    name = data or str(info.get("name") or "")
    if name and ("dataset", name) in registry():  # (``data`` is also a mere label in the protocol for Python callers)
        declared = getattr(registry().get("dataset", name).obj, "features", None)
        if isinstance(declared, str) and declared:
            return declared
    return "inception"


def make_extractor(spec: str, device: Any = "cpu") -> FeatureExtractor:
    """Build the registered feature extractor ``spec`` (``NAME`` or ``NAME:ARGUMENT``) on ``device``."""
    from ganzoo.plugins import registry

    entry = registry().get("features", spec)
    name, argument = registry().split("features", spec)
    cls = entry.obj
    if cls.takes_argument:
        if not argument:
            raise UsageError(f"features {name!r} needs an argument: {name}:ARGUMENT")
        extractor = cls(argument)
    elif argument is not None:
        raise UsageError(f"features {name!r} takes no argument; use {name!r}")
    else:
        extractor = cls()
    return extractor.to(device)


class _FeatureCache:
    """Extractors built once and their outputs per (extractor, output, tensor), shared by all metrics."""

    def __init__(self, device: Any, default_spec: str, kind: str, data: str) -> None:
        self.device = device
        self.default_spec = default_spec
        self.kind = kind
        self.data = data
        self._extractors: dict[str, FeatureExtractor] = {}
        self._values: dict[tuple[str, str, int], tuple[Tensor, Tensor]] = {}

    def resolve(self, spec: str | None) -> str:
        spec = (spec or "").strip()
        return spec or self.default_spec

    def extractor(self, spec: str | None) -> tuple[str, FeatureExtractor]:
        spec = self.resolve(spec)
        if self.kind != "image":
            raise UsageError(
                f"feature extractors take images; {self.data or 'the data'} "
                f"holds {_KIND_WORDS.get(self.kind, self.kind)}"
            )
        if spec not in self._extractors:
            self._extractors[spec] = make_extractor(spec, self.device)
        return spec, self._extractors[spec]

    def output(self, x: Tensor, spec: str | None, what: str) -> tuple[Tensor, FeatureExtractor | None]:
        if what == "features" and not self.resolve(spec):
            return x, None  # points, with no extractor named: the coordinates are the features
        name, extractor = self.extractor(spec)
        if what == "logits" and not extractor.has_logits:
            raise UsageError(
                f"features {name!r} gives no class logits; use a classifier such as digits-cnn or inception"
            )
        key = (name, what, id(x))
        if key not in self._values:
            self._values[key] = (x, _extract(extractor, x, what, name, self.device))
        return self._values[key][1], extractor


def _extract(extractor: FeatureExtractor, x: Tensor, what: str, name: str, device: Any) -> Tensor:
    """Run ``extractor.features`` or ``.logits`` over ``x`` in batches; float32 on the CPU."""
    import torch
    from tqdm.auto import tqdm

    method = extractor.features if what == "features" else extractor.logits
    batch_size = max(1, int(getattr(extractor, "batch_size", 200)))
    parts = []
    with (
        torch.inference_mode(),
        tqdm(
            total=x.shape[0],
            desc=f"{what} ({name})",
            unit="sample",
            file=sys.stderr,
            leave=False,
            disable=x.shape[0] < _PROGRESS_FROM,
        ) as bar,
    ):
        for start in range(0, x.shape[0], batch_size):
            batch = x[start : start + batch_size].to(device)
            out = method(batch)
            if out is None:
                raise UsageError(f"features {name!r} gives no class logits")
            parts.append(out.detach().float().reshape(batch.shape[0], -1).cpu())
            bar.update(batch.shape[0])
    return torch.cat(parts)


class Context(MetricContext):
    """The ``MetricContext`` that ``evaluate`` gives each metric (see ``ganzoo.metrics.base``)."""

    def __init__(
        self,
        cache: _FeatureCache,
        samples: Samples,
        real_labels: Tensor | None,
        protocol: dict[str, Any],
        seed: int,
        device: Any,
    ) -> None:
        self._cache = cache
        self.samples = samples
        self.real_labels = real_labels
        self.fake_labels: Tensor | None = None
        self.protocol = protocol
        self.seed = seed
        self.device = device

    def extractor(self, spec: str | None = None) -> FeatureExtractor:
        name, extractor = self._cache.extractor(spec)
        self._record(name, extractor)
        return extractor

    def features(self, x: Tensor, spec: str | None = None) -> Tensor:
        out, extractor = self._cache.output(x, spec, "features")
        if extractor is None:
            self.protocol["features"] = "coordinates"
        else:
            self._record(self._cache.resolve(spec), extractor)
        return out

    def logits(self, x: Tensor, spec: str | None = None) -> Tensor:
        out, extractor = self._cache.output(x, spec, "logits")
        self._record(self._cache.resolve(spec), extractor)
        return out

    def _record(self, spec: str, extractor: FeatureExtractor | None) -> None:
        if extractor is None:
            return
        info = dict(extractor.protocol() or {})
        self.protocol["features"] = info.pop("name", spec)
        self.protocol["features_sha256"] = info.pop("sha256", None)
        self.protocol["features_input_size"] = info.pop("input_size", None)
        for key, value in info.items():
            self.protocol[f"features_{key}"] = value


def _build_metric(name: str, options: dict[str, Any]) -> Metric:
    from ganzoo.plugins import registry

    cls = registry().get("metric", name).obj
    return cls.create(owner=f"metric {name!r}", **options)


def evaluate(
    sample: Callable[[int, int], Tensor],
    real: Samples,
    metrics: list[str],
    n: int,
    seed: int = 0,
    features: str | None = None,
    data: str = "",
    split: str = "test",
    device: Any = "cpu",
    options: dict[str, dict[str, Any]] | None = None,
    num_classes: int = 0,
) -> list[Result]:
    """Score ``n`` generated samples against the real split with each named metric.

    Args:
        sample: ``sample(n, seed)`` returns ``n`` generated samples in model units:
            ``[n, C, H, W]`` float images in [-1, 1] or ``[n, D]`` points.
        real: the real split (``Dataset.load(split)``); uint8 images are scaled with
            ``ganzoo.data.to_model_range``. When it holds more than ``n`` samples a seeded
            random subset of ``n`` is scored, so real and generated counts match (PRDC
            needs that; FID/KID figures are then comparable at equal ``n``).
        metrics: registered metric names (``ganzoo list metrics``), scored in this order.
        n: how many samples to generate.
        seed: seeds the sampler, the real subset and the metrics' own draws (KID subsets).
        features: the extractor for metrics that do not name one (``fid``'s ``features``
            option, say); ``None``: ``default_features(real, data)``.
        data, split: recorded in the protocol and used in messages.
        device: where feature extraction runs.
        options: per-metric options, ``{"kid": {"subsets": 10}}``.
        num_classes: the generator is class-conditional with this many classes and ``sample(n, seed)``
            asks for every class in turn (as ``Generator.sample`` does); metrics see those labels.

    Every problem that can be seen before sampling (unknown metric, metric that does not fit
    the data, too few samples, missing extractor) raises first: the extractor a metric's
    ``features`` option names (empty: the default) is built before ``sample`` is called.
    Features are cached per extractor, so ``fid``, ``kid`` and ``prdc`` extract once.
    """
    import torch

    from ganzoo.data import to_model_range

    if isinstance(metrics, str):
        metrics = [metrics]
    names = list(dict.fromkeys(m.strip() for m in metrics if m and m.strip()))
    if not names:
        raise UsageError("name at least one metric (see: ganzoo list metrics)")
    if not is_int(n) or n < 1:
        raise UsageError(f"the number of samples must be a positive integer, got {n!r}")
    options = options or {}
    unused = sorted(set(options) - set(names))
    if unused:
        raise UsageError(f"options given for {unused[0]!r}, which is not among the metrics {', '.join(names)}")
    where = data or "the data"
    kind_words = _KIND_WORDS.get(real.kind, real.kind)
    if features and real.kind != "image":
        raise UsageError(f"feature extractors take images; {where} holds {kind_words}")

    built: list[tuple[str, Metric]] = []
    for name in names:
        metric = _build_metric(name, options.get(name, {}))
        if metric.applies_to != "any" and metric.applies_to != real.kind:
            raise UsageError(
                f"metric {name!r} applies to {_KIND_WORDS.get(metric.applies_to, metric.applies_to)}; "
                f"{where} holds {kind_words}"
            )
        need = int(metric.min_samples)
        if n < need:
            raise UsageError(f"metric {name!r} needs at least {need} samples, got {n}; raise --n")
        if len(real) < need:
            raise UsageError(f"metric {name!r} needs at least {need} real samples; {where} {split} holds {len(real)}")
        built.append((name, metric))

    n_real = min(n, len(real))
    if n_real < len(real):
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(len(real), generator=generator)[:n_real].sort().values
    else:
        index = torch.arange(len(real))
    real_x = to_model_range(real.data[index]).cpu()
    real_labels = real.labels[index].cpu() if real.labels is not None else None

    default_spec = (features or "").strip() or (default_features(real, data) if real.kind == "image" else "")
    cache = _FeatureCache(torch.device(device), default_spec, real.kind, data)
    contexts = []
    for _name, metric in built:
        protocol = {
            "data": data,
            "split": split,
            "seed": seed,
            "n_real": n_real,
            "n_generated": n,
            "sample_shape": list(real.sample_shape),
            "options": metric.get_options(),
            "ganzoo": __version__,
        }
        if (real.info or {}).get("split_note"):  # the split asked for is not there: say which images these are
            protocol["split_note"] = str(real.info["split_note"])
        context = Context(cache, real, real_labels, protocol, seed, torch.device(device))
        if num_classes:
            context.fake_labels = torch.arange(n) % num_classes
            protocol["generated_classes"] = "every class in turn"
        metric.check(context)
        named = metric.get_options().get("features")
        if real.kind == "image" and isinstance(named, str):
            try:
                context.extractor(named)  # a missing extra or unreachable weights fail now, not after sampling
            except GanzooError as exc:
                if (features or "").strip() or named.strip() or default_spec != "inception":
                    raise
                raise GanzooError(
                    f"{where} declares no feature extractor of its own, so the default is inception, which cannot be "
                    f"used here ({fold(exc, 200)}); install that, or name an extractor with --features "
                    f"(ganzoo list features; e.g. timm:MODEL)"
                ) from None
        contexts.append(context)

    fake = sample(n, seed)
    if not isinstance(fake, torch.Tensor):
        raise GanzooError(f"the sampler returned {type(fake).__name__}, not a tensor")
    fake = fake.detach().to("cpu").float()
    if fake.shape[0] != n:
        raise GanzooError(f"the sampler returned {fake.shape[0]} samples, not the {n} asked for")
    if tuple(fake.shape[1:]) != tuple(real.sample_shape):
        raise UsageError(
            f"generated samples have shape {list(fake.shape[1:])} but {where} has {list(real.sample_shape)}; "
            f"evaluate against the data the generator was trained on"
        )
    if not torch.isfinite(fake).all():
        raise GanzooError("the generated samples contain NaN or infinite values; the generator has diverged")

    from ganzoo.contracts import check_figures
    from ganzoo.plugins import registry

    results = []
    for (name, metric), context in zip(built, contexts):
        values = check_figures(metric.compute(real_x, fake, context), registry().get("metric", name))
        results.append(Result(name, values, context.protocol))
    return results
