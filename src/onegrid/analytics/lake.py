"""The lake: versioned, partitioned Parquet under ``<data_dir>/lake``, queried by DuckDB.

A refresh never changes a published version. It builds the next one in a temporary directory
(hard links to every unchanged file of the current version, new files for what changed), then
renames it into place and swaps the one-line ``CURRENT`` pointer; a reader that opened the
previous version keeps reading it. See docs/adr/0006-analytics-lake.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from onegrid.analytics import sources
from onegrid.analytics import tables as t
from onegrid.db.session import Database

KEEP_VERSIONS = 2
# The lake's layout and key derivation; a lake written under another one is exported again whole.
FORMAT = 4
ROW_GROUP = 256_000


@dataclass
class RefreshReport:
    version: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.rows.values())

    def render(self) -> str:
        if not self.changed:
            return f"lake v{self.version}: nothing new ({self.seconds:.2f} s)"
        parts = ", ".join(f"{n} {k:,}" for n, k in self.rows.items() if k)
        lines = [f"lake v{self.version}: {parts} ({self.seconds:.2f} s)"]
        return "\n".join(lines + [f"  {n}" for n in self.notes])


@dataclass
class _Manifest:
    version: int = 0
    watermarks: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"version": self.version, "watermarks": self.watermarks, "files": self.files},
            indent=1,
            sort_keys=True,
        )


def _month_keys(col: pa.Array) -> pa.Array:
    """yyyymm of each (UTC) timestamp: integer kernels, far cheaper than formatting strings."""
    return pc.add(pc.multiply(pc.year(col), 100), pc.month(col))


def _label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


class Lake:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def under(cls, data_dir: Path) -> Lake:
        return cls(data_dir / "lake")

    # -- reading ---------------------------------------------------------------------------

    def current(self) -> Path | None:
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        return self.root / pointer.read_text(encoding="utf-8").strip()

    def _manifest(self) -> _Manifest:
        return self._snapshot()[1]

    def _snapshot(self) -> tuple[Path | None, _Manifest]:
        """The current version's directory with its own manifest, read as one pair.

        Reading the pointer twice could pair one version's directory with the next one's file
        list when a refresh publishes in between; and a version a slow reader found may be
        collected before it reads it, so the pointer is read again then."""
        for _ in range(KEEP_VERSIONS + 1):
            here = self.current()
            if here is None:
                return None, _Manifest()
            try:
                raw = json.loads((here / "manifest.json").read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            return here, _Manifest(raw["version"], raw["watermarks"], raw["files"])
        raise FileNotFoundError(f"{self.root}: every version read was collected before use")

    def connect(self, threads: int | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per lake table, over the current version."""
        for attempt in range(KEEP_VERSIONS + 1):
            con = duckdb.connect()
            # A published file never changes (a refresh writes new ones under the next version),
            # so its footer can be parsed once per connection instead of once per scan: a
            # ranking scans some 25 files eight times, and parsing was a fifth of its time.
            con.execute("SET parquet_metadata_cache = true")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            here, manifest = self._snapshot()
            try:
                attach(con, here, manifest)
            except duckdb.IOException:
                # Collected by refreshes between reading its manifest and opening its files.
                con.close()
                if attempt == KEEP_VERSIONS:
                    raise
                continue
            return con
        raise AssertionError("unreachable")

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def refresh(self, db: Database, *, salt: bytes = b"onegrid-lake") -> RefreshReport:
        """Export what changed since the last refresh; publish a new version if anything did."""
        started = time.perf_counter()
        with self._locked():
            old = self._manifest()
            work = _Build(self.root, old)
            try:
                work.run(db, salt)
                report = RefreshReport(old.version, work.counts, notes=work.notes)
                if work.changed:
                    report.version = work.publish()
                    self._collect()
            finally:
                work.discard()
        report.seconds = time.perf_counter() - started
        return report

    def _collect(self) -> None:
        versions = sorted(p for p in self.root.glob("v*") if p.is_dir())
        for old in versions[:-KEEP_VERSIONS]:
            shutil.rmtree(old, ignore_errors=True)


def attach(con: duckdb.DuckDBPyConnection, here: Path | None, manifest: _Manifest) -> None:
    for table in t.TABLES:
        files = [str(here / f) for f in manifest.files.get(table.name, [])] if here else []
        if files:
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            # Every file of a table is written with the table's stored schema (FORMAT), so
            # DuckDB need not reconcile schemas or parse partition names per query: both cost
            # more than the scan itself on a month's cases.
            scan = f"read_parquet([{listed}], hive_partitioning = false)"
            columns = "* EXCLUDE (month)" if table.partition else "*"
            con.execute(f"CREATE VIEW {table.name} AS SELECT {columns} FROM {scan}")
        else:
            con.register("_empty", table.schema.empty_table())
            con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM _empty")
            con.unregister("_empty")


