"""A pytest fixture for plugin authors: register a plugin module in-process for one test, beside the installed ones.

Load it from your tests' top-level ``conftest.py`` with ``pytest_plugins = ["ganzoo.testing"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ganzoo import plugins

__all__ = ["PluginSandbox", "ganzoo_plugins"]


class PluginSandbox:
    """Plugins registered for one test; each is unregistered when the test ends."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def register(self, plugin: Any, name: str | None = None, distribution: str | None = None, version: str = "") -> Any:
        """Register ``plugin`` as if ``distribution`` had installed it (see ``ganzoo.plugins.register_plugin``)."""
        self._undo.append(plugins.register_plugin(plugin, name=name, distribution=distribution, version=version))
        return plugin

    def undo(self) -> None:
        """Unregister every plugin this sandbox registered, the last first."""
        while self._undo:
            self._undo.pop()()


@pytest.fixture
def ganzoo_plugins() -> Iterator[PluginSandbox]:
    """Register plugins for this test only: ``ganzoo_plugins.register(my_module, distribution="ganzoo-mine")``."""
    sandbox = PluginSandbox()
    yield sandbox
    sandbox.undo()
