"""An exponential moving average of the generator's weights, which samples and exports use."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``decay``-weighted averages of a module's parameters; buffers are copied as they are.

    The decay warms up as ``min(decay, (1 + step) / (10 + step))`` so early samples
    are not dominated by the random initialisation; a run that starts from another
    run's weights sets ``step_offset`` to that run's step, continuing its warm-up.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.step_offset = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self._pairs = list(zip(self.module.parameters(), model.parameters()))
        self._buffers = list(zip(self.module.buffers(), model.buffers()))
        # the step the next update_counted() uses, on the device (float64: its decay equals update()'s)
        self.count = torch.zeros((), dtype=torch.float64, device=next(iter(model.parameters()), torch.zeros(())).device)

    @torch.no_grad()
    def update(self, step: int) -> None:
        step += self.step_offset
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        averages = [a for a, _ in self._pairs]
        current = [p.detach() for _, p in self._pairs]
        torch._foreach_lerp_(averages, current, 1.0 - decay)
        self._copy_buffers()

    def start_count(self, step: int) -> None:
        """Set the device step counter that ``update_counted`` reads (before the first counted update)."""
        self.count.fill_(step + self.step_offset)

    @torch.no_grad()
    def update_counted(self) -> None:
        """``update(step)`` with the step and the decay kept on the device, then the step counter moved on: no
        value travels to the host, so a CUDA graph can hold it."""
        t = self.count
        weight = (1.0 - torch.clamp((1.0 + t) / (10.0 + t), max=self.decay)).float()
        averages = [a for a, _ in self._pairs]
        moves = torch._foreach_sub([p.detach() for _, p in self._pairs], averages)
        torch._foreach_mul_(moves, weight)
        torch._foreach_add_(averages, moves)
        self._copy_buffers()
        t.add_(1)

    def _copy_buffers(self) -> None:
        for a, b in self._buffers:
            a.copy_(b)
