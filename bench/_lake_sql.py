"""The lake's three questions beside the same questions hand-written at a DuckDB prompt.

The raw SQL names its Parquet sources by placeholder (``{cases}``, ``{case_history}``,
``{callbacks}``), so a benchmark over flat files and one over the exported lake's month folders
ask exactly the same thing. The month of a case's dispatch is that of its latest dispatch recorded
before the settle cutoff (a case without one in its history: its own ``dispatched_at``), as in
``three_rates.sql``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from onegrid.analytics.evaluation import on_time_close, ranking
from onegrid.analytics.hotspots import hotspots, neighbour_pairs
from onegrid.analytics.period import Period

RAW_RANKING = """
WITH x AS (
  SELECT case_id, max("at") t FROM read_parquet('{case_history}')
  WHERE action = 'dispatch' AND "at" >= $s AND "at" < $cut GROUP BY 1),
m AS (
  SELECT c.id, c.subdistrict_code, x.t dispatched_at
  FROM x JOIN read_parquet('{cases}') c ON c.id = x.case_id
  WHERE x.t < $e AND c.channel = 'hotline'
  UNION ALL
  SELECT id, subdistrict_code, dispatched_at FROM read_parquet('{cases}')
  WHERE channel = 'hotline' AND dispatched_at >= $s AND dispatched_at < $e
    AND id NOT IN (SELECT case_id FROM x)),
d AS (
  SELECT c.subdistrict_code u, count(*) n,
         sum(CASE WHEN a.t <= c.dispatched_at + INTERVAL 24 HOUR THEN 1 ELSE 0 END) ok,
         sum(CASE WHEN r.case_id IS NULL THEN 1 ELSE 0 END) direct
  FROM m c
  LEFT JOIN (SELECT case_id, min("at") t FROM read_parquet('{case_history}')
             WHERE action = 'accept' AND "at" >= $s AND "at" < $cut GROUP BY 1) a
    ON a.case_id = c.id
  LEFT JOIN (SELECT DISTINCT case_id FROM read_parquet('{case_history}')
             WHERE action = 'return' AND "at" < $cut) r
    ON r.case_id = c.id
  GROUP BY 1),
b AS (
  SELECT c.subdistrict_code u, count(*) n, avg(CASE WHEN b.resolved THEN 1 ELSE 0 END) res,
         avg(CASE b.satisfaction WHEN 'satisfied' THEN 1 WHEN 'basically_satisfied' THEN 0.8
             ELSE 0 END) sat
  FROM read_parquet('{callbacks}') b
  JOIN read_parquet('{cases}') c ON c.id = b.case_id
  WHERE b."at" >= $s AND b."at" < $e AND c.channel = 'hotline' GROUP BY 1),
r AS (
  SELECT u, sum(k) n, count(*) FILTER (WHERE k > 1) rep FROM (
    SELECT subdistrict_code u, reporter_key, count(*) k FROM read_parquet('{cases}')
    WHERE channel = 'hotline' AND created_at >= $s AND created_at < $e GROUP BY 1, 2)
  GROUP BY 1)
SELECT d.u, rank() OVER (ORDER BY 0.2 * d.ok / d.n + 0.4 * b.res + 0.4 * b.sat DESC), r.n, r.rep
FROM d JOIN b USING (u) JOIN r USING (u)
"""
RAW_ONTIME = """
SELECT department_code, date_trunc('month', timezone('Asia/Shanghai', dispatched_at)) m,
       count(*) FILTER (WHERE status = 'closed' AND overdue_steps = 0)
         / nullif(count(*) - count(*) FILTER (WHERE status = 'on_hold'), 0)
FROM read_parquet('{cases}')
WHERE dispatched_at >= $s AND dispatched_at < $e
GROUP BY ALL
"""
# The hotspot scan by hand: the month's counts per cell and Gi* over them in one statement.
# Its neighbour table (``bench_rings``: each cell of the month and its ring) is built once before
# the timing, as a DBA would keep one; ours finds the rings on every scan, so this raw limit is
# the stricter one. p-values and the FDR correction (scipy, on the result) are in neither.
RAW_GI_STAR = """
WITH x AS (
  SELECT h3_10 cell, count(*) FILTER (WHERE category_code = 'E0102') n
  FROM read_parquet('{cases}')
  WHERE created_at >= $s AND created_at < $e AND h3_10 IS NOT NULL GROUP BY 1),
g AS (SELECT count(*) k, sum(n) / count(*) mean,
             sqrt(greatest(sum(n * n) / count(*) - (sum(n) / count(*)) ** 2, 0)) s FROM x),
l AS (SELECT r.cell, sum(x.n) lag, count(*) w FROM bench_rings r JOIN x ON x.cell = r.neighbour
      GROUP BY 1)
SELECT x.cell, x.n,
       (l.lag - g.mean * l.w) / nullif(g.s * sqrt((g.k * l.w - l.w * l.w) / (g.k - 1)), 0) z
FROM x JOIN l USING (cell) CROSS JOIN g ORDER BY z DESC
"""

Question = tuple[str, Callable[[], Any], Callable[[], Any]]


def questions(con: Any, parquet: Callable[[str], str]) -> list[Question]:
    """(label, ours, raw) for the ranking of March 2025, the year's on-time rate, one hotspot scan.

    ``con`` is a DuckDB connection with the lake's views; ``parquet`` gives, for a table name
    (``cases``, ``case_history``, ``callbacks``), the Parquet path or glob the raw SQL reads.
    """
    sources = {name: parquet(name) for name in ("cases", "case_history", "callbacks")}
    month = Period.month("2025-03")
    params = {"s": month.start, "e": month.end}
    cut = {**params, "cut": month.end + timedelta(days=10)}
    year = Period(date(2025, 1, 1), date(2025, 12, 31))
    cells = con.sql(
        "SELECT DISTINCT h3_10 FROM read_parquet('{cases}') "
        "WHERE created_at >= $s AND created_at < $e AND h3_10 IS NOT NULL".format(**sources),
        params=params,
    ).to_arrow_table()["h3_10"]
    con.register("bench_rings", neighbour_pairs(cells))
    return [
        (
            "ranking (subdistricts, month)",
            lambda: ranking(con, "2025-03"),
            lambda: con.execute(RAW_RANKING.format(**sources), cut).fetchall(),
        ),
        (
            "on-time close rate (dept x month, year)",
            lambda: on_time_close(con, year, "month"),
            lambda: con.execute(
                RAW_ONTIME.format(**sources), {"s": year.start, "e": year.end}
            ).fetchall(),
        ),
        (
            "hotspot scan (one category-month)",
            lambda: hotspots(con, "E0102", month),
            lambda: con.execute(RAW_GI_STAR.format(**sources), params).fetchall(),
        ),
    ]
