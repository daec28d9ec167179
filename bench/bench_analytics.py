"""Analytics lake: synthetic cases straight into Parquet, then the monthly ranking, the on-time
close rate per department and month, and one hotspot scan, each against the same question
hand-written in DuckDB SQL over the same Parquet in the same run (ratio), plus peak RSS.

    .venv/bin/python bench/bench_analytics.py [lake cases=3000000] [exported cases=200000]

The export is measured on SQLite and on PostgreSQL (127.0.0.1:5432, a scratch database).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from _lake_sql import questions

from onegrid.analytics import tables as t
from onegrid.analytics.synthetic import make_tables
from onegrid.cases.domain.intake import Reporter


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
    # No routes: every case's response comes from its first accept, as in the raw SQL of _lake_sql.
    con.register("case_routes", t.CASE_ROUTES.schema.empty_table())
    con.register("area_populations", t.AREA_POPULATIONS.schema.empty_table())
    for label, ours, raw in questions(con, lambda name: f"{root}/{name}.parquet"):
        ours()  # warm the file cache
        a = min(timed(ours) for _ in range(3))
        b = min(timed(raw) for _ in range(3))
        print(f"{label:42s} {a * 1000:8.1f} ms  raw SQL {b * 1000:8.1f} ms  ratio {a / b:5.2f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:,.0f} MB")
    shutil.rmtree(root, ignore_errors=True)


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The lake's two biggest sources, read as a plain client would: every column, every row.
RAW_TABLES = ("cases", "case_history")


def _bench_cases(n: int):  # type: ignore[no-untyped-def]
    from onegrid.cases.importing import HistoricalCase

    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    return (
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


def _raw_sqlite(path: Path) -> float:
    """Rows/s of Python's sqlite3 fetching every column of the source tables: the DB-API limit."""
    import sqlite3

    con = sqlite3.connect(path)
    t0, rows = time.perf_counter(), 0
    for name in RAW_TABLES:
        cur = con.execute(f"SELECT * FROM {name}")
        while part := cur.fetchmany(100_000):
            rows += len(part)
    con.close()
    return rows / (time.perf_counter() - t0)


_ADBC_SQLITE = """
import sys, time
import adbc_driver_sqlite.dbapi as d
con = d.connect(sys.argv[1]); t0 = time.perf_counter(); rows = 0
for name in ("cases", "case_history"):
    cur = con.cursor()
    cur.execute(f"SELECT * FROM {name}")
    rows += cur.fetch_arrow_table().num_rows
print(rows / (time.perf_counter() - t0))
"""


