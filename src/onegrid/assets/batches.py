"""Machinery of bulk imports: the IDs met so far, the problem report file, the batch writer.

The writer runs the inserts of one transaction on a thread of its own, so that while the
database stores batch N (SQLite and psycopg release the GIL while they work) the next batch is
read, checked and located. The statement is SQLAlchemy Core's ``insert()``, compiled once for
the dialect; values go through the column types' own bind processors (dates and UTC datetimes,
memoised since a file holds few distinct ones) and are handed to the driver's ``executemany``,
which skips SQLAlchemy's per-row parameter machinery. On PostgreSQL the rows go through
``COPY … FROM STDIN`` instead (psycopg adapts each value as it would for an INSERT), several
times quicker than executemany; a bad row fails the COPY, and so the import, as an INSERT would.
"""

from __future__ import annotations

import csv
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError

from onegrid.assets.sources import RowProblem
from onegrid.core.errors import Conflict

if TYPE_CHECKING:
    import psycopg

Ints = NDArray[np.int64]


class SeenIds:
    """Component IDs met so far in one import, as sorted runs of 64-bit integers (16 bytes a
    row at most, where a Python set of strings takes about 100): runs of similar length are
    merged, so a lookup searches only a logarithmic number of runs."""

    def __init__(self) -> None:
        self._runs: list[Ints] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    def contains(self, ids: Ints) -> NDArray[np.bool_]:
        found = np.zeros(len(ids), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, ids)
            at[at == len(run)] = 0
            found |= run[at] == ids
        return found

    def max_between(self, low: int, high: int) -> int | None:
        """The largest ID met in ``[low, high]``, or None."""
        best: int | None = None
        for run in self._runs:
            at = int(np.searchsorted(run, high, side="right")) - 1
            if at >= 0 and run[at] >= low:
                value = int(run[at])
                best = value if best is None else max(best, value)
        return best

    def add(self, ids: Ints) -> None:
        if len(ids) == 0:
            return
        self._runs.append(np.sort(ids))
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            top = self._runs.pop()
            # Two sorted runs: timsort ("stable") merges them in linear time.
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], top]), kind="stable")


class ReportFile:
    """The problem report as CSV, opened when the first problem turns up."""

    def __init__(self, path: Path | None, unit: str) -> None:
        self.path = path
        self._unit = unit
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def write(self, problems: Iterable[RowProblem]) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow([self._unit, "id", "field", "rule", "message"])
        self._writer.writerows(
            (p.line, p.component_id, p.field, p.rule, p.message) for p in problems
        )

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


_DONE = object()


class BatchWriter:
    """Inserts column batches into ``table`` on ``conn`` from a thread of its own; at most two
    batches wait, so memory stays bounded however large the file.

    With ``rebuild_indexes`` (SQLite only), a load much larger than the table drops the table's
    secondary indexes once the transaction is open and builds them again before it commits:
    sorting once is far cheaper than a million random B-tree inserts. SQLite's DDL is
    transactional and WAL readers keep their snapshot, so readers never see the table without
    its indexes, and a rolled-back import brings them back.
    """

    def __init__(self, conn: Connection, table: Table, *, rebuild_indexes: bool = False) -> None:
        self._conn = conn
        self._table = table
        self._rebuild = rebuild_indexes and conn.dialect.name == "sqlite"
        self._dropped = False
        self._columns = [c.name for c in table.columns]
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=self._columns)
        self._sql = str(compiled)
        self._positional = bool(compiled.positional)
        if self._positional:
            assert list(compiled.positiontup or []) == self._columns
        self._processors = _processors(conn, table)
        self._driver_integrity_error: type[Exception] = conn.dialect.loaded_dbapi.IntegrityError
        self._copy_sql: str | None = None
        if conn.dialect.name == "postgresql":
            quote = conn.dialect.identifier_preparer.quote
            names = ", ".join(quote(c) for c in self._columns)
            self._copy_sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
            self._positional = True  # COPY takes rows as tuples in column order
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self.written = 0
        self._thread = threading.Thread(target=self._loop, name="component-writer", daemon=True)
        self._thread.start()

    def submit(self, columns: dict[str, Sequence[Any]]) -> None:
        """Queue one batch given column by column (every column of the table)."""
        self._raise_error()
        values = [self._processed(name, columns[name]) for name in self._columns]
        rows: list[Any] = list(zip(*values, strict=True))
        if not self._positional:
            rows = [dict(zip(self._columns, r, strict=True)) for r in rows]
        self._queue.put(rows)

    def close(self, *, discard: bool = False) -> int:
        """Wait for every queued batch; raise what the writer met; build dropped indexes
        again (not when the caller will roll back: ``discard``). Returns rows written."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise_error()
        if self._dropped and not discard:
            for index in sorted(self._table.indexes, key=lambda i: str(i.name)):
                index.create(self._conn)
            self._dropped = False
        return self.written

    def _drop_indexes(self) -> None:
        # Only inside the open transaction (the driver opens it at the first INSERT): DDL
        # outside one would be committed at once.
        dbapi = self._conn.connection.dbapi_connection
        if not getattr(dbapi, "in_transaction", False):
            return
        quote = self._conn.dialect.identifier_preparer.quote
        for index in self._table.indexes:
            self._conn.exec_driver_sql(f"DROP INDEX {quote(str(index.name))}")
        self._dropped = True

    def _processed(self, name: str, values: Sequence[Any]) -> Sequence[Any]:
        found = self._processors.get(name)
        if found is None:
            return values
        process, memoise = found
        if not memoise:
            return list(map(process, values))
        memo = {v: process(v) for v in set(values)}
        return list(map(memo.__getitem__, values))

    def _loop(self) -> None:
        while True:
            rows = self._queue.get()
            if rows is _DONE:
                return
            if self._error is not None:
                continue  # keep draining so that ``submit`` never blocks for ever
            try:
                if self._copy_sql is not None:
                    self._copy(rows)
                else:
                    self._conn.exec_driver_sql(self._sql, rows)
                self.written += len(rows)
                if self._rebuild and not self._dropped:
                    self._rebuild = False
                    self._drop_indexes()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self._error = exc

    def _copy(self, rows: list[Any]) -> None:
        dbapi = cast("psycopg.Connection[Any]", self._conn.connection.dbapi_connection)
        assert self._copy_sql is not None
        with dbapi.cursor() as cursor, cursor.copy(self._copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _raise_error(self) -> None:
        error = self._error
        if error is None:
            return
        # COPY talks to psycopg directly, so its errors come unwrapped by SQLAlchemy.
        if isinstance(error, IntegrityError | self._driver_integrity_error):
            raise Conflict(
                "another writer recorded one of these component IDs meanwhile; nothing was "
                f"written ({error})"
            ) from error
        raise error


def _processors(conn: Connection, table: Table) -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """Each column's bind processor for the dialect, and whether to memoise it: dates and
    datetimes repeat, floats do not."""
    dialect = conn.dialect
    out: dict[str, tuple[Callable[[Any], Any], bool]] = {}
    for column in table.columns:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            # A TypeDecorator (UtcDateTime) tells its Python type through its ``impl``.
            python_type = getattr(column.type, "impl", column.type).python_type
            out[column.name] = (process, python_type in (date, datetime))
    return out
