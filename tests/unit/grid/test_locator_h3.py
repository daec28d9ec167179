"""The locator's H3 bit arithmetic agrees with h3-py, the reference binding of the C library."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from onegrid.grid.locator_h3 import (
    cell_children,
    cell_parents,
    descendant_ranges,
    hex_string,
    points_to_cells,
    valid_lonlat,
)


def _random_cells(res: int, n: int = 2000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-85, 85, n)
    lon = rng.uniform(-180, 180, n)
    return points_to_cells(lon, lat, res)


@pytest.mark.parametrize("n", [0, 7, 3000])  # few points go through h3-py, many through h3ronpy
@pytest.mark.parametrize("res", [0, 5, 9, 10, 11, 12, 15])
def test_points_to_cells_equals_h3_latlng_to_cell(res: int, n: int) -> None:
    rng = np.random.default_rng(res)
    lat = rng.uniform(-89.9, 89.9, n)
    lon = rng.uniform(-180, 180, n)
    expected = [h3.str_to_int(h3.latlng_to_cell(y, x, res)) for x, y in zip(lon, lat, strict=True)]
    assert points_to_cells(lon, lat, res).tolist() == expected


@pytest.mark.parametrize(("fine", "coarse"), [(11, 10), (11, 9), (12, 10), (15, 0), (10, 10)])
def test_cell_parents_equal_h3_cell_to_parent(fine: int, coarse: int) -> None:
    cells = _random_cells(fine)
    expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), coarse)) for c in cells]
    assert cell_parents(cells, coarse).tolist() == expected


@pytest.mark.parametrize("res", [0, 3, 9, 14])
def test_cell_children_equal_h3_cell_to_children(res: int) -> None:
    cells = np.concatenate([_random_cells(res, 200), _pentagons(res)])
    expected = sorted(
        h3.str_to_int(child)
        for cell in cells
        for child in h3.cell_to_children(h3.int_to_str(int(cell)), res + 1)
    )
    assert sorted(cell_children(cells, res).tolist()) == expected


def _pentagons(res: int) -> np.ndarray:
    return np.array([h3.str_to_int(p) for p in h3.get_pentagons(res)], dtype=np.uint64)


def test_pentagon_children_skip_the_deleted_k_axis() -> None:
    pentagon = _pentagons(7)[:1]
    assert cell_children(pentagon, 7).size == 6


def test_descendant_ranges_hold_exactly_the_descendants() -> None:
    cells = _random_cells(8, 50)
    lo, hi = descendant_ranges(cells, 8, 11)
    order = np.argsort(lo)
    assert np.all(lo[order][1:] > hi[order][:-1])  # disjoint
    for cell, low, high in zip(cells[:10], lo[:10], hi[:10], strict=True):
        grandchildren = [
            h3.str_to_int(c) for c in h3.cell_to_children(h3.int_to_str(int(cell)), 11)
        ]
        assert all(low <= c <= high for c in grandchildren)
    others = _random_cells(11, 5000, seed=9)
    inside = (others[:, None] >= lo[None, :]) & (others[:, None] <= hi[None, :])
    parents = cell_parents(others, 8)
    assert np.array_equal(inside, parents[:, None] == cells[None, :])


def test_valid_lonlat_refuses_nan_infinity_and_out_of_range() -> None:
    lon = np.array([0.0, np.nan, 181.0, -180.0, 10.0, np.inf])
    lat = np.array([0.0, 0.0, 0.0, 90.0, -90.5, 0.0])
    assert valid_lonlat(lon, lat).tolist() == [True, False, False, True, False, False]


def test_hex_string_is_h3s_text_form() -> None:
    cell = h3.latlng_to_cell(39.9, 116.4, 10)
    assert hex_string(h3.str_to_int(cell)) == cell
