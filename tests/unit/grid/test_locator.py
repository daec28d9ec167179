"""Point location over a small synthetic city: every tier, holes, gaps, islands, edges.

The city, in units of 0.01° (about 1 km) near Beijing:

- city 110000: [0,4] x [0,4];
- districts 110101: [0,2] x [0,4] and 110102: [2,4] x [0,4] plus an island [5,5.5] x [0,0.5];
- subdistricts 110101001: [0,2] x [0,2] and 110101002: [0,1] x [2,4] (none in [1,2] x [2,4]);
- communities 001001: [0,1] x [0,1] minus a hole [0.4,0.6]², and 001002: [1,2] x [0,1];
- unit grids 001..004: the four quarters of community 001001, each minus its part of the hole.
"""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onegrid.grid.domain import Level
from onegrid.grid.locator import Locator, Shape

OX, OY, U = 116.30, 39.90, 0.01
CITY, WEST, EAST = "110000", "110101", "110102"
SUB1, SUB2 = "110101001", "110101002"
COM1, COM2 = "110101001001", "110101001002"
GRIDS = tuple(f"{COM1}{n:03d}" for n in (1, 2, 3, 4))


def at(i: float, j: float) -> tuple[float, float]:
    """Lon/lat of city coordinates (i, j); polygons and test points use this same expression,
    so a point meant to be on an edge is exactly on it."""
    return OX + i * U, OY + j * U


def box(i0: float, j0: float, i1: float, j1: float) -> shapely.Polygon:
    (x0, y0), (x1, y1) = at(i0, j0), at(i1, j1)
    return shapely.box(x0, y0, x1, y1)


HOLE = box(0.4, 0.4, 0.6, 0.6)


def city_shapes() -> list[Shape]:
    island = box(5, 0, 5.5, 0.5)
    quarters = [box(0, 0, 0.5, 0.5), box(0.5, 0, 1, 0.5), box(0, 0.5, 0.5, 1), box(0.5, 0.5, 1, 1)]
    shapes = [
        Shape(CITY, Level.CITY, None, box(0, 0, 4, 4)),
        Shape(WEST, Level.DISTRICT, CITY, box(0, 0, 2, 4)),
        Shape(EAST, Level.DISTRICT, CITY, shapely.MultiPolygon([box(2, 0, 4, 4), island])),
        Shape(SUB1, Level.SUBDISTRICT, WEST, box(0, 0, 2, 2)),
        Shape(SUB2, Level.SUBDISTRICT, WEST, box(0, 2, 1, 4)),
        Shape(COM1, Level.COMMUNITY, SUB1, box(0, 0, 1, 1).difference(HOLE)),
        Shape(COM2, Level.COMMUNITY, SUB1, box(1, 0, 2, 1)),
    ]
    shapes += [
        Shape(code, Level.UNIT_GRID, COM1, quarter.difference(HOLE))
        for code, quarter in zip(GRIDS, quarters, strict=True)
    ]
    return shapes


SHAPES = city_shapes()
LOCATORS = {res: Locator.build(SHAPES, index_res=res) for res in (7, 9, 10, 11)}
LOCATOR = LOCATORS[10]


def expected(lon: float, lat: float, shapes: list[Shape]) -> dict[Level, str] | None:
    """Brute force: the finest, then smallest-code, shape covering the point; its ancestors by
    walking parent codes."""
    point = shapely.Point(lon, lat)
    covering = [s for s in shapes if s.geometry.intersects(point)]
    if not covering:
        return None
    best = min(covering, key=lambda s: (-s.level.depth, s.code))
    by_code = {s.code: s for s in shapes}
    chain: dict[Level, str] = {}
    current: Shape | None = best
    while current is not None:
        chain[current.level] = current.code
        current = by_code.get(current.parent_code) if current.parent_code else None
    return chain


def codes(located: object) -> dict[Level, str] | None:
    if located is None:
        return None
    return {lv: c for lv in Level if (c := located.code_at(lv))}  # type: ignore[attr-defined]


def test_the_finest_tier_answers_and_ancestors_follow_parent_codes() -> None:
    location = LOCATOR.locate(*at(0.2, 0.2))
    assert location is not None
    assert location.area_chain == (CITY, WEST, SUB1, COM1, GRIDS[0])
    assert LOCATOR.locate(*at(1.5, 0.5)).area_chain == (CITY, WEST, SUB1, COM2)  # type: ignore[union-attr]


