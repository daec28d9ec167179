"""Hotspots: H3 cells whose case counts are significantly high (Getis-Ord Gi*), with the
Benjamini-Hochberg false-discovery correction across cells.

The statistic is SQL (``sql/gi_star.sql``) over two relations: the count of every cell of the
study region (``sql/cell_counts.sql``: every cell where any case arose, those without the
category at 0) and each cell's H3 ring, itself included, as (cell, neighbour) pairs with binary
weights (the "star" form). The pairs come from h3ronpy for the cells present, as a distributed
engine would make them with an H3 function. Only the normal tail and the correction run here
(scipy), on the z of each cell: DuckDB has no normal distribution (no erf), and an approximation
written in SQL would blur the small p-values the correction ranks.

Gi* speaks of a cell's neighbourhood, so a quiet cell beside a busy one scores high: the
statistic and the correction run over every cell, but only cells with ``min_count`` cases of
their own are reported hot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb
import h3
import h3ronpy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from onegrid.analytics.evaluation import registered, sql
from onegrid.analytics.period import Period

ALPHA = 0.05
# The fewest cases a cell needs itself to be reported hot. One or two are what a single caller
# and a repeat call make; and at the city's monthly densities (well under one case a cell for a
# category) three in one cell is already rare by chance (P(X >= 3) < 0.5 % at a mean of 0.2).
MIN_COUNT = 3
RING = 1  # a cell's neighbours: the cells that share an edge with it


@dataclass(frozen=True)
class Hotspot:
    cell: str
    count: int
    z: float
    p: float
    q: float  # the BH-adjusted p-value


def study_region(
    counts: dict[str, int], region: Iterable[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """The cells compared: ``region`` (e.g. every cell with any case), or else the cells with a
    count and their ring of neighbours."""
    cells = set(counts)
    if region is not None:
        cells.update(region)
    else:
        for c in counts:
            cells.update(h3.grid_disk(c, RING))
    ordered = sorted(cells)
    return ordered, np.array([counts.get(c, 0) for c in ordered], dtype=np.float64)


def neighbour_pairs(cells: pa.Array | pa.ChunkedArray) -> pa.Table:
    """(cell, neighbour) for each cell and every cell of its ring, itself included, wherever the
    neighbour lies: the statistic keeps those inside the region. Rings come from h3ronpy over
    all the cells at once (one h3 call per cell in Python was most of a month's scan)."""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    cells = cells.cast(pa.string())
    disks = pa.array(h3ronpy.grid_disk(pa.array(h3ronpy.cells_parse(cells)), RING))
    neighbours = pa.array(h3ronpy.cells_to_string(pa.array(pc.list_flatten(disks))))
    return pa.table(
        {
            "cell": pc.take(cells, pc.list_parent_indices(disks)),
            "neighbour": neighbours.cast(pa.string()),
        }
    )


def gi_star(con: duckdb.DuckDBPyConnection, counts: pa.Table) -> pa.Table:
    """(cell, n, z) for every cell of ``counts`` (cell, n), the highest z first (ties by cell);
    no rows for a region of fewer than three cells."""
    pairs = neighbour_pairs(counts["cell"])
    with registered(con, region_counts=counts.select(["cell", "n"]), cell_neighbours=pairs):
        return con.sql(sql("gi_star")).to_arrow_table()


def _scan(
    con: duckdb.DuckDBPyConnection, counts: pa.Table, alpha: float, min_count: int
) -> list[Hotspot]:
    """Gi* over the cells of ``counts`` (cell, n) in SQL; the normal tail and the correction
    over every cell, whatever ``min_count`` is."""
    if counts.num_rows == 0:
        return []
    table = gi_star(con, counts)
    if table.num_rows == 0:
        return []
    z = table["z"].to_numpy()
    x = table["n"].to_numpy()
    p = stats.norm.sf(z)
    q = stats.false_discovery_control(p, method="bh")
    # The rows come strongest first (z, then cell), so the filter keeps that order.
    hot = np.flatnonzero((q <= alpha) & (z > 0) & (x >= min_count))
    cells = table["cell"].to_pylist()
    return [Hotspot(cells[i], int(x[i]), float(z[i]), float(p[i]), float(q[i])) for i in hot]


def scan(
    counts: dict[str, int],
    alpha: float = ALPHA,
    region: Iterable[str] | None = None,
    min_count: int = MIN_COUNT,
) -> list[Hotspot]:
    """The significant hot cells with at least ``min_count`` cases, strongest first. The
    statistic and the false-discovery correction are over every cell of the region whatever
    ``min_count`` is: it only leaves out of the report the cells hot for their neighbours."""
    if not counts:
        return []
    cells, x = study_region(counts, region)
    table = pa.table({"cell": pa.array(cells, pa.string()), "n": pa.array(x.astype(np.int64))})
    with duckdb.connect() as con:
        return _scan(con, table, alpha, min_count)


def cell_counts(con: duckdb.DuckDBPyConnection, category: str, period: Period) -> pa.Table:
    """(cell, n): the category's count in every cell where any case arose in the period."""
    params = {"category": category, "start": period.start, "end": period.end}
    # A DB-API execute: it takes the connection over from a result the caller left unfinished,
    # where a relation (con.sql) refuses to run.
    rows = con.execute(sql("cell_counts"), params).fetchall()
    return pa.table(
        {
            "cell": pa.array([c for c, _ in rows], pa.string()),
            "n": pa.array([n for _, n in rows], pa.int64()),
        }
    )


def hotspots(
    con: duckdb.DuckDBPyConnection,
    category: str,
    period: Period,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> list[Hotspot]:
    """Hot cells of one category, compared with every cell where any case arose in the period
    (a quiet cell next to a busy street is a real zero; the open country is not)."""
    counts = cell_counts(con, category, period)
    if not pc.any(pc.greater(counts["n"], 0)).as_py():
        return []
    return _scan(con, counts, alpha, min_count)


@dataclass(frozen=True)
class Emerging:
    hotspot: Hotspot
    count_year_before: int
    new: bool  # not significantly hot (Gi*, whatever its own count) in the period a year before
    p_rising: float  # one-sided E-test that the cell's own daily rate rose on the year before
    rising: bool  # p_rising within the scan's alpha


def clearly_above(count: int, before: int, min_count: int = MIN_COUNT) -> bool:
    """Whether a new hotspot's count stands clear of its own a year before: at least double, and
    up by at least ``min_count`` cases. A new hotspot's counts are small, where a test of two
    Poisson counts has little power (4 against 1, or 6 against 2, is not significant at 5 %)."""
    return count >= max(2 * before, before + min_count)


def rising_p(count: int, days: int, before: int, days_before: int) -> float:
    """One-sided p-value that a Poisson rate of ``count`` in ``days`` is above ``before`` in
    ``days_before``: Krishnamoorthy & Thomson's E-test (scipy's ``poisson_means_test``), more
    powerful than the conditional binomial test at small counts."""
    if count * days_before <= before * days:
        return 1.0
    test = stats.poisson_means_test(count, days, before, days_before, alternative="greater")
    return float(test.pvalue)


def _year_before(period: Period) -> Period:
    def back(d: date) -> date:
        return d.replace(year=d.year - 1, day=min(d.day, 28) if d.month == 2 else d.day)

    return Period(back(period.first), back(period.last), period.tz)


def _days(period: Period) -> int:
    return (period.last - period.first).days + 1


def emerging_hotspots(
    con: duckdb.DuckDBPyConnection,
    category: str,
    period: Period,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> list[Emerging]:
    """This period's hotspots that emerged since the same season a year before: new there (not
    significant then) with a count clearly above that year's, or rising (the cell's own count
    significantly above that year's at the same ``alpha``)."""
    now = hotspots(con, category, period, alpha, min_count)
    if not now:
        return []
    before_period = _year_before(period)
    counts = cell_counts(con, category, before_period)
    significant = {h.cell for h in _scan(con, counts, alpha, min_count=0)}
    count_before = dict(zip(counts["cell"].to_pylist(), counts["n"].to_pylist(), strict=True))
    out = []
    for h in now:
        before = count_before.get(h.cell, 0)
        p = rising_p(h.count, _days(period), before, _days(before_period))
        e = Emerging(h, before, h.cell not in significant, p, p <= alpha)
        if e.rising or (e.new and clearly_above(h.count, before, min_count)):
            out.append(e)
    return out
