"""Reading changed rows out of the operational database, a batch at a time, as Arrow columns.

The case tables are read through their SQLAlchemy models (read-only). A table that does not
exist yet (the hotline desk's callbacks) reads as no rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    String,
    Table,
    TypeDecorator,
    and_,
    case,
    column,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    table,
    type_coerce,
)
from sqlalchemy.sql import Select

from onegrid.analytics import tables as t
from onegrid.assets.models import ComponentRow
from onegrid.cases.models import CaseHistoryRow, CaseRow
from onegrid.db.base import UtcDateTime
from onegrid.dispatch.models import CaseRouteRow
from onegrid.grid.models import AreaPopulationRow, AreaRow, InspectorGridRow

BATCH = 100_000
Watermark = dict[str, Any]
Rows = Sequence[Sequence[Any]]

_CASES: Table = CaseRow.__table__  # type: ignore[assignment]
_HISTORY: Table = CaseHistoryRow.__table__  # type: ignore[assignment]
_COMPONENTS: Table = ComponentRow.__table__  # type: ignore[assignment]
_AREAS: Table = AreaRow.__table__  # type: ignore[assignment]
_POPULATIONS: Table = AreaPopulationRow.__table__  # type: ignore[assignment]
_ROUTES: Table = CaseRouteRow.__table__  # type: ignore[assignment]
_PATROLS: Table = InspectorGridRow.__table__  # type: ignore[assignment]
_CALLBACK_TABLES = ("hotline_callbacks", "callbacks")
# Columns a callbacks table loaded from elsewhere may lack: exported as nulls.
_CALLBACK_OPTIONAL = ("department_code",)

_CASE_COLUMNS = [n for n in t.CASES.schema.names if n != "reporter_key"]


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


# -- the native path: an ADBC driver hands over Arrow batches, no Python object per value -------


def _native_address(conn: Connection) -> str | None:
    """PostgreSQL's address for its ADBC driver (COPY in binary straight into Arrow); None for
    SQLite. SQLite's ADBC driver links its own copy of SQLite: two copies in one process do not
    see each other's POSIX locks, and closing one's file handle drops the other's locks (a test
    saw "disk I/O error" and a read that silently missed committed rows), so SQLite is read
    through Python's own ``sqlite3``, the only SQLite library in the process (ADR 0010)."""
    url = conn.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _conform(batch: pa.Table, schema: pa.Schema) -> pa.Table:
    """The driver's columns cast to the lake's types, in the lake's order."""
    cols = []
    for f in schema:
        col = batch[f.name].combine_chunks()
        if f.type == t.TS and pa.types.is_string(col.type):
            col = col.cast(pa.timestamp("us"))  # SQLite's text, in UTC
        if col.type != f.type:
            col = col.cast(f.type)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)


_ADBC = "onegrid.analytics.adbc"


_SHARED = "onegrid.analytics.adbc_shared"


@contextlib.contextmanager
def native_reads(conn: Connection) -> Iterator[None]:
    """One ADBC connection for every table a refresh reads (opening one costs 0.1–0.3 s: the
    driver loads PostgreSQL's type catalogue), opened on first use and closed at the end."""
    conn.info[_SHARED] = True
    try:
        yield
    finally:
        conn.info.pop(_SHARED, None)
        native = conn.info.pop(_ADBC, None)
        if native is not None:
            native.close()


def _adbc(conn: Connection, address: str) -> tuple[Any, bool]:
    """An ADBC connection, and whether the caller must close it."""
    import adbc_driver_postgresql.dbapi as adbc_pg  # type: ignore[import-untyped]

    if not conn.info.get(_SHARED):
        return adbc_pg.connect(address), True
    if _ADBC not in conn.info:
        conn.info[_ADBC] = adbc_pg.connect(address)
    return conn.info[_ADBC], False