def test_a_point_in_a_hole_is_answered_by_the_next_tier_that_covers_it() -> None:
    location = LOCATOR.locate(*at(0.5, 0.5))
    assert location is not None
    assert (location.unit_grid, location.community, location.subdistrict) == (None, None, SUB1)


def test_a_tier_that_covers_only_part_of_its_parent_leaves_the_rest_to_the_parent() -> None:
    location = LOCATOR.locate(*at(1.5, 3.0))
    assert location is not None
    assert location.area_chain == (CITY, WEST)
    assert location.subdistrict is None


def test_a_point_on_a_shared_edge_goes_to_the_smallest_code_every_time() -> None:
    on_grid_edge = at(0.5, 0.25)  # unit grids 001 | 002
    on_district_edge = at(2.0, 3.0)  # districts 110101 | 110102, no subdistrict there
    for locator in LOCATORS.values():
        assert locator.locate(*on_grid_edge).unit_grid == GRIDS[0]  # type: ignore[union-attr]
        assert locator.locate(*on_district_edge).district == WEST  # type: ignore[union-attr]
        batch = locator.locate_many(*zip(on_grid_edge, on_district_edge, strict=True))
        assert batch.unit_grid.tolist() == [GRIDS[0], ""]
        assert batch.district.tolist() == [WEST, WEST]


def test_the_outer_border_belongs_to_the_city() -> None:
    location = LOCATOR.locate(*at(4.0, 4.0))
    assert location is not None
    assert location.area_chain == (CITY, EAST)


def test_a_point_no_polygon_covers_is_outside() -> None:
    assert LOCATOR.locate(*at(-0.5, 2.0)) is None
    assert LOCATOR.locate(*at(4.5, 0.2)) is None  # between the city and the island
    assert LOCATOR.locate(0.0, 0.0) is None  # far away


def test_an_island_of_a_multipolygon_is_located_and_keeps_its_parents() -> None:
    location = LOCATOR.locate(*at(5.2, 0.2))
    assert location is not None
    assert location.area_chain == (CITY, EAST)  # the city polygon does not cover it


@pytest.mark.parametrize(
    ("lon", "lat"), [(math.nan, 39.9), (116.3, math.nan), (181.0, 0.0), (0.0, -90.1), (math.inf, 0)]
)
def test_locate_refuses_coordinates_that_are_no_place(lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="lon/lat"):
        LOCATOR.locate(lon, lat)


def test_invalid_rows_in_a_batch_come_back_outside_with_no_h3() -> None:
    x, y = at(0.2, 0.2)
    batch = LOCATOR.locate_many([x, math.nan, 200.0, x], [y, y, y, math.inf])
    assert batch.inside.tolist() == [True, False, False, False]
    assert batch.h3_10.tolist()[1:] == [0, 0, 0]
    assert batch.unit_grid.tolist() == [GRIDS[0], "", "", ""]
    assert batch.location(1) is None


def test_every_valid_point_gets_its_h3_cells_even_outside() -> None:
    lon = np.array([at(0.2, 0.2)[0], 0.0, -73.9])
    lat = np.array([at(0.2, 0.2)[1], 0.0, 40.7])
    batch = LOCATOR.locate_many(lon, lat)
    for res, column in ((9, batch.h3_9), (10, batch.h3_10), (11, batch.h3_11)):
        assert column.dtype == np.uint64
        assert [h3.int_to_str(int(c)) for c in column] == [
            h3.latlng_to_cell(y, x, res) for x, y in zip(lon, lat, strict=True)
        ]
    location = LOCATOR.locate(lon[0], lat[0])
    assert location is not None
    assert location.h3_10 == h3.latlng_to_cell(lat[0], lon[0], 10)


@pytest.mark.parametrize("cells", [(), (10,), (9, 11)])
def test_only_the_h3_cells_asked_for_are_computed_and_the_hierarchy_is_the_same(
    cells: tuple[int, ...],
) -> None:
    rng = np.random.default_rng(3)
    lon = OX + rng.uniform(-0.5, 6, 500) * U
    lat = OY + rng.uniform(-0.5, 4.5, 500) * U
    full = LOCATORS[11].locate_many(lon, lat)
    part = LOCATORS[11].locate_many(lon, lat, cells=cells)
    for name in ("unit_grid", "community", "subdistrict", "district", "city", "inside"):
        assert getattr(part, name).tolist() == getattr(full, name).tolist()
    for res in (9, 10, 11):
        column = getattr(part, f"h3_{res}")
        expected = getattr(full, f"h3_{res}") if res in cells else np.zeros(500, np.uint64)
        assert column.dtype == np.uint64 and column.tolist() == expected.tolist()


