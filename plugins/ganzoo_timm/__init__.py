"""Built-in plugin: the `timm` architecture — the DCGAN generator against any timm model as the discriminator."""

from __future__ import annotations

from ganzoo import get_architecture, hookimpl
from ganzoo.architecture import Architecture
from ganzoo.errors import UsageError


class TimmDiscriminator(Architecture):
    """DCGAN generator; the discriminator is any timm model with one output (`--set arch.model=resnet18`)."""

    def __init__(self, model: str = "resnet18", pretrained: bool = False, g_width: int = 64) -> None:
        self.model, self.pretrained, self.g_width = model, pretrained, g_width

    def check(self, sample_shape: tuple[int, ...], latent_dim: int) -> None:
        get_architecture("dcgan")(g_width=self.g_width).check(sample_shape, latent_dim)
        import timm

        if not timm.is_model(self.model):
            import difflib

            close = difflib.get_close_matches(self.model, timm.list_models(), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise UsageError(f"timm has no model {self.model!r}{hint}")

    def generator(self, sample_shape: tuple[int, ...], latent_dim: int):
        return get_architecture("dcgan")(g_width=self.g_width).generator(sample_shape, latent_dim)

    def discriminator(self, sample_shape: tuple[int, ...]):
        from ganzoo_timm.networks import TimmCritic

        self.check(sample_shape, 1)
        return TimmCritic(self.model, sample_shape[0], self.pretrained)


@hookimpl
def register_architectures(register):
    register("timm", TimmDiscriminator)
