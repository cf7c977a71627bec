"""What counts as a name or a number is decided in one place, ganzoo.values, and read the same way everywhere."""

from __future__ import annotations

import math

import pytest

from ganzoo.values import (
    DISTRIBUTION,
    MAX_NAME,
    NAME,
    QUALIFIED_NAME,
    as_json,
    figure,
    figure_number,
    folder_word,
    is_int,
    is_number,
)


@pytest.mark.parametrize("pattern", [NAME, DISTRIBUTION])
def test_names_are_capped_at_100_characters(pattern):
    assert MAX_NAME == 100
    assert pattern.match("a" * 100) and not pattern.match("a" * 101)


def test_a_qualified_name_caps_each_part():
    assert QUALIFIED_NAME.match("d" * 100 + ":" + "n" * 100)
    assert not QUALIFIED_NAME.match("d" * 101 + ":n") and not QUALIFIED_NAME.match("d:" + "n" * 101)


def test_integers_and_numbers_leave_out_booleans_and_what_no_float_holds():
    assert is_int(3) and not is_int(True) and not is_int(3.0)
    assert is_number(2.5) and is_number(10**300) and not is_number(10**400) and not is_number(False)
    assert not is_number("1")


def test_a_figure_survives_json_and_comes_back_as_a_number():
    assert [figure(v) for v in (1, math.inf, -math.inf, math.nan, None)] == [1.0, "inf", "-inf", None, None]
    assert figure_number("inf") == math.inf and math.isnan(figure_number(None)) and figure_number(2) == 2.0
    with pytest.raises(TypeError):
        figure("1.5")


def test_as_json_compares_a_typed_value_with_its_stored_twin():
    assert as_json({"betas": (0.5, 0.9), 1: [(1, 2)]}) == {"betas": [0.5, 0.9], "1": [[1, 2]]}


def test_a_name_as_a_folder_word():
    assert folder_word("folder:/data/faces/") == "folder-_data_faces"
    assert folder_word("ganzoo-extra:ring") == "ganzoo-extra-ring"
