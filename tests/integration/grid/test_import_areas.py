"""Importing areas into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import queries
from onegrid.grid.domain import Level
from onegrid.grid.importing.checks import OnError
from onegrid.grid.models import AreaRow, GridChangeRow
from tests.integration.grid.boundary_files import (
    CITY,
    DISTRICTS,
    START,
    box,
    build_tiny_city,
    feature,
    import_level,
    level_file,
    to_gcj02,
    write_geojson,
)

BOWTIE = shapely.Polygon([(116.39, 39.90), (116.40, 39.91), (116.40, 39.90), (116.39, 39.91)])


def _count(db: Database, model: type = AreaRow) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _city(db: Database, clock: FixedClock, tmp: Path) -> None:
    with db.unit_of_work() as s:
        import_level(s, clock, level_file(tmp, CITY, "city"), Level.CITY)


def test_good_file_imports_a_tree(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path)
    with db.reader() as s:
        districts = queries.list_areas(s, level="district")
        assert [(a.code, a.parent_code, a.name_zh) for a in districts] == [
            ("110101", "110000", "东城区"),
            ("110102", "110000", "西城区"),
        ]
        east = queries.get_area(s, "110101")
        assert east.bbox == pytest.approx((116.390, 39.900, 116.398, 39.908))
        assert east.area_m2 == pytest.approx(684.8 * 888.9, rel=0.01)
        children = queries.child_areas(s, "110101001")
        assert [c.code for c in children] == ["110101001001", "110101001002"]
        assert s.scalar(select(func.count()).select_from(GridChangeRow)) == 4


def test_gcj02_import_is_stored_in_wgs84(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    _city(db, clock, tmp_path)
    path = write_geojson(
        tmp_path / "gcj.geojson",
        [feature(to_gcj02(g), adcode=int(c), name=c) for c, g in DISTRICTS.items()],
    )
    with db.unit_of_work() as s:
        from onegrid.grid import services
        from onegrid.grid.importing.areas import AreaImportOptions
        from onegrid.grid.importing.reading import read_features

        options = AreaImportOptions(
            level=Level.DISTRICT,
            code_field="adcode",
            name_field="name",
            valid_from=START,
            parent_code="110000",
            crs="gcj02",
        )
        services.import_areas(s, read_features(path), options, clock)
    with db.reader() as s:
        stored = queries.get_area(s, "110101").geometry
    assert shapely.equals_exact(stored, DISTRICTS["110101"], tolerance=1e-8)


def test_bowtie_refuses_the_whole_file_naming_feature_and_rule(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _city(db, clock, tmp_path)
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature(DISTRICTS["110101"], code="110101", name="东城区"),
            feature(BOWTIE, code="110102", name="西城区"),
        ],
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, path, Level.DISTRICT, parent_code="110000")
    (problem,) = caught.value.problems
    assert problem.record == "feature 2 (code 110102)"
    assert problem.rule == "valid-geometry"
    assert "Self-intersection" in problem.message
    assert _count(db) == 1, "refuse writes nothing: the good district is not stored either"


def test_skip_writes_the_good_features_and_reports_the_bad(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _city(db, clock, tmp_path)
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature(DISTRICTS["110101"], code="110101", name="东城区"),
            feature(BOWTIE, code="110102", name="西城区"),
            feature(DISTRICTS["110102"], code="110103", name="无父", parent="999999"),
        ],
    )
    with db.unit_of_work() as s:
        report = import_level(
            s, clock, path, Level.DISTRICT, parent_field="parent", on_error=OnError.SKIP
        )
    assert report.accepted == 0
    # feature 1 has no "parent" property: with --parent-field that is itself a problem.
    assert {(p.record, p.rule) for p in report.rejected} == {
        ("feature 1 (code 110101)", "parent-required"),
        ("feature 2 (code 110102)", "valid-geometry"),
        ("feature 3 (code 110103)", "parent-exists"),
    }
    assert _count(db) == 1


def test_skip_keeps_good_features(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    _city(db, clock, tmp_path)
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature(DISTRICTS["110101"], code="110101", name="东城区"),
            feature(BOWTIE, code="110102", name="西城区"),
        ],
    )
    with db.unit_of_work() as s:
        report = import_level(
            s, clock, path, Level.DISTRICT, parent_code="110000", on_error=OnError.SKIP
        )
    assert (report.accepted, report.created, len(report.rejected)) == (1, 1, 1)
    assert report.rejected[0].record == "feature 2 (code 110102)"
    with db.reader() as s:
        assert [a.code for a in queries.list_areas(s, level="district")] == ["110101"]


def test_gbk_and_unknown_crs_are_refused_before_anything_is_written(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    gbk = write_geojson(
        tmp_path / "gbk.geojson",
        [feature(CITY["110000"], code="110000", name="北京市")],
        encoding="gbk",
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, gbk, Level.CITY)
    assert caught.value.problems[0].rule == "utf8-encoding"
    good = level_file(tmp_path, CITY, "city")
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, good, Level.CITY, crs="gcj-03")
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == ("crs", "known-crs")
    assert _count(db) == 0


def test_a_failure_midway_leaves_no_half_written_tree(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """Levels imported in one unit of work land together or not at all."""
    with pytest.raises(InvalidInput), db.unit_of_work() as s:
        import_level(s, clock, level_file(tmp_path, CITY, "city"), Level.CITY)
        import_level(
            s, clock, level_file(tmp_path, DISTRICTS, "d"), Level.DISTRICT, parent_code="120000"
        )
    assert _count(db) == 0
    assert _count(db, GridChangeRow) == 0


def test_reimport_versions_changed_shapes_and_history_still_resolves(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path, communities=False)
    grown = dict(DISTRICTS, **{"110101": box(116.389, 39.900, 116.398, 39.908)})
    moved_on = date(2026, 6, 1)
    with db.unit_of_work() as s:
        report = import_level(
            s,
            clock,
            level_file(tmp_path, grown, "d2"),
            Level.DISTRICT,
            parent_code="110000",
            valid_from=moved_on,
        )
    assert (report.versioned, report.unchanged, report.created) == (1, 1, 0)
    with db.reader() as s:
        before = queries.get_area(s, "110101", on=date(2026, 3, 1))
        after = queries.get_area(s, "110101", on=moved_on)
        current = queries.get_area(s, "110101")
        assert before.valid_to == moved_on and after.valid_from == moved_on
        assert before.geometry.equals(DISTRICTS["110101"])
        assert after.geometry.equals(grown["110101"]) and current.geometry.equals(grown["110101"])
        # A point only the grown district covers: outside on the old date, inside after.
        assert queries.locate(s, 116.3895, 39.905, on=date(2026, 3, 1)) is None
        located = queries.locate(s, 116.3895, 39.905, on=moved_on)
        assert located is not None and located.district == "110101"
        assert s.scalar(select(func.count()).select_from(AreaRow)) == 1 + 3 + 4


def test_reimporting_the_same_file_changes_nothing(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _city(db, clock, tmp_path)
    path = level_file(tmp_path, DISTRICTS, "d")
    with db.unit_of_work() as s:
        import_level(s, clock, path, Level.DISTRICT, parent_code="110000")
    changes = _count(db, GridChangeRow)
    with db.unit_of_work() as s:
        report = import_level(
            s, clock, path, Level.DISTRICT, parent_code="110000", valid_from=date(2026, 5, 1)
        )
    assert (report.accepted, report.unchanged) == (2, 2)
    assert _count(db, GridChangeRow) == changes, "no change, no locator rebuild"
    assert _count(db) == 3


def test_renaming_updates_in_place(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    _city(db, clock, tmp_path)
    path = write_geojson(
        tmp_path / "c.geojson", [feature(CITY["110000"], code="110000", name="京")]
    )
    with db.unit_of_work() as s:
        report = import_level(s, clock, path, Level.CITY, valid_from=date(2026, 5, 1))
    assert report.updated == 1
    with db.reader() as s:
        assert queries.get_area(s, "110000").name_zh == "京"
    assert _count(db) == 1


def test_level_must_stay_and_versions_must_move_forward(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _city(db, clock, tmp_path)
    as_district = write_geojson(
        tmp_path / "x.geojson", [feature(CITY["110000"], code="110000", name="北京")]
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, as_district, Level.DISTRICT)
    assert caught.value.problems[0].rule == "level-consistent"
    shrunk = write_geojson(
        tmp_path / "y.geojson",
        [feature(box(116.391, 39.9, 116.406, 39.908), code="110000", name="北京")],
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, shrunk, Level.CITY, valid_from=date(2025, 1, 1))
    assert caught.value.problems[0].rule == "valid-from-order"


def test_parent_must_be_coarser(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path, communities=False)
    path = write_geojson(
        tmp_path / "c.geojson", [feature(DISTRICTS["110101"], code="110199", name="x")]
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        import_level(s, clock, path, Level.DISTRICT, parent_code="110101001")
    assert caught.value.problems[0].rule == "parent-level"