class _Build:
    """One refresh in progress: a staging directory that becomes the next version."""

    def __init__(self, root: Path, old: _Manifest) -> None:
        self.root = root
        self.version = old.version + 1
        if old.watermarks.get("format") != FORMAT:
            # Written by an earlier layout (or no lake yet): export everything again.
            old = _Manifest(old.version)
        self.old = old
        self.stage = root / f".tmp-{uuid.uuid4().hex}"
        self.stage.mkdir(parents=True)
        self.files: dict[str, list[str]] = {k: list(v) for k, v in old.files.items()}
        self.watermarks = {**old.watermarks, "format": FORMAT}
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        self.changed = False

    def run(self, db: Database, salt: bytes) -> None:
        """The two big tables are read at the same time, each on its own connection: the
        database formats one table's rows while Arrow parses and writes the other's (both
        release the GIL). Each table is read by one statement, so it is one snapshot."""
        jobs: list[Callable[[Any], None]] = [
            lambda conn: self._incremental(
                t.CASES, sources.read_cases(conn, self._mark("cases"), salt)
            ),
            lambda conn: self._incremental(
                t.CASE_HISTORY, sources.read_history(conn, self._mark("case_history"))
            ),
            self._small_tables,
        ]
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="lake") as pool:
            done = [pool.submit(self._on_connection, db, job) for job in jobs]
            for future in done:
                future.result()

    @staticmethod
    def _on_connection(db: Database, job: Callable[[Any], None]) -> None:
        with db.engine.connect() as conn, sources.native_reads(conn):
            job(conn)

    def _small_tables(self, conn: Any) -> None:
        self._incremental(t.COMPONENTS, sources.read_components(conn, self._mark("components")))
        self._incremental(t.CASE_ROUTES, sources.read_case_routes(conn, self._mark("case_routes")))
        reader = sources.callbacks_reader(conn)
        if reader is None:
            self.notes.append("callbacks: no callbacks table in the database yet")
            self.counts["callbacks"] = 0
        else:
            self._incremental(t.CALLBACKS, reader(conn, self._mark("callbacks")))
        self._snapshot(t.AREAS, sources.areas_signature(conn), lambda: sources.read_areas(conn))
        self._snapshot(
            t.AREA_POPULATIONS,
            sources.populations_signature(conn),
            lambda: sources.read_populations(conn),
        )
        self._snapshot(
            t.INSPECTOR_GRIDS, sources.patrols_signature(conn), lambda: sources.read_patrols(conn)
        )

    def _snapshot(self, table: t.LakeTable, signature: str, read: Callable[[], pa.Table]) -> None:
        """A small reference table, rewritten whole when its signature changes."""
        if signature == self.watermarks.get(table.name):
            self.counts[table.name] = 0
            return
        rows = read()
        writer = _PartitionWriter(self, table)
        writer.add("", rows)
        written = writer.close()
        self._settle(table, written, replace_all=True)
        # Emptied (every row gone) is a change too: the table's old files are no longer listed.
        self.changed = self.changed or table.name in self.watermarks
        self.watermarks[table.name] = signature
        self.counts[table.name] = rows.num_rows

    def _mark(self, name: str) -> dict[str, Any]:
        mark: dict[str, Any] = self.watermarks.get(name, {})
        return mark

    def _incremental(self, table: t.LakeTable, batches: Iterator[tuple[pa.Table, Any]]) -> None:
        """Stream the changed rows into one new file per touched partition; a mutable table's
        partition file also takes the partition's earlier rows that were not superseded."""
        writer = _PartitionWriter(self, table)
        total = 0
        last = None
        for batch, mark in batches:
            total, last = total + batch.num_rows, mark
            if table.partition is None:
                writer.add("", batch)
                continue
            keys = _month_keys(batch[table.partition])
            for k in pc.unique(keys).to_pylist():
                writer.add(_label(k), batch.filter(pc.equal(keys, k)))
        self.counts[table.name] = total
        if not total:
            return
        if table.mode != "append":
            for part in writer.parts():
                kept = self._unchanged(table, part, writer.keys(part))
                if kept is not None:
                    writer.add(part, kept)
        self._settle(table, writer.close(), replace_all=False)
        # Published only with the files: a failed refresh leaves the old watermark.
        self.watermarks[table.name] = last

    def _old_files(self, table: t.LakeTable, part: str) -> list[str]:
        prefix = f"{table.name}/month={part}/" if part else f"{table.name}/"
        return [f for f in self.files.get(table.name, []) if f.startswith(prefix)]

    def _unchanged(self, table: t.LakeTable, part: str, new_keys: pa.Array) -> pa.Table | None:
        """The partition's published rows whose key did not come again in this refresh."""
        old_files = self._old_files(table, part)
        if not old_files or not self.old.version:
            return None
        here = self.root / f"v{self.old.version:06d}"
        old = pq.read_table([str(here / f) for f in old_files], schema=_stored(table))
        old = old.drop_columns([c for c in old.column_names if c == "month"])
        kept = old.filter(pc.invert(pc.is_in(old[table.key], value_set=new_keys)))
        return kept if kept.num_rows else None

    def _settle(self, table: t.LakeTable, written: dict[str, str], *, replace_all: bool) -> None:
        """List the new files: appended to an append-only table, replacing the partition's
        earlier files otherwise."""
        listed = self.files.setdefault(table.name, [])
        if replace_all:
            listed.clear()
        for part, rel in sorted(written.items()):
            if table.mode != "append":
                gone = set(self._old_files(table, part))
                listed[:] = [f for f in listed if f not in gone]
            listed.append(rel)
        self.changed = self.changed or bool(written)

    def publish(self) -> int:
        here = self.root / f"v{self.old.version:06d}"
        for files in self.files.values():
            for rel in files:
                staged = self.stage / rel
                if not staged.exists():
                    staged.parent.mkdir(parents=True, exist_ok=True)
                    os.link(here / rel, staged)
        manifest = _Manifest(self.version, self.watermarks, self.files)
        (self.stage / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
        name = f"v{self.version:06d}"
        self.stage.rename(self.root / name)
        pointer = self.root / f".CURRENT-{uuid.uuid4().hex}"
        pointer.write_text(name, encoding="utf-8")
        pointer.replace(self.root / "CURRENT")
        return self.version

    def discard(self) -> None:
        if self.stage.exists():
            shutil.rmtree(self.stage, ignore_errors=True)


def _stored(table: t.LakeTable) -> pa.Schema:
    return table.schema.append(pa.field("month", pa.string())) if table.partition else table.schema


def _clustered(data: pa.Table, table: t.LakeTable) -> Iterator[pa.Table]:
    """``data`` in runs of one value of the table's cluster column each, so that each run
    starts its own row groups; in time order within a run (the partition's column), so that a
    cutoff inside the month skips row groups too."""
    column = table.cluster
    if column is None:
        yield data
        return
    order = [(column, "ascending")]
    if table.partition:
        order.append((table.partition, "ascending"))
    data = data.sort_by(order)
    runs = data.group_by(column).aggregate([([], "count_all")]).sort_by(column)
    offset = 0
    for n in runs["count_all"].to_pylist():
        yield data.slice(offset, n)
        offset += n


class _PartitionWriter:
    """One open Parquet file per partition a refresh touches. Rows are buffered per partition
    and written as row groups, so memory holds about ``BUFFERED`` rows, not the table."""

    BUFFERED = 500_000

    def __init__(self, build: _Build, table: t.LakeTable) -> None:
        self.build = build
        self.table = table
        self.schema = _stored(table)
        self.pending: dict[str, list[pa.Table]] = defaultdict(list)
        self.held = 0
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.files: dict[str, str] = {}
        self.seen: dict[str, list[pa.ChunkedArray]] = defaultdict(list)
        # The keys are needed only to drop superseded rows of published files: a first export
        # (the largest) keeps none.
        self.track = table.mode != "append" and bool(build.old.files.get(table.name))

    def parts(self) -> list[str]:
        return sorted(set(self.pending) | set(self.writers))

    def keys(self, part: str) -> pa.Array:
        """The keys written to a partition so far (this refresh's new rows)."""
        kind = self.table.schema.field(self.table.key).type
        chunks = [c for arr in self.seen[part] for c in arr.chunks]
        return pa.chunked_array(chunks, kind).combine_chunks()

    def add(self, part: str, data: pa.Table) -> None:
        if not data.num_rows:
            return
        if self.track:
            self.seen[part].append(data[self.table.key])
        self.pending[part].append(data)
        self.held += data.num_rows
        if self.held >= self.BUFFERED:
            for name in list(self.pending):
                self._flush(name)

    def _flush(self, part: str) -> None:
        pieces = self.pending.pop(part, [])
        if not pieces:
            return
        data = pa.concat_tables(pieces)
        self.held -= data.num_rows
        if self.table.partition:
            data = data.append_column("month", pa.repeat(pa.scalar(part), data.num_rows))
        writer = self.writers.get(part)
        if writer is None:
            folder = f"{self.table.name}/month={part}" if part else self.table.name
            tag = "a" if self.table.mode == "append" else "r"
            rel = f"{folder}/part-{self.build.version:06d}-{tag}.parquet"
            target = self.build.stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(target, self.schema, compression="zstd")
            self.writers[part] = writer
            self.files[part] = rel
        data = data.cast(self.schema)
        for piece in _clustered(data, self.table):
            writer.write_table(piece, row_group_size=ROW_GROUP)

    def close(self) -> dict[str, str]:
        """Write what is buffered and close every file; the files written, by partition."""
        for part in list(self.pending):
            self._flush(part)
        for writer in self.writers.values():
            writer.close()
        return dict(self.files)
