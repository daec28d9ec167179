"""Coarser H3 cells derived from one finer cell per point equal h3's latlng_to_cell, everywhere.

The derivation keeps the finer cell's parent only where the point provably lies in it, so the
tests aim at the places where that proof could go wrong: points next to a hexagon's edge, next
to the icosahedron's edges and corners (the 12 pentagons), and cities on many faces.
"""

from __future__ import annotations

import h3
import numpy as np
import pytest

from onegrid.grid import locator_coarse
from onegrid.grid.locator import _DERIVE_FROM, _SORT_FROM, Locator, Shape
from onegrid.grid.locator_coarse import coarser_cells, unit_vectors
from onegrid.grid.locator_h3 import cell_parents, points_to_cells


def _clusters(centres: list[tuple[float, float]], per: int, spread: float, seed: int) -> tuple:
    """``per`` points around each (lat, lon) centre, normally spread by ``spread`` degrees."""
    rng = np.random.default_rng(seed)
    lat = np.concatenate([c[0] + rng.normal(0, spread, per) for c in centres])
    lon = np.concatenate([c[1] + rng.normal(0, spread, per) for c in centres])
    lat = np.clip(lat, -89.9, 89.9)
    return (lon + 180.0) % 360.0 - 180.0, lat


def _derived(lon: np.ndarray, lat: np.ndarray, fine: int, res: int, *, sort: bool) -> tuple:
    finer = points_to_cells(lon, lat, fine)
    if sort:
        order = np.argsort(finer)
        finer, lon, lat = finer[order], lon[order], lat[order]
    got = coarser_cells(finer, res, lon, lat, unit_vectors(lon, lat))
    return got, points_to_cells(lon, lat, res), finer


def _random_places(n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-0.98, 0.98, n)))
    return list(zip(lat.tolist(), rng.uniform(-180, 180, n).tolist(), strict=True))


