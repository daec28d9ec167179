"""Generating and importing unit grids, and locating points in them, on a real database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import queries, services
from onegrid.grid.crs import area_m2
from onegrid.grid.domain import Level
from onegrid.grid.importing.reading import read_features
from onegrid.grid.importing.unit_grids import UnitGridImportOptions
from onegrid.grid.models import GridChangeRow, UnitGridRow
from tests.integration.grid.boundary_files import (
    COMMUNITIES,
    COMMUNITY_SPLIT,
    EQUATOR,
    MID,
    NORTH,
    START,
    WEST,
    box,
    build_tiny_city,
    feature,
    write_geojson,
)

LATER = date(2026, 6, 1)


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path)
    return db


def _generate(db: Database, clock: FixedClock, **kw: object) -> services.GenerationReport:
    with db.unit_of_work() as s:
        return services.generate_unit_grids(s, clock, valid_from=kw.pop("valid_from", START), **kw)  # type: ignore[arg-type]


def test_generate_fills_the_finest_level(city: Database, clock: FixedClock) -> None:
    report = _generate(city, clock)
    assert report.level is Level.COMMUNITY and report.areas == 2
    with city.reader() as s:
        for code, shape in COMMUNITIES.items():
            grids = queries.list_unit_grids(s, community=code)
            assert grids and all(g.code.startswith(code) and len(g.code) == 15 for g in grids)
            assert sum(g.area_m2 for g in grids) == pytest.approx(area_m2([shape])[0], rel=1e-3)
            assert all(g.source == "h3" and g.h3_cell for g in grids)
        first = queries.get_unit_grid(s, "110101001001001")
        assert first.geometry.bounds[3] == pytest.approx(NORTH), "001 lies on the north edge"
        assert first.geometry.bounds[0] == pytest.approx(WEST), "… at its west end"


def test_generated_grids_are_located(city: Database, clock: FixedClock) -> None:
    _generate(city, clock)
    lon = np.array([116.392, 116.396, 116.402, 116.30])
    lat = np.array([39.906, 39.906, 39.902, 39.90])
    with city.reader() as s:
        batch = queries.locate_many(s, lon, lat)
        one = queries.locate(s, 116.392, 39.906)
    assert list(batch.inside) == [True, True, True, False]
    assert list(batch.community[:2]) == ["110101001001", "110101001002"]
    assert batch.unit_grid[0].startswith("110101001001") and batch.unit_grid[2] == ""
    assert list(batch.district[:3]) == ["110101", "110101", "110102"]
    assert one is not None and one.unit_grid == batch.unit_grid[0]
    assert one.area_chain == ("110000", "110101", "110101001", "110101001001", one.unit_grid)


def test_regenerating_an_unchanged_city_changes_nothing(city: Database, clock: FixedClock) -> None:
    _generate(city, clock)
    with city.reader() as s:
        changes = s.scalar(select(func.count()).select_from(GridChangeRow))
    report = _generate(city, clock, valid_from=LATER)
    assert report.grids.unchanged == report.grids.accepted > 0
    with city.reader() as s:
        assert s.scalar(select(func.count()).select_from(GridChangeRow)) == changes


def test_too_many_grids_refuses_the_whole_run(city: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as caught:
        _generate(city, clock, res=12, level=Level.SUBDISTRICT)
    assert {p.rule for p in caught.value.problems} == {"grids-per-area"}
    assert "coarser resolution" in caught.value.problems[0].message
    with city.reader() as s:
        assert s.scalar(select(func.count()).select_from(UnitGridRow)) == 0


def test_generate_within_one_area_only(city: Database, clock: FixedClock) -> None:
    report = _generate(city, clock, level=Level.SUBDISTRICT, within=["110102"])
    assert report.areas == 2
    with city.reader() as s:
        codes = {g.community_code for g in queries.list_unit_grids(s, limit=10_000)}
    assert codes == {"110102001", "110102002"}
    with pytest.raises(InvalidInput) as caught:
        _generate(city, clock, within=["999"])
    assert caught.value.problems[0].rule == "area-exists"


def _official_file(tmp: Path) -> Path:
    west = box(WEST, EQUATOR, (WEST + COMMUNITY_SPLIT) / 2, NORTH)
    east = box((WEST + COMMUNITY_SPLIT) / 2, EQUATOR, COMMUNITY_SPLIT, NORTH)
    return write_geojson(
        tmp / "grids.geojson",
        [
            feature(west, GRID="110101001001001", COMM="110101001001", LU="residential"),
            feature(east, GRID="110101001001002", COMM="110101001001", LU="commercial"),
        ],
    )


def test_official_grids_replace_generated_ones(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _generate(city, clock)
    options = UnitGridImportOptions(
        code_field="GRID", community_field="COMM", land_use_field="LU", valid_from=LATER
    )
    with city.unit_of_work() as s:
        report = services.import_unit_grids(
            s, read_features(_official_file(tmp_path)), options, clock
        )
    assert report.versioned == 2 and report.retired > 0
    with city.reader() as s:
        now = queries.list_unit_grids(s, community="110101001001")
        assert [(g.code, g.source, g.land_use) for g in now] == [
            ("110101001001001", "official", "residential"),
            ("110101001001002", "official", "commercial"),
        ]
        before = queries.list_unit_grids(s, community="110101001001", on=START)
        assert len(before) > 2 and {g.source for g in before} == {"h3"}
        where = queries.locate(s, 116.3905, 39.906)
        assert where is not None and where.unit_grid == "110101001001001"
        old = queries.locate(s, 116.3905, 39.906, on=START)
        assert old is not None and old.unit_grid in {g.code for g in before}
        assert queries.get_unit_grid(s, old.unit_grid, on=START).source == "h3"
    report = _generate(city, clock, valid_from=date(2026, 7, 1))
    assert report.skipped_official == ["110101001001"]


def test_official_grid_in_a_missing_community_is_refused(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "g.geojson",
        [feature(box(MID, EQUATOR, 116.40, NORTH), GRID="110102001009001", COMM="110102001009")],
    )
    options = UnitGridImportOptions(code_field="GRID", community_field="COMM", valid_from=START)
    with pytest.raises(InvalidInput) as caught, city.unit_of_work() as s:
        services.import_unit_grids(s, read_features(path), options, clock)
    assert caught.value.problems[0].rule == "community-exists"
    assert caught.value.problems[0].record == "feature 1 (code 110102001009001)"


def test_locator_is_rebuilt_after_a_change_and_reused_otherwise(
    city: Database, clock: FixedClock
) -> None:
    with city.reader() as s:
        first = queries.get_locator(s)
        assert queries.get_locator(s) is first
        assert queries.locate(s, 116.392, 39.906).unit_grid is None  # type: ignore[union-attr]
    _generate(city, clock)
    with city.reader() as s:
        assert queries.get_locator(s) is not first
        assert queries.locate(s, 116.392, 39.906).unit_grid  # type: ignore[union-attr]


def test_bad_coordinates_are_refused_by_name(city: Database) -> None:
    with city.reader() as s:
        with pytest.raises(InvalidInput) as caught:
            queries.locate(s, 116.39, 91.0)
        assert caught.value.problems[0].field == "lat"
        with pytest.raises(InvalidInput) as caught:
            queries.locate_many(s, np.array([116.39, np.nan]), np.array([39.9, 39.9]))
        assert (caught.value.problems[0].field, caught.value.problems[0].record) == (
            "lon",
            "point 1",
        )


def test_grid_stats(city: Database, clock: FixedClock) -> None:
    _generate(city, clock)
    with city.reader() as s:
        stats = queries.grid_stats(s)
    assert stats.areas_by_level == {"city": 1, "district": 2, "subdistrict": 4, "community": 2}
    assert stats.unit_grids_by_source["h3"] > 10
    assert stats.unit_grid_area_m2 == pytest.approx(
        float(area_m2([shapely.union_all(list(COMMUNITIES.values()))])[0]), rel=1e-3
    )
    assert stats.last_change and "generate unit grids" in stats.last_change
