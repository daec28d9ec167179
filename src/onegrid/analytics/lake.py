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
from collections.abc import Iterator
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
        here = self.current()
        if here is None:
            return _Manifest()
        raw = json.loads((here / "manifest.json").read_text(encoding="utf-8"))
        return _Manifest(raw["version"], raw["watermarks"], raw["files"])

    def connect(self, threads: int | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per lake table, over the current version."""
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        attach(con, self.current(), self._manifest())
        return con

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
                with db.engine.connect() as conn, sources.native_reads(conn):
                    work.run(conn, salt)
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
            con.execute(
                f"CREATE VIEW {table.name} AS SELECT * EXCLUDE (month) FROM "
                f"read_parquet([{listed}], union_by_name = true)"
                if table.partition
                else f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet([{listed}])"
            )
        else:
            con.register("_empty", table.schema.empty_table())
            con.execute(f"CREATE TABLE {table.name} AS SELECT * FROM _empty")
            con.unregister("_empty")


class _Build:
    """One refresh in progress: a staging directory that becomes the next version."""

    def __init__(self, root: Path, old: _Manifest) -> None:
        self.root = root
        self.old = old
        self.version = old.version + 1
        self.stage = root / f".tmp-{uuid.uuid4().hex}"
        self.stage.mkdir(parents=True)
        self.files: dict[str, list[str]] = {k: list(v) for k, v in old.files.items()}
        self.watermarks = dict(old.watermarks)
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        self.changed = False

    def run(self, conn: Any, salt: bytes) -> None:
        self._incremental(t.CASES, sources.read_cases(conn, self._mark("cases"), salt))
        self._incremental(t.CASE_HISTORY, sources.read_history(conn, self._mark("case_history")))
        self._incremental(t.COMPONENTS, sources.read_components(conn, self._mark("components")))
        self._incremental(t.CASE_ROUTES, sources.read_case_routes(conn, self._mark("case_routes")))
        reader = sources.callbacks_reader(conn)
        if reader is None:
            self.notes.append("callbacks: no callbacks table in the database yet")
            self.counts["callbacks"] = 0
        else:
            self._incremental(t.CALLBACKS, reader(conn, self._mark("callbacks")))
        signature = sources.areas_signature(conn)
        if signature != self.watermarks.get("areas"):
            areas = sources.read_areas(conn)
            self._replace(t.AREAS, {"": areas})
            self.watermarks["areas"] = signature
            self.counts["areas"] = areas.num_rows
        else:
            self.counts["areas"] = 0

    def _mark(self, name: str) -> dict[str, Any]:
        mark: dict[str, Any] = self.watermarks.get(name, {})
        return mark

    def _incremental(self, table: t.LakeTable, batches: Iterator[tuple[pa.Table, Any]]) -> None:
        parts: dict[str, list[pa.Table]] = defaultdict(list)
        total = 0
        for batch, mark in batches:
            total += batch.num_rows
            self.watermarks[table.name] = mark
            if table.partition is None:
                parts[""].append(batch)
                continue
            keys = _month_keys(batch[table.partition])
            for k in pc.unique(keys).to_pylist():
                parts[_label(k)].append(batch.filter(pc.equal(keys, k)))
        self.counts[table.name] = total
        if not total:
            return
        merged = {p: pa.concat_tables(b) for p, b in parts.items()}
        if table.mode == "append":
            self._append(table, merged)
        else:
            self._replace(table, merged, dedupe=True)

    def _path(self, table: t.LakeTable, part: str, tag: str) -> str:
        folder = f"{table.name}/month={part}" if part else table.name
        return f"{folder}/part-{self.version:06d}-{tag}.parquet"

    def _write(self, rel: str, data: pa.Table, table: t.LakeTable, part: str) -> None:
        target = self.stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if table.partition:
            data = data.append_column("month", pa.repeat(pa.scalar(part), data.num_rows))
        pq.write_table(data, target, compression="zstd", row_group_size=256_000)
        self.changed = True

    def _append(self, table: t.LakeTable, parts: dict[str, pa.Table]) -> None:
        listed = self.files.setdefault(table.name, [])
        for part, data in sorted(parts.items()):
            rel = self._path(table, part, "a")
            self._write(rel, data, table, part)
            listed.append(rel)

    def _replace(
        self, table: t.LakeTable, parts: dict[str, pa.Table], *, dedupe: bool = False
    ) -> None:
        """Rewrite each touched partition: its old rows not superseded, plus the new ones."""
        listed = self.files.setdefault(table.name, [])
        for part, new in sorted(parts.items()):
            prefix = f"{table.name}/month={part}/" if part else f"{table.name}/"
            old_files = [f for f in listed if f.startswith(prefix)]
            pieces = []
            if dedupe and old_files and self.old.version:
                here = self.root / f"v{self.old.version:06d}"
                old = pq.read_table([str(here / f) for f in old_files], schema=_stored(table))
                old = old.drop_columns([c for c in old.column_names if c == "month"])
                keep = pc.invert(pc.is_in(old[table.key], value_set=new[table.key]))
                pieces.append(old.filter(keep))
            pieces.append(_last_per_key(new, table.key) if dedupe else new)
            rel = self._path(table, part, "r")
            self._write(rel, pa.concat_tables(pieces), table, part)
            listed[:] = [f for f in listed if f not in old_files] + [rel]

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


def _last_per_key(data: pa.Table, key: str) -> pa.Table:
    """Rows arrive in watermark order: the last row of a key is its newest state."""
    if pc.count_distinct(data[key]).as_py() == data.num_rows:
        return data
    idx = pa.array(range(data.num_rows))
    last = pa.table({"k": data[key], "i": idx}).group_by("k").aggregate([("i", "max")])["i_max"]
    return data.take(pc.sort_indices(last))