def _raw_adbc_sqlite(path: Path) -> float | None:
    """The same through SQLite's ADBC driver, in a child process: it links its own SQLite, which
    must not share a process with the sqlite3 connections the server holds (ADR 0010)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _ADBC_SQLITE, str(path)], capture_output=True, text=True, check=False
    )
    return float(done.stdout) if done.returncode == 0 else None


def _raw_pg(url: str) -> tuple[float, float]:
    """Rows/s of psycopg (text rows into Python tuples) and of ADBC (binary COPY into Arrow)."""
    import adbc_driver_postgresql.dbapi as adbc_pg
    import psycopg

    plain = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain) as con:
        t0, rows = time.perf_counter(), 0
        for name in RAW_TABLES:
            with con.cursor(name=f"bench_{name}") as cur:
                cur.execute(f"SELECT * FROM {name}")
                while part := cur.fetchmany(100_000):
                    rows += len(part)
        py = rows / (time.perf_counter() - t0)
    with adbc_pg.connect(plain) as con:
        t0, rows = time.perf_counter(), 0
        for name in RAW_TABLES:
            with con.cursor() as cur:
                cur.execute(f"SELECT * FROM {name}")
                rows += cur.fetch_arrow_table().num_rows
        arrow = rows / (time.perf_counter() - t0)
    return py, arrow


def export(n: int, backend: str = "sqlite") -> None:
    """``n`` cases (with their history) loaded into the database, then exported by
    ``Lake.refresh``, against the driver's bare fetch of the same tables in the same run."""
    from sqlalchemy import create_engine, text

    from onegrid.analytics.lake import Lake
    from onegrid.assets.services import ensure_taxonomy
    from onegrid.cases.config import case_rules
    from onegrid.cases.importing import load_historical
    from onegrid.core.clock import SystemClock
    from onegrid.db.engine import make_engine
    from onegrid.db.session import Database
    from onegrid.schema import migrate

    root = Path(tempfile.mkdtemp(prefix="bench-export-"))
    pg_name = f"bench_lake_{os.getpid()}"
    if backend == "sqlite":
        url = f"sqlite:///{root}/db.sqlite3"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    db = Database(make_engine(url))
    try:
        migrate(db.engine)
        with db.unit_of_work() as s:
            ensure_taxonomy(s, SystemClock())
        t = time.perf_counter()
        load_historical(db, _bench_cases(n), rules=case_rules(), use_grid=False)
        print(f"[{backend}] loaded {n:,} cases in {time.perf_counter() - t:.1f} s")
        lake = Lake(root / "lake")
        report = lake.refresh(db)
        rows = sum(report.rows.values())
        print(
            f"[{backend}] first export in a fresh process (imports included): {rows:,} rows in "
            f"{report.seconds:.2f} s = {rows / report.seconds:,.0f} rows/s"
        )
        shutil.rmtree(root / "lake")
        lake = Lake(root / "lake")
        report = lake.refresh(db)
        ours = rows / report.seconds
        print(f"[{backend}] export: {rows:,} rows in {report.seconds:.2f} s = {ours:,.0f} rows/s")
        if backend == "sqlite":
            raw = _raw_sqlite(root / "db.sqlite3")
            print(f"[sqlite] raw sqlite3 fetch: {raw:,.0f} rows/s, ratio {ours / raw:.2f}")
            native = _raw_adbc_sqlite(root / "db.sqlite3")
            if native:
                print(f"[sqlite] raw ADBC fetch (child process): {native:,.0f} rows/s")
        else:
            py, arrow = _raw_pg(url)
            print(
                f"[postgresql] raw psycopg fetch {py:,.0f} rows/s; raw ADBC fetch {arrow:,.0f} "
                f"rows/s; ratio to ADBC {ours / arrow:.2f}"
            )
        empty = lake.refresh(db)
        print(f"[{backend}] refresh with nothing new: {empty.seconds * 1000:.0f} ms")
    finally:
        db.engine.dispose()
        shutil.rmtree(root, ignore_errors=True)
        if backend != "sqlite":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()


def _pg_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return False
    return True


def dataset_import() -> None:
    """``onegrid import dataset`` of the real NYC 311 file (100 k rows, 12 declared columns)
    against Arrow's CSV reader alone on the same file (no checks, no Parquet): the raw limit."""
    import pyarrow.csv as pacsv

    from onegrid.analytics.datasets import Catalogue, parse_spec
    from onegrid.core.clock import SystemClock

    shared = Path(os.environ.get("ONEGRID_SHARED_DATA", "../shared/data"))
    src = shared / "nyc311_2026-04to06_100k.csv.gz"
    if not src.exists():
        print(f"dataset import: {src} not found, skipped")
        return
    text = ["agency", "complaint_type", "descriptor", "location_type", "incident_zip", "city"]
    columns = [
        {"name": "unique_key", "type": "integer", "nullable": False},
        {"name": "created_date", "type": "timestamp", "nullable": False},
        {"name": "closed_date", "type": "timestamp"},
        *({"name": n, "type": "string"} for n in text),
        {"name": "borough", "type": "string"},
        {"name": "latitude", "type": "float"},
        {"name": "longitude", "type": "float"},
    ]
    spec = parse_spec({"title": "NYC 311", "owner": "bench", "columns": columns})
    root = Path(tempfile.mkdtemp(prefix="bench-datasets-"))
    cat = Catalogue(root)
    ours = min(
        timed(lambda: cat.import_file("nyc311", src, clock=SystemClock(), spec=spec))
        for _ in range(3)
    )
    raw = min(timed(lambda: pacsv.read_csv(src)) for _ in range(3))
    print(
        f"dataset import, NYC 311 100 k rows: {ours * 1000:.0f} ms = {100_000 / ours:,.0f} rows/s;"
        f" raw pyarrow read_csv {raw * 1000:.0f} ms; ratio {ours / raw:.2f}"
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    exported = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    dataset_import()
    if exported:
        export(exported, "sqlite")
        if _pg_up():
            export(exported, "postgresql")
        else:
            print("[postgresql] no server on 127.0.0.1:5432: export not measured")
    if n:
        main(n)
