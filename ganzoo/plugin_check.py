"""``ganzoo check NAME``: the contracts of ``ganzoo.contracts`` run on one registered entry alone, as a plugin's CI
would run them — a data set's splits, an architecture's networks on a probe batch, a metric's figures, a variant's
whole set-up — without training or writing anything."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ganzoo.contracts import who
from ganzoo.errors import UsageError

__all__ = ["CHECKED_KINDS", "check"]

CHECKED_KINDS = ("variant", "architecture", "dataset", "metric")
# The shapes an architecture is probed on when no data set is named: one small image shape and 2-D points.
PROBE_SHAPES: tuple[tuple[str, tuple[int, ...]], ...] = (("image", (1, 32, 32)), ("points", (2,)))
PROBE_CLASSES = 3  # classes of the class-conditional networks probed for architectures that can split D
# The data set a metric is checked on when none is named: ganzoo's own, offline and small.
METRIC_DATA = {"points": "ring", "image": "digits", "any": "ring"}
METRIC_SAMPLES = 256  # samples scored when checking a metric (more when the metric asks for more)


def check(name: str, kind: str | None = None, data: str | None = None, device: str = "cpu") -> list[str]:
    """Check every entry ``name`` reaches (of ``kind``, when given); one "ok" line per entry, or a ContractError
    (or another ganzoo error) for the first rule broken. ``data`` names the data set to probe networks and score
    metrics on."""
    from ganzoo.plugins import registry

    reg = registry()
    kinds = [kind] if kind else [k for k in CHECKED_KINDS if (k, name) in reg]
    if not kinds:
        from ganzoo.registry import KINDS

        other = [k for k in KINDS if (k, name) in reg]
        if other:
            raise UsageError(
                f"{name!r} is a {' and a '.join(other)}; `ganzoo check` checks variants, architectures, "
                "data sets and metrics"
            )
        reg.get("variant", name)  # the unknown-name error, with suggestions
    lines = []
    for k in kinds:
        entry = reg.get(k, name)
        checker = {"variant": _variant, "architecture": _architecture, "dataset": _dataset, "metric": _metric}[k]
        lines.append(f"ok: {who(entry)}: {checker(name, data, device)}")
    return lines


def _load(spec: str, split: str) -> Any:
    from ganzoo.training.loop import load_data

    return load_data(SimpleNamespace(data=spec, data_options={}), split)  # checks the data-set contract


def _describe(samples: Any) -> str:
    words = "images" if samples.kind == "image" else "points"
    labels = f", {samples.num_classes} classes" if samples.labels is not None else ""
    return f"{len(samples)} {words} {list(samples.sample_shape)}{labels}"


def _dataset(name: str, data: str | None, device: str) -> str:
    parts = []
    for split in ("train", "test"):
        parts.append(f"{split}: {_describe(_load(name, split))}")
    return "; ".join(parts)


def _architecture(name: str, data: str | None, device: str) -> str:
    import torch

    from ganzoo.contracts import probe_networks
    from ganzoo.generator import build_networks
    from ganzoo.packing import packed_discriminator
    from ganzoo.plugins import registry

    entry = registry().get("architecture", name)
    if data is not None:
        samples = _load(data, "train")
        shapes: tuple[tuple[str, tuple[int, ...]], ...] = ((samples.kind, samples.sample_shape),)
    else:
        shapes = PROBE_SHAPES
    arch = entry.obj.create(f"architecture {name!r}")
    probed = []
    for kind, shape in shapes:
        latent = arch.default_latent_dim(shape)
        try:
            arch.check(shape, latent)
        except UsageError:
            if data is not None:
                raise
            continue  # this architecture makes other shapes
        networks = []
        g, d = build_networks(name, {}, shape, latent)
        networks.append(("plain", g, d, {}))
        networks.append(("packed (pack=2)", None, packed_discriminator(name, {}, shape, 2), {"pack": 2}))
        if callable(getattr(arch, "discriminator_parts", None)):
            cg, cd = build_networks(name, {}, shape, latent, num_classes=PROBE_CLASSES)
            networks.append(("class-conditional", cg, cd, {"num_classes": PROBE_CLASSES}))
        words = []
        for label, gen, disc, extra in networks:
            gen = g if gen is None else gen
            gen, disc = gen.to(device), disc.to(device)
            with torch.no_grad():
                probe_networks(gen, disc, entry, sample_shape=shape, latent_dim=latent, kind=kind, **extra)
            words.append(label)
        probed.append(f"{kind} {list(shape)} ({', '.join(words)})")
    if not probed:
        tried = " or ".join(f"{kind} {list(shape)}" for kind, shape in shapes)
        raise UsageError(f"architecture {name!r} makes neither {tried}; name a data set it makes with --data")
    return "networks probed on " + "; ".join(probed)


def _metric(name: str, data: str | None, device: str) -> str:
    import torch

    from ganzoo.data import to_model_range
    from ganzoo.metrics.evaluate import evaluate
    from ganzoo.plugins import registry

    metric = registry().get("metric", name).obj.create(f"metric {name!r}")
    spec = data or METRIC_DATA.get(metric.applies_to, "ring")
    real = _load(spec, "test")
    n = min(len(real), max(METRIC_SAMPLES, int(metric.min_samples)))
    classes = int(real.num_classes or 0) if real.labels is not None else 0

    def sample(count: int, seed: int) -> torch.Tensor:
        """Real samples, lightly perturbed (every class in turn when the data have classes): a plausible generator."""
        rng = torch.Generator().manual_seed(seed + 1)
        if classes:  # sample i is of class i % classes, as evaluate() tells the metric
            pools = [torch.nonzero(real.labels == c).reshape(-1) for c in range(classes)]
            index = torch.tensor([_pick(pools[i % classes], rng) for i in range(count)])
        else:
            index = torch.randint(len(real), (count,), generator=rng)
        x = to_model_range(real.data[index])
        x = x + 0.05 * torch.randn(x.shape, generator=rng)
        return x.clamp(-1, 1) if real.kind == "image" else x

    results = evaluate(sample, real, [name], n, data=spec, device=device, num_classes=classes)
    figures = ", ".join(f"{k} {v:.4g}" for k, v in results[0].values.items())
    return f"scored {n} samples of {spec!r}: {figures}"


def _pick(pool: Any, rng: Any) -> int:
    """One index of ``pool`` (0 when a class has no sample in this split)."""
    import torch

    return int(pool[torch.randint(len(pool), (), generator=rng)]) if len(pool) else 0


def _variant(name: str, data: str | None, device: str) -> str:
    from ganzoo.training.config import resolve_config
    from ganzoo.training.distributed import close_world
    from ganzoo.training.loop import Trainer

    config = resolve_config(name, data=data, steps=1, device=device, cuda_graphs=False)
    trainer = Trainer(config, Path("ganzoo-check-writes-nothing"), progress=False)
    try:
        trainer.setup()  # loads the data and probes the networks as a run would, before anything is written
    finally:
        close_world(trainer.world)
    return (
        f"data set {config.data!r} ({_describe(trainer.samples)}), architecture {config.architecture!r}, "
        f"loss {config.loss!r}: set up and probed"
    )
