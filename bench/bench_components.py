"""Component import: a million rows from CSV into SQLite, checked, located and written.

Run: ``python bench/bench_components.py [--rows N] [--batch-size N] [--pg]`` (default 1,000,000
rows, about a minute and a half; ``--pg`` runs on a throw-away PostgreSQL database instead of
SQLite, its raw limit psycopg ``COPY`` of the same rows into a table of the same layout). It
builds the synthetic demo city (5 districts with 6-digit codes, 60 communities, H3 unit grids)
through the grid services in a fresh SQLite file, writes N valid
components over it to a CSV file, and then measures, in the same run:

- the full ``onegrid import components`` path (``import_components_file``: stream the CSV, check
  every row, locate every point with ``locate_many``, check IDs against district and class,
  duplicates, one transaction of Core ``insert()`` executemany), locator build included;
- the raw limit: bare ``sqlite3`` ``executemany`` of the very same tuples, in the same batches,
  into the same table layout (same indexes) in another fresh SQLite file, with the same pragmas.

Peak RSS is the process's high-water mark during the import alone (reset before it). Each
figure is given twice: by the wall clock, and by the CPU time the process spent (all threads),
which is the steadier figure on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from _pg import PG_ADMIN, drop_database, fresh_database

from onegrid.assets import queries as assets_queries
from onegrid.assets import services as assets
from onegrid.assets.domain import Kind
from onegrid.assets.importing import ComponentImportOptions, OnError, import_components_file
from onegrid.assets.models import ComponentRow
from onegrid.core.clock import FixedClock
from onegrid.db.base import Base
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.demo.geometry import synth_city
from onegrid.grid import services as grid
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.grid.location import clear_locator_cache
from onegrid.grid.queries import get_locator
from onegrid.people import services as people
from onegrid.schema import migrate

START = date(2026, 1, 1)
CLOCK = FixedClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
OWNERS = {
    "01": "utilities",
    "02": "roads",
    "03": "sanitation",
    "04": "gardens",
    "05": "housing",
    "06": "emergency",
}
COLUMNS = [c.name for c in ComponentRow.__table__.columns]


def build_city(db: Database, tmp: Path, seed: int) -> None:
    areas = synth_city(seed)
    with db.unit_of_work() as s:
        for level in ("city", "district", "subdistrict", "community"):
            features = [
                {
                    "type": "Feature",
                    "properties": {"code": a.code, "parent": a.parent_code, "name": a.name_zh},
                    "geometry": shapely.geometry.mapping(a.geometry),
                }
                for a in areas
                if a.level == level
            ]
            path = tmp / f"{level}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
            options = AreaImportOptions(
                level=Level(level),
                code_field="code",
                valid_from=START,
                name_field="name",
                parent_field=None if level == "city" else "parent",
            )
            grid.import_areas(s, read_features(path), options, CLOCK)
        grid.generate_unit_grids(s, CLOCK, valid_from=START)
        for code in OWNERS.values():
            people.create_department(s, code, f"部门 {code}", CLOCK)
        assets.ensure_taxonomy(s, CLOCK)


def write_rows(db: Database, path: Path, rows: int, seed: int) -> None:
    """N valid components: random points inside the city, IDs numbered per district and class."""
    rng = np.random.default_rng(seed)
    with db.reader() as s:
        locator = get_locator(s)
        classes = [c.code for c in assets_queries.current_categories(s, Kind.COMPONENT)]
        outline = next(a.geometry for a in synth_city(seed) if a.level == "city")
    minx, miny, maxx, maxy = outline.bounds
    sequences: dict[str, int] = {}
    days = [(date(2015, 1, 1) + timedelta(days=int(d))).isoformat() for d in range(3650)]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "id",
                "name",
                "class_code",
                "lon",
                "lat",
                "owner",
                "maintainer",
                "state",
                "first_recorded",
                "data_source",
                "note",
            ]
        )
        written = 0
        while written < rows:
            n = min(100_000, rows - written)
            lon = np.round(rng.uniform(minx, maxx, 2 * n), 7)
            lat = np.round(rng.uniform(miny, maxy, 2 * n), 7)
            located = locator.locate_many(lon, lat)
            keep = np.flatnonzero(located.inside)[:n]
            picks = rng.integers(0, len(classes), len(keep))
            dates = rng.integers(0, len(days), len(keep))
            for k, i in enumerate(keep.tolist()):
                cls = classes[picks[k]]
                prefix = f"{located.district[i]}{cls[1:]}"
                seq = sequences.get(prefix, 0) + 1
                sequences[prefix] = seq
                owner = OWNERS[cls[1:3]]
                out.writerow(
                    [
                        f"{prefix}{seq:06d}",
                        f"部件{seq}",
                        cls,
                        lon[i],
                        lat[i],
                        owner,
                        owner,
                        "normal",
                        days[dates[k]],
                        "普查2025",
                        "",
                    ]
                )
            written += len(keep)


def fresh_db(path: Path) -> Database:
    db = Database(make_engine(f"sqlite:///{path}"))
    migrate(db.engine)
    return db


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # Linux: reset VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def bare_insert(source: Path, target: Path, batch: int) -> tuple[float, float]:
    """Seconds (wall, CPU) spent in sqlite3 executemany (+ commit) of the rows the import
    wrote."""
    engine = make_engine(f"sqlite:///{target}")
    Base.metadata.create_all(engine, tables=[ComponentRow.__table__])
    engine.dispose()
    con = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
        con.execute(f"PRAGMA {pragma}")
    read = sqlite3.connect(source)
    cursor = read.execute(f"SELECT {', '.join(COLUMNS)} FROM components ORDER BY rowid")
    sql = f"INSERT INTO components ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    spent = cpu = 0.0
    con.execute("BEGIN")
    while chunk := cursor.fetchmany(batch):
        started, started_cpu = time.perf_counter(), time.process_time()
        con.executemany(sql, chunk)
        spent += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    started, started_cpu = time.perf_counter(), time.process_time()
    con.execute("COMMIT")
    spent += time.perf_counter() - started
    cpu += time.process_time() - started_cpu
    con.close()
    read.close()
    return spent, cpu


def bare_copy(url: str, batch: int) -> tuple[float, float]:
    """Seconds (wall, CPU) of psycopg ``COPY`` of the rows the import wrote into an empty
    table of the same layout and indexes, in the same batches, one transaction."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    names = ", ".join(COLUMNS)
    with psycopg.connect(dsn) as con:
        rows = con.execute(f"SELECT {names} FROM components ORDER BY id").fetchall()
        con.execute("CREATE TABLE bare (LIKE components INCLUDING ALL)")
        con.commit()
        started, started_cpu = time.perf_counter(), time.process_time()
        with con.cursor() as cursor:
            for start in range(0, len(rows), batch):
                with cursor.copy(f"COPY bare ({names}) FROM STDIN") as copy:
                    for row in rows[start : start + batch]:
                        copy.write_row(row)
        con.commit()
        return time.perf_counter() - started, time.process_time() - started_cpu


