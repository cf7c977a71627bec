"""Options of a plugin component, read from its ``__init__`` signature, and typed values for them."""

from __future__ import annotations

import inspect
import json
import types
import typing
from dataclasses import dataclass
from typing import Any

from ganzoo.errors import UsageError

_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class Option:
    """One keyword argument of a component: its name, type and default."""

    name: str
    type: Any
    default: Any

    @property
    def type_name(self) -> str:
        return _type_name(self.type)


def _type_name(tp: Any) -> str:
    if tp in _SCALARS:
        return tp.__name__
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else _type_name(a) for a in args)
    if origin is tuple:
        return f"tuple[{', '.join(_type_name(a) for a in args)}]"
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    return getattr(tp, "__name__", str(tp))


def options_of(cls: type) -> dict[str, Option]:
    """The keyword options a component class accepts, in signature order."""
    init = cls.__init__
    if init is object.__init__:
        return {}
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # unresolvable annotations: fall back to the defaults' types
        hints = {}
    found: dict[str, Option] = {}
    for param in list(inspect.signature(init).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = None if param.default is inspect.Parameter.empty else param.default
        tp = hints.get(param.name, type(default) if default is not None else str)
        found[param.name] = Option(param.name, tp, default)
    return found


def coerce(value: Any, tp: Any, key: str) -> Any:
    """Turn ``value`` (often a command-line string) into type ``tp``, or raise a UsageError naming ``key``."""
    try:
        return _coerce(value, tp)
    except (ValueError, TypeError):
        raise UsageError(f"{key}: expected {_type_name(tp)}, got {value!r}") from None


def _coerce(value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg)
            except (ValueError, TypeError):
                continue
        raise ValueError(value)
    if origin is typing.Literal:
        for arg in args:
            if value == arg or (isinstance(value, str) and str(arg) == value):
                return arg
        raise ValueError(value)
    if origin is tuple:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [v for v in text.strip("()").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise TypeError(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise ValueError(value)
        return tuple(_coerce(v, a) for v, a in zip(value, args))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if tp is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value) if not isinstance(value, str) else int(value.strip())
    if tp is float:
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise TypeError(value)


def resolve_options(cls: type, given: dict[str, Any], owner: str) -> dict[str, Any]:
    """Defaults of ``cls`` updated with ``given``, each value checked and typed; unknown keys are errors."""
    known = options_of(cls)
    unknown = sorted(set(given) - set(known))
    if unknown:
        choices = ", ".join(known) or "none"
        raise UsageError(f"{owner} has no option {unknown[0]!r} (options: {choices})")
    resolved = {name: opt.default for name, opt in known.items()}
    for key, value in given.items():
        resolved[key] = coerce(value, known[key].type, f"{owner} option {key!r}")
    return resolved


class Component:
    """Base of every plugin component: options come from ``__init__``; ``description`` from the docstring."""

    def __new__(cls, *args: Any, **kwargs: Any):
        self = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
        except TypeError:
            return self  # __init__ itself will raise the clear TypeError
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(arguments)))
        self._ganzoo_options = {k: v for k, v in arguments.items() if k in options_of(cls)}
        return self

    @classmethod
    def describe(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    @classmethod
    def options(cls) -> dict[str, Option]:
        return options_of(cls)

    @classmethod
    def create(cls, owner: str = "", **given: Any):
        """Build an instance from (possibly string) option values, checked against the signature."""
        return cls(**resolve_options(cls, given, owner or cls.__name__))

    def get_options(self) -> dict[str, Any]:
        """The option values this instance was made with (what a config file records)."""
        return dict(getattr(self, "_ganzoo_options", {}))