def test_unknown_cell_resolutions_are_refused() -> None:
    with pytest.raises(ValueError, match="cells must be among"):
        LOCATOR.locate_many([0.0], [0.0], cells=(8,))


def test_batch_and_single_agree_and_location_rebuilds_the_same_value() -> None:
    rng = np.random.default_rng(7)
    lon = OX + rng.uniform(-0.5, 6, 3000) * U
    lat = OY + rng.uniform(-0.5, 4.5, 3000) * U
    for locator in LOCATORS.values():
        batch = locator.locate_many(lon, lat)
        for i in range(0, 3000, 7):
            assert batch.location(i) == locator.locate(lon[i], lat[i])


def test_levels_lists_the_tiers_present_coarsest_first() -> None:
    assert LOCATOR.levels == tuple(Level)
    districts_only = Locator.build([s for s in SHAPES if s.level is Level.DISTRICT])
    assert districts_only.levels == (Level.DISTRICT,)


def test_a_parent_without_polygon_still_names_the_tier_above() -> None:
    districts = [s for s in SHAPES if s.level is Level.DISTRICT]
    location = Locator.build(districts).locate(*at(3, 3))
    assert location is not None
    assert (location.district, location.city) == (EAST, CITY)


def test_polygons_of_one_tier_that_overlap_go_to_the_smallest_code() -> None:
    shapes = [
        Shape("B", Level.DISTRICT, None, box(0, 0, 2, 2)),
        Shape("A", Level.DISTRICT, None, box(1, 1, 3, 3)),
    ]
    locator = Locator.build(shapes)
    assert locator.locate(*at(1.5, 1.5)).district == "A"  # type: ignore[union-attr]
    assert locator.locate(*at(0.5, 0.5)).district == "B"  # type: ignore[union-attr]


def test_an_invalid_polygon_is_repaired_not_refused() -> None:
    (x0, y0), (x1, y1) = at(0, 0), at(1, 1)
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    locator = Locator.build([Shape("1", Level.DISTRICT, None, bowtie)])
    assert locator.locate(*at(0.9, 0.5)).district == "1"  # type: ignore[union-attr]
    assert locator.locate(*at(0.5, 0.9)) is None


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([Shape("1", Level.DISTRICT, None, box(0, 0, 1, 1))] * 2, "share the code"),
        (
            [
                Shape("1", Level.DISTRICT, "2", box(0, 0, 1, 1)),
                Shape("2", Level.COMMUNITY, None, box(0, 0, 1, 1)),
            ],
            "coarser tier",
        ),
        ([Shape("1", Level.CITY, "0", box(0, 0, 1, 1))], "coarser tier"),
        ([Shape("1", Level.DISTRICT, None, shapely.Polygon())], "empty"),
        ([Shape("1", Level.DISTRICT, None, shapely.Point(0, 0))], "polygon"),  # type: ignore[arg-type]
    ],
)
def test_a_hierarchy_that_cannot_be_located_is_refused(shapes: list[Shape], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Locator.build(shapes)


def test_index_res_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="index_res"):
        Locator.build(SHAPES, index_res=16)


def test_a_locator_without_shapes_finds_everything_outside() -> None:
    locator = Locator.build([])
    assert locator.levels == ()
    assert locator.locate(*at(0.2, 0.2)) is None
    assert not locator.locate_many([OX], [OY]).inside.any()


# Points on a 0.1-unit lattice hit the shapes' edges and corners exactly; others fall anywhere.
lattice = st.tuples(st.integers(-5, 60), st.integers(-5, 45)).map(
    lambda ij: (ij[0] / 10, ij[1] / 10)
)
anywhere = st.tuples(st.floats(-0.5, 6.0), st.floats(-0.5, 4.5))
points = st.lists(st.one_of(lattice, anywhere), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=points, res=st.sampled_from(sorted(LOCATORS)))
def test_locate_many_agrees_with_brute_force_containment(
    points: list[tuple[float, float]], res: int
) -> None:
    lonlat = [at(i, j) for i, j in points]
    lon, lat = (np.array(v) for v in zip(*lonlat, strict=True))
    batch = LOCATORS[res].locate_many(lon, lat)
    for k, (x, y) in enumerate(lonlat):
        assert codes(batch.location(k)) == expected(x, y, SHAPES), (x, y)
