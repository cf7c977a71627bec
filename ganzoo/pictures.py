"""Pictures people would rather look at than read: sample grids and 2D scatter plots."""

from __future__ import annotations

import io
import math
from pathlib import Path

import torch

from ganzoo.files import write_bytes


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2):
    """A PIL image tiling ``[N, C, H, W]`` samples in [-1, 1]."""
    from PIL import Image
    from torchvision.utils import make_grid

    images = images.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    nrow = nrow or max(1, int(math.ceil(math.sqrt(images.shape[0]))))
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)
    array = grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if array.shape[2] == 1:
        return Image.fromarray(array[:, :, 0], mode="L")
    return Image.fromarray(array)


def save_image_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    """Write a PNG grid of ``images`` atomically."""
    buffer = io.BytesIO()
    image_grid(images, nrow).save(buffer, format="PNG")
    return write_bytes(path, buffer.getvalue())


def save_scatter(fake: torch.Tensor, path: str | Path, real: torch.Tensor | None = None, title: str = "") -> Path:
    """Write a PNG scatter plot of generated 2D points over real ones, atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=110)
    if real is not None:
        r = real.detach().float().cpu().numpy()
        ax.scatter(r[:, 0], r[:, 1], s=2, c="#9ab", alpha=0.35, label="real", linewidths=0)
    f = fake.detach().float().cpu().numpy()
    ax.scatter(f[:, 0], f[:, 1], s=3, c="#d2452b", alpha=0.6, label="generated", linewidths=0)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=3)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return write_bytes(path, buffer.getvalue())


def save_samples(samples: torch.Tensor, path: str | Path, real: torch.Tensor | None = None, title: str = "") -> Path:
    """A grid for images, a scatter plot for 2D points."""
    if samples.dim() == 2:
        return save_scatter(samples, path, real, title)
    return save_image_grid(samples, path)
