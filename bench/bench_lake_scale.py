"""The lake at scale: N synthetic cases written straight into the operational database, exported
by ``Lake.refresh``, then the monthly three-rate ranking, the on-time close rate per department
and month, and one hotspot scan over the exported lake.

    .venv/bin/python bench/bench_lake_scale.py --cases 1000000 [--backend sqlite|postgresql]
    .venv/bin/python bench/bench_lake_scale.py --cases 30000000 --backend sqlite --keep
    .venv/bin/python bench/bench_lake_scale.py --lake /tmp/bench-lake-scale-…/lake

``--keep`` leaves the database and the lake in place (SQLite only; a 30 M run takes an hour to
load), and ``--lake`` asks the queries again of a kept lake, after a change to their SQL.

Every figure is printed beside its raw limit measured in the same run:
- export: the driver's bare read of the same columns (sqlite3 fetching each row's values;
  ADBC's binary COPY into Arrow on PostgreSQL), wall and CPU time, and the ratio;
- queries: the same question hand-written in DuckDB SQL over the same Parquet files;
- an incremental refresh after a tenth of the newest month's cases changed (as in a city),
  then after 1 % of all cases changed, spread over every month (the worst case), and one with
  nothing new;
- peak RSS of this process (the export and the queries run here).

Cases come from ``onegrid.analytics.synthetic`` (seasons, hot cells, slow departments) in chunks
of 500 k, so generating 30 M never holds more than one chunk; SQLite takes them through
``executemany`` in one transaction per chunk, PostgreSQL through ``COPY``. Each case's history
holds what the ranking reads, as the cases service writes it: its creation, its dispatch (the
department in ``details``), its department's accept; one case in twenty was returned by a wrong
department within a day and dispatched again, to its final department, 2 to 14 days after the
first dispatch (its row holds that latest dispatch, one return, and later accept, close and
callback). So the ranking's month and department come from the history here as in production,
and some dispatches move a case across a month or past the settle cutoff.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parent))
from _lake_sql import questions
from _pg import drop_database, fresh_database

from onegrid.analytics.lake import Lake
from onegrid.analytics.synthetic import make_tables
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid.models import AreaRow
from onegrid.schema import migrate

CHUNK = 500_000
START = datetime(2024, 1, 1, tzinfo=UTC)
US = 1_000_000
HOUR, DAY = 3600 * US, 86400 * US
REDISPATCHED = 0.05


def _const(n: int, value: Any, kind: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, kind), n)  # type: ignore[no-any-return]


def _stamps(col: pa.ChunkedArray | pa.Array, backend: str) -> pa.Array:
    """Timestamps as each database stores them: SQLite's naive UTC text, PostgreSQL's
    timestamptz."""
    if backend == "sqlite":
        # Casting away the zone keeps the UTC value; its text is the stored format.
        return col.cast(pa.timestamp("us")).cast(pa.string())
    return col


def _lonlat(cells: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    distinct = pc.unique(cells)
    centres = np.array([h3.cell_to_latlng(c) for c in distinct.to_pylist()])
    where = pc.index_in(cells, value_set=distinct)
    return pc.take(pa.array(centres[:, 1]), where), pc.take(pa.array(centres[:, 0]), where)


def _chunks(n: int, backend: str) -> Iterator[dict[str, pa.Table]]:
    """The synthetic tables, ``CHUNK`` cases at a time, shaped as the database's rows."""
    done, callbacks_done, history_done, seed = 0, 0, 0, 11
    while done < n:
        k = min(CHUNK, n - done)
        made = make_tables(k, seed=seed, start=START)
        rows = _db_rows(made, done, callbacks_done, history_done, backend, seed)
        seed += 1
        yield rows
        done += k
        callbacks_done += rows["hotline_callbacks"].num_rows
        history_done += rows["case_history"].num_rows


def _shifted(col: pa.ChunkedArray | pa.Array, by: np.ndarray) -> pa.Array:
    """Timestamps moved later by ``by`` microseconds each (nulls stay null)."""
    return pc.add(col, pa.array(by, pa.duration("us")))


