"""Duty rules and inspector coverage stored in a real database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.grid import queries, services
from onegrid.grid.domain import Location
from tests.integration.grid.boundary_files import START, build_tiny_city

LATER = date(2026, 6, 1)
TODAY = date(2026, 3, 2)  # the fixed clock's day in Beijing


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path)
        services.generate_unit_grids(s, clock, valid_from=START)
    return db


def _where(db: Database, lon: float = 116.392, lat: float = 39.906) -> Location:
    with db.reader() as s:
        found = queries.locate(s, lon, lat)
    assert found is not None
    return found


def _rule(db: Database, clock: FixedClock, area: str, prefix: str, dept: str, **kw: object) -> int:
    with db.unit_of_work() as s:
        return services.set_duty_rule(
            s,
            clock,
            area_code=area,
            category_prefix=prefix,
            department_code=dept,
            valid_from=kw.pop("valid_from", START),
            **kw,  # type: ignore[arg-type]
        )


def test_owner_beats_territorial_and_longest_prefix_wins(city: Database, clock: FixedClock) -> None:
    _rule(city, clock, "110101001", "*", "dhm-office", kind="territorial")
    _rule(city, clock, "110101", "E01", "dc-sanitation")
    owner = _rule(city, clock, "110101", "E0101", "dc-cleaning")
    where = _where(city)
    with city.reader() as s:
        exact = queries.responsible_department(s, "E0101", where, on=TODAY)
        shorter = queries.responsible_department(s, "E0102", where, on=TODAY)
        other = queries.responsible_department(s, "C0101", where, on=TODAY)
    assert exact is not None and (exact.department_code, exact.rule_id) == ("dc-cleaning", owner)
    assert shorter is not None and shorter.department_code == "dc-sanitation"
    assert other is not None and (other.department_code, other.kind) == (
        "dhm-office",
        "territorial",
    )
    assert "属地兜底" in other.explanation


def test_fallback_runs_subdistrict_district_city(city: Database, clock: FixedClock) -> None:
    _rule(city, clock, "110000", "*", "city-gov", kind="territorial")
    _rule(city, clock, "110102", "*", "xc-gov", kind="territorial")
    with city.reader() as s:
        east = queries.responsible_department(s, "E0101", _where(city), on=TODAY)
        west = queries.responsible_department(s, "E0101", _where(city, 116.402, 39.906), on=TODAY)
    assert east is not None and east.department_code == "city-gov"
    assert "subdistrict 110101001" in east.explanation and "district 110101" in east.explanation
    assert west is not None and west.department_code == "xc-gov"


def test_a_new_rule_replaces_the_old_one_from_its_date(city: Database, clock: FixedClock) -> None:
    _rule(city, clock, "110101", "E01", "old-dept")
    _rule(city, clock, "110101", "E01", "new-dept", valid_from=LATER)
    where = _where(city)
    with city.reader() as s:
        then = queries.responsible_department(s, "E0101", where, on=date(2026, 3, 1))
        now = queries.responsible_department(s, "E0101", where, on=LATER)
        assert len(queries.duty_rules(s, on=LATER)) == 1
    assert then is not None and then.department_code == "old-dept"
    assert now is not None and now.department_code == "new-dept"


def test_duty_rules_are_validated(city: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as caught:
        _rule(city, clock, "999999", "e01", "", kind="territorial")
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("area_code", "area-exists"),
        ("category_prefix", "category-prefix"),
        ("department_code", "department-code"),
    }
    with pytest.raises(InvalidInput) as caught:
        _rule(city, clock, "110101001001", "*", "community", kind="territorial")
    assert caught.value.problems[0].rule == "territorial-level"
    with pytest.raises(InvalidInput) as caught:
        _rule(city, clock, "110101", "*", "x", kind="boss")
    assert caught.value.problems[0].rule == "duty-kind"
    with pytest.raises(NotFound), city.unit_of_work() as s:
        services.end_duty_rule(s, rule_id=999_999, valid_to=LATER)


def test_inspectors_for_a_grid(city: Database, clock: FixedClock) -> None:
    grid = _where(city).unit_grid
    assert grid is not None
    with city.unit_of_work() as s:
        first = services.assign_inspector(
            s, clock, user_id=7, unit_grid_code=grid, valid_from=START
        )
        again = services.assign_inspector(
            s, clock, user_id=7, unit_grid_code=grid, valid_from=START
        )
        services.assign_inspector(s, clock, user_id=9, unit_grid_code=grid, valid_from=START)
    assert first == again
    with city.unit_of_work() as s:
        services.end_inspector_assignment(s, user_id=9, unit_grid_code=grid, valid_to=LATER)
    with city.reader() as s:
        assert queries.inspectors_for(s, grid, on=date(2026, 3, 1)) == [7, 9]
        assert queries.inspectors_for(s, grid, on=LATER) == [7]
        assert queries.grids_of_inspector(s, 7, on=LATER) == [grid]
    with pytest.raises(InvalidInput) as caught, city.unit_of_work() as s:
        services.assign_inspector(
            s, clock, user_id=0, unit_grid_code="110101001001999", valid_from=START
        )
    assert {p.rule for p in caught.value.problems} == {"positive", "unit-grid-exists"}
