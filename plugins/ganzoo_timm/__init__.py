"""Built-in plugin: timm models as discriminators (the `timm` architecture) and as metric feature extractors
(`timm:MODEL`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from ganzoo import Range, get_architecture, hookimpl
from ganzoo.architecture import Architecture
from ganzoo.errors import UsageError
from ganzoo.metrics.base import FeatureExtractor

if TYPE_CHECKING:
    from torch import Tensor


class TimmDiscriminator(Architecture):
    """DCGAN generator; the discriminator is any timm model with one output (`--set arch.model=resnet18`)."""

    joint_discriminator_batch = False  # a timm model may hold any batch-wise layer; keep real and fake apart

    def __init__(
        self, model: str = "resnet18", pretrained: bool = False, g_width: Annotated[int, Range(1, 512)] = 64
    ) -> None:
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


class TimmFeatures(FeatureExtractor):
    """Pooled features of any timm model, named timm:MODEL (e.g. timm:vit_small_patch14_dinov2.lvd142m).

    Images are resized to the model's input size and normalised as
    ``timm.data.resolve_data_config`` says. ``pretrained=False`` builds random weights
    (only useful for testing shapes).
    """

    takes_argument = True
    batch_size = 64

    def __init__(self, model: str, pretrained: bool = True) -> None:
        from ganzoo_timm import features as timm_features

        self._module = timm_features
        self.model = model
        self.pretrained = pretrained
        self._net, self._config = timm_features.load_timm(model, pretrained=pretrained)

    def to(self, device: Any) -> TimmFeatures:
        self._net = self._net.to(device)
        return self

    def features(self, images: Tensor) -> Tensor:
        return self._net(self._module.timm_prepare(images, self._config))

    def protocol(self) -> dict[str, Any]:
        return {
            "name": f"timm:{self.model}",
            "sha256": self._module.timm_weights_sha256(self._net) if self.pretrained else None,
            "input_size": int(self._config["input_size"][-1]),
            "pretrained": self.pretrained,
        }


@hookimpl
def register_architectures(register):
    register("timm", TimmDiscriminator)


@hookimpl
def register_features(register):
    register("timm", TimmFeatures)
