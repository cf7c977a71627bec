"""Learning-rate schedules: each step's rates, and the device tensors a captured step reads them from.

An optimiser given its rate as a number bakes that number into a captured CUDA graph. Given a one-element tensor on
the run's device it reads the tensor when the step runs, so writing the next step's rate into that tensor in place,
between replays, changes the rate without capturing again. (Checkpoints keep the rate as a plain number either way:
``checkpoint.optimizer_tensors``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ganzoo.errors import one_line


def scheduled(base: float, step: int, steps: int, decay: str) -> float:
    """The rate of the step that follows ``step`` steps of ``steps``: ``base`` with constant rates, and
    ``base * (1 - step / steps)`` for ``decay == "linear"`` (so a resumed run keeps the schedule)."""
    if decay == "linear":
        return base * (1.0 - step / steps)
    return base


class DeviceRates:
    """One float32 tensor on the device per optimiser: given to the optimiser as its rate when it is made, and
    written in place by ``set``."""

    def __init__(self, bases: Sequence[float], device: torch.device):
        self.bases = [float(b) for b in bases]
        self.tensors = [torch.tensor(b, dtype=torch.float32, device=device) for b in self.bases]

    def install(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        """Put the tensors back as the optimisers' (only parameter group's) rates, in order: loading an optimiser's
        state replaces them with the numbers a checkpoint stores."""
        for optimizer, tensor in zip(optimizers, self.tensors, strict=True):
            optimizer.param_groups[0]["lr"] = tensor

    def set(self, step: int, steps: int, decay: str) -> None:
        """The rates of the step after ``step``, written in place (no host read; on CUDA one small launch each)."""
        for tensor, base in zip(self.tensors, self.bases):
            tensor.fill_(scheduled(base, step, steps, decay))


def probe(
    make: Callable[[list[torch.nn.Parameter], torch.Tensor], torch.optim.Optimizer], device: torch.device
) -> str | None:
    """Whether optimisers built by ``make(params, rate)`` read a tensor rate on ``device`` when they step: None when
    they do, else why not, in words. Two steps of a one-weight optimiser: with the rate at 0 the weight must stay,
    and after the rate is written in place the weight must move."""
    try:
        weight = torch.nn.Parameter(torch.ones(1, device=device))
        rate = torch.zeros((), dtype=torch.float32, device=device)
        optimizer = make([weight], rate)
        for value in (0.0, 1e-2):
            rate.fill_(value)
            weight.grad = torch.ones_like(weight)
            before = weight.detach().clone()
            optimizer.step()
            moved = not torch.equal(before, weight.detach())
            if moved != (value != 0.0):
                return f"torch {torch.__version__}'s optimiser on {device.type} did not follow its rate tensor"
    except Exception as exc:  # whatever this torch refuses about tensor rates, said in one line
        return f"torch {torch.__version__} cannot take a tensor rate on {device.type} ({one_line(exc, 160)})"
    return None
