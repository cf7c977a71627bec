"""Options of a plugin component, read from its ``__init__`` signature, and typed values for them."""

from __future__ import annotations

import inspect
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from ganzoo.errors import UsageError
from ganzoo.values import is_number

_SCALARS = (bool, int, float, str)


def _number_text(value: float) -> str:
    return str(int(value)) if isinstance(value, int) or (math.isfinite(value) and value.is_integer()) else repr(value)


@dataclass(frozen=True)
class Range:
    """The values a numeric option accepts, declared beside its type: ``n: Annotated[int, Range(1, 100)]``.

    ``min`` and ``max`` bound the value (``None``: unbounded on that side), inclusive unless
    ``min_exclusive`` / ``max_exclusive``. On a tuple option the range applies to every element.
    Float options take only finite numbers; ``finite=False`` lets infinities through (they still
    obey the bounds) and NaN (only when there are no bounds). ganzoo checks the range in one
    place, after coercing ``--set`` strings, in ``Component.create`` and whenever a component is
    constructed, so ``__init__`` needs no hand-written check for it.
    """

    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    finite: bool = True

    def __post_init__(self) -> None:
        for bound in (self.min, self.max):
            if bound is not None and (not is_number(bound) or math.isnan(bound)):
                raise TypeError(f"Range bounds must be numbers or None, got {bound!r}")
        if self.min is not None and self.max is not None:
            empty = self.min > self.max or (self.min == self.max and (self.min_exclusive or self.max_exclusive))
            if empty:
                raise ValueError(f"Range({self.min!r}, {self.max!r}) holds no value")

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):  # a huge integer is still compared
            return False
        if self.min is not None and not (value > self.min if self.min_exclusive else value >= self.min):
            return False
        # written so that NaN fails every bound
        return self.max is None or (value < self.max if self.max_exclusive else value <= self.max)

    def __str__(self) -> str:
        low = None if self.min is None else f"{'>' if self.min_exclusive else '>='} {_number_text(self.min)}"
        high = None if self.max is None else f"{'<' if self.max_exclusive else '<='} {_number_text(self.max)}"
        if low and high:
            if not (self.min_exclusive or self.max_exclusive):
                return f"between {_number_text(self.min)} and {_number_text(self.max)}"
            return f"{low} and {high}"
        return low or high or "any number"


class _Violation(Exception):
    """A value of the right type that breaks a declared constraint (a Range, finiteness)."""

    def __init__(self, value: Any, rule: str) -> None:
        super().__init__(value, rule)
        self.value, self.rule = value, rule

    def usage_error(self, key: str) -> UsageError:
        return UsageError(f"{key}: must be {self.rule}, got {self.value!r}")


@dataclass(frozen=True)
class Option:
    """One keyword argument of a component: its name, type (as declared, ``Annotated`` included), default and range."""

    name: str
    type: Any
    default: Any
    range: Range | None = None

    @property
    def type_name(self) -> str:
        """The type as ``ganzoo info`` shows it, with any declared range: ``int (between 1 and 100)``."""
        return type_name(self.type)


def _ranges(tp: Any) -> list[Range]:
    return [m for m in getattr(tp, "__metadata__", ()) if isinstance(m, Range)]


def range_of(tp: Any) -> Range | None:
    """The Range declared on an option type (also inside ``X | None``), or None."""
    if typing.get_origin(tp) is typing.Annotated:
        found = _ranges(tp)
        return found[0] if found else range_of(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            found = range_of(arg)
            if found is not None:
                return found
    return None


def type_name(tp: Any) -> str:
    """A type as ``ganzoo info`` and the docs show it: ``float | None``, ``'adam' | 'rmsprop'``,
    ``int (between 1 and 9)``."""
    if tp in _SCALARS:
        return tp.__name__
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return " ".join([type_name(args[0]), *(f"({r})" for r in _ranges(tp))])
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else type_name(a) for a in args)
    if origin is tuple:
        return f"tuple[{', '.join(type_name(a) for a in args)}]"
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    return getattr(tp, "__name__", str(tp))


