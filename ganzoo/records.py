"""How a JSON record is declared and checked: its fields (key, check, required), the kinds of value those checks
accept (integers in bounds, choices, string maps, values of a declared Python type, sample shapes, plain JSON, metric
entries), and the first problem found, as one line naming the file and the key. The config.json of runs and of
generator folders, and the catalogue entries, are checked with these."""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ganzoo.limits import MAX_SAMPLE_DIMS, MAX_SAMPLE_NUMEL, MAX_SAMPLE_SIDE
from ganzoo.values import is_int, is_number, json_kind

__all__ = [
    "Field",
    "Check",
    "check_record",
    "integer",
    "choice",
    "boolean",
    "string",
    "string_map",
    "is_plain",
    "json_copy",
    "sample_shape_problem",
    "metric_entry_problem",
    "SHAPE_RULE",
    "json_problem",
    "from_json",
]

Check = Callable[[Any], "str | None"]  # a value's problem (what it must be), or None when it is fine
MAX_PLAIN_DEPTH = 4  # nesting of a plain JSON value kept in a record (options, protocols)
MAX_PLAIN_ITEMS = 1000  # items of one list or object inside it
MAX_PLAIN_TEXT = 2000  # characters of one string inside it
SHAPE_RULE = (
    f"a list of 1 to {MAX_SAMPLE_DIMS} sizes, each from 1 to {MAX_SAMPLE_SIDE}, "
    f"at most {MAX_SAMPLE_NUMEL} values in all"
)


@dataclass(frozen=True)
class Field:
    """One key of a record: the check of its value, and whether the record must hold it."""

    key: str
    check: Check
    required: bool = False


def check_record(data: Any, fields: Iterable[Field], fail: Callable[[str, str], Exception]) -> dict[str, Any]:
    """Check a parsed JSON object against its fields: no unknown key, every required key there, each value accepted.
    The first problem raises ``fail(key, problem)`` (the caller words the line and names the file); returns data."""
    fields = list(fields)
    known = {f.key for f in fields}
    if not isinstance(data, dict):
        raise fail("", "is not a JSON object")
    for key in data:
        if key not in known:
            raise fail(key, "is not a key ganzoo writes (a newer ganzoo's file, or an edited one)")
    for f in fields:
        if f.key not in data:
            if f.required:
                raise fail(f.key, "is missing")
            continue
        problem = f.check(data[f.key])
        if problem:
            raise fail(f.key, problem)
    return data


def integer(low: int | None = None, high: int | None = None) -> Check:
    """An integer (not a bool) from ``low`` to ``high``, either bound optional."""
    if low is not None and high is not None:
        rule = f"must be an integer from {low} to {high}"
    elif low is not None:
        rule = "must be a positive integer" if low == 1 else f"must be an integer >= {low}"
    else:
        rule = "must be an integer"
    return lambda v: None if is_int(v) and (low is None or v >= low) and (high is None or v <= high) else rule


def choice(*options: Any) -> Check:
    """One of ``options`` (compared as JSON values)."""
    rule = "must be " + " or ".join(json.dumps(o) for o in options)
    return lambda v: None if any(v == o and type(v) is type(o) for o in options) else rule


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def string(max_len: int | None = None) -> Check:
    """A string of at most ``max_len`` characters."""
    rule = "must be a string" if max_len is None else f"must be a string of at most {max_len} characters"
    return lambda v: None if isinstance(v, str) and (max_len is None or len(v) <= max_len) else rule


def string_map(allow_null: bool = False, max_len: int | None = None) -> Check:
    """An object whose keys are strings and whose values are strings (or null, when allowed)."""

    def ok(v: Any) -> bool:
        return (v is None and allow_null) or (isinstance(v, str) and (max_len is None or len(v) <= max_len))

    return lambda v: (
        None
        if isinstance(v, dict) and all(isinstance(k, str) and ok(x) for k, x in v.items())
        else "must be an object of strings"
    )


