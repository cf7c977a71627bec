"""What ganzoo accepts as a name or a number in records and JSON files: registry names, distribution names,
Hub repo ids, licence ids, integers, numbers and metric figures."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ganzoo.errors import UsageError

MAX_NAME = 100  # characters of a name, and of a distribution name, wherever one is read
_NAME_PART = rf"[A-Za-z0-9][A-Za-z0-9_.+-]{{0,{MAX_NAME - 1}}}"
_DISTRIBUTION_PART = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_NAME - 1}}}"
NAME = re.compile(rf"^{_NAME_PART}$")  # what the registry accepts as a name
# a name as a record or config.json may spell it: plain, or qualified by its distribution (DISTRIBUTION:NAME)
QUALIFIED_NAME = re.compile(rf"^({_DISTRIBUTION_PART}:)?{_NAME_PART}$")
DISTRIBUTION = re.compile(rf"^{_DISTRIBUTION_PART}$")  # a Python distribution name as config.json records it
LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")  # a Hub licence id: apache-2.0, mit, cc-by-4.0, other, ...
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
REPO_ID = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")  # namespace/name, as the Hub spells repo ids


def is_int(value: Any) -> bool:
    """An integer that is not a bool (JSON's ``true`` is no count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A JSON number that fits a float: not a bool, and not a 400-digit integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def json_kind(value: Any) -> str:
    """What a JSON value is, as an error message names it: "a string", "null", "a list", ..."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def as_json(value: Any) -> Any:
    """``value`` as JSON holds it (mappings as dicts with string keys, tuples as lists, nested), so a stored value
    compares equal to its typed twin."""
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    return value


def figure(value: Any) -> float | str | None:
    """A metric value as JSON files store it: a finite float, "inf"/"-inf" (JSON has no infinity), or None for NaN;
    a TypeError for anything that is no number."""
    if value is None or value in ("inf", "-inf"):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is no number")
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return None if math.isnan(value) else value


def figure_number(value: float | str | None) -> float:
    """A stored metric figure as a number again: "inf"/"-inf" as infinities, None (NaN when stored) as NaN."""
    return math.nan if value is None else float(value)


def normalise_distribution(name: str) -> str:
    """A distribution name as pip compares them: ``Ganzoo_Extra.x`` and ``ganzoo-extra-x`` are one."""
    return name.strip().lower().replace("_", "-").replace(".", "-")


def folder_word(name: str) -> str:
    """A data-set or variant name as part of a folder name: ``folder:/x/y`` -> ``folder-_x_y``, trimmed."""
    return name.replace(":", "-").replace("/", "_").strip("-_.")


def check_repo_id(repo_id: str) -> str:
    """``namespace/name`` as the Hub spells repo ids, or a UsageError."""
    if not isinstance(repo_id, str) or not REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise UsageError(f"{repo_id!r} is not a Hub repo id; expected namespace/name (letters, digits, - _ .)")
    return repo_id
