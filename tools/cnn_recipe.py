"""The training recipe both shipped feature extractors share (digits-cnn, mnist-cnn): a fixed seed on one CPU
thread, random shifts of up to 2 pixels, Adam with a cosine learning-rate decay, then the feature scale set from
the train images. Deterministic, so the weights a tool writes are byte for byte the shipped ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.data import to_model_range

SEED = 0
SHIFT = 2


def shift_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole-pixel offset in [-SHIFT, SHIFT]^2, background (-1) filled in."""
    n, _, h, w = x.shape
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT), value=-1.0)
    offsets = torch.randint(0, 2 * SHIFT + 1, (n, 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of uint8 ``images`` the model classifies as ``labels``."""
    model.eval()
    with torch.inference_mode():
        predictions = model(to_model_range(images)).argmax(dim=1)
    return float((predictions == labels).float().mean())


def deterministic() -> torch.Generator:
    """Seed torch, keep it to one thread and deterministic kernels, and return the generator of the batches and
    shifts. Called before the model is built: its initial weights come from the seeded global generator."""
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return torch.Generator().manual_seed(SEED)


def fit(
    model: nn.Module,
    train_u8: torch.Tensor,
    train_y: torch.Tensor,
    generator: torch.Generator,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    report_every: int,
) -> None:
    """Train ``model`` (a classifier with ``body`` and a ``feature_scale`` buffer) on the uint8 images ``train_u8``
    by the recipe (``generator`` from ``deterministic``), then set its feature scale to the RMS of the train images'
    features."""
    train_x = to_model_range(train_u8)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = -(-train_x.shape[0] // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(train_x.shape[0], generator=generator)
        total = 0.0
        for i in range(0, train_x.shape[0], batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(shift_batch(train_x[idx], generator)), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * idx.shape[0]
        if (epoch + 1) % report_every == 0 or epoch == epochs - 1:
            print(f"epoch {epoch + 1}/{epochs}  loss {total / train_x.shape[0]:.4f}", flush=True)
    model.eval()
    with torch.inference_mode():
        raw = model.body(train_x)
    model.feature_scale.fill_(float(raw.pow(2).mean().sqrt()))
