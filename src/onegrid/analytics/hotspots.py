"""Hotspots: H3 cells whose case counts are significantly high (Getis-Ord Gi*), with the
Benjamini-Hochberg false-discovery correction across cells.

Counts come from DuckDB (``sql/cell_counts.sql``); the statistic is numpy/scipy over a sparse
neighbour matrix. The study region is every cell with a case plus its ring of neighbours (which
count zero), with binary contiguity weights that include the cell itself (the "star" form).
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
    counts: dict[str, int], alpha: float = ALPHA, region: Iterable[str] | None = None
) -> list[Hotspot]:
    """The significant hot cells, strongest first."""
    if not counts:
        return []
    cells, x = study_region(counts, region)
    if x.size < 3 or np.all(x == x[0]):
        return []
    z = gi_star(x, neighbours(cells))
    p = stats.norm.sf(z)
    q = stats.false_discovery_control(p, method="bh")
    hot = np.flatnonzero((q <= alpha) & (z > 0))
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
    con: duckdb.DuckDBPyConnection, category: str, period: Period, alpha: float = ALPHA
) -> list[Hotspot]:
    """Hot cells of one category, compared with every cell where any case arose in the period
    (a quiet cell next to a busy street is a real zero; the open country is not)."""
    counts, region = cell_counts(con, category, period)
    return scan(counts, alpha, region)


@dataclass(frozen=True)
class Emerging:
    hotspot: Hotspot
    count_year_before: int
    new: bool  # not a hotspot in the same period a year before

    @property
    def rising(self) -> bool:
        return self.hotspot.count > self.count_year_before


def _year_before(period: Period) -> Period:
    def back(d: date) -> date:
        return d.replace(year=d.year - 1, day=min(d.day, 28) if d.month == 2 else d.day)

    return Period(back(period.first), back(period.last), period.tz)


def emerging_hotspots(
    con: duckdb.DuckDBPyConnection, category: str, period: Period, alpha: float = ALPHA
) -> list[Emerging]:
    """This period's hotspots that are new or rising against the same season a year before."""
    now = hotspots(con, category, period, alpha)
    before_period = _year_before(period)
    before = {h.cell for h in hotspots(con, category, before_period, alpha)}
    counts, _ = cell_counts(con, category, before_period)
    out = [Emerging(h, counts.get(h.cell, 0), h.cell not in before) for h in now]
    return [e for e in out if e.new or e.rising]
