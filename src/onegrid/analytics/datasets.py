"""Other departments' data in the lake: a catalogue of datasets, each imported as Parquet.

A dataset is declared by a spec (owner department, licence, open flag, who may read it and the
columns with their types). ``import_dataset`` reads a CSV, GeoJSON or Parquet file, checks every
value against the declared columns and either publishes a new version of the dataset or, on the
first bad value, raises an error naming the row (or feature) and the column; nothing is written.

Layout (see docs/adr/0010-dataset-catalogue.md)::

    <data_dir>/lake/datasets/<name>/CURRENT            one line: the published version
    <data_dir>/lake/datasets/<name>/v000003/data.parquet
    <data_dir>/lake/datasets/<name>/v000003/entry.json  the catalogue entry of that version
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import ijson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied
from onegrid.core.yamlfile import read_yaml
from onegrid.people.domain import Principal, Role

KEEP_VERSIONS = 2
FORMATS = ("csv", "parquet", "geojson")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
GEOMETRY = "geometry"

# Declared column types and the Arrow type each is stored as. Geometry is kept as WKB (the
# GeoParquet encoding), so DuckDB, GeoPandas and Spark read it without a conversion.
TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "geometry": pa.binary(),
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    personal: bool = False  # dropped from every open-data export
    format: str | None = None  # strptime format for timestamps and dates in text files
    description: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """What the owner declares: the catalogue entry without the facts of an import."""

    title: str
    owner: str  # department code
    columns: tuple[Column, ...]
    description: str = ""
    licence: str = ""
    open: bool = False
    refresh: str = ""  # how often the owner sends a new copy, in words ("weekly")
    reader_roles: tuple[str, ...] = ()
    reader_departments: tuple[str, ...] = ()
    # Columns holding longitude and latitude, for a GeoJSON export of a table without geometry.
    lon: str | None = None
    lat: str | None = None

    @property
    def geometry(self) -> str | None:
        return next((c.name for c in self.columns if c.type == "geometry"), None)


@dataclass(frozen=True)
class Lineage:
    source: str  # the file name as given
    format: str
    sha256: str
    bytes: int
    imported_by: str
    previous_version: int | None


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    spec: DatasetSpec
    version: int
    rows: int
    refreshed_at: datetime
    lineage: Lineage

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["refreshed_at"] = self.refreshed_at.isoformat()
        return out

    @classmethod
    def of(cls, raw: dict[str, Any]) -> DatasetEntry:
        spec = dict(raw["spec"])
        spec["columns"] = tuple(Column(**c) for c in spec["columns"])
        spec["reader_roles"] = tuple(spec["reader_roles"])
        spec["reader_departments"] = tuple(spec["reader_departments"])
        return cls(
            raw["name"],
            DatasetSpec(**spec),
            raw["version"],
            raw["rows"],
            datetime.fromisoformat(raw["refreshed_at"]),
            Lineage(**raw["lineage"]),
        )


# -- permissions -------------------------------------------------------------------------------


def may_read(principal: Principal, entry: DatasetEntry) -> bool:
    """Open datasets are for everyone; others for the owner department, the departments and
    roles the owner named, and city admins."""
    spec = entry.spec
    if spec.open or Role.CITY_ADMIN in principal.roles:
        return True
    if principal.department_codes & {spec.owner, *spec.reader_departments}:
        return True
    return bool({r.value for r in principal.roles} & set(spec.reader_roles))


def require_read(principal: Principal, entry: DatasetEntry) -> None:
    if not may_read(principal, entry):
        raise PermissionDenied(
            f"{principal.name} may not read dataset {entry.name!r}: it is shared with the "
            f"{entry.spec.owner} department"
            + (
                f", {', '.join(entry.spec.reader_departments)}"
                if entry.spec.reader_departments
                else ""
            )
            + (
                f" and roles {', '.join(entry.spec.reader_roles)}"
                if entry.spec.reader_roles
                else ""
            )
        )


# -- the spec ------------------------------------------------------------------------------------


def _problem(field_: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field_, rule, message))


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise _problem(
            "name",
            "dataset_name",
            f"dataset name {name!r} must be 2–63 lower-case letters, digits or _, "
            "starting with a letter",
        )
    return name


def _parse_columns(raw: Any, problems: list[FieldProblem]) -> list[Column]:
    columns: list[Column] = []
    known = {f for f in Column.__dataclass_fields__}
    for i, c in enumerate(raw):
        where = f"columns[{i}]"
        if not isinstance(c, dict) or not c.get("name"):
            problems.append(FieldProblem(where, "required", f"{where} needs a name"))
            continue
        unknown = set(c) - known
        if unknown:
            problems.append(
                FieldProblem(where, "known_keys", f"{where}: unknown key(s) {sorted(unknown)}")
            )
            continue
        kind = str(c.get("type", "string"))
        if kind not in TYPES:
            problems.append(
                FieldProblem(
                    f"{where}.type",
                    "column_type",
                    f"{c['name']}: type must be one of {', '.join(TYPES)}",
                )
            )
            continue
        columns.append(Column(**{**c, "name": str(c["name"]), "type": kind}))
    return columns


def _parse_readers(
    readers: Any, problems: list[FieldProblem]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(readers, dict):
        problems.append(
            FieldProblem("readers", "mapping", "readers: {roles: [...], departments: [...]}")
        )
        return (), ()
    roles = tuple(str(r) for r in readers.get("roles") or ())
    valid_roles = {r.value for r in Role}
    problems.extend(
        FieldProblem("readers.roles", "known_role", f"unknown role {r!r}")
        for r in roles
        if r not in valid_roles
    )
    return roles, tuple(str(d) for d in readers.get("departments") or ())


def parse_spec(raw: Any, source: str = "spec") -> DatasetSpec:
    """A spec from YAML/JSON data; every broken rule is reported, each naming its field."""
    if not isinstance(raw, dict):
        raise _problem(source, "mapping", f"{source} must be a mapping")
    problems: list[FieldProblem] = []
    for key in ("title", "owner", "columns"):
        if not raw.get(key):
            problems.append(FieldProblem(key, "required", f"{source}: {key} is required"))
    columns = _parse_columns(raw.get("columns") or [], problems)
    names = [c.name for c in columns]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(FieldProblem("columns", "unique", f"column {dup!r} is declared twice"))
    if sum(c.type == "geometry" for c in columns) > 1:
        problems.append(FieldProblem("columns", "one_geometry", "at most one geometry column"))
    roles, departments = _parse_readers(raw.get("readers") or {}, problems)
    for key in ("lon", "lat"):
        if raw.get(key) and raw[key] not in names:
            problems.append(FieldProblem(key, "declared_column", f"{key}: no column {raw[key]!r}"))
    if problems:
        raise InvalidInput(problems)
    return DatasetSpec(
        title=str(raw["title"]),
        owner=str(raw["owner"]),
        columns=tuple(columns),
        description=str(raw.get("description", "")),
        licence=str(raw.get("licence", raw.get("license", ""))),
        open=bool(raw.get("open", False)),
        refresh=str(raw.get("refresh", "")),
        reader_roles=roles,
        reader_departments=departments,
        lon=raw.get("lon"),
        lat=raw.get("lat"),
    )


def load_spec(path: Path) -> DatasetSpec:
    return parse_spec(read_yaml(path, "spec"), path.name)


# -- reading and checking a file ---------------------------------------------------------------


def _bad_value(where: str, column: Column, value: Any, why: str) -> InvalidInput:
    return InvalidInput(
        FieldProblem(
            column.name,
            f"type_{column.type}",
            f"{where}, column {column.name!r}: {value!r} {why}",
            where,
        )
    )


def _text_to(
    values: pa.ChunkedArray | pa.Array, column: Column, unit: str, first: int = 1
) -> pa.Array:
    """Text cells converted to the column's type; the first cell that does not convert is
    reported with its row (``first`` is the number of the chunk's first row). Blank cells are
    nulls."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    arr = arr.cast(pa.string())
    if column.type == "string":
        return arr
    trimmed = pc.utf8_trim_whitespace(arr)
    cells = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    try:
        return _convert(cells, column)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        pass
    # Only on the error path: find the first cell that fails, one at a time.
    for i, v in enumerate(cells.to_pylist()):
        if v is None:
            continue
        try:
            _convert(pa.array([v], pa.string()), column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            fmt = f" in the format {column.format!r}" if column.format else ""
            where = f"{unit} {first + i}"
            raise _bad_value(where, column, v, f"is not a {column.type}{fmt}") from None
    raise AssertionError("a column failed to convert but no cell did")  # pragma: no cover


def _convert(cells: pa.Array, column: Column) -> pa.Array:
    kind = column.type
    if kind == "boolean":
        lower = pc.utf8_lower(cells)
        true = pc.is_in(lower, pa.array(sorted(_TRUE)))
        false = pc.is_in(lower, pa.array(sorted(_FALSE)))
        if not pc.all(pc.or_(pc.or_(true, false), pc.is_null(cells))).as_py():
            raise ValueError("not a boolean")
        return pc.if_else(pc.is_null(cells), pa.scalar(None, pa.bool_()), true)
    if kind == "geometry":
        geoms = shapely.from_wkt(cells.to_pylist(), on_invalid="raise")
        return pa.array(shapely.to_wkb(geoms).tolist(), pa.binary())
    if kind in ("timestamp", "date") and column.format:
        stamps = pc.strptime(cells, format=column.format, unit="us", error_is_null=False)
        return stamps.cast(pa.date32()) if kind == "date" else stamps
    if kind == "timestamp":
        return _timestamps(cells)
    return cells.cast(TYPES[kind])


def _timestamps(cells: pa.Array) -> pa.Array:
    """ISO 8601 text; a stamp with an offset or Z is converted to UTC and stored without a zone,
    one without is kept as written."""
    zoned = pc.match_substring_regex(cells, r"(Z|[+-]\d\d:?\d\d)$")
    if not pc.any(zoned).as_py():
        return cells.cast(pa.timestamp("us"))
    naive_part = pc.if_else(zoned, pa.scalar(None, pa.string()), cells)
    zoned_part = pc.if_else(zoned, cells, pa.scalar(None, pa.string()))
    utc = zoned_part.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    return pc.if_else(zoned, utc, naive_part.cast(pa.timestamp("us")))


def _typed_to(
    values: pa.ChunkedArray | pa.Array, column: Column, unit: str, first: int = 1
) -> pa.Array:
    """A typed (Parquet) column: kept when it is the declared type, cast safely otherwise."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    target = TYPES[column.type]
    if arr.type == target:
        return arr
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return _text_to(arr, column, unit, first)
    if column.type == "timestamp" and pa.types.is_timestamp(arr.type):
        out = arr.cast(pa.timestamp("us", tz=arr.type.tz)) if arr.type.tz else arr.cast(target)
        return out.cast(target) if arr.type.tz else out
    try:
        return arr.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for i, v in enumerate(arr.to_pylist()):
        try:
            pa.array([v], arr.type).cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _bad_value(
                f"{unit} {first + i}", column, v, f"does not fit a {column.type}"
            ) from None
    raise _problem(
        column.name,
        f"type_{column.type}",
        f"column {column.name!r} is {arr.type}, not a {column.type}",
    )


def _match_columns(found: Sequence[str], spec: DatasetSpec, what: str) -> None:
    declared = [c.name for c in spec.columns]
    missing = [c for c in declared if c not in found]
    extra = [c for c in found if c not in declared]
    problems = [
        FieldProblem(c, "declared_column", f"{what} has no column {c!r} declared in the spec")
        for c in missing
    ] + [
        FieldProblem(c, "undeclared_column", f"{what} has a column {c!r} the spec does not declare")
        for c in extra
    ]
    if problems:
        raise InvalidInput(problems)


def _check_nulls(table: pa.Table, spec: DatasetSpec, unit: str, first: int = 1) -> None:
    for c in spec.columns:
        if c.nullable:
            continue
        nulls = pc.is_null(table[c.name])
        if pc.any(nulls).as_py():
            where = f"{unit} {first + pc.index(nulls, True).as_py()}"
            raise InvalidInput(
                FieldProblem(
                    c.name,
                    "required",
                    f"{where}, column {c.name!r}: empty, but the column is required",
                    where,
                )
            )


def _schema(spec: DatasetSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, TYPES[c.type]) for c in spec.columns])


# A file is read, checked and written a chunk at a time, so memory holds one chunk whatever the
# file's size. Every chunk is checked before it is written to the staging directory, and a bad
# value anywhere discards the whole staged version: all or nothing, as before.
CHUNK_BYTES = 16 << 20  # of CSV text per chunk
CHUNK_ROWS = 200_000  # of Parquet rows or GeoJSON features per chunk


def _chunk_size(chunk_rows: int | None) -> int:
    # CHUNK_ROWS is looked up per call, not bound as a default, so that it can be tuned (tests
    # set it small) after import.
    size = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if size < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {size}")
    return size


def iter_csv(path: Path, spec: DatasetSpec) -> Iterator[pa.Table]:
    """The file's rows, typed and checked, a chunk of about ``CHUNK_BYTES`` of text at a time."""
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=CHUNK_BYTES),
            convert_options=pacsv.ConvertOptions(
                column_types={c.name: pa.string() for c in spec.columns},
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _problem("file", "csv", f"{path.name} is not a readable CSV file: {exc}") from None
    _match_columns(reader.schema.names, spec, path.name)
    first = 1
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _problem(
                "file",
                "csv",
                f"{path.name} is not a readable CSV file after row {first - 1}: {exc}",
            ) from None
        cols = [_text_to(batch.column(c.name), c, "row", first) for c in spec.columns]
        yield _checked(pa.Table.from_arrays(cols, schema=_schema(spec)), spec, "row", first)
        first += batch.num_rows


def iter_parquet(
    path: Path, spec: DatasetSpec, chunk_rows: int | None = None
) -> Iterator[pa.Table]:
    """The file's rows, typed and checked, at most ``chunk_rows`` (default ``CHUNK_ROWS``) at a
    time, read batch by batch so that the file is never in memory whole."""
    size = _chunk_size(chunk_rows)
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _problem(
            "file", "parquet", f"{path.name} is not a readable Parquet file: {exc}"
        ) from None
    _match_columns(source.schema_arrow.names, spec, path.name)
    first = 1
    for batch in source.iter_batches(batch_size=size):
        cols = [_typed_to(batch.column(c.name), c, "row", first) for c in spec.columns]
        yield _checked(pa.Table.from_arrays(cols, schema=_schema(spec)), spec, "row", first)
        first += batch.num_rows


def iter_geojson(
    path: Path, spec: DatasetSpec, chunk_rows: int | None = None
) -> Iterator[pa.Table]:
    """A FeatureCollection, its features parsed one at a time (ijson) and checked at most
    ``chunk_rows`` (default ``CHUNK_ROWS``) at a time: its properties are the columns, its
    geometry the geometry column. A property no spec declares fails at its feature; a declared
    column no feature has fails at the end."""
    size = _chunk_size(chunk_rows)
    geometry = spec.geometry
    if geometry is None:
        raise _problem("columns", "geometry", "a GeoJSON dataset needs a column of type geometry")
    _check_collection(path)
    seen: set[str] = {geometry}
    first = 1
    with path.open("rb") as f:
        features = ijson.items(f, "features.item", use_float=True)
        while True:
            try:
                chunk = list(itertools.islice(features, size))
            except ijson.JSONError as exc:
                raise _problem(
                    "file", "geojson", f"{path.name} is not readable GeoJSON: {exc}"
                ) from None
            if not chunk:
                break
            keys: dict[str, None] = {}
            for feature in chunk:
                keys.update(dict.fromkeys((feature.get("properties") or {}).keys()))
            seen.update(keys)
            _match_columns([*keys, geometry], _present(spec, keys, geometry), path.name)
            yield _checked(_features(chunk, spec, geometry, first), spec, "feature", first)
            first += len(chunk)
    _match_columns(sorted(seen), spec, path.name)


def _check_collection(path: Path) -> None:
    """The document is an object whose ``type`` is FeatureCollection (read as a stream)."""
    try:
        with path.open("rb") as f:
            events = ijson.parse(f)
            opening = next(events, None)
            for prefix, event, value in events if opening and opening[1] == "start_map" else ():
                if prefix == "type":
                    if event == "string" and value == "FeatureCollection":
                        return
                    break
    except (OSError, ijson.JSONError) as exc:
        raise _problem("file", "geojson", f"{path.name} is not readable GeoJSON: {exc}") from None
    raise _problem("file", "geojson", f"{path.name} is not a GeoJSON FeatureCollection")


def _present(spec: DatasetSpec, keys: dict[str, None], geometry: str) -> DatasetSpec:
    """The spec as one chunk can be held to: a declared column may be absent from a chunk."""
    present = tuple(c for c in spec.columns if c.name in keys or c.name == geometry)
    return replace(spec, columns=present)


def _features(
    chunk: list[dict[str, Any]], spec: DatasetSpec, geometry: str, first: int
) -> pa.Table:
    cols: list[pa.Array] = []
    for c in spec.columns:
        if c.name == geometry:
            cols.append(_geometries(chunk, c, first))
            continue
        values = [_as_text((f.get("properties") or {}).get(c.name)) for f in chunk]
        cols.append(_text_to(pa.array(values, pa.string()), c, "feature", first))
    return pa.Table.from_arrays(cols, schema=_schema(spec))


def _checked(table: pa.Table, spec: DatasetSpec, unit: str, first: int) -> pa.Table:
    _check_nulls(table, spec, unit, first)
    return table


def _as_text(value: Any) -> str | None:
    """A GeoJSON property as the text a CSV cell would hold, so both go through one check."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _geometries(features: list[dict[str, Any]], column: Column, first: int = 1) -> pa.Array:
    out: list[bytes | None] = []
    for i, f in enumerate(features):
        g = f.get("geometry")
        if g is None:
            out.append(None)
            continue
        try:
            shape = shapely.from_geojson(json.dumps(g))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            raise _bad_value(
                f"feature {first + i}", column, str(g)[:60], f"is not a geometry: {exc}"
            ) from None
        out.append(shapely.to_wkb(shape))
    return pa.array(out, pa.binary())


READERS = {"csv": iter_csv, "parquet": iter_parquet, "geojson": iter_geojson}


def format_of(path: Path, given: str | None = None) -> str:
    if given:
        if given not in READERS:
            raise _problem("format", "known_format", f"format must be one of {', '.join(READERS)}")
        return given
    suffixes = [s.lower() for s in path.suffixes]
    for fmt, endings in (
        ("csv", (".csv",)),
        ("parquet", (".parquet", ".pq")),
        ("geojson", (".geojson", ".json")),
    ):
        if any(s in endings for s in suffixes):
            return fmt
    raise _problem(
        "format", "known_format", f"cannot tell the format of {path.name}: name it with --format"
    )


def iter_file(path: Path, spec: DatasetSpec, fmt: str | None = None) -> Iterator[pa.Table]:
    """The file's rows, typed and checked against ``spec``, a chunk at a time."""
    kind = format_of(path, fmt)
    if not path.is_file():
        raise _problem("file", "readable", f"no file {path}")
    return READERS[kind](path, spec)


def read_file(path: Path, spec: DatasetSpec, fmt: str | None = None) -> pa.Table:
    """The whole file in memory (small files and tests); imports stream with ``iter_file``."""
    chunks = list(iter_file(path, spec, fmt))
    return pa.concat_tables(chunks) if chunks else _schema(spec).empty_table()


# -- the catalogue -----------------------------------------------------------------------------


class Catalogue:
    """The datasets under ``<lake>/datasets``; each versioned and swapped whole like the lake."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def under(cls, data_dir: Path) -> Catalogue:
        return cls(data_dir / "lake" / "datasets")

    def _current(self, name: str) -> Path | None:
        pointer = self.root / name / "CURRENT"
        if not pointer.exists():
            return None
        return self.root / name / pointer.read_text(encoding="utf-8").strip()

    def entries(self) -> list[DatasetEntry]:
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name)):
            here = self._current(folder.name)
            if here is not None:
                out.append(_entry(here))
        return out

    def visible_to(self, principal: Principal) -> list[DatasetEntry]:
        return [e for e in self.entries() if may_read(principal, e)]

    def entry(self, name: str) -> DatasetEntry:
        here = self._current(check_name(name))
        if here is None:
            raise NotFound(f"no dataset {name!r} in the catalogue")
        return _entry(here)

    def data_path(self, name: str) -> Path:
        here = self._current(check_name(name))
        if here is None:
            raise NotFound(f"no dataset {name!r} in the catalogue")
        return here / "data.parquet"

    def read(self, principal: Principal, name: str) -> tuple[DatasetEntry, pa.Table]:
        """The dataset's rows, if ``principal`` may read them."""
        entry = self.entry(name)
        require_read(principal, entry)
        return entry, pq.read_table(self.data_path(name))

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[Path]:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield folder
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def import_file(
        self,
        name: str,
        path: Path,
        *,
        clock: Clock,
        spec: DatasetSpec | None = None,
        fmt: str | None = None,
        imported_by: str = "console",
    ) -> DatasetEntry:
        """Check every chunk of the file as it is written to a staging directory, then publish
        it as the dataset's next version; a bad value anywhere publishes nothing."""
        check_name(name)
        old = None
        with contextlib.suppress(NotFound):
            old = self.entry(name)
        if spec is None:
            if old is None:
                raise _problem("spec", "required", f"dataset {name!r} is new: give its spec")
            spec = old.spec
        kind = format_of(path, fmt)
        if not path.is_file():
            raise _problem("file", "readable", f"no file {path}")
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        with self._locked(name) as folder:
            current = self._current(name)
            previous = _entry(current).version if current else None
            version = (previous or 0) + 1
            stage = folder / f".tmp-{uuid.uuid4().hex}"
            stage.mkdir()
            try:
                rows = _write_chunks(iter_file(path, spec, kind), stage / "data.parquet", spec)
                entry = DatasetEntry(
                    name,
                    spec,
                    version,
                    rows,
                    clock.now(),
                    Lineage(
                        path.name,
                        kind,
                        digest.hexdigest(),
                        path.stat().st_size,
                        imported_by,
                        previous,
                    ),
                )
                (stage / "entry.json").write_text(
                    json.dumps(entry.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
                )
                target = folder / f"v{version:06d}"
                stage.rename(target)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            pointer = folder / f".CURRENT-{uuid.uuid4().hex}"
            pointer.write_text(target.name, encoding="utf-8")
            pointer.replace(folder / "CURRENT")
            for stale in sorted(p for p in folder.glob("v*") if p.is_dir())[:-KEEP_VERSIONS]:
                shutil.rmtree(stale, ignore_errors=True)
        return entry


def _write_chunks(chunks: Iterator[pa.Table], target: Path, spec: DatasetSpec) -> int:
    rows = 0
    with pq.ParquetWriter(target, _schema(spec), compression="zstd") as writer:
        for chunk in chunks:
            writer.write_table(chunk)
            rows += chunk.num_rows
    return rows


def _entry(here: Path) -> DatasetEntry:
    return DatasetEntry.of(json.loads((here / "entry.json").read_text(encoding="utf-8")))


@dataclass
class CatalogueRow:
    """The flat view of an entry the API and CLI list."""

    name: str
    title: str
    owner: str
    open: bool
    licence: str
    rows: int
    version: int
    refreshed_at: datetime
    refresh: str
    columns: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, e: DatasetEntry) -> CatalogueRow:
        return cls(
            e.name,
            e.spec.title,
            e.spec.owner,
            e.spec.open,
            e.spec.licence,
            e.rows,
            e.version,
            e.refreshed_at,
            e.spec.refresh,
            [{"name": c.name, "type": c.type, "personal": c.personal} for c in e.spec.columns],
        )
