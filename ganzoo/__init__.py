"""ganzoo: a plugin-based zoo of generative adversarial networks for PyTorch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, PluginError, UnknownNameError, UsageError
from ganzoo.hookspecs import hookimpl
from ganzoo.version import __version__

if TYPE_CHECKING:
    from ganzoo.registry import Entry

__all__ = [
    "__version__",
    "hookimpl",
    "GanzooError",
    "UsageError",
    "UnknownNameError",
    "PluginError",
    "Architecture",
    "Loss",
    "Dataset",
    "Samples",
    "Variant",
    "Metric",
    "FeatureExtractor",
    "Range",
    "list_variants",
    "list_architectures",
    "list_losses",
    "list_datasets",
    "list_metrics",
    "list_features",
    "get_variant",
    "get_architecture",
    "get_loss",
    "get_dataset",
    "get_metric",
    "get_features",
    "to_model_range",
    "train",
    "train_seeds",
    "TrainRequest",
    "open_run",
    "Run",
    "sample",
    "load_generator",
    "save_generator",
    "Pretrained",
    "list_pretrained",
    "get_pretrained",
]

# Public names resolved on first use, so `import ganzoo` stays light (no torch).
_LAZY = {
    "Architecture": ("ganzoo.architecture", "Architecture"),
    "Loss": ("ganzoo.loss", "Loss"),
    "Dataset": ("ganzoo.data", "Dataset"),
    "Samples": ("ganzoo.data", "Samples"),
    "to_model_range": ("ganzoo.data", "to_model_range"),
    "Variant": ("ganzoo.variant", "Variant"),
    "Metric": ("ganzoo.metrics.base", "Metric"),
    "FeatureExtractor": ("ganzoo.metrics.base", "FeatureExtractor"),
    "Range": ("ganzoo.options", "Range"),
    "train": ("ganzoo.training", "train"),
    "train_seeds": ("ganzoo.training", "train_seeds"),
    "TrainRequest": ("ganzoo.training", "TrainRequest"),
    "open_run": ("ganzoo.training", "open_run"),
    "Run": ("ganzoo.training", "Run"),
    "sample": ("ganzoo.generator", "sample"),
    "load_generator": ("ganzoo.sources", "load_generator"),
    "save_generator": ("ganzoo.packaging", "save_generator"),
    "Pretrained": ("ganzoo.pretrained", "Pretrained"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are attributes too, though not loaded yet: dir() and completion should show them
    return sorted(set(globals()) | set(_LAZY) | set(__all__))


def _list(kind: str, pattern: str) -> list[str]:
    from ganzoo.plugins import registry

    reg = registry()
    return [reg.name_for(e) for e in reg.list(kind, pattern)]  # DISTRIBUTION:NAME where a plain name means another


def _get(kind: str, name: str) -> Any:
    from ganzoo.plugins import registry

    return registry().get(kind, name).obj


def list_variants(pattern: str = "*") -> list[str]:
    """Names of registered variants matching ``pattern`` (fnmatch), naturally sorted."""
    return _list("variant", pattern)


def list_architectures(pattern: str = "*") -> list[str]:
    """Names of registered architectures matching ``pattern``."""
    return _list("architecture", pattern)


def list_losses(pattern: str = "*") -> list[str]:
    """Names of registered losses matching ``pattern``."""
    return _list("loss", pattern)


def list_datasets(pattern: str = "*") -> list[str]:
    """Names of registered data sets matching ``pattern``."""
    return _list("dataset", pattern)


def list_metrics(pattern: str = "*") -> list[str]:
    """Names of registered metrics matching ``pattern``."""
    return _list("metric", pattern)


def list_features(pattern: str = "*") -> list[str]:
    """Names of registered feature extractors matching ``pattern``."""
    return _list("features", pattern)


def list_pretrained(pattern: str = "*") -> list[str]:
    """Names of pretrained generators in the catalogue (``ganzoo zoo``) matching ``pattern``."""
    return _list("pretrained", pattern)


def get_variant(name: str) -> Any:
    """The ``Variant`` called ``name``; an unknown name raises ``UnknownNameError`` with suggestions."""
    return _get("variant", name)


def get_architecture(name: str) -> Any:
    """The architecture class called ``name``."""
    return _get("architecture", name)


def get_loss(name: str) -> Any:
    """The loss class called ``name``."""
    return _get("loss", name)


def get_dataset(name: str) -> Any:
    """The data-set class called ``name`` (``folder:PATH`` looks up ``folder``)."""
    return _get("dataset", name)


def get_metric(name: str) -> Any:
    """The metric class called ``name``."""
    return _get("metric", name)


def get_features(name: str) -> Any:
    """The feature-extractor class called ``name`` (``timm:MODEL`` looks up ``timm``)."""
    return _get("features", name)


def get_pretrained(name: str) -> Any:
    """The catalogue entry (a ``ganzoo.Pretrained``) called ``name``; ``ganzoo.load_generator(name)`` loads its
    generator."""
    return _get("pretrained", name)


def entry(kind: str, name: str) -> Entry:
    """The registry entry (object, plugin, distribution) for ``name`` of ``kind``."""
    from ganzoo.plugins import registry

    return registry().get(kind, name)