def report(label: str, rows: int, seconds: float, cpu: float) -> tuple[float, float]:
    rate, cpu_rate = rows / seconds, rows / cpu
    print(
        f"{label:45} {rate:>10,.0f} rows/s  ({seconds:.1f} s wall)"
        f"   {cpu_rate:>10,.0f} rows/CPU-s  ({cpu:.1f} s CPU)"
    )
    return rate, cpu_rate


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    print(f"bench_components  {args.rows:,} rows  load average {load()}")
    pg_url = fresh_database("bench_components") if args.pg else None
    if args.pg and pg_url is None:
        raise SystemExit("no PostgreSQL answers at " + PG_ADMIN)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-components-") as tmp_name:
            run(args, Path(tmp_name), pg_url)
    finally:
        if pg_url is not None:
            drop_database(pg_url)
    print(f"load average at end {load()}")


def run(args: argparse.Namespace, tmp: Path, pg_url: str | None) -> None:
    started = time.perf_counter()
    if pg_url is None:
        db = fresh_db(tmp / "onegrid.sqlite3")
    else:
        db = Database(make_engine(pg_url))
        migrate(db.engine)
    build_city(db, tmp, args.seed)
    csv_path = tmp / "components.csv"
    write_rows(db, csv_path, args.rows, args.seed)
    print(
        f"setup: city + {args.rows:,} rows of CSV ({csv_path.stat().st_size / 1e6:,.0f} MB)"
        f" in {time.perf_counter() - started:.1f} s"
    )

    clear_locator_cache()  # the import builds its locator, as a fresh process would
    options = ComponentImportOptions(on_error=OnError.REFUSE, batch_size=args.batch_size)
    reset_peak_rss()
    started_cpu = time.process_time()
    result = import_components_file(db, csv_path, CLOCK, options)
    import_cpu = time.process_time() - started_cpu
    peak = peak_rss_mb()
    assert result.ok and result.written == args.rows, result.render()
    db.engine.dispose()

    ours = report(
        "import components (check + locate + insert):", args.rows, result.seconds, import_cpu
    )
    if pg_url is None:
        bare = bare_insert(tmp / "onegrid.sqlite3", tmp / "bare.sqlite3", args.batch_size)
        label = "raw limit (sqlite3 executemany, same rows):"
    else:
        bare = bare_copy(pg_url, args.batch_size)
        label = "raw limit (psycopg COPY, same rows):"
    limit = report(label, args.rows, *bare)
    print(
        f"ratio {ours[0] / limit[0]:.2f} wall, {ours[1] / limit[1]:.2f} CPU"
        f"   peak RSS during import {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