def _db_rows(
    made: dict[str, pa.Table], offset: int, cb_offset: int, h_offset: int, backend: str, seed: int
) -> dict[str, pa.Table]:
    c, h, b = made["cases"], made["case_history"], made["callbacks"]
    n = c.num_rows
    # The synthetic tables know one dispatch per case. One case in twenty becomes a wrong first
    # dispatch, returned within a day, and a second dispatch ``gap`` later to the synthetic
    # department; what follows that dispatch (accept, close, callback) moves by the same gap.
    rng = np.random.default_rng(seed + 1_000_003)
    again = rng.random(n) < REDISPATCHED
    gap = np.where(again, rng.integers(2 * DAY, 14 * DAY, n), 0)
    first_at = c["dispatched_at"]
    depts = c["department_code"]
    # The wrong department: the next one of the chunk's departments after the right one.
    known = pc.unique(depts).sort()
    wrong = pc.take(known, (pc.index_in(depts, value_set=known).to_numpy() + 1) % len(known))
    c = c.set_column(
        c.schema.get_field_index("dispatched_at"), "dispatched_at", _shifted(first_at, gap)
    )
    for name in ("closed_at", "updated_at"):
        c = c.set_column(c.schema.get_field_index(name), name, _shifted(c[name], gap))
    ids = pc.add(c["id"], offset)
    lon, lat = _lonlat(c["h3_10"])
    zero = _const(n, 0, pa.int32())
    cases = pa.table(
        {
            "id": ids,
            "number": pc.binary_join_element_wise("S", pc.cast(ids, pa.string()), ""),
            "category_code": c["category_code"],
            "channel": c["channel"],
            "nature": _const(n, "report", pa.string()),
            "urgency": _const(n, "normal", pa.string()),
            "description": _const(n, "", pa.string()),
            "address": _const(n, "", pa.string()),
            "tags": _const(n, "[]", pa.string()),
            "lon": lon,
            "lat": lat,
            "h3_10": c["h3_10"],
            "district_code": c["district_code"],
            "subdistrict_code": c["subdistrict_code"],
            "region_class": _const(n, "core", pa.string()),
            "reporter_phone": pc.binary_join_element_wise("139", c["reporter_key"], ""),
            "created_by": _const(n, "bench", pa.string()),
            "status": c["status"],
            "version": _const(n, 1, pa.int32()),
            # The department of the latest dispatch: a return clears it, a dispatch sets it.
            "department_code": depts,
            "limits_version": _const(n, "bench", pa.string()),
            "step_round": zero,
            "overdue_steps": c["overdue_steps"],
            "overdue_marked": _const(n, False, pa.bool_()),
            "escalation_tier": zero,
            "extensions_granted": zero,
            "returns": pa.array(again.astype(np.int32)),
            "reworks": c["reworks"],
            "reopens": zero,
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "filed_at": c["created_at"],
            "dispatched_at": c["dispatched_at"],
            "closed_at": c["closed_at"],
        }
    )
    # The history entries the cases service writes (see ``aggregate._guard``): a dispatch
    # records its department in ``details``, as the lake's case_history exports it; an accept
    # records the accepting department (and whether the step ended late).
    back = pc.filter(ids, again)
    first = pc.filter(first_at, again)
    accept_at = _shifted(h["at"], gap[pc.subtract(h["case_id"], 1).to_numpy()])
    history = pa.concat_tables(
        [
            _history(ids, c["created_at"], "create", None, "to_dispatch", "", "{}"),
            _history(
                ids,
                first_at,
                "dispatch",
                "to_dispatch",
                "dispatched",
                "",
                _departments(pc.if_else(again, wrong, depts)),
            ),
            _history(
                back,
                _shifted(first, rng.integers(HOUR, 24 * HOUR, len(back))),
                "return",
                "dispatched",
                "to_dispatch",
                "not this department's case",
                "{}",
            ),
            _history(
                back,
                _shifted(first, gap[again]),
                "dispatch",
                "to_dispatch",
                "dispatched",
                "",
                _departments(pc.filter(depts, again)),
            ),
            _history(
                pc.add(h["case_id"], offset),
                accept_at,
                "accept",
                "dispatched",
                "handling",
                "",
                _departments(h["actor"], h["step_ended_late"]),
            ),
        ]
    )
    # Ids in the order of time within the chunk, as the service appends them.
    history = history.take(pc.sort_indices(history, [("at", "ascending")]))
    history = history.set_column(0, "id", pa.array(np.arange(1, history.num_rows + 1) + h_offset))
    callbacks_at = _shifted(b["at"], gap[pc.subtract(b["case_id"], 1).to_numpy()])
    b = b.set_column(b.schema.get_field_index("at"), "at", callbacks_at)
    b = b.take(pc.sort_indices(b, [("at", "ascending")]))
    k = b.num_rows
    callbacks = pa.table(
        {
            "id": pa.array(np.arange(1, k + 1) + cb_offset),
            "case_id": pc.add(b["case_id"], offset),
            "at": _stamps(b["at"], backend),
            "operator": _const(k, "bench", pa.string()),
            "resolved": b["resolved"],
            "satisfaction": b["satisfaction"],
            "note": _const(k, "", pa.string()),
            "reopened": _const(k, False, pa.bool_()),
        }
    )
    for name in ("created_at", "updated_at", "filed_at", "dispatched_at", "closed_at"):
        cases = cases.set_column(
            cases.schema.get_field_index(name), name, _stamps(cases[name], backend)
        )
    history = history.set_column(2, "at", _stamps(history["at"], backend))
    return {"cases": cases, "case_history": history, "hotline_callbacks": callbacks}


