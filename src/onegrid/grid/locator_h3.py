"""H3 arithmetic for the point locator: vectorised cells of points, parents, children, ranges.

An H3 cell index is a 64-bit word: 4 bits of resolution at bits 52–55, a 7-bit base cell at
bits 45–51, then fifteen 3-bit digits (digit 1 highest), where the digits below the cell's
resolution are all 7. Parents and children are therefore bit operations, done here on whole
numpy arrays at once; ``tests/unit/grid`` checks them against h3-py.

The cells of points come from h3ronpy (Rust ``h3o``, vectorised over arrays); ADR 0002 says why.
"""

from __future__ import annotations

import math

import h3.api.basic_int as h3i
import numpy as np
from h3ronpy import vector as h3_vector
from numpy.typing import NDArray

Cells = NDArray[np.uint64]
Floats = NDArray[np.float64]

MAX_RES = 15
_RES_SHIFT = 52
_RES_MASK = np.uint64(0xF << _RES_SHIFT)
_BASE_SHIFT = 45
_BASE_MASK = np.uint64(0x7F << _BASE_SHIFT)
# Base cells that are pentagons: a pentagon has no child on the K axis (digit 1).
_PENTAGON_BASE_CELLS = np.array([4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117], np.uint64)
# The sphere H3 measures on (authalic radius), so metres and degrees agree with h3.
EARTH_RADIUS_M = 6_371_007.180918475
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0
_ARRAY_FROM = 128


def _below(res: int) -> np.uint64:
    """Mask of the digits finer than ``res`` (digits res+1 … 15)."""
    return np.uint64((1 << (3 * (MAX_RES - res))) - 1)


def _digit_shift(digit: int) -> int:
    return 3 * (MAX_RES - digit)


def valid_lonlat(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    """Finite and within [-180, 180] × [-90, 90]; anything else is no place on Earth."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)


def points_to_cells(lon: Floats, lat: Floats, res: int) -> Cells:
    """The res-``res`` cell of each point; the caller passes only valid coordinates."""
    if lon.size < _ARRAY_FROM:
        # h3ronpy's arrow round trip costs ~30 µs a call: h3-py is quicker for a few points.
        pairs = zip(lat.tolist(), lon.tolist(), strict=True)
        return np.fromiter(
            (h3i.latlng_to_cell(y, x, res) for y, x in pairs), dtype=np.uint64, count=lon.size
        )
    cells = h3_vector.coordinates_to_cells(lat, lon, res)
    return np.asarray(cells, dtype=np.uint64)


def cell_centers(cells: Cells) -> tuple[Floats, Floats]:
    """(lon, lat) of each cell's centre."""
    if cells.size == 0:
        return np.zeros(0), np.zeros(0)
    batch = h3_vector.cells_to_coordinates(cells)
    return np.asarray(batch["lng"], np.float64), np.asarray(batch["lat"], np.float64)


def cell_parents(cells: Cells, res: int) -> Cells:
    """The ancestor at ``res`` of each cell (cells must be at ``res`` or finer)."""
    cleared = (cells & ~_RES_MASK) | np.uint64(res << _RES_SHIFT)
    return cleared | _below(res)


def _is_pentagon(cells: Cells, res: int) -> NDArray[np.bool_]:
    base = (cells & _BASE_MASK) >> np.uint64(_BASE_SHIFT)
    digits = (cells >> np.uint64(_digit_shift(res))) & ((np.uint64(1) << np.uint64(3 * res)) - 1)
    pentagon: NDArray[np.bool_] = np.isin(base, _PENTAGON_BASE_CELLS) & (digits == 0)
    return pentagon


def cell_children(cells: Cells, res: int) -> Cells:
    """The children at ``res + 1`` of cells at ``res``, parent by parent, digit 0 to 6."""
    child_res = res + 1
    shift = np.uint64(_digit_shift(child_res))
    stem = (cells & ~_RES_MASK) | np.uint64(child_res << _RES_SHIFT)
    stem &= ~(np.uint64(7) << shift)
    digits = np.arange(7, dtype=np.uint64)
    children = stem[:, None] | (digits[None, :] << shift)
    keep = np.ones(children.shape, dtype=bool)
    keep[:, 1] = ~_is_pentagon(cells, res)
    return children[keep]


def descendant_ranges(cells: Cells, res: int, key_res: int) -> tuple[Cells, Cells]:
    """For cells at ``res``: the interval [lo, hi] holding every descendant at ``key_res``.

    Descendants keep the ancestor's base cell and first ``res`` digits, so with the resolution
    field set to ``key_res`` they form one contiguous run of integers; intervals of cells that
    are not ancestors of one another never overlap.
    """
    stem = (cells & ~_RES_MASK) | np.uint64(key_res << _RES_SHIFT)
    lo = stem & ~_below(res)
    return lo, lo | _below(res)


def hex_string(cell: int) -> str:
    """The usual text form of an H3 index (lower-case hex, as h3.int_to_str)."""
    return format(cell, "x")
