"""A plugin that fails on import."""

raise ImportError("ganzoo_broken needs a module that is not installed")