def _departments(codes: Any, late: Any = None) -> pa.Array:
    """``details`` naming the department, and for an accept whether the step ended late."""
    if late is None:
        return pc.binary_join_element_wise('{"department_code": "', codes, '"}', "")
    return pc.binary_join_element_wise(
        '{"department_code": "',
        codes,
        '", "step_ended_late": ',
        pc.if_else(late, "true", "false"),
        "}",
        "",
    )


def _history(
    case_ids: Any,
    at: Any,
    action: str,
    source: str | None,
    to: str,
    reason: str,
    details: Any,
) -> pa.Table:
    n = len(case_ids)
    return pa.table(
        {
            "id": pa.nulls(n, pa.int64()),
            "case_id": case_ids,
            "at": at,
            "actor": _const(n, "bench", pa.string()),
            "actor_name": _const(n, "bench", pa.string()),
            "action": _const(n, action, pa.string()),
            "from_status": _const(n, source, pa.string()),
            "to_status": _const(n, to, pa.string()),
            "version": _const(n, 1, pa.int32()),
            "reason": _const(n, reason, pa.string()),
            "attachment_ids": _const(n, "[]", pa.string()),
            "details": details
            if isinstance(details, pa.Array | pa.ChunkedArray)
            else _const(n, details, pa.string()),
        }
    )


def _insert_sqlite(path: Path, chunk: dict[str, pa.Table]) -> None:
    con = sqlite3.connect(path)
    try:
        with con:
            for name, table in chunk.items():
                marks = ", ".join("?" * table.num_columns)
                cols = ", ".join(table.column_names)
                rows = zip(*(col.to_pylist() for col in table.columns), strict=True)
                con.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)
    finally:
        con.close()


def _insert_pg(url: str, chunk: dict[str, pa.Table]) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as con:
        for name, table in chunk.items():
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
            cols = ", ".join(table.column_names)
            with (
                con.cursor() as cur,
                cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as cp,
            ):
                view = buf.getbuffer()
                for i in range(0, len(view), 1 << 20):
                    cp.write(view[i : i + (1 << 20)])


def _areas(db: Database, codes: list[str]) -> None:
    box = shapely.to_wkb(shapely.box(116.3, 39.8, 116.5, 40.0))
    rows = [
        {
            "code": code,
            "level": "district" if len(code) == 6 else "subdistrict",
            "parent_code": None if len(code) == 6 else code[:6],
            "name_zh": code,
            "geometry": box,
            "min_lon": 116.3,
            "min_lat": 39.8,
            "max_lon": 116.5,
            "max_lat": 40.0,
            "area_m2": 5e6,
            "population": 100_000,
            "valid_from": date(2020, 1, 1),
            "created_at": datetime(2020, 1, 1, tzinfo=UTC),
        }
        for code in codes
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(AreaRow), rows)


LOADED = ("cases", "case_history", "hotline_callbacks")


