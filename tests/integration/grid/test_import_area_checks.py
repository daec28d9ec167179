"""An area import refuses, before writing anything, an area without a parent below the
district, a code that does not fit inside its parent's, and a ring the file left open; each
problem names the feature, the field and the rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.grid.models import AreaRow
from tests.integration.grid.boundary_files import (
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

WEST_HALF = box(WEST, EQUATOR, COMMUNITY_SPLIT, NORTH)
EAST_HALF = box(COMMUNITY_SPLIT, EQUATOR, MID, NORTH)
# Three corners of the west half, the last not repeating the first (as QA's file had it).
OPEN_RING = [[WEST, EQUATOR], [COMMUNITY_SPLIT, EQUATOR], [COMMUNITY_SPLIT, NORTH]]


def _open(code: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, **properties},
        "geometry": {"type": "Polygon", "coordinates": [OPEN_RING]},
    }


def _options(**options: Any) -> AreaImportOptions:
    return AreaImportOptions(
        level=Level.COMMUNITY, code_field="code", valid_from=START, name_field="name", **options
    )


def _count(db: Database) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(AreaRow)) or 0


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> int:
    """The tiny city without its communities; how many areas it has."""
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path, communities=False)
    return _count(db)


def _refused(db: Database, clock: FixedClock, path: Path, **options: Any) -> set[tuple[Any, ...]]:
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        services.import_areas(s, read_features(path), _options(**options), clock)
    return {(p.record, p.field, p.rule) for p in caught.value.problems}


def test_qa_file_without_a_parent_option_is_refused_whole(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    path = write_geojson(
        tmp_path / "small.geojson",
        [feature(WEST_HALF, code="110101001003", name="测试社区"), _open("BAD", name="坏的")],
    )
    assert _refused(db, clock, path) == {
        ("feature 1 (code 110101001003)", "parent", "parent-required"),
        ("feature 2 (code BAD)", "geometry", "closed-ring"),
    }
    assert _count(db) == city


def test_each_problem_names_its_feature_in_fields_a_page_can_word(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    path = write_geojson(
        tmp_path / "c.geojson",
        [feature(WEST_HALF, code="110101001003", name="好的"), feature(EAST_HALF, name="无码")],
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        services.import_areas(s, read_features(path), _options(parent_code="110101001"), clock)
    # The problems a refused import answers with, as the API writes them.
    assert [p.as_dict() for p in caught.value.problems] == [
        {
            "field": "code",
            "rule": "code-required",
            "message": "property 'code' is missing or empty",
            "record": "feature 2",
            "feature_index": 2,
            "feature_code": None,
        }
    ]


def test_codes_must_fit_inside_their_parent(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    path = write_geojson(
        tmp_path / "c.geojson",
        [
            feature(WEST_HALF, code="110101001003", name="好的"),
            feature(EAST_HALF, code="BAD", name="坏的"),
            feature(EAST_HALF, code="110102001004", name="别处的"),
            feature(EAST_HALF, code="110101001004999", name="太长"),
        ],
    )
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        services.import_areas(s, read_features(path), _options(parent_code="110101001"), clock)
    problems = {(p.record, p.field, p.rule) for p in caught.value.problems}
    places = {
        (p.as_dict()["feature_index"], p.as_dict()["feature_code"]) for p in caught.value.problems
    }
    assert places == {(2, "BAD"), (3, "110102001004"), (4, "110101001004999")}
    assert problems == {
        ("feature 2 (code BAD)", "code", "code-under-parent"),
        ("feature 3 (code 110102001004)", "code", "code-under-parent"),
        ("feature 4 (code 110101001004999)", "code", "area-code-digits"),
    }
    assert _count(db) == city, "refuse writes nothing: the good community is not stored either"


def test_a_parent_that_is_not_there_is_refused(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    path = write_geojson(
        tmp_path / "c.geojson", [feature(WEST_HALF, code="110109001003", name="无父")]
    )
    assert _refused(db, clock, path, parent_from_code_prefix=9) == {
        ("feature 1 (code 110109001003)", "parent", "parent-exists")
    }


def test_an_open_ring_in_a_multipolygon_is_named(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    closed = [*OPEN_RING, OPEN_RING[0]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "110101001003", "name": "两块"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[closed], [OPEN_RING]]},
            }
        ],
    }
    path = tmp_path / "m.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput) as caught, db.unit_of_work() as s:
        services.import_areas(s, read_features(path), _options(parent_code="110101001"), clock)
    (problem,) = caught.value.problems
    assert problem.rule == "closed-ring"
    assert "ring 1 of polygon 2 is not closed" in problem.message


def test_repair_closes_an_open_ring_and_lists_it(
    db: Database, clock: FixedClock, tmp_path: Path, city: int
) -> None:
    path = write_geojson(tmp_path / "c.geojson", [_open("110101001003", name="三角")])
    with db.unit_of_work() as s:
        summary = services.import_areas(
            s, read_features(path), _options(parent_code="110101001", repair=True), clock
        )
    assert summary.created == 1
    assert [(p.record, p.rule) for p in summary.repaired] == [
        ("feature 1 (code 110101001003)", "closed-ring")
    ]
    assert _count(db) == city + 1


def test_digit_codes_of_other_cities_still_nest(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """NYC: community district 101 lies in borough 1, a district with no city above it."""
    boroughs = write_geojson(tmp_path / "b.geojson", [feature(WEST_HALF, code="1", name="M")])
    districts = write_geojson(tmp_path / "d.geojson", [feature(WEST_HALF, code="101", name="CD")])
    with db.unit_of_work() as s:
        for path, level, options in (
            (boroughs, Level.DISTRICT, {}),
            (districts, Level.SUBDISTRICT, {"parent_from_code_prefix": 1}),
        ):
            opts = AreaImportOptions(
                level=level, code_field="code", valid_from=START, name_field="name", **options
            )
            services.import_areas(s, read_features(path), opts, clock)
    assert _count(db) == 2
