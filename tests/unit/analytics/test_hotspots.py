"""Gi* with the false-discovery correction, checked against PySAL's esda on the same data."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from esda.getisord import G_Local
from libpysal.weights import W
from scipy import stats

from onegrid.analytics.hotspots import scan, study_region


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


def esda_hot_cells(cells: list[str], x: np.ndarray, alpha: float = 0.05) -> list[tuple[str, float]]:
    """PySAL's Gi* over ``cells`` with counts ``x``: binary weights of each cell's ring-1
    neighbours inside the region (built here with h3, not by the code under test), the star
    form, normal-approximation z, then the Benjamini-Hochberg correction. The significant hot
    cells with their z, strongest first."""
    inside = set(cells)
    weights = W(
        {c: [n for n in sorted(h3.grid_disk(c, 1)) if n != c and n in inside] for c in cells},
        id_order=cells,
        silence_warnings=True,
    )
    ref = G_Local(x, weights, transform="B", star=True, permutations=0)
    q = stats.false_discovery_control(stats.norm.sf(ref.Zs), method="bh")
    order = np.argsort(-ref.Zs, kind="stable")
    return [(cells[i], float(ref.Zs[i])) for i in order if q[i] <= alpha and ref.Zs[i] > 0]


@pytest.mark.parametrize("seed", [1, 2])
def test_gi_star_finds_the_same_significant_cells_as_esda(seed: int) -> None:
    counts = _counts(seed)
    found = scan(counts)
    cells, x = study_region(counts)
    expected = esda_hot_cells(cells, x)
    assert [h.cell for h in found] == [c for c, _ in expected]
    assert len(found) >= 7
    assert [h.z for h in found] == pytest.approx([z for _, z in expected], rel=1e-6)


def test_nothing_is_hot_in_a_flat_field() -> None:
    centre = h3.latlng_to_cell(39.91, 116.40, 10)
    flat = dict.fromkeys(h3.grid_disk(centre, 3), 4)
    assert scan(flat, region=flat) == []
    assert scan({}) == []


def test_a_hotspot_that_was_not_there_a_year_before_is_emerging() -> None:
    from datetime import UTC, date, datetime

    import duckdb
    import pyarrow as pa

    from onegrid.analytics import tables as t
    from onegrid.analytics.hotspots import emerging_hotspots
    from onegrid.analytics.period import Period

    rng = np.random.default_rng(5)
    centre = h3.latlng_to_cell(39.91, 116.40, 10)
    cells = sorted(h3.grid_disk(centre, 6))
    rows = []
    for year in (2025, 2026):
        for c in cells:
            n = int(rng.poisson(2))
            if year == 2026 and c in h3.grid_disk(cells[40], 1):
                n += 15
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
    found = emerging_hotspots(con, "E0102", Period(date(2026, 5, 1), date(2026, 5, 31)))
    assert {e.hotspot.cell for e in found} >= {cells[40]}
    assert all(e.new and e.rising for e in found if e.hotspot.cell == cells[40])
    assert emerging_hotspots(con, "E0102", Period(date(2025, 5, 1), date(2025, 5, 31))) == []
