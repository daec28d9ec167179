"""Unit-grid codes and the rules that turn a re-import into history."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from onegrid.grid.domain import (
    padded_area_code,
    unit_grid_code,
    unit_grid_code_problem,
    valid_on,
)
from onegrid.grid.importing.checks import Change, Existing, decide, text_value

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
SQUARE = shapely.box(0, 0, 1, 1)


@pytest.mark.parametrize(
    ("code", "padded"),
    [("110101001001", "110101001001"), ("110101001", "110101001000"), ("101", "101000000000")],
)
def test_area_codes_are_padded_on_the_right(code: str, padded: str) -> None:
    assert padded_area_code(code) == padded


@pytest.mark.parametrize("code", ["1101010010011", "11A101"])
def test_codes_that_cannot_lead_a_grid_code(code: str) -> None:
    with pytest.raises(ValueError, match="at most 12 digits"):
        padded_area_code(code)


def test_unit_grid_code_layout() -> None:
    assert unit_grid_code("110101001001", 7) == "110101001001007"
    with pytest.raises(ValueError):
        unit_grid_code("110101001001", 1000)
    assert unit_grid_code_problem("110101001001007", "110101001001") is None
    assert "15 digits" in (unit_grid_code_problem("1101010010010", "110101001001") or "")
    assert "community" in (unit_grid_code_problem("110101001002007", "110101001001") or "")


def test_validity_periods_are_half_open() -> None:
    assert valid_on(JAN, FEB, JAN)
    assert not valid_on(JAN, FEB, FEB)
    assert valid_on(JAN, None, MAR)
    assert not valid_on(FEB, None, JAN)


def _existing(geometry: object = SQUARE, *, start: date = JAN, end: date | None = None) -> Existing:
    return Existing(1, start, end, geometry, ("110000",), ("东城区",))


def test_decide_what_a_reimport_means() -> None:
    moved = shapely.box(0, 0, 1, 2)
    assert decide(None, SQUARE, ("110000",), ("东城区",), FEB) is Change.CREATE
    assert decide(_existing(), SQUARE, ("110000",), ("东城区",), FEB) is Change.UNCHANGED
    assert decide(_existing(), shapely.box(1, 1, 0, 0), ("110000",), ("东城区",), FEB) is (
        Change.UNCHANGED
    ), "the same square drawn from another corner is the same shape"
    assert decide(_existing(), SQUARE, ("110000",), ("东城",), FEB) is Change.UPDATE
    assert decide(_existing(), moved, ("110000",), ("东城区",), FEB) is Change.VERSION
    assert decide(_existing(), SQUARE, ("120000",), ("东城区",), FEB) is Change.VERSION
    assert decide(_existing(), moved, ("110000",), ("东城区",), JAN) is Change.CORRECT
    assert decide(_existing(end=FEB), moved, ("110000",), ("东城区",), MAR) is Change.CREATE
    refused = decide(_existing(start=FEB), moved, ("110000",), ("东城区",), JAN)
    assert not isinstance(refused, Change) and "must not start earlier" in refused


@pytest.mark.parametrize(
    ("value", "text"),
    [(110101, "110101"), (311.0, "311"), (" 12 ", "12"), ("", None), (None, None)],
)
def test_property_values_as_text(value: object, text: str | None) -> None:
    assert text_value(value) == text
