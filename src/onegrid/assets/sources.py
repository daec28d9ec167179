"""Where component rows come from: a CSV file, a GeoJSON file, or Python records.

Every source is read as a stream of batches of raw text columns, so a file of millions of rows is
never held in memory; each row keeps its number (the CSV line, the GeoJSON feature, the record) so
that problems point back into the source.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson

from onegrid.core.errors import FieldProblem, InvalidInput

FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "class_code",
    "lon",
    "lat",
    "owner",
    "maintainer",
    "competent_department",
    "state",
    "first_recorded",
    "data_source",
    "note",
    "admin_code",
)

# Column names a file may use for each field, compared case-insensitively: our own names, common
# English ones, and the headings of Chinese component registers (部件普查表).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "component_id", "objcode", "部件编码", "部件标识码", "标识码"),
    "name": ("name", "objname", "部件名称", "名称"),
    "class_code": ("class_code", "class", "category", "小类代码", "部件类别", "类别代码"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "owner": ("owner", "权属单位", "权属部门"),
    "maintainer": ("maintainer", "养护单位", "养护部门"),
    "competent_department": ("competent_department", "主管部门", "主管单位"),
    "state": ("state", "status", "部件状态", "状态"),
    "first_recorded": ("first_recorded", "初始日期", "建档日期", "采集日期"),
    "data_source": ("data_source", "source", "数据来源"),
    "note": ("note", "备注"),
    "admin_code": ("admin_code", "行政区划代码"),
}
REQUIRED_COLUMNS = ("lon", "lat", "owner")
FORMATS = ("csv", "geojson")


@dataclass(frozen=True)
class RowProblem:
    """One broken rule on one source row."""

    line: int
    component_id: str
    field: str
    rule: str
    message: str

    def as_field_problem(self, unit: str = "line") -> FieldProblem:
        return FieldProblem(self.field, self.rule, self.message, f"{unit} {self.line}")


@dataclass
class RawBatch:
    """Rows as text, column by column; ``""`` where the source has no value."""

    lines: list[int]
    columns: dict[str, list[str]]
    problems: list[RowProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


Progress = Callable[[int], None]


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["owner=权属", "lon=X"]`` → ``{"owner": "权属", "lon": "X"}``, refusing unknown fields."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or not name or not column.strip():
            raise InvalidInput.one(
                "mapping", "mapping_format", f"mapping {pair!r} must look like FIELD=COLUMN"
            )
        if name not in FIELDS:
            raise InvalidInput.one(
                "mapping",
                "known_field",
                f"mapping names unknown field {name!r}; fields: {', '.join(FIELDS)}",
            )
        out[name] = column.strip()
    return out


def resolve_columns(header: Sequence[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Which column index holds each field: the mapping first, then the known aliases."""
    by_name = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for name, column in mapping.items():
        index = by_name.get(column.strip().lower())
        if index is None:
            raise InvalidInput.one(
                "mapping",
                "known_column",
                f"mapping {name}={column}: the file has no column {column!r}; "
                f"columns: {', '.join(header)}",
            )
        columns[name] = index
    for name in FIELDS:
        if name in columns:
            continue
        for alias in ALIASES[name]:
            if alias.lower() in by_name:
                columns[name] = by_name[alias.lower()]
                break
    return columns


def check_required_columns(columns: Mapping[str, int], available: str) -> None:
    problems = [
        FieldProblem(
            name,
            "required_column",
            f"no column for {name}: name one with --mapping {name}=COLUMN ({available})",
        )
        for name in REQUIRED_COLUMNS
        if name not in columns
    ]
    if "id" not in columns and "class_code" not in columns:
        problems.append(
            FieldProblem(
                "class_code",
                "required_column",
                f"neither an id nor a class_code column: one of them is needed ({available})",
            )
        )
    if problems:
        raise InvalidInput(problems)


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise InvalidInput.one(
                "format", "known_format", f"format {fmt!r} is not one of {', '.join(FORMATS)}"
            )
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise InvalidInput.one(
        "format",
        "known_format",
        f"cannot tell the format of {path.name}: give --format csv|geojson",
    )


