"""The contracts plugins must keep, checked where their objects enter ganzoo: what a data set loads, what networks
return on a probe batch, what a metric scores. Each broken rule is one ``ContractError`` naming the plugin, the
entry and the rule, raised before anything is written."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

from ganzoo.errors import UsageError, fold, one_line
from ganzoo.values import is_int

if TYPE_CHECKING:
    from torch import nn

    from ganzoo.data import Samples
    from ganzoo.registry import Entry

__all__ = ["ContractError", "PROBE_BATCH", "check_figures", "check_samples", "probe_networks", "who"]

KINDS = ("image", "points")
PROBE_BATCH = 3  # samples per pack in the probe batch: odd, so a wrong batch axis rarely fits by chance
IMAGE_RANGE_SLACK = 1e-4  # how far past [-1, 1] a probe output may stray (rounding), before it is refused
_LABELS = {"dataset": "data set", "features": "feature extractor"}


class ContractError(UsageError):
    """A plugin's object broke the interface ganzoo relies on (exit 2; ``ganzoo check NAME`` shows it too)."""


def who(entry: Entry) -> str:
    """``plugin (distribution version) kind 'name'``: the entry a contract error is about."""
    source = " ".join(part for part in (entry.distribution, entry.version) if part)
    return f"{entry.plugin} ({source}) {_LABELS.get(entry.kind, entry.kind)} {entry.name!r}"


def _broken(entry: Entry, rule: str) -> ContractError:
    return ContractError(f"{who(entry)}: {rule}")


def _shape(t: Any) -> str:
    return str(list(t.shape))


# ----- data sets ------------------------------------------------------------------------------------------------
def check_samples(samples: Any, entry: Entry, split: str = "train") -> Samples:
    """``samples``, as ``entry`` (a data set) loaded it for ``split``, when it keeps the ``Samples`` contract.

    Images are ``uint8 [N, C, H, W]``; points a floating ``[N, D]`` tensor of finite values; ``kind`` is the one the
    class declares; labels, when given, an integer ``[N]`` tensor within ``0..num_classes-1``; modes ``[M, D]``.
    """
    import torch

    from ganzoo.data import Samples

    said = f"load({split!r})"
    if not isinstance(samples, Samples):
        raise _broken(entry, f"{said} returned {type(samples).__name__}, not ganzoo.Samples")
    declared = getattr(entry.obj, "kind", "image")
    if samples.kind not in KINDS:
        raise _broken(entry, f"{said} returned kind {samples.kind!r}; it must be 'image' or 'points'")
    if samples.kind != declared:
        raise _broken(
            entry,
            f"the class declares kind {declared!r} but {said} returned kind {samples.kind!r}; "
            "they must agree (set the class attribute `kind`)",
        )
    data = samples.data
    if not isinstance(data, torch.Tensor):
        raise _broken(entry, f"{said} returned data of type {type(data).__name__}, not a torch tensor")
    if data.ndim < 1:
        raise _broken(entry, f"{said} returned a scalar as data; it must be [N, C, H, W] images or [N, D] points")
    if data.shape[0] == 0:
        return samples  # an empty split: the caller says so in its own words
    if samples.kind == "image":
        if data.ndim != 4:
            raise _broken(
                entry,
                f"images must be a uint8 tensor [N, C, H, W], got shape {_shape(data)}; "
                "declare kind 'points' for vectors",
            )
        if data.dtype != torch.uint8:
            hint = " (for floats in [0, 1]: (x * 255).round().to(torch.uint8))" if data.is_floating_point() else ""
            raise _broken(
                entry,
                f"images must be uint8 0..255 [N, C, H, W], got dtype {str(data.dtype).removeprefix('torch.')}"
                f"{hint}; ganzoo scales them to [-1, 1] itself",
            )
        if min(data.shape[1:]) < 1:
            raise _broken(entry, f"images must have at least one channel and pixel, got shape {_shape(data)}")
    else:
        if data.ndim != 2 or data.shape[1] < 1:
            raise _broken(entry, f"points must be a float tensor [N, D], got shape {_shape(data)}")
        if not data.is_floating_point():
            raise _broken(
                entry, f"points must be a float tensor [N, D], got dtype {str(data.dtype).removeprefix('torch.')}"
            )
        if not bool(torch.isfinite(data).all()):
            bad = int((~torch.isfinite(data)).any(dim=1).nonzero()[0])
            raise _broken(
                entry, f"{said} returned NaN or infinite values (first in sample {bad}); every value must be finite"
            )
    _check_labels(samples, entry, said)
    _check_modes(samples, entry, said)
    return samples


