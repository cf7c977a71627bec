"""The baseline: a minimal hand-written PyTorch GAN loop (the canonical DCGAN recipe), nothing else."""

from __future__ import annotations

import torch
from torch import nn


class PlainLoop:
    """D on a real batch, then on a fake batch, one D step; then G through D on the same fake, one G step.

    Real batches are drawn by indexing a tensor already on the device (``feed="tensor"``)
    or from a ``torch.utils.data.DataLoader`` over it (``feed="dataloader"``), the common
    way such loops are written.
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        data: torch.Tensor,
        batch_size: int,
        latent_dim: int,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        device: str | torch.device = "cpu",
        feed: str = "tensor",
        amp: bool = False,
        channels_last: bool = False,
        workers: int = 0,
    ) -> None:
        self.device = torch.device(device)
        memory = {"memory_format": torch.channels_last} if channels_last else {}
        self.G, self.D = G.to(self.device, **memory), D.to(self.device, **memory)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas)
        self.criterion = nn.BCEWithLogitsLoss()
        self.batch_size, self.latent_dim, self.amp = batch_size, latent_dim, amp
        self.feed = feed
        if feed == "tensor":
            self.data = data.to(self.device)
        else:
            dataset = torch.utils.data.TensorDataset(data)
            self.loader = torch.utils.data.DataLoader(
                dataset,
                batch_size=batch_size,
                shuffle=True,
                drop_last=True,
                num_workers=workers,
                pin_memory=self.device.type == "cuda",
                persistent_workers=workers > 0,
            )
            self._iter = iter(self.loader)

    def _real(self) -> torch.Tensor:
        if self.feed == "tensor":
            batch = self.data[torch.randint(self.data.shape[0], (self.batch_size,), device=self.device)]
        else:
            try:
                (batch,) = next(self._iter)
            except StopIteration:
                self._iter = iter(self.loader)
                (batch,) = next(self._iter)
            batch = batch.to(self.device, non_blocking=True)
        return batch.float() / 127.5 - 1 if batch.dtype == torch.uint8 else batch

    def step(self) -> None:
        real = self._real()
        ones = torch.ones(real.shape[0], device=self.device)
        zeros = torch.zeros(real.shape[0], device=self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            self.D.zero_grad()
            err_real = self.criterion(self.D(real).float(), ones)
            err_real.backward()
            fake = self.G(torch.randn(real.shape[0], self.latent_dim, device=self.device))
            err_fake = self.criterion(self.D(fake.detach()).float(), zeros)
            err_fake.backward()
            self.opt_d.step()
            self.G.zero_grad()
            err_g = self.criterion(self.D(fake).float(), ones)
            err_g.backward()
            self.opt_g.step()
