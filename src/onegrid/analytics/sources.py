"""Reading changed rows out of the operational database, a batch at a time, as Arrow columns.

The case tables are read through their SQLAlchemy models (read-only). A table that does not
exist yet (the hotline desk's callbacks) reads as no rows.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    Connection,
    String,
    Table,
    TypeDecorator,
    and_,
    func,
    inspect,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.sql import Select

from onegrid.analytics import tables as t
from onegrid.assets.models import ComponentRow
from onegrid.cases.models import CaseHistoryRow, CaseRow
from onegrid.db.base import UtcDateTime
from onegrid.grid.models import AreaRow

BATCH = 100_000
Watermark = dict[str, Any]
Rows = Sequence[Sequence[Any]]

_CASES: Table = CaseRow.__table__  # type: ignore[assignment]
_HISTORY: Table = CaseHistoryRow.__table__  # type: ignore[assignment]
_COMPONENTS: Table = ComponentRow.__table__  # type: ignore[assignment]
_AREAS: Table = AreaRow.__table__  # type: ignore[assignment]
_CALLBACK_TABLES = ("hotline_callbacks", "callbacks")

_CASE_COLUMNS = [n for n in t.CASES.schema.names if n != "reporter_key"]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str:
    stamp = _utc(value)
    assert stamp is not None, "watermark columns are NOT NULL"
    return stamp.isoformat()


def _raw(col: Any) -> Any:
    """A timestamp column read as the driver gives it: SQLite's text is parsed by Arrow in one
    call per batch instead of by Python per value."""
    if isinstance(col.type, UtcDateTime):
        return type_coerce(col, _Passthrough()).label(col.name)
    return col


class _Passthrough(TypeDecorator[Any]):
    impl = String
    cache_ok = True


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    if kind == t.TS:
        sample = next((v for v in values if v is not None), None)
        if isinstance(sample, str):
            return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(kind)
    if kind == pa.bool_() and any(type(v) is int for v in values):
        # SQLite has no booleans: its driver gives 0 and 1.
        return pa.array(values, pa.int8()).cast(kind)
    return pa.array(values, type=kind)


def _columns(rows: Rows, schema: pa.Schema) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    return pa.table([_array(c, f.type) for c, f in zip(cols, schema, strict=True)], schema=schema)


def _batches(conn: Connection, query: Select[Any]) -> Iterator[Rows]:
    """Plain driver tuples, a batch at a time: building a SQLAlchemy row per record costs as
    much as reading it. The statement is compiled and its parameters bound by SQLAlchemy."""
    compiled = query.compile(dialect=conn.dialect)
    values = compiled.construct_params()
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            values[name] = process(values[name])
    args: Any = tuple(values[n] for n in compiled.positiontup) if compiled.positiontup else values
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _after(ts_col: Any, id_col: Any, mark: Watermark) -> Any:
    if not mark:
        return True
    at = datetime.fromisoformat(mark["at"])
    return or_(ts_col > at, and_(ts_col == at, id_col > mark["id"]))


def read_cases(
    conn: Connection, mark: Watermark, salt: bytes
) -> Iterator[tuple[pa.Table, Watermark]]:
    """Cases updated after the watermark, and cases inserted since (a bulk load of history
    inserts rows whose ``updated_at`` lies in the past: the id catches them)."""
    cols = [_raw(_CASES.c[n]) for n in _CASE_COLUMNS] + [_CASES.c.reporter_phone]
    changed = _after(_CASES.c.updated_at, _CASES.c.id, mark)
    if mark:
        changed = or_(changed, _CASES.c.id > mark["max_id"])
    query = select(*cols).where(changed).order_by(_CASES.c.updated_at, _CASES.c.id)
    updated = _CASE_COLUMNS.index("updated_at")
    mark = dict(mark)
    for part in _batches(conn, query):
        rows = [(*r[:-1], _reporter_key(r[-1], salt)) for r in part]
        last = part[-1]
        newest = (_iso(_parse(last[updated])), last[0])
        if not mark or newest > (mark["at"], mark["id"]):
            mark["at"], mark["id"] = newest
        mark["max_id"] = max(mark.get("max_id", 0), max(r[0] for r in part))
        yield _columns(rows, t.CASES.schema), dict(mark)


_NOT_DIGITS = re.compile(r"\D")


def _reporter_key(phone: str | None, salt: bytes) -> str | None:
    if not phone:
        return None
    digits = _NOT_DIGITS.sub("", phone) or phone
    return hashlib.blake2b(digits.encode(), key=salt[:64], digest_size=12).hexdigest()


def read_history(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    h = _HISTORY.c
    query = (
        select(
            h.id,
            h.case_id,
            _raw(h.at),
            h.actor,
            h.role,
            h.action,
            h.from_status,
            h.to_status,
            # Read inside the database: decoding every JSON document in Python is the slow part.
            h.details["department_code"].as_string(),
            func.coalesce(h.details["step_ended_late"].as_boolean(), False),
        )
        .where(h.id > mark.get("id", 0))
        .order_by(h.id)
    )
    for part in _batches(conn, query):
        yield _columns(part, t.CASE_HISTORY.schema), {"id": part[-1][0]}


def read_components(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    c = _COMPONENTS.c
    query = (
        select(*[_raw(c[n]) for n in t.COMPONENTS.schema.names])
        .where(_after(c.last_changed, c.id, mark))
        .order_by(c.last_changed, c.id)
    )
    changed = t.COMPONENTS.schema.names.index("last_changed")
    for part in _batches(conn, query):
        last = part[-1]
        yield (
            _columns(part, t.COMPONENTS.schema),
            {"at": _iso(_parse(last[changed])), "id": last[0]},
        )


def areas_signature(conn: Connection) -> str:
    """Changes whenever an area is added, retired or edited (areas are versioned rows)."""
    a = _AREAS.c
    row = conn.execute(
        select(func.count(), func.max(a.id), func.max(a.created_at), func.count(a.valid_to))
    ).one()
    return "|".join(str(v) for v in row)


def read_areas(conn: Connection) -> pa.Table:
    """The areas valid now: their codes, tree, size and residents."""
    a = _AREAS.c
    rows = conn.execute(
        select(a.code, a.level, a.parent_code, a.name_zh, a.name_en, a.area_m2, a.population)
        .where(a.valid_to.is_(None))
        .order_by(a.code)
    ).all()
    return _columns(rows, t.AREAS.schema)


def callbacks_reader(
    conn: Connection,
) -> Callable[[Connection, Watermark], Iterator[tuple[pa.Table, Watermark]]] | None:
    """The hotline desk's callbacks table, if it exists yet and has the columns the lake needs."""
    names = set(inspect(conn).get_table_names())
    found = next((n for n in _CALLBACK_TABLES if n in names), None)
    if found is None:
        return None
    have = {c["name"] for c in inspect(conn).get_columns(found)}
    if not set(t.CALLBACKS.schema.names) <= have:
        return None
    cols = ", ".join(t.CALLBACKS.schema.names)

    def read(c: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
        query = text(f"SELECT {cols} FROM {found} WHERE id > :id ORDER BY id")
        result = c.execution_options(stream_results=True).execute(query, {"id": mark.get("id", 0)})
        for part in result.partitions(BATCH):
            rows = [(r[0], r[1], _utc(_parse(r[2])), r[3], r[4]) for r in part]
            yield _columns(rows, t.CALLBACKS.schema), {"id": part[-1][0]}

    return read


def _parse(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
