"""The ganzoo version: one string, importable from every layer."""

__version__ = "0.1.0"
