"""The hooks a ganzoo plugin implements, and the markers that tag them."""

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def register_architectures(register):
    """Register architectures: ``register(name, ArchitectureClass)``."""


@hookspec
def register_losses(register):
    """Register adversarial losses: ``register(name, LossClass)``."""


@hookspec
def register_datasets(register):
    """Register data sets: ``register(name, DatasetClass)``."""


@hookspec
def register_metrics(register):
    """Register metrics: ``register(name, MetricClass)``."""


@hookspec
def register_features(register):
    """Register feature extractors used by metrics: ``register(name, FeaturesClass)``."""


@hookspec
def register_variants(register):
    """Register variants (named recipes): ``register(name, Variant(...))``."""


@hookspec
def register_pretrained(register):
    """Register catalogue entries of pretrained generators: ``register(name, Pretrained(...))``."""


@hookspec
def register_commands(cli):
    """Add subcommands to the ``ganzoo`` click group."""