def _secondary_indexes(db: Database, backend: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the loaded tables' indexes that no constraint owns."""
    names = ", ".join(f"'{t}'" for t in LOADED)
    query = (
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({names})"
        if backend == "sqlite"
        else f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({names}) "
        f"AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    with db.engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(text(query))]


def load(db: Database, url: str, backend: str, n: int) -> float:
    """Write ``n`` synthetic cases (with history and callbacks); returns the seconds taken.
    Secondary indexes are dropped for the load and built again after it, as any bulk load
    does: maintaining seventeen indexes row by row is most of an insert's cost."""
    t0 = time.perf_counter()
    areas = make_tables(10)["areas"]["code"].to_pylist()
    _areas(db, areas)
    indexes = _secondary_indexes(db, backend)
    with db.engine.begin() as conn:
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    path = Path(url.removeprefix("sqlite:///"))
    for i, chunk in enumerate(_chunks(n, backend)):
        if backend == "sqlite":
            _insert_sqlite(path, chunk)
        else:
            _insert_pg(url, chunk)
        done = min((i + 1) * CHUNK, n)
        print(f"  loaded {done:,} cases ({time.perf_counter() - t0:.0f} s)", flush=True)
    with db.engine.begin() as conn:
        for _, create in indexes:
            conn.execute(text(create))
    if backend == "postgresql":
        with db.engine.begin() as conn:
            for name in ("cases", "case_history", "hotline_callbacks"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - t0


# -- the raw limits ---------------------------------------------------------------------------

# The columns the lake takes from each table, read bare by the driver.
RAW_COLUMNS = {
    "cases": "id, number, category_code, component_id, channel, nature, urgency, h3_10, lon, "
    "lat, city_code, district_code, subdistrict_code, community_code, unit_grid_code, "
    "region_class, source_type, status, department_code, created_by, merged_into_id, "
    "overdue_steps, extensions_granted, returns, reworks, reopens, created_at, updated_at, "
    "filed_at, dispatched_at, closed_at, reporter_phone",
    "case_history": "id, case_id, at, actor, role, action, from_status, to_status, details",
    "hotline_callbacks": "id, case_id, at, resolved, satisfaction",
}


def _clocked(fn: Callable[[], int]) -> tuple[int, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    rows = fn()
    return rows, time.perf_counter() - t0, time.process_time() - c0


def raw_read(url: str, backend: str) -> tuple[int, float, float]:
    """Every exported column of every exported row, fetched by the bare driver."""

    def sqlite_rows() -> int:
        con, rows = sqlite3.connect(url.removeprefix("sqlite:///")), 0
        for name, cols in RAW_COLUMNS.items():
            cur = con.execute(f"SELECT {cols} FROM {name}")
            while part := cur.fetchmany(100_000):
                rows += len(part)
        con.close()
        return rows

    def pg_rows() -> int:
        import adbc_driver_postgresql.dbapi as adbc_pg  # type: ignore[import-untyped]

        rows = 0
        with adbc_pg.connect(url.replace("postgresql+psycopg", "postgresql")) as con:
            for name, cols in RAW_COLUMNS.items():
                with con.cursor() as cur:
                    cur.execute(f"SELECT {cols} FROM {name}")
                    for batch in cur.fetch_record_batch():
                        rows += batch.num_rows
        return rows

    return _clocked(sqlite_rows if backend == "sqlite" else pg_rows)


def _paired(ours: Callable[[], Any], raw: Callable[[], Any], runs: int = 5) -> tuple[float, float]:
    """The best of ``runs`` of each, taken in turns so that both see the same machine load."""
    ours()  # warm the file cache
    raw()
    a, b = [], []
    for _ in range(runs):
        for fn, times in ((ours, a), (raw, b)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return min(a), min(b)


def queries(lake: Lake) -> None:
    con = lake.connect()
    here = lake.current()
    for label, ours, raw in questions(con, lambda name: f"{here}/{name}/*/*.parquet"):
        a, b = _paired(ours, raw)
        print(
            f"  {label:40s} {a * 1000:8.1f} ms   raw DuckDB {b * 1000:8.1f} ms   ratio {a / b:5.2f}"
        )


def _touch(db: Database, n: int, backend: str, *, recent: bool = False) -> int:
    """1 % of the cases change (a status moves on), spread over every month: the worst case
    for a refresh, which rewrites each month it touches. ``recent``: one case in ten of the
    newest month changes instead, as in a city, where the open cases are the recent ones."""
    now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')" if backend == "sqlite" else "now()"
    which = f"id > {n - n // 24} AND id % 10 = 1" if recent else "id % 100 = 0"
    with db.engine.begin() as conn:
        done = conn.execute(
            text(f"UPDATE cases SET status = 'closed', updated_at = {now} WHERE {which}")
        )
    return int(done.rowcount)


def _load_child(url: str, backend: str, n: int) -> None:
    load(Database(make_engine(url)), url, backend, n)


def _queries_child(root: str, out: Connection) -> None:
    """The queries in a fresh process, so that its peak RSS is theirs alone."""
    queries(Lake(Path(root)))
    out.send(_rss_mb())


def _rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ``ru_maxrss``: Linux carries the
    latter across exec, so a spawned child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ask(root: Path) -> None:
    """The queries in a fresh process, so that its peak RSS is theirs alone."""
    mine, theirs = mp.get_context("spawn").Pipe()
    child = mp.get_context("spawn").Process(target=_queries_child, args=(str(root), theirs))
    child.start()
    rss = mine.recv()
    child.join()
    print(
        f"peak RSS of the queries: {rss:,.0f} MB; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def run(n: int, backend: str, *, keep: bool = False) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-lake-scale-", dir=os.environ.get("BENCH_DIR")))
    url = f"sqlite:///{root}/db.sqlite3" if backend == "sqlite" else fresh_database("bench_scale")
    if url is None:
        print("[postgresql] no server on 127.0.0.1:5432: skipped")
        return
    spawn = mp.get_context("spawn")
    db = Database(make_engine(url))
    try:
        migrate(db.engine)
        print(f"[{backend}] loading {n:,} synthetic cases", flush=True)
        t0 = time.perf_counter()
        # The loader runs in its own process: its memory is not the export's.
        loader = spawn.Process(target=_load_child, args=(url, backend, n))
        loader.start()
        loader.join()
        if loader.exitcode:
            raise SystemExit(f"the loader failed ({loader.exitcode})")
        took = time.perf_counter() - t0
        print(f"[{backend}] loaded in {took:.0f} s ({n / took:,.0f} cases/s)", flush=True)
        lake = Lake(root / "lake")
        t0, c0 = time.perf_counter(), time.process_time()
        report = lake.refresh(db)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows = sum(report.rows.values())
        print(f"[{backend}] {report.render()}")
        print(f"[{backend}] peak RSS of the export: {_rss_mb():,.0f} MB", flush=True)
        raw_rows, raw_wall, raw_cpu = raw_read(url, backend)
        print(
            f"[{backend}] export {rows:,} rows: {rows / wall:,.0f} rows/s wall "
            f"({rows / cpu:,.0f} rows/s of this process's CPU)\n"
            f"[{backend}]   raw read of the same columns: {raw_rows / raw_wall:,.0f} rows/s wall "
            f"({raw_rows / raw_cpu:,.0f} rows/s CPU); "
            f"ratio ours/raw {rows / wall / (raw_rows / raw_wall):.2f} wall, "
            f"{rows / cpu / (raw_rows / raw_cpu):.2f} CPU",
            flush=True,
        )
        for recent in (True, False):
            changed = _touch(db, n, backend, recent=recent)
            again = lake.refresh(db)
            where = "in the newest month" if recent else "spread over every month"
            print(
                f"[{backend}] incremental: {changed:,} cases changed {where}, {again.render()}; "
                f"{changed / again.seconds:,.0f} changed cases/s"
            )
        empty = lake.refresh(db)
        print(f"[{backend}] refresh with nothing new: {empty.seconds * 1000:.0f} ms")
        print(f"[{backend}] queries over the lake ({n:,} cases):", flush=True)
        ask(root / "lake")
    finally:
        db.engine.dispose()
        if keep and backend == "sqlite":
            print(f"[{backend}] kept: {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
        if backend != "sqlite":
            drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database and lake")
    parser.add_argument("--lake", type=Path, help="only ask the queries of this kept lake")
    args = parser.parse_args()
    if args.lake:
        ask(args.lake)
    else:
        for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
            run(args.cases, backend, keep=args.keep)