def native_sql(query: Select[Any]) -> str:
    """The PostgreSQL text of ``query`` with its values written in, not bound: the ADBC driver
    streams a statement without parameters through COPY, but runs one with parameters as a
    plain query whose whole result libpq holds in memory (1 GB for 3.6 M history rows). The
    values are watermarks and constant JSON keys, quoted by SQLAlchemy's literal rendering."""
    from sqlalchemy.dialects.postgresql import psycopg

    dialect = psycopg.dialect()  # type: ignore[no-untyped-call]
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _native_tables(
    conn: Connection, address: str, query: Select[Any], probe: Select[Any], schema: pa.Schema
) -> Iterator[pa.Table]:
    # Nothing changed is the common case: a plain query says so without opening ADBC.
    if conn.execute(probe).first() is None:
        return
    sql = native_sql(query)
    native, owned = _adbc(conn, address)
    try:
        with native.cursor() as cursor:
            cursor.execute(sql)
            pending: list[pa.RecordBatch] = []
            rows = 0
            for batch in cursor.fetch_record_batch():
                pending.append(batch)
                rows += batch.num_rows
                if rows >= BATCH:
                    yield _conform(pa.Table.from_batches(pending), schema)
                    pending, rows = [], 0
            if rows:
                yield _conform(pa.Table.from_batches(pending), schema)
        native.commit()  # end the read transaction the driver opened
    finally:
        if owned:
            native.close()


def _tables(
    conn: Connection, cols: Sequence[Any], where: Any, schema: pa.Schema
) -> Iterator[pa.Table]:
    """``SELECT cols WHERE where`` as Arrow tables of ``schema`` (columns named as its fields),
    a batch at a time: through ADBC on PostgreSQL, the DB-API cursor on SQLite. One statement,
    so one snapshot: a row comes at most once. Unordered: the database reads in its storage
    order (sorting a first export by the watermark's columns cost more than reading it), and
    the watermarks are the greatest values seen."""
    query = select(*cols).where(where)
    address = _native_address(conn)
    if address is not None:
        probe = select(literal(1)).select_from(*query.get_final_froms()).where(where).limit(1)
        yield from _native_tables(conn, address, query, probe, schema)
        return
    if conn.dialect.name == "sqlite":
        yield from _sqlite_lines(conn, cols, where, schema)
        return
    for rows in _batches(conn, query):
        yield _columns(rows, schema)


def _line(cols: Sequence[Any], schema: pa.Schema) -> Any:
    """One CSV line per row, formatted by SQLite in C with one ``printf``: values as SQL literals
    (%Q: text in single quotes with quotes doubled, NULL bare), reals with 17 significant digits
    so that they read back exactly."""
    formats: list[str] = []
    args: list[Any] = []
    for c in cols:
        if schema.field(c.name).type == pa.float64():
            formats.append("%s")
            args.append(
                case((c.is_(None), literal_column("'NULL'")), else_=func.printf("%.17g", c))
            )
        else:
            formats.append("%Q")
            args.append(c)
    return func.printf(",".join(formats), *args)