@pytest.mark.parametrize(("fine", "res"), [(11, 10), (11, 9), (10, 9), (12, 9), (9, 8)])
@pytest.mark.parametrize("sort", [True, False])
def test_dense_points_anywhere_on_earth_get_the_cell_h3_gives(
    fine: int, res: int, sort: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lon, lat = _clusters(_random_places(60, seed=fine * 10 + res), 800, 0.002, seed=res)
    recomputed = []

    def counted(x: np.ndarray, y: np.ndarray, r: int) -> np.ndarray:
        recomputed.append(x.size)
        return points_to_cells(x, y, r)

    monkeypatch.setattr(locator_coarse, "points_to_cells", counted)
    got, want, finer = _derived(lon, lat, fine, res, sort=sort)
    assert np.array_equal(got, want)
    # The test means something: the bare parent is wrong for some of these points, and the
    # derivation (not a recomputation of every point) answered most of them.
    assert np.count_nonzero(cell_parents(finer, res) != want) > 100
    assert sum(recomputed) < 0.2 * lon.size


@pytest.mark.parametrize("res", [9, 10])
def test_points_around_the_twelve_pentagons_get_the_cell_h3_gives(res: int) -> None:
    corners = [h3.cell_to_latlng(p) for p in h3.get_pentagons(0)]
    lon, lat = _clusters(corners, 4000, 0.01, seed=res)
    got, want, _ = _derived(lon, lat, 11, res, sort=True)
    assert np.array_equal(got, want)


def test_points_along_the_icosahedron_edges_get_the_cell_h3_gives() -> None:
    centres = locator_coarse._face_centres()
    # Midpoints of the edges between neighbouring faces, where two faces' lattices meet.
    cosines = centres @ centres.T
    pairs = np.argwhere(np.isclose(cosines, cosines[cosines < 0.9999].max()))
    middles = centres[pairs[:, 0]] + centres[pairs[:, 1]]
    middles /= np.linalg.norm(middles, axis=1)[:, None]
    places = [
        (float(np.degrees(np.arcsin(z))), float(np.degrees(np.arctan2(y, x))))
        for x, y, z in middles
    ]
    lon, lat = _clusters(places, 1500, 0.01, seed=5)
    for res in (9, 10):
        got, want, _ = _derived(lon, lat, 11, res, sort=True)
        assert np.array_equal(got, want)


def test_points_a_hair_from_hexagon_edges_get_the_cell_h3_gives() -> None:
    rng = np.random.default_rng(11)
    lon, lat = [], []
    for lat0, lon0 in [*_random_places(40, seed=3), (39.9, 116.4), (40.7, -73.95)]:
        cell = h3.latlng_to_cell(lat0, lon0, 10)
        for ring in h3.grid_disk(cell, 2):
            corners = np.array(h3.cell_to_boundary(ring))
            a, b = corners, np.roll(corners, -1, axis=0)
            t = rng.uniform(0, 1, (len(a), 25, 1))
            along = a[:, None, :] + t * (b - a)[:, None, :]
            jitter = rng.normal(0, 1e-9, along.shape)  # ~0.1 mm either side of the edge
            points = (along + jitter).reshape(-1, 2)
            lat.append(points[:, 0])
            lon.append(points[:, 1])
    x, y = np.concatenate(lon), np.concatenate(lat)
    for fine, res in ((11, 10), (10, 9)):
        got, want, _ = _derived(x, y, fine, res, sort=True)
        assert np.array_equal(got, want)


def test_the_lattice_read_off_h3_is_regular_on_every_face() -> None:
    centres = locator_coarse._face_centres()
    assert centres.shape == (20, 3)
    base_centres = np.array([h3.cell_to_latlng(c) for c in h3.get_res0_cells()])
    base = np.column_stack(unit_vectors(base_centres[:, 1], base_centres[:, 0]))
    # Every face centre is the centre of a res-0 cell, the origin of H3's lattice there.
    assert np.allclose(np.min(np.linalg.norm(centres[:, None] - base[None], axis=2), axis=1), 0)
    lattice = locator_coarse._lattice(10)
    for frame in lattice.frames:
        centre = frame[0]
        lat, lon = np.degrees(np.arcsin(centre[2])), np.degrees(np.arctan2(centre[1], centre[0]))
        middle = h3.latlng_to_cell(lat, lon, 10)
        ring = np.array([h3.cell_to_latlng(c) for c in h3.grid_ring(middle, 1)])
        points = np.column_stack(unit_vectors(ring[:, 1], ring[:, 0]))
        steps = points / (points @ centre)[:, None] - centre
        assert np.allclose(np.linalg.norm(steps, axis=1), lattice.spacing, rtol=1e-9)


def test_scattered_points_are_computed_directly_with_the_same_answer() -> None:
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(-180, 180, 5000), rng.uniform(-80, 80, 5000)
    got, want, _ = _derived(lon, lat, 11, 10, sort=False)
    assert np.array_equal(got, want)


def test_res_0_and_empty_input_are_answered() -> None:
    lon, lat = np.array([116.4, -73.9]), np.array([39.9, 40.7])
    got, want, _ = _derived(lon, lat, 11, 0, sort=False)
    assert np.array_equal(got, want)
    empty = np.zeros(0)
    assert (
        coarser_cells(np.zeros(0, np.uint64), 10, empty, empty, unit_vectors(empty, empty)).size
        == 0
    )


def test_a_large_batch_is_located_in_input_order_with_h3s_cells() -> None:
    import shapely

    from onegrid.grid.domain import Level

    box = shapely.box(116.3, 39.85, 116.5, 40.0)
    halves = [shapely.box(116.3, 39.85, 116.4, 40.0), shapely.box(116.4, 39.85, 116.5, 40.0)]
    locator = Locator.build(
        [Shape("110000", Level.CITY, None, box)]
        + [Shape(f"11010{i}", Level.DISTRICT, "110000", h) for i, h in enumerate(halves, 1)],
        index_res=11,
    )
    n = max(_SORT_FROM, _DERIVE_FROM) * 2
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(116.25, 116.55, n), rng.uniform(39.8, 40.05, n)
    batch = locator.locate_many(lon, lat)
    for res in (9, 10, 11):
        assert np.array_equal(getattr(batch, f"h3_{res}"), points_to_cells(lon, lat, res))
    inside = shapely.intersects_xy(box, lon, lat)
    assert np.array_equal(batch.inside, inside)
    east = shapely.intersects_xy(halves[1], lon, lat) & ~shapely.intersects_xy(halves[0], lon, lat)
    assert np.array_equal(batch.district == "110102", east)
    for i in range(0, n, 997):
        assert batch.location(i) == locator.locate(lon[i], lat[i])
