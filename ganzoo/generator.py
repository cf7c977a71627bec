"""Building a generator from its recorded configuration, and drawing seeded samples from it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganzoo.conditional import conditional_networks, labels_for
from ganzoo.errors import UsageError
from ganzoo.plugins import registry
from ganzoo.version import __version__


def build_networks(
    architecture: str, options: dict[str, Any], sample_shape: tuple[int, ...], latent_dim: int, discriminator: bool = True,
    num_classes: int = 0, auxiliary: bool = False,
) -> tuple[nn.Module, nn.Module | None]:
    """The registered architecture's generator (and discriminator) for this shape; names come from the registry only.
    With ``num_classes`` they are class-conditional: ``G(z, y)`` and a projection ``D(x, y)`` (``auxiliary``: an
    auxiliary classifier ``D(x) -> [adversarial logit, class logits]``, ACGAN)."""
    arch = registry().get("architecture", architecture).obj.create(f"architecture {architecture!r}", **options)
    arch.check(tuple(sample_shape), latent_dim)
    if num_classes:
        return conditional_networks(arch, architecture, tuple(sample_shape), latent_dim, num_classes, discriminator,
                                    auxiliary)
    g = arch.generator(tuple(sample_shape), latent_dim)
    d = arch.discriminator(tuple(sample_shape)) if discriminator else None
    return g, d


def noise(n: int, latent_dim: int, seed: int | None, device: torch.device | str = "cpu") -> torch.Tensor:
    """Standard normal latents; a seed draws them on the CPU so the same seed gives the same noise on any device."""
    if seed is None:
        return torch.randn(n, latent_dim, device=device)
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(n, latent_dim, generator=gen).to(device)


@torch.no_grad()
def sample(generator: nn.Module, n: int, latent_dim: int, seed: int | None = None, batch_size: int = 256,
           labels: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` samples (model units: images in [-1, 1]) from ``generator`` in eval mode, on its device; a
    class-conditional generator gets ``labels``, one per sample."""
    device = next(generator.parameters()).device
    z = noise(n, latent_dim, seed, device)
    was_training = generator.training
    generator.eval()
    try:
        if not n:
            return z.new_zeros(0)
        if labels is None:
            return torch.cat([generator(chunk).float() for chunk in z.split(batch_size)])
        y = labels.to(device)
        return torch.cat([generator(zc, yc).float() for zc, yc in zip(z.split(batch_size), y.split(batch_size))])
    finally:
        generator.train(was_training)


class Generator(nn.Module):
    """A trained generator ready to use: ``.sample(n, seed, labels=)``, ``.config``, ``.latent_dim``,
    ``.sample_shape``, ``.num_classes`` (0 unless class-conditional) and ``.class_names``."""

    def __init__(self, net: nn.Module, config: dict[str, Any]) -> None:
        super().__init__()
        self.net = net
        self.config = config
        self.latent_dim = int(config["latent_dim"])
        self.sample_shape = tuple(int(s) for s in config["sample_shape"])
        self.num_classes = int(config.get("num_classes", 0) or 0)
        self.class_names = list(config.get("class_names") or [str(c) for c in range(self.num_classes)])

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z) if y is None else self.net(z, y)

    def sample(self, n: int, seed: int | None = None, batch_size: int = 256, labels: Any = None) -> torch.Tensor:
        """``n`` samples in model units (images in [-1, 1]); the same seed gives the same samples on one device.

        A class-conditional generator makes ``labels``: one class for all (``7``), one per sample, or every class
        in turn when None. Labels for a generator that is not class-conditional are a UsageError."""
        if not self.num_classes:
            if labels is not None:
                raise UsageError("this generator is not class-conditional: it takes no class labels (drop labels / --class)")
            return sample(self.net, n, self.latent_dim, seed=seed, batch_size=batch_size)
        y = labels_for(n, labels, self.num_classes)
        return sample(self.net, n, self.latent_dim, seed=seed, batch_size=batch_size, labels=y)


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
        **({"num_classes": run_info["num_classes"], "class_names": run_info.get("class_names")}
           if run_info.get("num_classes") else {}),
        "variant": cfg["variant"],
        "loss": cfg["loss"],
        "data": cfg["data"],
        "data_options": cfg.get("data_options", {}),
        "steps": step,
        "ema": cfg.get("ema"),
        "seed": cfg.get("seed", 0),
    }
