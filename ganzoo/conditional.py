"""Class-conditional GANs for any architecture that can split its discriminator: a generator that sees the class
(one-hot, beside the noise), a projection (Miyato & Koyama 2018) or auxiliary-classifier (ACGAN) discriminator, and
the phases of a training step that feed them labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ganzoo.errors import UsageError
from ganzoo.loss import Loss
from ganzoo.phases import Phases


class ConditionalGenerator(nn.Module):
    """``(z [B, latent], y [B])`` -> samples: the architecture's generator, built for ``latent + classes`` inputs,
    fed the noise and the one-hot class side by side (Mirza & Osindero 2014)."""

    def __init__(self, inner: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.inner = inner
        self.num_classes = num_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        one_hot = nn.functional.one_hot(y, self.num_classes).to(z.dtype)
        return self.inner(torch.cat([z, one_hot], dim=1))


class ProjectionDiscriminator(nn.Module):
    """``(x, y)`` -> logits: ``head(body(x)) + <embed(y), pool(body(x))>``, the projection discriminator of
    Miyato & Koyama (2018). ``body`` maps samples to features (``[B, C]`` or ``[B, C, H, W]``, summed over space for
    the projection), ``head`` the same features to one logit each; the class embedding is spectrally normalised."""

    def __init__(self, body: nn.Module, head: nn.Module, channels: int, num_classes: int) -> None:
        super().__init__()
        from torch.nn.utils.parametrizations import spectral_norm

        self.body = body
        self.head = head
        self.embed = spectral_norm(nn.Embedding(num_classes, channels))
        nn.init.normal_(self.embed.parametrizations.weight.original, std=0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        pooled = h.flatten(2).sum(2) if h.dim() > 2 else h
        return self.head(h).reshape(-1) + (self.embed(y) * pooled).sum(1)


class AuxiliaryClassifierDiscriminator(nn.Module):
    """``(x, y)`` -> ``[B, 1 + classes]``: the plain discriminator's logit, then class logits from a linear
    classifier on its features summed over space (ACGAN, Odena et al. 2017). ``y`` is not an input: this D is
    asked which class it sees; ``AuxiliaryClassifierPhases`` adds the cross-entropy of that answer to both players'
    losses."""

    def __init__(self, body: nn.Module, head: nn.Module, channels: int, num_classes: int) -> None:
        super().__init__()
        self.body = body
        self.head = head
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        pooled = h.flatten(2).sum(2) if h.dim() > 2 else h
        return torch.cat([self.head(h).reshape(-1, 1), self.classifier(pooled)], dim=1)


class Adversarial(nn.Module):
    """An auxiliary-classifier discriminator seen as a plain one: ``x -> D(x)[:, 0]`` (for a gradient penalty)."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x)[:, 0]


class WithLabels(nn.Module):
    """A conditional discriminator with its labels bound: ``x -> D(x, y)``, for what calls a plain D (a gradient
    penalty)."""

    def __init__(self, discriminator: nn.Module, labels: torch.Tensor) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.labels = labels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x, self.labels)


def conditional_networks(
    arch: Any,
    name: str,
    sample_shape: tuple[int, ...],
    latent_dim: int,
    num_classes: int,
    discriminator: bool,
    auxiliary: bool = False,
) -> tuple[nn.Module, nn.Module | None]:
    """The class-conditional generator (and projection discriminator, or with ``auxiliary`` an auxiliary
    classifier one) of a registered architecture."""
    parts = getattr(arch, "discriminator_parts", None)
    if not callable(parts):
        raise UsageError(
            f"architecture {name!r} cannot be class-conditional: it does not split its discriminator into features and "
            "a head (discriminator_parts); use dcgan or mlp"
        )
    g = ConditionalGenerator(arch.generator(sample_shape, latent_dim + num_classes), num_classes)
    if not discriminator:
        return g, None
    body, head, channels = parts(sample_shape)
    kind = AuxiliaryClassifierDiscriminator if auxiliary else ProjectionDiscriminator
    return g, kind(body, head, channels, num_classes)


class ConditionalPhases(Phases):
    """A step's phases for class-conditional networks: G and D are given the real batch's labels (the classes the
    fakes are asked for too), and the regulariser sees D with those labels bound."""

    def generate(self, generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return generator(z, labels)

    def judge(self, discriminator: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return discriminator(x, labels)

    def regularizer(
        self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor | None:
        return self.loss.regularizer(WithLabels(discriminator, labels), real, fake)


class AuxiliaryClassifierPhases(ConditionalPhases):
    """ACGAN's phases (Odena et al. 2017): D's output is ``[adversarial logit, class logits]``; D learns to name the
    class of real and fake samples alike, and G to make the class it was asked for recognisable, each adding
    ``weight`` times the cross-entropy to the loss's own term. The regulariser sees the adversarial logit only."""

    def __init__(self, loss: Loss, weight: float) -> None:
        super().__init__(loss)
        self.weight = weight

    def discriminator_loss(
        self, real_out: torch.Tensor, fake_out: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        real_logits, real_classes = real_out[:, 0], real_out[:, 1:]
        fake_logits, fake_classes = fake_out[:, 0], fake_out[:, 1:]
        loss = self.loss.discriminator_loss(real_logits.float(), fake_logits.float())
        classes = F.cross_entropy(real_classes.float(), labels) + F.cross_entropy(fake_classes.float(), labels)
        return loss + self.weight * classes, real_logits, fake_logits

    def regularizer(
        self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor | None:
        return self.loss.regularizer(Adversarial(discriminator), real, fake)

    def generator(self, discriminator: nn.Module, fake: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        out = self.judge(discriminator, fake, labels)
        return self.loss.generator_loss(out[:, 0].float()) + self.weight * F.cross_entropy(out[:, 1:].float(), labels)


def step_phases(loss: Loss, num_classes: int, aux_weight: float) -> Phases:
    """The phases of a training step for a run whose networks take ``num_classes`` classes (0: no labels, the plain
    phases), with an auxiliary classifier weighed by ``aux_weight`` when it is above 0 (as ``conditional_networks``
    builds its discriminator)."""
    if not num_classes:
        return Phases(loss)
    if aux_weight > 0:
        return AuxiliaryClassifierPhases(loss, float(aux_weight))
    return ConditionalPhases(loss)


def labels_for(n: int, labels: int | Sequence[int] | torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """``n`` class labels: every class in turn when ``labels`` is None, one class for all, or one per sample; a
    UsageError naming the class range for anything else."""
    if labels is None:
        return torch.arange(n) % num_classes
    if isinstance(labels, bool):
        raise UsageError(f"a class label must be an integer from 0 to {num_classes - 1}, got {labels!r}")
    if isinstance(labels, int):
        labels = [labels] * n
    found = torch.as_tensor(labels).reshape(-1)
    if found.is_floating_point() or found.dtype == torch.bool:
        raise UsageError(f"class labels must be integers from 0 to {num_classes - 1}")
    if found.numel() != n:
        raise UsageError(f"{found.numel()} class labels for {n} samples; give one label, or one per sample")
    found = found.long()
    if n and (int(found.min()) < 0 or int(found.max()) >= num_classes):
        bad = int(found.max()) if int(found.max()) >= num_classes else int(found.min())
        raise UsageError(f"class {bad} does not exist: this generator makes classes 0 to {num_classes - 1}")
    return found
