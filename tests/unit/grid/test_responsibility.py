"""Choosing the responsible department: owner rules, then the territorial fallback (属地兜底)."""

from __future__ import annotations

import pytest

from onegrid.grid.domain import Location
from onegrid.grid.responsibility import (
    DutyKind,
    DutyRule,
    category_prefix_problem,
    choose_department,
)

OWNER, TERRITORIAL = DutyKind.OWNER, DutyKind.TERRITORIAL

HERE = Location(
    lon=116.39,
    lat=39.90,
    unit_grid="110101001001001",
    community="110101001001",
    subdistrict="110101001",
    district="110101",
    city="110000",
    h3_9="89",
    h3_10="8a",
    h3_11="8b",
)


def rule(rid: int, area: str, prefix: str, dept: str, kind: DutyKind = OWNER) -> DutyRule:
    return DutyRule(rid, area, prefix, dept, kind)


def test_owner_rule_beats_territorial_unit() -> None:
    rules = [
        rule(1, "110101001", "*", "subdistrict-office", TERRITORIAL),
        rule(2, "110000", "E0101", "sanitation"),
    ]
    match = choose_department(rules, "E0101", HERE)
    assert match is not None
    assert (match.department_code, match.kind, match.rule_id) == ("sanitation", OWNER, 2)
    assert "owner rule #2" in match.explanation


def test_longest_prefix_wins_on_the_same_area() -> None:
    rules = [
        rule(1, "110101", "*", "district-urban-management"),
        rule(2, "110101", "C01", "utilities"),
        rule(3, "110101", "C0101", "water-company"),
    ]
    assert choose_department(rules, "C0101", HERE).department_code == "water-company"  # type: ignore[union-attr]
    assert choose_department(rules, "C0102", HERE).department_code == "utilities"  # type: ignore[union-attr]
    assert choose_department(rules, "E0501", HERE).department_code == "district-urban-management"  # type: ignore[union-attr]


def test_finer_area_beats_longer_prefix_on_a_coarser_area() -> None:
    rules = [rule(1, "110000", "C0101", "city-water"), rule(2, "110101001", "C", "street-team")]
    match = choose_department(rules, "C0101", HERE)
    assert match is not None and match.department_code == "street-team"
    assert "1 less specific owner rule" in match.explanation


def test_rules_outside_the_location_chain_are_ignored() -> None:
    rules = [rule(1, "110102", "*", "other-district"), rule(2, "110000", "*", "city", TERRITORIAL)]
    match = choose_department(rules, "E0101", HERE)
    assert match is not None and match.department_code == "city"


@pytest.mark.parametrize(
    ("available", "expected", "skipped"),
    [
        ({"110101001", "110101", "110000"}, "110101001", []),
        ({"110101", "110000"}, "110101", ["subdistrict 110101001"]),
        ({"110000"}, "110000", ["subdistrict 110101001", "district 110101"]),
    ],
)
def test_territorial_fallback_chain(available: set[str], expected: str, skipped: list[str]) -> None:
    rules = [
        rule(i, code, "*", f"territorial-{code}", TERRITORIAL)
        for i, code in enumerate(["110101001", "110101", "110000"], start=1)
        if code in available
    ]
    match = choose_department(rules, "E0101", HERE)
    assert match is not None
    assert match.kind is TERRITORIAL
    assert match.department_code == f"territorial-{expected}"
    assert "属地兜底" in match.explanation
    level = {"110101001": "subdistrict", "110101": "district", "110000": "city"}[expected]
    assert f"territorial unit of the {level} {expected}" in match.explanation
    for s in skipped:
        assert s in match.explanation


def test_community_territorial_rules_are_not_part_of_the_fallback() -> None:
    rules = [rule(1, "110101001001", "*", "community", TERRITORIAL)]
    assert choose_department(rules, "E0101", HERE) is None


def test_nothing_covers_it() -> None:
    assert choose_department([rule(1, "110101", "C", "x")], "E0101", HERE) is None


@pytest.mark.parametrize("prefix", ["*", "C", "E01", "E0101", "C01010203"])
def test_good_category_prefixes(prefix: str) -> None:
    assert category_prefix_problem(prefix) is None


@pytest.mark.parametrize("prefix", ["", "e01", "E1", "E01*", "**", "E0101010101"])
def test_bad_category_prefixes(prefix: str) -> None:
    assert category_prefix_problem(prefix) is not None
