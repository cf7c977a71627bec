"""A plugin whose entry point is called ``timm``, like a built-in one; it registers a harmless variant."""

from ganzoo import hookimpl
from ganzoo.variant import Variant


@hookimpl
def register_variants(register):
    register(
        "clash",
        Variant(
            description="the mlp GAN on the ring, from a plugin named like another",
            architecture="mlp",
            loss="nonsaturating",
            data="ring",
        ),
    )
