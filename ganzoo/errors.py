"""The exceptions ganzoo raises for bad input, and the wording of their one-line messages; the CLI turns each into
one line on stderr."""


class GanzooError(Exception):
    """Something the user can fix; the message says what and how."""

    exit_code = 1


class UsageError(GanzooError):
    """A bad name, flag or value on the command line or in the Python API."""

    exit_code = 2


class UnknownNameError(UsageError, LookupError):
    """A name no plugin registered."""


class AmbiguousNameError(UsageError, LookupError):
    """A plain name that several third-party distributions register; ``DISTRIBUTION:NAME`` picks one."""


class PluginError(GanzooError):
    """A plugin that could not be loaded or registered something malformed."""


class DuplicateNameError(PluginError):
    """One distribution registered the same name twice for the same kind."""


class GeneratorConfigError(GanzooError):
    """A generator's config.json that is malformed, unknown or out of range."""


class WeightsMismatchError(GanzooError):
    """A model.safetensors whose tensors do not fit the architecture config.json names."""


class UnsafeFileError(GanzooError):
    """Weights in a format ganzoo refuses to load (pickle can run code when read)."""


class MissingPluginError(PluginError):
    """The generator's architecture comes from a plugin that is not installed."""


def fold(text: BaseException | str, limit: int = 300) -> str:
    """A message (or an exception's message) folded onto one line and cut at ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of an exception folded onto one line (and cut at ``limit``), for error messages."""
    return fold(f"{type(exc).__name__}: {exc}", limit).rstrip(": ")


def and_list(words: list[str]) -> str:
    """Words as a message lists them: ``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