def is_plain(value: Any, depth: int = 0) -> bool:
    """JSON scalars, and lists and objects of them a few levels deep, each of bounded size."""
    if value is None or isinstance(value, bool) or is_number(value):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_PLAIN_TEXT
    if depth >= MAX_PLAIN_DEPTH:
        return False
    if isinstance(value, list):
        return len(value) <= MAX_PLAIN_ITEMS and all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_PLAIN_ITEMS and all(
            isinstance(k, str) and is_plain(v, depth + 1) for k, v in value.items()
        )
    return False


def json_copy(value: Any) -> Any:
    """A deep copy as JSON holds it (tuples become lists); a TypeError or ValueError for what JSON cannot hold
    (objects, NaN, infinities)."""
    return json.loads(json.dumps(value, allow_nan=False))


def sample_shape_problem(shape: Any) -> str | None:
    """The one rule for a sample's shape in every record (a run's, a generator folder's): every run can be packaged."""
    if (
        isinstance(shape, list)
        and 1 <= len(shape) <= MAX_SAMPLE_DIMS
        and all(is_int(s) and 1 <= s <= MAX_SAMPLE_SIDE for s in shape)
        and math.prod(shape) <= MAX_SAMPLE_NUMEL
    ):
        return None
    return "must be " + SHAPE_RULE


def metric_entry_problem(item: Any) -> str | None:
    """A recorded metric: ``{'metric': name, 'values': {name: figure}, 'protocol': {...}}`` where a figure is a
    number, "inf", "-inf" or null, and the protocol is plain JSON."""
    if (
        isinstance(item, Mapping)
        and isinstance(item.get("metric"), str)
        and isinstance(item.get("values"), Mapping)
        and item["values"]
        and not set(item) - {"metric", "values", "protocol"}
        and all(
            isinstance(k, str) and (is_number(v) or v is None or v in ("inf", "-inf"))
            for k, v in item["values"].items()
        )
        and isinstance(item.get("protocol", {}), Mapping)
        and is_plain(dict(item.get("protocol") or {}))
    ):
        return None
    return "must be {'metric': name, 'values': {name: number, 'inf', '-inf' or null}, 'protocol': {...}}"


def json_problem(value: Any, kind: Any) -> str | None:
    """Why ``value`` cannot be a value of the Python type ``kind`` as JSON holds it (str, Literal, bool, int, float,
    tuples of numbers, dicts, and their optional forms), or None."""
    origin, args = typing.get_origin(kind), get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = json_problem(value, next(a for a in args if a is not type(None)))
        return inner and inner.split(", got")[0].replace(" or ", ", ") + f" or null, got {json_kind(value)}"
    if kind is str or origin is Literal:
        return None if isinstance(value, str) else f"must be a string, got {json_kind(value)}"
    if kind is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {json_kind(value)}"
    if kind is int:
        return None if is_int(value) else f"must be an integer, got {json_kind(value)} ({value!r:.40})"
    if kind is float:
        if is_int(value) and not is_number(value):
            return f"must be a number, got an integer too large for a float ({len(str(value))} digits)"
        return None if is_number(value) else f"must be a number, got {json_kind(value)}"
    if origin is tuple:
        if isinstance(value, (list, tuple)) and len(value) == len(args) and all(is_number(v) for v in value):
            return None
        return f"must be a list of {('two' if len(args) == 2 else len(args))} numbers"
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return f"must be an object of option names and values, got {json_kind(value)}"
    return None


def from_json(value: Any, kind: Any) -> Any:
    """A value JSON holds (and ``json_problem`` passed) as its type: numbers as floats, lists as tuples."""
    if value is None:
        return None
    origin, args = typing.get_origin(kind), get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return from_json(value, next(a for a in args if a is not type(None)))
    if kind is float:
        return float(value)
    if origin is tuple:
        return tuple(float(v) for v in value)
    return value
