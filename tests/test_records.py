"""The JSON-record checks: a declared record refuses unknown, missing and bad keys with one line naming the key, and
a run's and a generator folder's config.json share one rule for the sample shape, so a run can always be packaged."""

from __future__ import annotations

import pytest

from ganzoo.errors import GeneratorConfigError
from ganzoo.folder import validate_config
from ganzoo.limits import MAX_SAMPLE_NUMEL, MAX_SAMPLE_SIDE
from ganzoo.records import (
    Field,
    check_record,
    choice,
    integer,
    is_plain,
    json_copy,
    metric_entry_problem,
    sample_shape_problem,
    string_map,
)

RECORD = (Field("n", integer(1, 10), required=True), Field("kind", choice("a", "b")), Field("names", string_map()))


def fail(key: str, problem: str) -> ValueError:
    return ValueError(f"record.json: {key!r} {problem}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "'' is not a JSON object"),
        ({"n": 1, "extra": 0}, "'extra' is not a key ganzoo writes"),
        ({}, "'n' is missing"),
        ({"n": 0}, "'n' must be an integer from 1 to 10"),
        ({"n": True}, "'n' must be an integer from 1 to 10"),
        ({"n": 2, "kind": "c"}, '\'kind\' must be "a" or "b"'),
        ({"n": 2, "names": {"x": 3}}, "'names' must be an object of strings"),
    ],
)
def test_a_declared_record_names_its_first_problem(data, message):
    with pytest.raises(ValueError, match="^record.json: ") as caught:
        check_record(data, RECORD, fail)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_good_record_is_returned_whole():
    data = {"n": 3, "kind": "b", "names": {"x": "y"}}
    assert check_record(data, RECORD, fail) is data


@pytest.mark.parametrize(
    "shape",
    [[0], [], [1, 2, 3, 4, 5], [MAX_SAMPLE_SIDE + 1], [3, 8192, 8192], "1x32x32", [1.0, 2], [True]],
)
def test_one_sample_shape_rule_for_runs_and_generator_folders(shape):
    assert sample_shape_problem(shape)
    with pytest.raises(GeneratorConfigError, match="sample_shape must be a list of 1 to 4 sizes"):
        validate_config({"architecture": "dcgan", "architecture_options": {}, "latent_dim": 8, "sample_shape": shape})


def test_the_largest_sample_allowed_is_accepted_by_both():
    shape = [1, MAX_SAMPLE_NUMEL // MAX_SAMPLE_SIDE, MAX_SAMPLE_SIDE]
    assert sample_shape_problem(shape) is None
    validate_config({"architecture": "dcgan", "architecture_options": {}, "latent_dim": 8, "sample_shape": shape})


def test_plain_json_is_bounded_and_copies_as_json():
    assert is_plain({"a": [1, 2.5, None, "x", {"b": True}]})
    assert not is_plain({"a": {"b": {"c": {"d": {"e": 1}}}}})  # too deep
    assert not is_plain([0] * 1001) and not is_plain("x" * 2001) and not is_plain({1: 2}) and not is_plain(10**400)
    assert json_copy({"a": (1, 2)}) == {"a": [1, 2]}
    with pytest.raises(ValueError):
        json_copy({"a": float("nan")})


@pytest.mark.parametrize(
    "item",
    [
        {"metric": "fid", "values": {}},
        {"metric": "fid", "values": {"fid": "low"}},
        {"metric": "fid", "values": {"fid": 1.0}, "extra": 1},
        {"metric": "fid", "values": {"fid": 1.0}, "protocol": {"n": object()}},
        {"values": {"fid": 1.0}},
    ],
)
def test_a_bad_metric_entry_is_refused(item):
    assert metric_entry_problem(item)
    config = {"architecture": "dcgan", "architecture_options": {}, "latent_dim": 8, "sample_shape": [3, 8, 8]}
    with pytest.raises(GeneratorConfigError, match=r"metrics\[0\] must be"):
        validate_config({**config, "metrics": [item]})


def test_a_metric_entry_may_record_infinities_and_nan():
    assert metric_entry_problem({"metric": "kid", "values": {"a": "inf", "b": None, "c": 2}, "protocol": {}}) is None