def _declared_types(cls: type) -> dict[str, Any]:
    """The annotations of ``cls.__init__``, ``Annotated`` metadata kept; empty when they cannot be resolved."""
    try:
        return typing.get_type_hints(cls.__init__, include_extras=True)
    except Exception:  # unresolvable annotations: options fall back to the defaults' types
        return {}


def options_of(cls: type) -> dict[str, Option]:
    """The keyword options a component class accepts, in signature order."""
    init = cls.__init__
    if init is object.__init__:
        return {}
    hints = _declared_types(cls)
    found: dict[str, Option] = {}
    for param in list(inspect.signature(init).parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = None if param.default is inspect.Parameter.empty else param.default
        tp = hints.get(param.name, type(default) if default is not None else str)
        found[param.name] = Option(param.name, tp, default, range_of(tp))
    return found


def coerce(value: Any, tp: Any, key: str) -> Any:
    """Turn ``value`` (often a command-line string) into type ``tp``, or raise a UsageError naming ``key``.

    Declared constraints are checked after the conversion: a ``Range`` in ``Annotated`` metadata,
    and finiteness of floats (NaN and infinities are refused unless a ``Range(finite=False)`` allows them).
    """
    try:
        return _coerce(value, tp)
    except _Violation as problem:
        raise problem.usage_error(key) from None
    except (ValueError, TypeError):
        raise UsageError(f"{key}: expected {type_name(tp)}, got {value!r}") from None


def _numbers(value: Any) -> list[Any]:
    items = value if isinstance(value, tuple) else (value,)
    return [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _coerce(value: Any, tp: Any, finite: bool = True) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is typing.Annotated:
        ranges = _ranges(tp)
        result = _coerce(value, args[0], finite and all(r.finite for r in ranges))
        for declared in ranges:
            for number in _numbers(result):
                if number not in declared:
                    raise _Violation(number, str(declared))
        return result
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, finite)
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
            return tuple(_coerce(v, args[0], finite) for v in value)
        if len(value) != len(args):
            raise ValueError(value)
        return tuple(_coerce(v, a, finite) for v, a in zip(value, args))
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
        number = float(value)
        if finite and not math.isfinite(number):
            raise _Violation(number, "a finite number")
        return number
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


def _understood(tp: Any) -> bool:
    """Whether ``_coerce`` knows type ``tp`` (scalars, literals, and unions, tuples or Annotated of those)."""
    if tp is Any or tp is type(None) or tp in _SCALARS:
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return _understood(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType, tuple):
        return all(arg is Ellipsis or _understood(arg) for arg in typing.get_args(tp))
    return False


def check_value(value: Any, tp: Any, key: str) -> None:
    """Raise a UsageError naming ``key`` when an already-typed ``value`` does not fit ``tp`` or its declared range.

    What a component's constructor runs on every argument, so that a component built directly from
    Python obeys the same declarations as one built from ``--set``. Types ganzoo does not
    know (a module, a callable) are left to the component.
    """
    if not _understood(tp):
        return
    try:
        result = _coerce(value, tp)
    except _Violation as problem:
        raise problem.usage_error(key) from None
    except (ValueError, TypeError):
        pass
    else:
        if isinstance(result, str) or not isinstance(value, str):  # text is not a number or a flag here
            return
    raise UsageError(f"{key}: expected {type_name(tp)}, got {value!r}")


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
        known = options_of(cls)
        declared = _declared_types(cls)  # types guessed from defaults are not enforced on Python callers
        for name, value in arguments.items():
            if name in known and name in declared:
                check_value(value, declared[name], f"{cls.__name__} option {name!r}")
        self._ganzoo_options = {k: v for k, v in arguments.items() if k in known}
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
