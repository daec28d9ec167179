"""Gi* with the false-discovery correction, checked against PySAL's esda on the same data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import duckdb
import h3
import numpy as np
import pyarrow as pa
import pytest
from esda.getisord import G_Local
from libpysal.weights import W
from scipy import stats

from onegrid.analytics import tables as t
from onegrid.analytics.hotspots import (
    MIN_COUNT,
    clearly_above,
    emerging_hotspots,
    hotspots,
    rising_p,
    scan,
    study_region,
)
from onegrid.analytics.period import Period


def _counts(seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    centre = h3.latlng_to_cell(39.91, 116.40, 10)
    cells = sorted(h3.grid_disk(centre, 8))
    counts = {c: int(rng.poisson(2)) for c in cells}
    # Two clusters of high counts: the scan must find them, not the lone high cells.
    for hot in (h3.grid_disk(cells[10], 1), h3.grid_disk(cells[150], 1)):
        for c in hot:
            counts[c] = counts.get(c, 0) + int(rng.poisson(12))
    counts[cells[80]] += 15  # a lone spike, its neighbours ordinary
    return {c: n for c, n in counts.items() if n}


def esda_hot_cells(
    cells: list[str], x: np.ndarray, alpha: float = 0.05, min_count: int = 0
) -> list[tuple[str, float]]:
    """PySAL's Gi* over ``cells`` with counts ``x``: binary weights of each cell's ring-1
    neighbours inside the region (built here with h3, not by the code under test), the star
    form, normal-approximation z, then the Benjamini-Hochberg correction over every cell. The
    significant hot cells with at least ``min_count`` cases, with their z, strongest first."""
    inside = set(cells)
    weights = W(
        {c: [n for n in sorted(h3.grid_disk(c, 1)) if n != c and n in inside] for c in cells},
        id_order=cells,
        silence_warnings=True,
    )
    ref = G_Local(x, weights, transform="B", star=True, permutations=0)
    q = stats.false_discovery_control(stats.norm.sf(ref.Zs), method="bh")
    order = np.argsort(-ref.Zs, kind="stable")
    return [
        (cells[i], float(ref.Zs[i]))
        for i in order
        if q[i] <= alpha and ref.Zs[i] > 0 and x[i] >= min_count
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_gi_star_finds_the_same_significant_cells_as_esda(seed: int) -> None:
    counts = _counts(seed)
    cells, x = study_region(counts)
    for min_count in (0, MIN_COUNT):
        found = scan(counts, min_count=min_count)
        expected = esda_hot_cells(cells, x, min_count=min_count)
        assert [h.cell for h in found] == [c for c, _ in expected]
        assert len(found) >= 7
        assert [h.z for h in found] == pytest.approx([z for _, z in expected], rel=1e-6)


def test_a_cell_hot_only_for_its_neighbours_is_not_reported() -> None:
    """A quiet cell inside a busy cluster: Gi* finds its neighbourhood significant, but with no
    case of its own it is not a hotspot; the cells reported keep the z and q of the scan over
    every cell."""
    counts = _counts(1)
    quiet = sorted(h3.grid_disk(h3.latlng_to_cell(39.91, 116.40, 10), 8))[10]
    counts[quiet] = 0
    every = {h.cell: h for h in scan(counts, min_count=0)}
    reported = scan(counts)
    assert every[quiet].count == 0
    assert reported and all(h.count >= MIN_COUNT for h in reported)
    assert [h.cell for h in reported] == [c for c, h in every.items() if h.count >= MIN_COUNT]
    assert all(every[h.cell] == h for h in reported)


def test_nothing_is_hot_in_a_flat_field() -> None:
    centre = h3.latlng_to_cell(39.91, 116.40, 10)
    flat = dict.fromkeys(h3.grid_disk(centre, 3), 4)
    assert scan(flat, region=flat) == []
    assert scan({}) == []


def _two_mays(extra: Callable[[int, str], int], seed: int = 5) -> duckdb.DuckDBPyConnection:
    """Rubbish calls in May 2025 and May 2026 over a disk of cells: a few in every cell, and
    ``extra(year, cell)`` more."""
    rng = np.random.default_rng(seed)
    rows = []
    for year in (2025, 2026):
        for c in CELLS:
            n = int(rng.poisson(2)) + extra(year, c)
            rows += [
                {
                    "id": len(rows) + k,
                    "category_code": "E0102",
                    "h3_10": c,
                    "created_at": datetime(year, 5, 10, 4, tzinfo=UTC),
                }
                for k in range(n)
            ]
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist(rows, schema=t.CASES.schema))
    return con


CELLS = sorted(h3.grid_disk(h3.latlng_to_cell(39.91, 116.40, 10), 6))
MAY_2026 = Period(date(2026, 5, 1), date(2026, 5, 31))
MAY_2025 = Period(date(2025, 5, 1), date(2025, 5, 31))


def test_a_hotspot_that_was_not_there_a_year_before_is_emerging() -> None:
    cluster = h3.grid_disk(CELLS[40], 1)
    con = _two_mays(lambda year, c: 15 if year == 2026 and c in cluster else 0)
    found = emerging_hotspots(con, "E0102", MAY_2026)
    assert {e.hotspot.cell for e in found} >= {CELLS[40]}
    assert all(e.new and e.rising for e in found if e.hotspot.cell == CELLS[40])
    assert emerging_hotspots(con, "E0102", MAY_2025) == []


def test_a_hotspot_is_emerging_when_its_own_count_rose_significantly() -> None:
    """Two clusters hot in both years: the one whose calls went from about 14 a cell to 32 is
    emerging (rising, not new); the one with the same calls a year before is hot, not emerging."""
    rises, stays = h3.grid_disk(CELLS[40], 1), h3.grid_disk(CELLS[100], 1)

    def extra(year: int, c: str) -> int:
        if c in rises:
            return 12 if year == 2025 else 30
        return 20 if c in stays else 0

    con = _two_mays(extra)
    hot = {h.cell for h in hotspots(con, "E0102", MAY_2026)}
    assert hot >= set(rises) | set(stays)
    hot_before = {h.cell for h in hotspots(con, "E0102", MAY_2025)}
    assert hot_before >= set(stays) and len(hot_before & set(rises)) >= 5
    found = {e.hotspot.cell: e for e in emerging_hotspots(con, "E0102", MAY_2026)}
    assert set(found) >= set(rises) and not set(found) & set(stays)
    assert all(found[c].rising and found[c].p_rising <= 0.05 for c in rises)
    assert all(not found[c].new for c in hot_before & set(rises))


def test_a_new_hotspot_must_stand_clear_of_its_count_a_year_before() -> None:
    assert clearly_above(3, 0) and clearly_above(6, 2) and clearly_above(12, 6)
    assert not clearly_above(2, 0)  # an increase below the reporting floor
    assert not clearly_above(13, 10)  # three more, but far from double
    assert rising_p(3, 31, 0, 31) <= 0.05 < rising_p(4, 31, 1, 31)
    assert rising_p(3, 31, 5, 31) == 1.0
    # The same count over a shorter season (a leap year's February before) is a higher rate.
    assert rising_p(20, 28, 10, 29) < rising_p(20, 28, 10, 28)
