"""Hotspots: H3 cells whose case counts are significantly high (Getis-Ord Gi*), with the
Benjamini-Hochberg false-discovery correction across cells.

Counts come from DuckDB (``sql/cell_counts.sql``); the statistic is numpy/scipy over a sparse
neighbour matrix. The study region is every cell with a case plus its ring of neighbours (which
count zero), with binary contiguity weights that include the cell itself (the "star" form).

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
from scipy import sparse, stats

from onegrid.analytics.evaluation import sql
from onegrid.analytics.period import Period

ALPHA = 0.05
# The fewest cases a cell needs itself to be reported hot. One or two are what a single caller
# and a repeat call make; and at the city's monthly densities (well under one case a cell for a
# category) three in one cell is already rare by chance (P(X >= 3) < 0.5 % at a mean of 0.2).
MIN_COUNT = 3


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
            cells.update(h3.grid_disk(c, 1))
    ordered = sorted(cells)
    return ordered, np.array([counts.get(c, 0) for c in ordered], dtype=np.float64)


def neighbours(cells: list[str]) -> sparse.csr_matrix:
    """Binary weights: a cell and its ring-1 neighbours inside the region, self included.
    Rings come from h3ronpy over the whole region at once (one call per cell in Python was most
    of a month's scan)."""
    ids = pa.array(h3ronpy.cells_parse(pa.array(cells, pa.string())))
    disks = pa.array(h3ronpy.grid_disk(ids, 1))
    inside = pc.index_in(pc.list_flatten(disks), value_set=ids)
    keep = pc.is_valid(inside)
    rows = pc.filter(pc.list_parent_indices(disks), keep).to_numpy()
    cols = pc.filter(inside, keep).to_numpy()
    n = len(cells)
    return sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


def gi_star(x: np.ndarray, w: sparse.csr_matrix) -> np.ndarray:
    """Getis & Ord (1995) Gi* z-scores under the normal approximation."""
    n = x.size
    mean = x.mean()
    s = np.sqrt((x**2).mean() - mean**2)
    wi = np.asarray(w.sum(axis=1)).ravel()
    wi2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    local = w @ x
    denom = s * np.sqrt((n * wi2 - wi**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local - mean * wi) / denom
    out: np.ndarray = np.nan_to_num(z, nan=0.0)
    return out


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
    if x.size < 3 or np.all(x == x[0]):
        return []
    z = gi_star(x, neighbours(cells))
    p = stats.norm.sf(z)
    q = stats.false_discovery_control(p, method="bh")
    hot = np.flatnonzero((q <= alpha) & (z > 0) & (x >= min_count))
    hot = hot[np.argsort(-z[hot], kind="stable")]
    return [Hotspot(cells[i], int(x[i]), float(z[i]), float(p[i]), float(q[i])) for i in hot]


def cell_counts(
    con: duckdb.DuckDBPyConnection, category: str, period: Period
) -> tuple[dict[str, int], list[str]]:
    """The category's count per cell, and every cell where any case arose in the period."""
    params = {"category": category, "start": period.start, "end": period.end}
    rows = con.execute(sql("cell_counts"), params).fetchall()
    return {str(c): int(n) for c, n in rows if n}, [str(c) for c, _ in rows]


def hotspots(
    con: duckdb.DuckDBPyConnection,
    category: str,
    period: Period,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> list[Hotspot]:
    """Hot cells of one category, compared with every cell where any case arose in the period
    (a quiet cell next to a busy street is a real zero; the open country is not)."""
    counts, region = cell_counts(con, category, period)
    return scan(counts, alpha, region, min_count)


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
    counts, region = cell_counts(con, category, before_period)
    significant = {h.cell for h in scan(counts, alpha, region, min_count=0)}
    out = []
    for h in now:
        before = counts.get(h.cell, 0)
        p = rising_p(h.count, _days(period), before, _days(before_period))
        e = Emerging(h, before, h.cell not in significant, p, p <= alpha)
        if e.rising or (e.new and clearly_above(h.count, before, min_count)):
            out.append(e)
    return out
