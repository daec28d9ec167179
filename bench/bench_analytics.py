"""Analytics lake: synthetic cases straight into Parquet, then the monthly ranking, the on-time
close rate per department and month, and one hotspot scan, each against the same question
hand-written in DuckDB SQL over the same Parquet in the same run (ratio), plus peak RSS.

    .venv/bin/python bench/bench_analytics.py [lake cases=3000000] [exported cases=200000]
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from onegrid.analytics import tables as t
from onegrid.analytics.evaluation import department_indicators, ranking
from onegrid.analytics.hotspots import hotspots
from onegrid.analytics.period import Period
from onegrid.analytics.synthetic import make_tables
from onegrid.cases.domain.intake import Reporter

# The same three rates, written by hand as one would at a DuckDB prompt.
RAW_RANKING = """
WITH d AS (
  SELECT c.subdistrict_code u, count(*) n,
         sum(CASE WHEN a.t <= c.dispatched_at + INTERVAL 24 HOUR THEN 1 ELSE 0 END) ok,
         sum(CASE WHEN c.returns = 0 THEN 1 ELSE 0 END) direct
  FROM read_parquet('{root}/cases.parquet') c
  LEFT JOIN (SELECT case_id, min("at") t FROM read_parquet('{root}/case_history.parquet')
             WHERE action = 'accept' AND "at" >= $s AND "at" < $cut GROUP BY 1) a
    ON a.case_id = c.id
  WHERE c.channel = 'hotline' AND c.dispatched_at >= $s AND c.dispatched_at < $e
  GROUP BY 1),
b AS (
  SELECT c.subdistrict_code u, count(*) n, avg(CASE WHEN b.resolved THEN 1 ELSE 0 END) res,
         avg(CASE b.satisfaction WHEN 'satisfied' THEN 1 WHEN 'basically_satisfied' THEN 0.8
             ELSE 0 END) sat
  FROM read_parquet('{root}/callbacks.parquet') b
  JOIN read_parquet('{root}/cases.parquet') c ON c.id = b.case_id
  WHERE b."at" >= $s AND b."at" < $e AND c.channel = 'hotline' GROUP BY 1),
r AS (
  SELECT u, count(*) n, count(*) FILTER (WHERE k > 1) rep FROM (
    SELECT subdistrict_code u, reporter_key, count(*) k FROM read_parquet('{root}/cases.parquet')
    WHERE channel = 'hotline' AND created_at >= $s AND created_at < $e GROUP BY 1, 2)
  GROUP BY 1)
SELECT d.u, rank() OVER (ORDER BY 0.2 * d.ok / d.n + 0.4 * b.res + 0.4 * b.sat DESC), r.n, r.rep
FROM d JOIN b USING (u) JOIN r USING (u)
"""
RAW_ONTIME = """
SELECT department_code, date_trunc('month', timezone('Asia/Shanghai', dispatched_at)) m,
       count(*) FILTER (WHERE status = 'closed' AND overdue_steps = 0)
         / nullif(count(*) - count(*) FILTER (WHERE status = 'on_hold'), 0)
FROM read_parquet('{root}/cases.parquet')
WHERE dispatched_at >= $s AND dispatched_at < $e
GROUP BY ALL
"""
RAW_CELLS = """
SELECT h3_10, sum(CASE WHEN category_code = 'E0102' THEN 1 ELSE 0 END)
FROM read_parquet('{root}/cases.parquet')
WHERE created_at >= $s AND created_at < $e AND h3_10 IS NOT NULL GROUP BY 1
"""


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    t0 = time.perf_counter()
    tables = make_tables(n)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    files = {}
    for name, table in tables.items():
        pq.write_table(table, root / f"{name}.parquet", compression="zstd", row_group_size=256_000)
        files[name] = [f"{name}.parquet"]
    written = time.perf_counter() - t0
    print(
        f"{n:,} cases generated in {made:.1f} s, written to Parquet in {written:.1f} s "
        f"({n / written:,.0f} rows/s)"
    )
    import duckdb

    con = duckdb.connect()
    # The lake's views, over the flat files of this run (no month column to drop).
    for table in t.TABLES:
        if table.name in files:
            con.execute(
                f"CREATE VIEW {table.name} AS "
                f"SELECT * FROM read_parquet('{root}/{table.name}.parquet')"
            )
    con.register("components", t.COMPONENTS.schema.empty_table())
    month = Period.month("2025-03")
    params = {"s": month.start, "e": month.end}
    cut = {**params, "cut": month.end + timedelta(days=10)}
    year = Period(date(2025, 1, 1), date(2025, 12, 31))
    cases = [
        (
            "ranking (subdistricts, month)",
            lambda: ranking(con, "2025-03"),
            lambda: con.execute(RAW_RANKING.format(root=root), cut).fetchall(),
        ),
        (
            "on-time close rate (dept x month, year)",
            lambda: department_indicators(con, year, "month"),
            lambda: con.execute(
                RAW_ONTIME.format(root=root), {"s": year.start, "e": year.end}
            ).fetchall(),
        ),
        (
            "hotspot scan (one category-month)",
            lambda: hotspots(con, "E0102", month),
            lambda: con.execute(RAW_CELLS.format(root=root), params).fetchall(),
        ),
    ]
    for label, ours, raw in cases:
        ours()  # warm the file cache
        a = min(timed(ours) for _ in range(3))
        b = min(timed(raw) for _ in range(3))
        print(f"{label:42s} {a * 1000:8.1f} ms  raw SQL {b * 1000:8.1f} ms  ratio {a / b:5.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:,.0f} MB")
    shutil.rmtree(root, ignore_errors=True)


def export(n: int) -> None:
    """``n`` cases (with their history) loaded into SQLite, then exported by ``Lake.refresh``."""
    from onegrid.analytics.lake import Lake
    from onegrid.assets.services import ensure_taxonomy
    from onegrid.cases.config import case_rules
    from onegrid.cases.importing import HistoricalCase, load_historical
    from onegrid.core.clock import SystemClock
    from onegrid.db.engine import make_engine
    from onegrid.db.session import Database
    from onegrid.schema import migrate

    root = Path(tempfile.mkdtemp(prefix="bench-export-"))
    db = Database(make_engine(f"sqlite:///{root}/db.sqlite3"))
    migrate(db.engine)
    with db.unit_of_work() as s:
        ensure_taxonomy(s, SystemClock())
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    cases = (
        HistoricalCase(
            "E0102",
            t0 + timedelta(minutes=i),
            116.3 + (i % 1000) * 1e-4,
            39.9 + (i // 1000 % 1000) * 1e-4,
            "bench",
            external_ref=f"b:{i}",
            department_code="dept",
            closed_at=t0 + timedelta(minutes=i + 90) if i % 4 else None,
            reporter=Reporter(phone=f"139{i % 5000:08d}"),
        )
        for i in range(n)
    )
    t = time.perf_counter()
    load_historical(db, cases, rules=case_rules(), use_grid=False)
    print(f"loaded {n:,} cases into SQLite in {time.perf_counter() - t:.1f} s")
    lake = Lake(root / "lake")
    report = lake.refresh(db)
    rows = sum(report.rows.values())
    print(f"export: {rows:,} rows in {report.seconds:.2f} s = {rows / report.seconds:,.0f} rows/s")
    empty = lake.refresh(db)
    print(f"refresh with nothing new: {empty.seconds * 1000:.0f} ms")
    db.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    exported = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    if exported:
        export(exported)
    main(n)
