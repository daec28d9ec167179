"""The Gi* statistic as SQL (``sql/gi_star.sql``) against Getis & Ord's formula written out in
numpy on a small hand-made grid, with the neighbours found here by h3 one cell at a time."""

from __future__ import annotations

import duckdb
import h3
import numpy as np
import pyarrow as pa
import pytest

from onegrid.analytics.hotspots import gi_star

CENTRE = h3.latlng_to_cell(39.91, 116.40, 10)
# A ring-2 disk (19 cells) with a busy middle, and one cell far away with no neighbour in the
# region but itself.
DISK = sorted(h3.grid_disk(CENTRE, 2))
FAR = sorted(h3.grid_ring(CENTRE, 6))[0]
COUNTS = dict(zip(DISK, [0, 1, 2, 0, 3, 1, 0, 4, 2, 1, 0, 0, 5, 1, 2, 0, 1, 3, 0], strict=True))
COUNTS[CENTRE] = 9
COUNTS[FAR] = 7


def numpy_gi_star(cells: list[str], x: np.ndarray) -> np.ndarray:
    """z_i = (sum_j w_ij x_j - mean W_i) / (s sqrt((n S1_i - W_i^2) / (n - 1))), with
    w_ij = 1 where j is i or shares an edge with i and lies in the region, W_i = sum_j w_ij,
    S1_i = sum_j w_ij^2, and mean and s the region's mean and (population) standard deviation."""
    n = len(cells)
    index = {c: i for i, c in enumerate(cells)}
    w = np.zeros((n, n))
    for i, c in enumerate(cells):
        for other in h3.grid_disk(c, 1):
            if other in index:
                w[i, index[other]] = 1.0
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    w_i, s1_i = w.sum(axis=1), (w**2).sum(axis=1)
    z: np.ndarray = (w @ x - mean * w_i) / (s * np.sqrt((n * s1_i - w_i**2) / (n - 1)))
    return z


def _sql(counts: dict[str, int]) -> list[tuple[str, int, float]]:
    cells = sorted(counts)
    table = pa.table({"cell": cells, "n": pa.array([counts[c] for c in cells], pa.int64())})
    with duckdb.connect() as con:
        out = gi_star(con, table)
    return list(
        zip(out["cell"].to_pylist(), out["n"].to_pylist(), out["z"].to_pylist(), strict=True)
    )


def test_sql_gi_star_equals_the_formula_on_a_hand_made_grid() -> None:
    cells = sorted(COUNTS)
    x = np.array([COUNTS[c] for c in cells], dtype=np.float64)
    expected = dict(zip(cells, numpy_gi_star(cells, x), strict=True))
    got = _sql(COUNTS)
    assert sorted(c for c, _, _ in got) == cells
    assert {c: n for c, n, _ in got} == COUNTS
    assert [z for c, _, z in got] == pytest.approx([expected[c] for c, _, _ in got], rel=1e-12)
    # Strongest first, ties by cell.
    assert [c for c, _, _ in got] == sorted(cells, key=lambda c: (-expected[c], c))
    # A cell whose only neighbour in the region is itself: Gi* is its own count's standard score.
    z_far = next(z for c, _, z in got if c == FAR)
    assert z_far == pytest.approx((7 - x.mean()) / x.std(), rel=1e-12)
    # The disk's edge: the ring reaches outside the region, and only the cells inside weigh.
    edge = DISK[0] if DISK[0] != CENTRE else DISK[1]
    assert len(set(h3.grid_disk(edge, 1)) & set(COUNTS)) < 7


def test_a_flat_region_scores_zero_and_a_tiny_one_nothing() -> None:
    assert {z for _, _, z in _sql(dict.fromkeys(DISK, 4))} == {0.0}
    assert _sql({DISK[0]: 3, DISK[1]: 1}) == []
