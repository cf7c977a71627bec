"""Building a generator from its recorded configuration, and what one does with it: seeded samples, latents (truncated
or not), interpolations between them, and grids."""

from __future__ import annotations

import math
import sys
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ganzoo.conditional import conditional_networks, labels_for
from ganzoo.errors import UsageError
from ganzoo.folder import NOISES
from ganzoo.pictures import image_grid
from ganzoo.plugins import registry
from ganzoo.version import __version__


def build_networks(
    architecture: str,
    options: dict[str, Any],
    sample_shape: tuple[int, ...],
    latent_dim: int,
    discriminator: bool = True,
    num_classes: int = 0,
    auxiliary: bool = False,
) -> tuple[nn.Module, nn.Module | None]:
    """The registered architecture's generator (and discriminator) for this shape; names come from the registry only.
    With ``num_classes`` they are class-conditional: ``G(z, y)`` and a projection ``D(x, y)`` (``auxiliary``: an
    auxiliary classifier ``D(x) -> [adversarial logit, class logits]``, ACGAN)."""
    arch = registry().get("architecture", architecture).obj.create(f"architecture {architecture!r}", **options)
    arch.check(tuple(sample_shape), latent_dim)
    if num_classes:
        return conditional_networks(
            arch, architecture, tuple(sample_shape), latent_dim, num_classes, discriminator, auxiliary
        )
    g = arch.generator(tuple(sample_shape), latent_dim)
    d = arch.discriminator(tuple(sample_shape)) if discriminator else None
    return g, d


def generator_network(config: dict[str, Any]) -> nn.Module:
    """The generator network (its weights not loaded) that a generator config describes: a generator folder's
    config.json, or the one made from a run's checkpoint."""
    net, _ = build_networks(
        config["architecture"],
        config["architecture_options"],
        tuple(config["sample_shape"]),
        config["latent_dim"],
        discriminator=False,
        num_classes=config.get("num_classes", 0),
    )
    return net


SCALE_TO = 64  # a grid's default enlargement: each cell at least this many pixels wide (nearest neighbour)


def noise(
    n: int, latent_dim: int, seed: int | None, device: torch.device | str = "cpu", kind: str = "normal"
) -> torch.Tensor:
    """Latents of the generator's noise ``kind`` (standard normal, or uniform on [-1, 1]); a seed draws them on the
    CPU so the same seed gives the same noise on any device."""
    if kind not in NOISES:
        raise UsageError(f"noise must be one of {', '.join(NOISES)}, got {kind!r}")
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    where = "cpu" if seed is not None else device
    if kind == "uniform":
        z = torch.rand(n, latent_dim, generator=gen, device=where).mul_(2).sub_(1)
    else:
        z = torch.randn(n, latent_dim, generator=gen, device=where)
    return z.to(device)


def check_truncation(truncation: float | None, kind: str = "normal") -> None:
    """Refuse a truncation that is not a positive finite number, or one asked of noise that is not normal."""
    if truncation is None:
        return
    if (
        isinstance(truncation, bool)
        or not isinstance(truncation, (int, float))
        or not math.isfinite(truncation)
        or truncation <= 0
    ):
        raise UsageError(
            f"truncation must be a positive number (e.g. 0.7; smaller: closer to the average sample), "
            f"got {truncation!r}"
        )
    if kind != "normal":
        raise UsageError(
            f"the truncation trick needs normal noise; this generator draws {kind} noise "
            '(config.json "noise"), so drop the truncation'
        )


def truncate(z: torch.Tensor, truncation: float, seed: int | None) -> torch.Tensor:
    """Standard normal latents with every entry beyond ``±truncation`` drawn again until it falls inside (the
    truncation trick, Brock et al. 2019); entries already inside stay, so a truncated grid resembles the plain one.
    Drawing again until inside is drawing from the normal truncated to the interval, done in one pass by the inverse
    CDF; ``seed`` seeds those draws."""
    check_truncation(truncation)
    outside = z.abs() > truncation
    count = int(outside.sum())
    if not count:
        return z
    gen = torch.Generator().manual_seed(int(seed) + 1_000_003) if seed is not None else None
    low = torch.special.ndtr(torch.tensor(-float(truncation), dtype=torch.float64))
    u = torch.rand(count, generator=gen, dtype=torch.float64)
    inside = torch.special.ndtri(low + u * (1 - 2 * low)).clamp_(-truncation, truncation)
    z = z.clone()
    z[outside] = inside.to(z.device, z.dtype)
    return z


