"""The exceptions ganzoo raises for bad input; the CLI turns each into one line on stderr."""


class GanzooError(Exception):
    """Something the user can fix; the message says what and how."""

    exit_code = 1


class UsageError(GanzooError):
    """A bad name, flag or value on the command line or in the Python API."""

    exit_code = 2


class UnknownNameError(UsageError, LookupError):
    """A name no plugin registered."""


class PluginError(GanzooError):
    """A plugin that could not be loaded or registered something malformed."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name for the same kind."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of an exception folded onto one line (and cut at ``limit``), for error messages."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(": ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