def _check_labels(samples: Samples, entry: Entry, said: str) -> None:
    import torch

    labels, k = samples.labels, samples.num_classes
    if k is not None and (not is_int(k) or k < 1):
        raise _broken(entry, f"{said} returned num_classes {k!r}; it must be an integer >= 1")
    if labels is None:
        return
    n = len(samples)
    if not isinstance(labels, torch.Tensor):
        raise _broken(
            entry, f"{said} returned labels of type {type(labels).__name__}; they must be an integer tensor [N]"
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise _broken(
            entry, f"labels must be an integer tensor [N], got dtype {str(labels.dtype).removeprefix('torch.')}"
        )
    if tuple(labels.shape) != (n,):
        raise _broken(entry, f"labels must be one per sample, shape [{n}], got {_shape(labels)}")
    if k is None:
        raise _broken(
            entry, f"{said} returned labels without num_classes; set num_classes (labels are 0..num_classes-1)"
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= k:
        bad = low if low < 0 else high
        raise _broken(
            entry, f"label {bad} is outside 0..{k - 1} (num_classes is {k}); labels must lie in 0..num_classes-1"
        )


def _check_modes(samples: Samples, entry: Entry, said: str) -> None:
    import torch

    modes = samples.modes
    if modes is None:
        return
    if samples.kind != "points":
        raise _broken(entry, f"{said} returned modes for images; modes are the centres of a mixture of points")
    dim = samples.data.shape[1]
    if not isinstance(modes, torch.Tensor) or not modes.is_floating_point() or modes.ndim != 2 or modes.shape[1] != dim:
        shape = _shape(modes) if isinstance(modes, torch.Tensor) else type(modes).__name__
        raise _broken(entry, f"modes must be a float tensor [M, {dim}] (one centre per row), got {shape}")
    if not bool(torch.isfinite(modes).all()):
        raise _broken(entry, f"{said} returned NaN or infinite modes")
    std = samples.mode_std
    if std is not None and (
        isinstance(std, bool) or not isinstance(std, numbers.Real) or not math.isfinite(std) or std <= 0
    ):
        raise _broken(entry, f"mode_std must be a finite number > 0, got {std!r}")


# ----- networks ---------------------------------------------------------------------------------------------------
def probe_networks(
    generator: nn.Module,
    discriminator: nn.Module | None,
    entry: Entry,
    *,
    sample_shape: tuple[int, ...],
    latent_dim: int,
    kind: str,
    num_classes: int = 0,
    auxiliary: bool = False,
    pack: int = 1,
) -> None:
    """Run the networks ``entry`` (an architecture) built once on a few samples and check what they return.

    The generator maps ``[B, latent_dim]`` noise (and labels, when class-conditional) to floating ``[B, *sample_shape]``
    samples, finite, and images within [-1, 1]; the discriminator maps those to ``[B / pack]`` finite floating logits
    (``[B, 1 + num_classes]`` with an auxiliary classifier). The probe runs in eval mode without gradients and leaves
    the networks' modes and torch's random state as they were, so training is the same with or without it.
    """
    import torch

    tensors = [*generator.parameters(), *generator.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    batch = PROBE_BATCH * pack
    shape = (batch, *(int(s) for s in sample_shape))
    z = torch.randn(batch, latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
    y = (torch.arange(batch) % num_classes).to(device) if num_classes else None
    modules = [m for m in (generator, discriminator) if m is not None]
    modes = [m.training for m in modules]
    forked = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked), torch.no_grad():
        for m in modules:
            m.eval()
        try:
            what = f"the generator on noise {list(z.shape)}"
            fake = generator(z) if y is None else generator(z, y)
            _check_generated(fake, entry, shape, kind, what)
            if discriminator is None:
                return
            what = f"the discriminator on samples {list(shape)}"
            logits = discriminator(fake) if y is None else discriminator(fake, y)
            expected = (batch, 1 + num_classes) if auxiliary else (batch // pack,)
            _check_logits(logits, entry, expected, batch, pack, auxiliary)
        except ContractError:
            raise
        except Exception as exc:  # a network that cannot run on the shapes the contract promises it
            raise _broken(entry, f"{what} (a probe batch, before training) fails: {one_line(exc, 240)}") from None
        finally:
            for m, mode in zip(modules, modes):
                m.train(mode)


def _check_generated(fake: Any, entry: Entry, shape: tuple[int, ...], kind: str, what: str) -> None:
    import torch

    if not isinstance(fake, torch.Tensor):
        raise _broken(entry, f"{what} returns {type(fake).__name__}, not a tensor")
    if tuple(fake.shape) != shape:
        raise _broken(entry, f"{what} returns shape {_shape(fake)}; it must return [B, *sample_shape] = {list(shape)}")
    if not fake.is_floating_point():
        raise _broken(entry, f"{what} returns dtype {str(fake.dtype).removeprefix('torch.')}; samples must be floating")
    if not bool(torch.isfinite(fake).all()):
        raise _broken(entry, f"{what} returns NaN or infinite values before any training")
    if kind == "image":
        low, high = float(fake.min()), float(fake.max())
        if low < -1 - IMAGE_RANGE_SLACK or high > 1 + IMAGE_RANGE_SLACK:
            raise _broken(
                entry,
                f"{what} returns images in [{low:.3g}, {high:.3g}]; image generators must return "
                "values in [-1, 1], the range real images are scaled to (end with a tanh)",
            )


def _check_logits(logits: Any, entry: Entry, expected: tuple[int, ...], batch: int, pack: int, auxiliary: bool) -> None:
    import torch

    what = f"the discriminator on a batch of {batch} samples"
    one = (
        "[B, 1 + num_classes]: the adversarial logit, then class logits"
        if auxiliary
        else ("[B] logits, one raw score per sample" if pack == 1 else f"[B / {pack}] logits, one raw score per pack")
    )
    if not isinstance(logits, torch.Tensor):
        raise _broken(entry, f"{what} returns {type(logits).__name__}; it must return {one}")
    if tuple(logits.shape) != expected:
        fix = ""
        if not auxiliary and logits.ndim == 2 and logits.shape[1] == 1 and logits.shape[0] == expected[0]:
            fix = " (end with .squeeze(1))"
        got = "a scalar" if logits.ndim == 0 else f"shape {_shape(logits)}"
        raise _broken(entry, f"{what} returns {got}; it must return {one}, shape {list(expected)}{fix}")
    if not logits.is_floating_point():
        raise _broken(
            entry, f"{what} returns dtype {str(logits.dtype).removeprefix('torch.')}; logits must be floating"
        )
    if not bool(torch.isfinite(logits).all()):
        raise _broken(entry, f"{what} returns NaN or infinite logits before any training")


# ----- metrics ----------------------------------------------------------------------------------------------------
def check_figures(values: Any, entry: Entry) -> dict[str, float]:
    """What ``entry`` (a metric) returned from ``compute``, as ``{name: float}`` when it keeps the contract.

    ``compute`` returns a non-empty dict of figures named by strings. A figure is a real number (a Python or NumPy
    number, or a one-element tensor), finite or infinite (``inf``: worse than any finite value), or ``None`` for a
    figure that is undefined on these samples; ``None`` is kept as NaN, which records as ``None``. NaN itself is
    refused: it is far more often a bug than a statement.
    """
    import torch

    if not isinstance(values, dict):
        raise _broken(
            entry,
            f"compute() returned {type(values).__name__}; it must return a dict of figures "
            "{name: number}, e.g. {'fid': 12.3}",
        )
    if not values:
        raise _broken(entry, "compute() returned an empty dict; it must return at least one figure")
    figures: dict[str, float] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise _broken(entry, f"compute() returned a figure named {key!r}; figure names must be non-empty strings")
        if value is None:
            figures[key] = math.nan
            continue
        if (
            isinstance(value, torch.Tensor)
            and value.numel() == 1
            and not value.is_complex()
            and value.dtype != torch.bool
        ):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            shown = fold(repr(value), 40)
            raise _broken(
                entry,
                f"figure {key!r} is {type(value).__name__} {shown}; each figure must be a "
                "number (or None when undefined)",
            )
        number = float(value)
        if math.isnan(number):
            raise _broken(entry, f"figure {key!r} is NaN; return None for a figure that is undefined on these samples")
        figures[key] = number
    return figures