def interpolate_latents(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """``steps`` latents from ``a`` to ``b`` (both ``[D]`` or ``[B, D]``), endpoints included: ``[steps, D]`` or
    ``[B, steps, D]``. ``slerp`` follows the great circle (normal latents live near a sphere, where a straight line
    passes through the unlikely middle), its radius going linearly from ``|a|`` to ``|b|``; ``lerp`` the straight
    line."""
    if method not in ("slerp", "lerp"):
        raise UsageError(f"interpolation method must be 'slerp' or 'lerp', got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise UsageError(f"an interpolation needs at least 2 steps (its two ends), got {steps!r}")
    if a.shape != b.shape or a.dim() not in (1, 2):
        raise UsageError(
            f"the two ends must be latents of one shape, [D] or [B, D]; got {list(a.shape)} and {list(b.shape)}"
        )
    t = torch.linspace(0, 1, steps, dtype=torch.float64, device=a.device)
    x, y = a.double().unsqueeze(-2), b.double().unsqueeze(-2)  # [..., 1, D]
    t = t.view(*([1] * (a.dim() - 1)), steps, 1)
    if method == "lerp":
        out = x + t * (y - x)
    else:
        rx, ry = x.norm(dim=-1, keepdim=True), y.norm(dim=-1, keepdim=True)
        ux, uy = x / rx.clamp_min(1e-12), y / ry.clamp_min(1e-12)
        omega = (ux * uy).sum(-1, keepdim=True).clamp(-1, 1).acos()
        sin = omega.sin()
        straight = sin.abs() < 1e-6  # (anti)parallel ends: the direction is undefined, so go straight
        safe = torch.where(straight, torch.ones_like(sin), sin)
        direction = torch.where(
            straight, ux + t * (uy - ux), (torch.sin((1 - t) * omega) * ux + torch.sin(t * omega) * uy) / safe
        )
        out = direction * (rx + t * (ry - rx))
    out[..., 0, :], out[..., -1, :] = x[..., 0, :], y[..., 0, :]  # the ends are the latents given, exactly
    return out.to(a.dtype)


def grid_scale(sample_shape: tuple[int, ...], scale: int | None = None) -> int:
    """The nearest-neighbour enlargement of a grid's cells: ``scale``, or by default the smallest whole factor that
    makes a cell at least ``SCALE_TO`` pixels wide (4 for 16 px, 2 for 32 px, 1 from 64 px on)."""
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 64:
            raise UsageError(f"scale must be a whole factor from 1 to 64, got {scale!r}")
        return scale
    return max(1, math.ceil(SCALE_TO / max(1, int(sample_shape[-1]))))


def enlarge(images: torch.Tensor, scale: int) -> torch.Tensor:
    """``[N, C, H, W]`` images ``scale`` times larger, each pixel a block (nearest neighbour: no blur added)."""
    if scale == 1:
        return images
    return images.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


@torch.no_grad()
def decode(
    generator: nn.Module,
    z: torch.Tensor,
    batch_size: int = 256,
    labels: torch.Tensor | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Samples (model units: images in [-1, 1]) for latents ``z`` from ``generator`` in eval mode, on its device, in
    batches; a class-conditional generator gets ``labels``, one per latent. ``progress``: a bar on stderr."""
    device = next(generator.parameters()).device
    z = z.to(device)
    if not len(z):
        return z.new_zeros(0)
    was_training = generator.training
    generator.eval()
    chunks = z.split(batch_size)
    ys = labels.to(device).split(batch_size) if labels is not None else [None] * len(chunks)
    out = []
    try:
        with tqdm(
            total=len(z), desc="sampling", unit="sample", file=sys.stderr, disable=not progress, leave=False
        ) as bar:
            for zc, yc in zip(chunks, ys):
                out.append((generator(zc) if yc is None else generator(zc, yc)).float())
                bar.update(len(zc))
        return torch.cat(out)
    finally:
        generator.train(was_training)


def sample(
    generator: nn.Module,
    n: int,
    latent_dim: int,
    seed: int | None = None,
    batch_size: int = 256,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """``n`` samples (model units: images in [-1, 1]) from ``generator`` in eval mode, on its device; a
    class-conditional generator gets ``labels``, one per sample."""
    device = next(generator.parameters()).device
    return decode(generator, noise(n, latent_dim, seed, device), batch_size, labels)


class Generator(nn.Module):
    """A trained generator ready to use: ``.sample(n, seed)``, ``.latents(n, seed)``, ``.interpolate(a, b, steps)``,
    ``.grid(n, seed)``, ``.config``, ``.latent_dim``, ``.sample_shape``, ``.noise`` (``normal`` or ``uniform``),
    ``.num_classes`` (0 unless class-conditional) and ``.class_names``."""

    def __init__(self, net: nn.Module, config: dict[str, Any]) -> None:
        super().__init__()
        self.net = net
        self.config = config
        self.latent_dim = int(config["latent_dim"])
        self.sample_shape = tuple(int(s) for s in config["sample_shape"])
        self.noise = str(config.get("noise") or "normal")
        self.num_classes = int(config.get("num_classes", 0) or 0)
        self.class_names = list(config.get("class_names") or [str(c) for c in range(self.num_classes)])

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z) if y is None else self.net(z, y)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def latents(self, n: int, seed: int | None = None, truncation: float | None = None) -> torch.Tensor:
        """``[n, latent_dim]`` latents of this generator's noise, on its device; the same seed gives the same latents
        on any device. ``truncation``: entries beyond ``±truncation`` drawn again (normal noise only)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise UsageError(f"the number of latents must be a whole number >= 0, got {n!r}")
        check_truncation(truncation, self.noise)
        z = noise(n, self.latent_dim, seed, "cpu", self.noise)
        if truncation is not None:
            z = truncate(z, truncation, seed)
        return z.to(self.device)

    def _labels(self, n: int, labels: Any) -> torch.Tensor | None:
        if not self.num_classes:
            if labels is not None:
                raise UsageError(
                    "this generator is not class-conditional: it takes no class labels (drop labels / --class)"
                )
            return None
        return labels_for(n, labels, self.num_classes)

    def generate(
        self, z: torch.Tensor, labels: Any = None, batch_size: int = 256, progress: bool = False
    ) -> torch.Tensor:
        """Samples for the latents ``z`` (``[N, latent_dim]``), in model units; labels as for ``sample``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise UsageError(f"latents must have shape [N, {self.latent_dim}], got {list(z.shape)}")
        return decode(self.net, z, batch_size, self._labels(len(z), labels), progress)

    def sample(
        self,
        n: int,
        seed: int | None = None,
        batch_size: int = 256,
        labels: Any = None,
        truncation: float | None = None,
        progress: bool = False,
    ) -> torch.Tensor:
        """``n`` samples in model units (images in [-1, 1]); the same seed gives the same samples on one device.

        A class-conditional generator makes ``labels``: one class for all (``7``), one per sample, or every class
        in turn when None. Labels for a generator that is not class-conditional are a UsageError. ``truncation``:
        the truncation trick (see ``latents``); ``progress``: a bar on stderr."""
        y = self._labels(n, labels)
        return decode(self.net, self.latents(n, seed, truncation), batch_size, y, progress)

    def interpolate(
        self, a: torch.Tensor | int, b: torch.Tensor | int, steps: int = 8, method: str = "slerp", labels: Any = None
    ) -> torch.Tensor:
        """Samples along the path from latent ``a`` to latent ``b`` (``[latent_dim]``, ``[B, latent_dim]``, or a seed
        whose latent is meant), ends included: ``[steps, *sample_shape]``, or ``[B, steps, ...]`` for B pairs;
        ``method`` is ``slerp`` (default) or ``lerp``. A class-conditional generator keeps one class along each path."""
        za, zb = (
            self.latents(1, end)[0] if isinstance(end, int) and not isinstance(end, bool) else end.to(self.device)
            for end in (a, b)
        )
        path = interpolate_latents(za, zb, steps, method)
        flat = path.reshape(-1, self.latent_dim)
        pairs = 1 if za.dim() == 1 else len(za)
        y = self._labels(pairs, labels)
        samples = decode(self.net, flat, labels=y.repeat_interleave(steps) if y is not None else None)
        return samples.reshape(*path.shape[:-1], *samples.shape[1:])

    def grid(
        self,
        n: int = 64,
        seed: int | None = 0,
        nrow: int | None = None,
        truncation: float | None = None,
        labels: Any = None,
        scale: int | None = None,
        samples: torch.Tensor | None = None,
    ) -> Any:
        """A PIL image tiling ``n`` seeded samples (or the image ``samples`` given), ``nrow`` per row (a
        class-conditional generator: one class per column), each enlarged ``scale`` times by nearest neighbour
        (default: to at least 64 px)."""
        if len(self.sample_shape) != 3:
            raise UsageError(f"a grid shows images; this generator makes {list(self.sample_shape)}-shaped points")
        if samples is None:
            samples = self.sample(n, seed, labels=labels, truncation=truncation)
        if self.num_classes and labels is None and nrow is None:
            nrow = self.num_classes
        return image_grid(enlarge(samples.detach().float().cpu(), grid_scale(self.sample_shape, scale)), nrow)


def generator_config_from_run(run_info: dict[str, Any], step: int) -> dict[str, Any]:
    """The generator description (what a published ``config.json`` holds) for a run folder's ``config.json``."""
    cfg = run_info["config"]
    return {
        "ganzoo_version": __version__,
        "architecture": cfg["architecture"],
        "architecture_options": cfg["architecture_options"],
        "architecture_plugin": run_info.get("architecture_plugin", {}),
        "latent_dim": cfg["latent_dim"],
        "sample_shape": run_info["sample_shape"],
        "data_kind": run_info.get("data_kind", "image"),
        **(
            {"num_classes": run_info["num_classes"], "class_names": run_info.get("class_names")}
            if run_info.get("num_classes")
            else {}
        ),
        "variant": cfg["variant"],
        "loss": cfg["loss"],
        "data": cfg["data"],
        "data_options": cfg.get("data_options", {}),
        "steps": step,
        "ema": cfg.get("ema"),
        "seed": cfg.get("seed", 0),
    }
