"""Several processes under torchrun: set-up, and all-reducing flattened gradients after each phase."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def init_world(device_type: str) -> World:
    """Join the process group torchrun describes (NCCL on CUDA, gloo otherwise); one process needs nothing."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return World(rank=dist.get_rank(), size=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def close_world(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def broadcast_module(module: nn.Module, world: World) -> None:
    """Make every rank start from rank 0's parameters and buffers."""
    if not world.distributed:
        return
    import torch.distributed as dist

    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def all_reduce_gradients(module: nn.Module, world: World) -> None:
    """Average gradients (and float buffers, such as batch-norm statistics) over ranks in one flat all-reduce.

    DDP's hooks cannot serve the gradient penalty's double backward; one flat
    all-reduce after the phase's backward works for every loss.
    """
    if not world.distributed:
        return
    import torch.distributed as dist

    grads = [p.grad for p in module.parameters() if p.grad is not None]
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    tensors = grads + buffers
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1).float() for t in tensors])
    dist.all_reduce(flat)
    flat.div_(world.size)
    offset = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[offset : offset + n].view_as(t))
        offset += n


def all_gather_bytes(tensor: torch.Tensor, world: World) -> list[torch.Tensor]:
    """Every rank's copy of a same-sized uint8 tensor (RNG states), on the CPU."""
    if not world.distributed:
        return [tensor]
    import torch.distributed as dist

    device = torch.device("cuda", world.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
    local = tensor.to(device)
    gathered = [torch.empty_like(local) for _ in range(world.size)]
    dist.all_gather(gathered, local)
    return [g.cpu() for g in gathered]


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any rank (a host sync; call it rarely)."""
    if not world.distributed:
        return flag
    import torch.distributed as dist

    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
