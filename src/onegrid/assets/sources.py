"""Where component rows come from: a CSV file, a GeoJSON file, or Python records.

Every source is read as a stream of batches of raw text columns, so a file of millions of rows is
never held in memory; each row keeps its number (the CSV line, the GeoJSON feature, the record) so
that problems point back into the source.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

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

    def __init__(self, raw: IO[bytes], progress: Progress | None, done: int = 0) -> None:
        self._raw = raw
        self._progress = progress
        self._done = done

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
    """Stream a CSV file in batches; a row with the wrong number of fields is a row problem.

    A file whose line numbers Arrow's reader can give exactly (see ``fast_csv_plan``) is read by
    it; any other by Python's ``csv`` module. Both give the same batches and the same errors."""
    plan = fast_csv_plan(path, mapping, encoding)
    if plan is None:
        yield from _read_csv_exact(path, mapping, batch_size, progress, encoding)
        return
    done = 0
    batches = _read_csv_fast(path, plan, batch_size, progress)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError, _NotExact):
            # A row longer than an Arrow block, a field longer than the csv module reads, blank
            # lines beside lines of only commas, or a file changed since the plan: the csv
            # module gives the rest of the batches (the same until here), or the exact error.
            exact = _read_csv_exact(path, mapping, batch_size, progress, encoding)
            yield from itertools.islice(exact, done, None)
            return
        done += 1
        yield batch


def _read_csv_exact(
    path: Path,
    mapping: Mapping[str, str],
    batch_size: int,
    progress: Progress | None,
    encoding: str,
) -> Iterator[RawBatch]:
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


SCAN_BLOCK = 4 << 20
ARROW_BLOCK = 1 << 20
HEADER_BLOCK = 1 << 16
# What str.strip removes; no character above U+3000 is whitespace (a unit test checks), so
# Arrow's trim gives the same texts as the csv path's str.strip.
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


class _NotExact(Exception):
    """The fast path met something it cannot number exactly: the exact path takes over."""


@dataclass(frozen=True)
class FastCsvPlan:
    """What the fast path needs of a file it may read: the header and where the data begins."""

    header: list[str]
    columns: dict[str, int]
    data_start: int


def fast_csv_plan(path: Path, mapping: Mapping[str, str], encoding: str) -> FastCsvPlan | None:
    """The plan for reading ``path`` with Arrow, or None when only the csv module is exact.

    Arrow numbers physical lines, and a row is on line 1 + its row number, as long as no quoted
    field holds a line break: a file without a single ``"`` byte cannot have one, and memchr
    finds out at memory speed. A file that is not UTF-8 is left to the exact path too, as the
    line its error names depends on how far the csv path had decoded; and so is anything unusual
    in the header (empty, blank, undecodable, too narrow, columns missing), for the exact path
    raises the right error."""
    if codecs.lookup(encoding).name != "utf-8-sig":
        return None
    with path.open("rb") as raw:
        head = raw.read(HEADER_BLOCK)
        ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
        if not ends or min(ends) + 1 >= len(head):
            return None
        end = min(ends)
        data_start = end + 2 if head[end : end + 2] == b"\r\n" else end + 1
        try:
            text = head[:end].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        # Arrow drops a byte order mark at the start of what it reads, the csv module only at the
        # start of the file.
        if head[data_start:].startswith(codecs.BOM_UTF8):
            return None
        header = next(csv.reader([text]), [])
        # A one-column file differs: the csv module skips a blank line, Arrow reads a value.
        if len(header) < 2:
            return None
        try:
            columns = resolve_columns(header, mapping)
            check_required_columns(columns, "")
        except InvalidInput:
            return None
        raw.seek(0)
        if not _quote_free_utf8(raw):
            return None
    return FastCsvPlan(header, columns, data_start)


def _quote_free_utf8(raw: IO[bytes]) -> bool:
    """Whether the file holds no ``"`` and is all UTF-8. Arrow checks UTF-8 five times faster than
    Python's decoder; the pieces are cut at line ends, which never split a character."""
    carry = b""
    while block := raw.read(SCAN_BLOCK):
        if b'"' in block:
            return False
        ends = [i for i in (block.find(b"\n"), block.find(b"\r")) if i >= 0]
        if not ends:
            carry += block
            continue
        first = min(ends) + 1
        last = max(block.rfind(b"\n"), block.rfind(b"\r")) + 1
        if not (_is_utf8(carry + block[:first]) and _is_utf8(memoryview(block)[first:last])):
            return False
        carry = block[last:]
    return _is_utf8(carry)


def _is_utf8(data: bytes | memoryview) -> bool:
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    value = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        value.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _read_csv_fast(
    path: Path, plan: FastCsvPlan, batch_size: int, progress: Progress | None
) -> Iterator[RawBatch]:
    width = len(plan.header)
    names = [str(i) for i in range(width)]
    wrong: deque[tuple[int, int]] = deque()  # (line, fields) of the rows Arrow dropped

    def wrong_width(row: Any) -> str:
        if row.number is None or len(row.text) > csv.field_size_limit():
            return "error"
        wrong.append((row.number + 1, row.actual_columns))
        return "skip"

    with path.open("rb") as raw:
        raw.seek(plan.data_start)
        reader = pacsv.open_csv(
            _CountingReader(raw, progress, plan.data_start),
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=ARROW_BLOCK, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                quote_char=False, ignore_empty_lines=False, invalid_row_handler=wrong_width
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                check_utf8=False,  # the plan has decoded the whole file
            ),
        )
        regroup = _Regroup(batch_size, width, plan)
        blanks = _BlankLines(path, width)
        line = 2  # the line of the next row Arrow gives
        for rows in reader:
            lines, bad, line = _numbered(line, rows.num_rows, wrong)
            if lines:
                sizes = _row_sizes(rows)
                if pc.max(sizes).as_py() > csv.field_size_limit():
                    raise _NotExact("a field may be longer than the csv module reads")
                lines, rows = blanks.dropped(lines, rows, sizes)
            yield from regroup.add(lines, rows, bad)
        bad = list(wrong)
        yield from regroup.add([], None, bad)
        yield from regroup.finish(max(line - 1, bad[-1][0] if bad else 0))