class _CountingReader(io.RawIOBase):
    """Reports how many bytes have been read, for a progress bar over a streamed file."""

    def __init__(self, raw: IO[bytes], progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._done += n
        if self._progress is not None and n:
            self._progress(self._done)
        return n


def _batched_columns(rows: list[list[str]], columns: Mapping[str, int]) -> dict[str, list[str]]:
    """Rows (all of the header's width) → one list of stripped texts per field."""
    n = len(rows)
    transposed = list(zip(*rows, strict=True)) if rows else []
    out: dict[str, list[str]] = {}
    for name in FIELDS:
        index = columns.get(name)
        out[name] = list(map(str.strip, transposed[index])) if index is not None and n else [""] * n
    return out


def read_csv(
    path: Path,
    mapping: Mapping[str, str],
    batch_size: int,
    progress: Progress | None = None,
    encoding: str = "utf-8-sig",
) -> Iterator[RawBatch]:
    """Stream a CSV file in batches; a row with the wrong number of fields is a row problem."""
    with path.open("rb") as raw:
        text = io.TextIOWrapper(
            io.BufferedReader(_CountingReader(raw, progress), 1 << 20),
            encoding=encoding,
            newline="",
        )
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidInput.one("file", "not_empty", f"{path.name} is empty") from None
        except UnicodeDecodeError:
            raise InvalidInput.one("file", "encoding", f"{path.name} is not {encoding}") from None
        columns = resolve_columns(header, mapping)
        check_required_columns(columns, f"columns: {', '.join(header)}")
        width = len(header)
        while True:
            first_line = reader.line_num + 1
            try:
                chunk = list(itertools.islice(reader, batch_size))
            except UnicodeDecodeError:
                raise InvalidInput.one(
                    "file",
                    "encoding",
                    f"{path.name} is not {encoding} after line {reader.line_num}",
                ) from None
            except csv.Error as exc:
                raise InvalidInput.one(
                    "file", "csv_syntax", f"line {reader.line_num}: {exc}"
                ) from None
            if not chunk:
                return
            lines = _start_lines(chunk, first_line, reader.line_num)
            yield _csv_batch(list(zip(lines, chunk, strict=True)), width, columns)


def _start_lines(chunk: list[list[str]], first: int, last: int) -> Iterable[int]:
    """The line each row starts on. Usually one row is one line; a quoted field may hold line
    breaks, and then each row is counted by the breaks in its fields."""
    if last - first + 1 == len(chunk):
        return range(first, first + len(chunk))
    out: list[int] = []
    line = first
    for row in chunk:
        out.append(line)
        line += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in row)
    return out


def _csv_batch(
    chunk: list[tuple[int, list[str]]], width: int, columns: Mapping[str, int]
) -> RawBatch:
    if set(map(len, (row for _, row in chunk))) == {width}:  # the usual case: all rows fit
        return RawBatch([n for n, _ in chunk], _batched_columns([r for _, r in chunk], columns))
    lines: list[int] = []
    rows: list[list[str]] = []
    problems: list[RowProblem] = []
    for line, row in chunk:
        if not row:
            continue
        if len(row) != width:
            problems.append(
                RowProblem(
                    line,
                    "",
                    "line",
                    "field_count",
                    f"line has {len(row)} fields, the header has {width}",
                )
            )
            continue
        lines.append(line)
        rows.append(row)
    return RawBatch(lines, _batched_columns(rows, columns), problems)


def text_of(value: Any) -> str:
    """A JSON or Python value as column text: ``3205080101000001.0`` reads as the integer."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e17:
        return str(int(value))
    return str(value).strip()


def read_geojson(
    path: Path,
    mapping: Mapping[str, str],
    batch_size: int,
    progress: Progress | None = None,
) -> Iterator[RawBatch]:
    """Stream the features of a GeoJSON FeatureCollection of points, property names mapped like
    CSV columns; the geometry gives lon and lat."""
    with path.open("rb") as raw:
        stream = io.BufferedReader(_CountingReader(raw, progress), 1 << 20)
        features = ijson.items(stream, "features.item", use_float=True)
        numbered = enumerate(features, start=1)
        try:
            while True:
                chunk = list(itertools.islice(numbered, batch_size))
                if not chunk:
                    return
                yield _geojson_batch(chunk, mapping)
        except ijson.JSONError as exc:
            raise InvalidInput.one("file", "json_syntax", f"{path.name}: {exc}") from None


def _geojson_batch(chunk: list[tuple[int, Any]], mapping: Mapping[str, str]) -> RawBatch:
    records: list[tuple[int, dict[str, str]]] = []
    problems: list[RowProblem] = []
    for number, feature in chunk:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not (isinstance(coords, list) and len(coords) >= 2)
        ):
            problems.append(
                RowProblem(number, "", "geometry", "point_geometry", "feature is not a Point")
            )
            continue
        props = feature.get("properties") or {}
        values = {str(k): text_of(v) for k, v in props.items()} if isinstance(props, dict) else {}
        row = _mapped(values, mapping)
        if not row.get("id") and feature.get("id") is not None:
            row["id"] = text_of(feature["id"])
        row["lon"], row["lat"] = text_of(coords[0]), text_of(coords[1])
        records.append((number, row))
    batch = records_batch(records)
    batch.problems[:0] = problems
    return batch


def _mapped(values: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    by_name = {k.strip().lower(): v for k, v in values.items()}
    row: dict[str, str] = {}
    for name in FIELDS:
        if name in mapping:
            row[name] = by_name.get(mapping[name].strip().lower(), "")
            continue
        for alias in ALIASES[name]:
            if alias.lower() in by_name:
                row[name] = by_name[alias.lower()]
                break
    return row


def records_batch(records: Sequence[tuple[int, Mapping[str, str]]]) -> RawBatch:
    lines = [number for number, _ in records]
    columns = {name: [r.get(name, "").strip() for _, r in records] for name in FIELDS}
    return RawBatch(lines, columns)


def read_records(records: Iterable[Mapping[str, Any]], batch_size: int) -> Iterator[RawBatch]:
    """Python records (dicts keyed by field name; numbers and dates are fine) in batches."""
    numbered = enumerate(records, start=1)
    while True:
        chunk = list(itertools.islice(numbered, batch_size))
        if not chunk:
            return
        unknown = {str(k) for _, r in chunk for k in r} - set(FIELDS)
        if unknown:
            raise InvalidInput.one(
                "records",
                "known_field",
                f"unknown field(s) {', '.join(sorted(unknown))}; fields: {', '.join(FIELDS)}",
            )
        yield records_batch([(n, {str(k): text_of(v) for k, v in r.items()}) for n, r in chunk])
