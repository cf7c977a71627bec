"""A timm model wrapped as a discriminator that returns one logit per image."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.errors import GanzooError


class TimmCritic(nn.Module):
    """``timm.create_model(name, num_classes=1, in_chans=C)``, its output squeezed to ``[B]``."""

    def __init__(self, name: str, channels: int, pretrained: bool = False):
        super().__init__()
        import timm

        try:
            self.model = timm.create_model(name, pretrained=pretrained, num_classes=1, in_chans=channels)
        except Exception as exc:  # offline weights, bad name: one clear line
            raise GanzooError(f"could not build timm model {name!r} (pretrained={pretrained}): {exc}") from exc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).squeeze(1)