def _row_sizes(rows: pa.RecordBatch) -> pa.Array:
    """The bytes of each row's values."""
    total = pc.binary_length(rows.column(0))
    for column in rows.columns[1:]:
        total = pc.add(total, pc.binary_length(column))
    return total


def _numbered(
    start: int, count: int, wrong: deque[tuple[int, int]]
) -> tuple[list[int], list[tuple[int, int]], int]:
    """The lines of ``count`` rows Arrow kept, the first on line ``start`` or after: every line
    but those of the rows of the wrong width it dropped, which come out too; and the next
    line."""
    end = start + count
    bad: list[tuple[int, int]] = []
    while wrong and wrong[0][0] < end:
        bad.append(wrong.popleft())
        end += 1
    if not bad:
        return list(range(start, end)), bad, end
    skipped = {n for n, _ in bad}
    return [n for n in range(start, end) if n not in skipped], bad, end


class _BlankLines:
    """Arrow reads a blank line as a row of empty values, where the csv module reads no row.
    Such a row is a blank line, unless the file has lines of only commas: then, if it has no
    blank line, it is a row; if it has both, only the exact path can tell them apart."""

    def __init__(self, path: Path, width: int) -> None:
        self._path = path
        self._width = width
        self._blank: bool | None = None

    def dropped(
        self, lines: list[int], rows: pa.RecordBatch, sizes: pa.Array
    ) -> tuple[list[int], pa.RecordBatch]:
        empty = pc.equal(sizes, 0)
        if not pc.any(empty).as_py() or not self._are_blank():
            return lines, rows
        keep = pc.invert(empty)
        kept = [n for n, k in zip(lines, keep.to_pylist(), strict=True) if k]
        return kept, rows.filter(keep)

    def _are_blank(self) -> bool:
        if self._blank is None:
            if not _has_line(self._path, b"," * (self._width - 1)):
                self._blank = True
            elif _has_line(self._path, b""):
                raise _NotExact("blank lines and lines of only commas")
            else:
                self._blank = False
        return self._blank


def _has_line(path: Path, text: bytes) -> bool:
    """Whether some line after the first is exactly ``text``."""
    ends = (b"\n", b"\r")
    # A line end, then the text, then a line end; but \r\n is one line end, not two.
    lines = [a + text + b for a in ends for b in ends if a + text + b != b"\r\n"]
    tail = b""
    with path.open("rb") as raw:
        while block := raw.read(SCAN_BLOCK):
            window = tail + block
            if any(line in window for line in lines):
                return True
            tail = window[-(len(text) + 1) :]
    return bool(text) and tail.endswith((b"\n" + text, b"\r" + text))


class _Regroup:
    """Numbered rows into batches of ``batch_size`` source rows, counting blank lines and rows of
    the wrong width as the exact path does, so that both paths cut batches alike."""

    def __init__(self, batch_size: int, width: int, plan: FastCsvPlan) -> None:
        self._size = batch_size
        self._width = width
        self._columns = plan.columns
        self._last = 1 + batch_size  # the last line of the batch being gathered
        self._lines: list[int] = []
        self._parts: list[pa.RecordBatch] = []
        self._problems: list[RowProblem] = []

    def add(
        self, lines: list[int], rows: pa.RecordBatch | None, bad: list[tuple[int, int]]
    ) -> Iterator[RawBatch]:
        taken = done = 0
        while True:
            cut = bisect.bisect_right(lines, self._last, lo=taken)
            if rows is not None and cut > taken:
                self._parts.append(rows.slice(taken, cut - taken))
                self._lines.extend(lines[taken:cut])
            taken = cut
            while done < len(bad) and bad[done][0] <= self._last:
                self._problems.append(self._problem(*bad[done]))
                done += 1
            if taken == len(lines) and done == len(bad):
                return
            yield self._batch()

    def finish(self, last_line: int) -> Iterator[RawBatch]:
        while self._last - self._size < last_line:
            yield self._batch()

    def _problem(self, line: int, fields: int) -> RowProblem:
        message = f"line has {fields} fields, the header has {self._width}"
        return RowProblem(line, "", "line", "field_count", message)

    def _batch(self) -> RawBatch:
        n = len(self._lines)
        table = pa.Table.from_batches(self._parts) if self._parts else None
        texts: dict[int, list[str]] = {}
        columns: dict[str, list[str]] = {}
        for name in FIELDS:
            index = self._columns.get(name)
            if index is None or table is None:
                columns[name] = [""] * n
            elif index in texts:  # two fields from one column: each has its own list
                columns[name] = list(texts[index])
            else:
                column = pc.utf8_trim(table.column(index), _WHITESPACE)
                columns[name] = texts[index] = column.to_pylist()
        batch = RawBatch(self._lines, columns, self._problems)
        self._last += self._size
        self._lines, self._parts, self._problems = [], [], []
        return batch


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
