"""The MLP generator and discriminator modules of the `mlp` architecture."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """Noise -> hidden layers (Linear, BN, ReLU) -> a sample; tanh for images, linear for points."""

    def __init__(
        self,
        sample_shape: tuple[int, ...],
        latent_dim: int,
        width: int,
        depth: int,
        batch_norm: bool,
        init_std: float = 0.0,
    ):
        super().__init__()
        self.sample_shape = tuple(sample_shape)
        layers: list[nn.Module] = []
        fan_in = latent_dim
        for _ in range(depth):
            layers.append(nn.Linear(fan_in, width, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(nn.ReLU(inplace=True))
            fan_in = width
        layers.append(nn.Linear(fan_in, math.prod(self.sample_shape)))
        if len(self.sample_shape) > 1:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        if init_std:
            normal_init(self.net, init_std)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.sample_shape)


class MaxOverPieces(torch.autograd.Function):
    """``y.amax(dim=1)`` with amax's gradient (each unit's gradient shared evenly by the pieces that tie for its
    maximum), computed in a few float passes instead of amax's backward, which builds a bool mask, widens it to
    int64 to count the ties and broadcasts it back: about twice as fast on a CPU (docs/performance.md, "What makes
    the difference"). For finite activations the gradient is amax's bit for bit (tests/test_architectures.py)."""

    @staticmethod
    def forward(y: torch.Tensor) -> torch.Tensor:
        return y.amax(dim=1)

    @staticmethod
    def vmap(info: Any, in_dims: tuple[int | None], y: torch.Tensor) -> tuple[torch.Tensor, int | None]:
        """Under ``vmap`` (stacked seeds): the seeds' batches folded into one, so the function runs once, unbatched,
        with its own backward. A generated vmap rule would run the backward under vmap as well, which cost about 3 ms
        of an 80 ms round of ten stacked seeds on a 2-core CPU (docs/performance.md, "Stacked seeds")."""
        (dim,) = in_dims
        if dim is None:
            return MaxOverPieces.apply(y), None
        y = y.movedim(dim, 0)
        seeds, batch = y.shape[:2]
        out = MaxOverPieces.apply(y.reshape(seeds * batch, *y.shape[2:]))
        return out.view(seeds, batch, *out.shape[1:]), 0

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        ctx.save_for_backward(inputs[0], output)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        y, top = ctx.saved_tensors
        # y - top is 0 where a piece is its unit's maximum and negative elsewhere: its sign + 1 marks the maxima
        hit = y - top.unsqueeze(1)
        hit = hit.sign_().add_(1)
        ties = hit[:, 0].clone()
        for piece in range(1, hit.shape[1]):  # (slice by slice: faster than a sum over the middle axis)
            ties += hit[:, piece]
        share = (grad / ties).unsqueeze(1)
        # (out of place when a second derivative is being recorded, as for a gradient penalty)
        return hit * share if torch.is_grad_enabled() else hit.mul_(share)


class Maxout(nn.Module):
    """A linear layer with ``pieces`` outputs per unit, keeping the largest (Goodfellow et al. 2013)."""

    def __init__(self, fan_in: int, width: int, pieces: int):
        super().__init__()
        self.width, self.pieces = width, pieces
        self.linear = nn.Linear(fan_in, width * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [B, pieces, width]: the max runs over a leading axis, so it vectorises along width
        return MaxOverPieces.apply(self.linear(x).view(x.shape[0], self.pieces, self.width))


def normal_init(module: nn.Module, std: float) -> nn.Module:
    """Every Linear weight inside ``module`` drawn from N(0, std²), every Linear bias 0 (batch-norm layers keep
    scale 1 and shift 0): the initialisation of the PacGAN paper's code (std 0.02), instead of PyTorch's
    per-layer uniform one, whose bound 1/sqrt(fan_in) is 0.71 for a layer that takes 2-D points."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def spectrally_normalise(module: nn.Module) -> nn.Module:
    """Wrap every Linear and Conv2d layer inside ``module`` with spectral normalisation (Miyato et al. 2018).

    Each wrapped weight is divided by its largest singular value, estimated by one power iteration per
    forward pass in training mode; the iteration's ``u`` and ``v`` vectors are buffers of the module, so
    its ``state_dict`` (and a checkpoint made from it) holds them. Initialise the weights before wrapping.
    """
    from torch.nn.utils.parametrizations import spectral_norm

    for layer in list(module.modules()):
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            spectral_norm(layer, n_power_iterations=1)
    return module


class PerSample(nn.Module):
    """Applies ``layer`` to each of the ``m`` samples of a pack on its own and concatenates the m outputs:
    ``[B, m * D]`` packs -> ``[B, m * width]``. A packed discriminator's first layer this way sees each sample
    whole, as the unpacked one does (see ``MLPDiscriminator``)."""

    def __init__(self, layer: nn.Module, m: int):
        super().__init__()
        self.layer, self.m = layer, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packs = x.shape[0]
        return self.layer(x.reshape(packs * self.m, x.shape[1] // self.m)).reshape(packs, -1)

    def extra_repr(self) -> str:
        return f"m={self.m}"


class MLPDiscriminator(nn.Module):
    """A sample -> hidden maxout (or LeakyReLU) layers -> one logit; optionally every layer spectrally normalised.

    A maxout layer's spectral norm bounds its whole ``width x pieces`` matrix, so every piece, and the
    maximum over pieces, stays 1-Lipschitz too.

    For packs of ``pack`` > 1 samples (PacGAN) the input is ``[B, pack * D]`` and ``pack_input`` says what the
    first layer sees. ``"per_sample"``: the first hidden layer is applied to each sample of the pack apart (shared
    weights, ``width // pack`` units) and the ``pack`` feature vectors, side by side, go on to the next layer,
    which judges them together (so the layers after the first keep the unpacked network's sizes). ``"dense"``:
    one layer over all ``pack * D`` coordinates, as in the PacGAN paper's code. A dense unit adds up coordinates
    of all m samples, and such a sum of m independent grid points is spread smoothly: no unit sees whether each
    point lies on a mode, so once the generator matches the data's mean and spread that discriminator is at
    chance (docs/benchmarks.md, "Why packing failed").
    """

    def __init__(
        self,
        sample_shape: tuple[int, ...],
        width: int,
        depth: int,
        maxout: int,
        spectral_norm: bool = False,
        init_std: float = 0.0,
        pack: int = 1,
        pack_input: str = "per_sample",
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        fan_in = math.prod(sample_shape)
        per_sample = pack > 1 and pack_input == "per_sample"
        for index in range(depth):
            units = width
            if per_sample and index == 0:
                fan_in //= pack  # one sample's coordinates
                units = max(1, width // pack)  # the samples share the layer's width: the next one keeps its size
            if maxout:
                layer: list[nn.Module] = [Maxout(fan_in, units, maxout)]
            else:
                layer = [nn.Linear(fan_in, units), nn.LeakyReLU(0.2, inplace=True)]
            if per_sample and index == 0:
                layers.append(PerSample(nn.Sequential(*layer) if len(layer) > 1 else layer[0], pack))
                fan_in = pack * units
            else:
                layers += layer
                fan_in = width
        layers.append(nn.Linear(fan_in, 1))
        self.net = nn.Sequential(*layers)
        if init_std:
            normal_init(self.net, init_std)
        if spectral_norm:  # (after the initialisation: it divides the weights as they are then)
            spectrally_normalise(self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
