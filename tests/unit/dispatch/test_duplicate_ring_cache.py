"""The duplicate scan's rings of cells: cached for the usual radii, computed for wide ones."""

from __future__ import annotations

import h3.api.basic_int as h3i

from onegrid.dispatch.duplicates import index


def test_small_rings_are_cached_and_wide_ones_are_not() -> None:
    centre = index.cell_of(116.40, 39.91)
    index._cached_ring.cache_clear()
    small = index._ring_params(centre, 2)
    assert sorted(set(small.values())) == sorted(h3i.grid_disk(centre, 2))
    assert index._cached_ring.cache_info().currsize == 1
    wide = index._ring_params(centre, index.CACHED_RING + 1)
    assert len(wide) == 1 + 3 * (index.CACHED_RING + 1) * (index.CACHED_RING + 2)
    assert set(wide.values()) == set(h3i.grid_disk(centre, index.CACHED_RING + 1))
    assert index._cached_ring.cache_info().currsize == 1  # the wide ring was not kept