def _sqlite_lines(
    conn: Connection, cols: Sequence[Any], where: Any, schema: pa.Schema
) -> Iterator[pa.Table]:
    """SQLite rows as text lines parsed by Arrow's CSV reader: Python touches one string per row
    instead of one object per value, which is what bounded the export (ADR 0010)."""
    query = select(_line(cols, schema).label("line")).where(where)
    read = pacsv.ReadOptions(column_names=schema.names, autogenerate_column_names=False)
    parse = pacsv.ParseOptions(quote_char="'", double_quote=True, newlines_in_values=True)
    # Timestamps arrive as SQLite's text and booleans as 0/1: read as such, cast by _conform.
    as_read = {
        f.name: pa.string() if f.type == t.TS else pa.int8() if f.type == pa.bool_() else f.type
        for f in schema
    }
    convert = pacsv.ConvertOptions(
        column_types=as_read,
        null_values=["NULL"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    for rows in _batches(conn, query):
        text_ = "\n".join([r[0] for r in rows]).encode()
        table = pacsv.read_csv(pa.BufferReader(text_), read, parse, convert)
        yield _conform(table, schema)


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
    mark = dict(mark)
    # One DuckDB hashes every batch (opening one costs 20–40 ms); opened on the first batch, so
    # that a refresh with nothing new opens none, and closed when the read ends or is dropped.
    with contextlib.ExitStack() as stack:
        hasher: duckdb.DuckDBPyConnection | None = None
        for part in _tables(conn, cols, changed, _CASES_READ):
            if hasher is None:
                hasher = stack.enter_context(duckdb.connect())
            keys = _reporter_keys(hasher, part["reporter_phone"], salt)
            part = part.drop_columns(["reporter_phone"]).append_column("reporter_key", keys)
            _advance(mark, part["updated_at"], part["id"])
            mark["max_id"] = max(mark.get("max_id", 0), pc.max(part["id"]).as_py())
            yield part, dict(mark)


def _advance(mark: Watermark, stamps: pa.ChunkedArray, ids: pa.ChunkedArray) -> None:
    """Move a ``(timestamp, id)`` watermark to the greatest pair of a batch, if greater."""
    at = pc.max(stamps).as_py()
    top = pc.max(pc.filter(ids, pc.equal(stamps, pa.scalar(at, stamps.type)))).as_py()
    if not mark or (at, top) > (datetime.fromisoformat(mark["at"]), mark["id"]):
        mark["at"], mark["id"] = at.isoformat(), top


_CASES_READ = pa.schema(
    [t.CASES.schema.field(n) for n in _CASE_COLUMNS] + [pa.field("reporter_phone", pa.string())]
)


def _reporter_keys(
    con: duckdb.DuckDBPyConnection, phones: pa.ChunkedArray, salt: bytes
) -> pa.Array:
    """The keyed hash of each phone, computed once per distinct phone by DuckDB (vectorised C;
    hashing in Python cost a third of the export). The key is the first 96 bits of
    SHA-256(salt | digits): the phone's digits, or the phone as given when it has none."""
    distinct = pc.unique(phones)
    con.register("phones", pa.table({"p": distinct}))
    try:
        hashed = con.sql(
            "SELECT CASE WHEN p IS NULL OR p = '' THEN NULL ELSE left(sha256("
            "$salt || '|' || coalesce(nullif(regexp_replace(p, '\\D', '', 'g'), ''), p)), 24) "
            "END AS k FROM phones",
            params={"salt": salt.hex()},
        ).to_arrow_table()["k"]
    finally:
        # The connection outlives the batch: let go of the batch's phones now.
        con.unregister("phones")
    return pc.take(hashed, pc.index_in(phones, value_set=distinct))


def read_history(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    h = _HISTORY.c
    cols = [
        h.id,
        h.case_id,
        _raw(h.at),
        h.actor,
        h.role,
        h.action,
        h.from_status,
        h.to_status,
        # Read inside the database: decoding every JSON document in Python is the slow part.
        h.details["department_code"].as_string().label("department_code"),
        func.coalesce(h.details["step_ended_late"].as_boolean(), False).label("step_ended_late"),
    ]
    yield from _by_id(_tables(conn, cols, h.id > mark.get("id", 0), t.CASE_HISTORY.schema), mark)


def _by_id(parts: Iterator[pa.Table], mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    """Batches of an append-only table and its watermark: the highest id seen."""
    top = mark.get("id", 0)
    for part in parts:
        top = max(top, pc.max(part["id"]).as_py())
        yield part, {"id": top}


def read_components(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    c = _COMPONENTS.c
    cols = [_raw(c[n]) for n in t.COMPONENTS.schema.names]
    where = _after(c.last_changed, c.id, mark)
    mark = dict(mark)
    for part in _tables(conn, cols, where, t.COMPONENTS.schema):
        _advance(mark, part["last_changed"], part["id"])
        yield part, dict(mark)


def read_case_routes(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
    """Routes added since the last refresh, and routes dispatched or contacted since: a route is
    written when it is proposed and stamped later, so its id alone does not say it changed."""
    r = _ROUTES.c
    changed: Any = True
    if mark:
        changed = or_(
            r.id > mark["id"],
            r.dispatched_at > datetime.fromisoformat(mark["dispatched"]),
            r.contacted_at > datetime.fromisoformat(mark["contacted"]),
        )
    cols = [_raw(r[n]) for n in t.CASE_ROUTES.schema.names]
    mark = dict(mark) or {"id": 0, "dispatched": _EPOCH, "contacted": _EPOCH}
    for part in _tables(conn, cols, changed, t.CASE_ROUTES.schema):
        mark["id"] = max(mark["id"], pc.max(part["id"]).as_py())
        for key in ("dispatched", "contacted"):
            newest = pc.max(part[f"{key}_at"]).as_py()
            if newest is not None:
                mark[key] = max(mark[key], newest.isoformat(), key=datetime.fromisoformat)
        yield part, dict(mark)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).isoformat()


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


def populations_signature(conn: Connection) -> str:
    """Changes whenever a dated population is added or corrected (a correction sets its
    ``recorded_at`` again)."""
    p = _POPULATIONS.c
    row = conn.execute(select(func.count(), func.max(p.id), func.max(p.recorded_at))).one()
    return "|".join(str(v) for v in row)


def read_populations(conn: Connection) -> pa.Table:
    """Every dated population: a few rows per area, read whole."""
    p = _POPULATIONS.c
    names = t.AREA_POPULATIONS.schema.names
    rows = conn.execute(select(*(p[n] for n in names)).order_by(p.area_code, p.valid_from)).all()
    return _columns(rows, t.AREA_POPULATIONS.schema)


def patrols_signature(conn: Connection) -> str:
    """Changes whenever an assignment is added or ended (ending one sets its ``valid_to``)."""
    g = _PATROLS.c
    row = conn.execute(
        select(func.count(), func.max(g.id), func.count(g.valid_to), func.max(g.valid_to))
    ).one()
    return "|".join(str(v) for v in row)


def read_patrols(conn: Connection) -> pa.Table:
    """Every inspector's assignment to a unit grid, past and present: a few per inspector."""
    g = _PATROLS.c
    names = t.INSPECTOR_GRIDS.schema.names
    rows = conn.execute(select(*(g[n] for n in names)).order_by(g.id)).all()
    return _columns(rows, t.INSPECTOR_GRIDS.schema)


def callbacks_reader(
    conn: Connection,
) -> Callable[[Connection, Watermark], Iterator[tuple[pa.Table, Watermark]]] | None:
    """The hotline desk's callbacks table, if it exists yet and has the columns the lake needs."""
    names = set(inspect(conn).get_table_names())
    found = next((n for n in _CALLBACK_TABLES if n in names), None)
    if found is None:
        return None
    have = {c["name"] for c in inspect(conn).get_columns(found)}
    names = t.CALLBACKS.schema.names
    if not set(names) - set(_CALLBACK_OPTIONAL) <= have:
        return None
    kinds: dict[str, Any] = {
        "id": Integer(),
        "case_id": Integer(),
        "at": UtcDateTime(),
        "resolved": Boolean(),
    }
    present = [n for n in names if n in have]
    source = table(found, *(column(n, kinds.get(n, String())) for n in present))
    c = source.c

    def read(conn: Connection, mark: Watermark) -> Iterator[tuple[pa.Table, Watermark]]:
        cols = [
            _raw(c[n]) if n in have else literal_column("NULL", String()).label(n) for n in names
        ]
        where = c.id > mark.get("id", 0)
        yield from _by_id(_tables(conn, cols, where, t.CALLBACKS.schema), mark)

    return read
