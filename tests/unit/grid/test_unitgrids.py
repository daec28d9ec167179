"""Generating unit grids from H3 cells: coverage, slivers, numbering, codes."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely

from onegrid.grid.crs import area_m2
from onegrid.grid.unitgrids import (
    SLIVER_SHARE,
    TooManyGridsError,
    covering_cells,
    generate_for_area,
)

# About 0.6 km² of Beijing, a slanted quadrilateral so that cells are cut at every angle.
COMMUNITY = shapely.Polygon(
    [(116.390, 39.900), (116.398, 39.9012), (116.3995, 39.9075), (116.3915, 39.9068)]
)
CODE = "110101001001"


@pytest.fixture(scope="module")
def grids() -> list:  # type: ignore[type-arg]
    return generate_for_area(CODE, COMMUNITY, 10)


def test_codes_are_15_digits_with_the_community_prefix_and_a_running_sequence(grids: list) -> None:  # type: ignore[type-arg]
    assert all(len(g.code) == 15 and g.code.isdigit() for g in grids)
    assert all(g.code.startswith(CODE) for g in grids)
    assert [int(g.code[-3:]) for g in grids] == list(range(1, len(grids) + 1))


def test_grids_cover_the_community_without_gaps_or_overlaps(grids: list) -> None:  # type: ignore[type-arg]
    community = area_m2([COMMUNITY])[0]
    union = shapely.union_all([g.geometry for g in grids])
    assert area_m2([union])[0] == pytest.approx(community, rel=1e-3)
    assert sum(g.area_m2 for g in grids) == pytest.approx(community, rel=1e-3)
    assert shapely.symmetric_difference(union, COMMUNITY).area < 1e-3 * COMMUNITY.area
    assert all(shapely.covered_by(g.geometry, COMMUNITY.buffer(1e-8)) for g in grids)


def test_about_ten_thousand_square_metres_each_at_res_10_in_beijing(grids: list) -> None:  # type: ignore[type-arg]
    sizes = np.array([g.area_m2 for g in grids])
    whole = sizes[sizes > 0.99 * h3.cell_area(grids[0].h3_cell, "m^2")]
    assert 10_000 < whole.mean() < 11_500  # uncut cells: H3 res 10 at 40° N
    assert 8_000 < sizes.mean() < 11_500  # with the cut ones along the border


def test_no_sliver_grids(grids: list) -> None:  # type: ignore[type-arg]
    cell = h3.average_hexagon_area(10, "m^2")
    assert min(g.area_m2 for g in grids) >= SLIVER_SHARE * cell * 0.9
    merged = [g for g in grids if len(g.cells) > 1]
    assert merged, "a slanted border always leaves slivers to merge"
    for g in merged:
        assert g.h3_cell in g.cells


def test_every_overlapping_cell_is_found() -> None:
    found = covering_cells(COMMUNITY, 10)
    expected = set(
        h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(COMMUNITY), 10, contain="overlap")
    )
    assert expected <= found


def test_numbering_runs_west_to_east_then_north_to_south() -> None:
    # A strip three cells wide and three rows high: the first row is the northernmost.
    strip = shapely.box(116.3900, 39.9000, 116.3925, 39.9022)
    grids = generate_for_area(CODE, strip, 10)
    centroids = np.array([[g.geometry.centroid.x, g.geometry.centroid.y] for g in grids])
    cell = shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(grids[0].h3_cell)])
    row_height = cell.bounds[3] - cell.bounds[1]
    rows = np.floor((centroids[:, 1].max() - centroids[:, 1]) / row_height)
    assert list(rows) == sorted(rows), "rows go from north to south"
    for row in set(rows):
        xs = centroids[rows == row, 0]
        assert list(xs) == sorted(xs), "west to east within a row"
    assert grids[0].geometry.centroid.y > grids[-1].geometry.centroid.y


def test_an_area_smaller_than_a_sliver_is_one_grid() -> None:
    tiny = shapely.box(116.3900, 39.9000, 116.3902, 39.9001)
    (only,) = generate_for_area(CODE, tiny, 10)
    assert only.code == CODE + "001"
    assert only.geometry.equals(tiny)


def test_subdistrict_code_is_padded_on_the_right() -> None:
    tiny = shapely.box(116.3900, 39.9000, 116.3902, 39.9001)
    (only,) = generate_for_area("110101001", tiny, 10)
    assert only.code == "110101001000001"


def test_more_than_999_grids_is_refused_with_advice() -> None:
    big = shapely.box(116.30, 39.90, 116.45, 40.00)
    with pytest.raises(TooManyGridsError) as caught:
        generate_for_area(CODE, big, 10)
    assert "coarser resolution" in str(caught.value)
    assert caught.value.count > 999
