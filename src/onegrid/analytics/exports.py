"""Case exports: the city's own cases out of the lake, for staff, as far as the reader may see.

Unlike open data (``opendata``), an export keeps exact locations and the unit grid, and is
limited by the reader's grants the way the case list is: a city-wide grant exports every case, an
area grant the cases whose area chain holds that area, a department grant the cases assigned to
that department (``analytics.export``). The lake holds no reporter name, phone or e-mail (ADR
0006); its reporter fields, the keyed hash of the phone and the account that opened the case, are
kept only where ``case.read_personal_data`` reaches, and left out altogether for a reader it
reaches nowhere. The query is ``sql/case_export.sql``; this module binds the scope, streams the
rows in batches to the file and renames the file into place when it is complete.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from onegrid.analytics.evaluation import sql
from onegrid.analytics.period import Period
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.people import policy
from onegrid.people.domain import Principal

ACTION = "analytics.export"
REPORTER_FIELDS = ("created_by", "reporter_key")
BATCH_ROWS = 100_000
MEDIA = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}


@dataclass(frozen=True)
class CaseScope:
    """Which cases a grant set reaches: all, or those in ``areas`` or of ``departments``."""

    everywhere: bool = False
    areas: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, reach: policy.Reach) -> CaseScope:
        # ``reach.own`` (a citizen's own reports) is left out: the lake does not know whose
        # report a case is, and no citizen may export.
        return cls(reach.everywhere, reach.area_codes, reach.department_codes)

    @property
    def nothing(self) -> bool:
        return not (self.everywhere or self.areas or self.departments)

    def params(self, prefix: str = "") -> dict[str, Any]:
        return {
            f"{prefix}everywhere": self.everywhere,
            f"{prefix}areas": sorted(self.areas),
            f"{prefix}departments": sorted(self.departments),
        }


EVERYWHERE = CaseScope(everywhere=True)


@dataclass(frozen=True)
class CaseExport:
    """What one export holds: the period's cases in ``scope`` (narrowed to ``area`` if given),
    with reporter fields on the rows ``personal`` reaches."""

    period: Period
    scope: CaseScope
    personal: CaseScope
    area: str | None = None

    @property
    def filename_stem(self) -> str:
        where = f"_{self.area}" if self.area else ""
        return f"cases_{self.period.first}_{self.period.last}{where}"


def export_for(principal: Principal, period: Period, area: str | None = None) -> CaseExport:
    """The export ``principal`` may take: its ``analytics.export`` reach and personal-data reach."""
    policy.require_somewhere(principal, ACTION)
    return CaseExport(
        period,
        CaseScope.of(policy.reach(principal, ACTION)),
        CaseScope.of(policy.reach(principal, "case.read_personal_data")),
        _clean_area(area),
    )


def check_format(fmt: str) -> str:
    if fmt not in MEDIA:
        raise InvalidInput(
            FieldProblem("format", "known_format", f"format must be one of {', '.join(MEDIA)}")
        )
    return fmt


def _clean_area(area: str | None) -> str | None:
    if area is None:
        return None
    code = area.strip()
    if not code:
        raise InvalidInput(FieldProblem("area", "known_area", "area is empty: give an area code"))
    return code


def _check_area(con: duckdb.DuckDBPyConnection, code: str) -> None:
    if not con.execute("SELECT 1 FROM areas WHERE code = $c", {"c": code}).fetchall():
        raise InvalidInput(
            FieldProblem(
                "area",
                "known_area",
                f"no area {code!r} in the lake: give a city, district, subdistrict or "
                "community code",
            )
        )


def case_batches(
    con: duckdb.DuckDBPyConnection, export: CaseExport, rows: int = BATCH_ROWS
) -> pa.RecordBatchReader:
    """The export's rows, read from the lake a batch at a time."""
    if export.area is not None:
        _check_area(con, export.area)
    query = sql("case_export")
    if export.personal.nothing:
        # A reader with no personal-data grant anywhere gets no reporter columns at all, not
        # columns of nulls that a later change to the query could fill.
        query = f"SELECT * EXCLUDE ({', '.join(REPORTER_FIELDS)}) FROM ({query})"
    params = {
        "start": export.period.start,
        "end": export.period.end,
        "area": export.area,
        **export.scope.params(),
        **export.personal.params("pd_"),
    }
    reader = con.sql(query, params=params).to_arrow_reader(rows)
    # DuckDB labels instants with its session's zone (the host's); the files say UTC, as the
    # lake does, whatever machine writes them.
    return reader.cast(pa.schema(_utc(f) for f in reader.schema))


def _utc(f: pa.Field) -> pa.Field:
    if pa.types.is_timestamp(f.type) and f.type.tz is not None:
        return f.with_type(pa.timestamp(f.type.unit, tz="UTC"))
    return f


def _write_csv(batches: Iterator[pa.RecordBatch], schema: pa.Schema, path: Path) -> int:
    n = 0
    with pacsv.CSVWriter(path, schema) as out:
        for batch in batches:
            out.write_batch(batch)
            n += batch.num_rows
    return n


def _write_parquet(batches: Iterator[pa.RecordBatch], schema: pa.Schema, path: Path) -> int:
    n = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as out:
        for batch in batches:
            out.write_batch(batch)
            n += batch.num_rows
    return n


def _feature(row: dict[str, Any]) -> bytes:
    lon, lat = row.get("lon"), row.get("lat")
    point = None if lon is None or lat is None else {"type": "Point", "coordinates": [lon, lat]}
    return orjson.dumps({"type": "Feature", "properties": row, "geometry": point})


def _write_geojson(batches: Iterator[pa.RecordBatch], schema: pa.Schema, path: Path) -> int:
    n = 0
    with path.open("wb") as out:
        out.write(b'{"type":"FeatureCollection","features":[\n')
        for batch in batches:
            for row in batch.to_pylist():
                out.write((b",\n" if n else b"") + _feature(row))
                n += 1
        out.write(b"\n]}\n")
    return n


_WRITERS: dict[str, Callable[[Iterator[pa.RecordBatch], pa.Schema, Path], int]] = {
    "csv": _write_csv,
    "parquet": _write_parquet,
    "geojson": _write_geojson,
}


def write_cases(con: duckdb.DuckDBPyConnection, export: CaseExport, fmt: str, path: Path) -> int:
    """Write the export to ``path`` in ``fmt``; return the rows written.

    The file is written beside ``path`` under a temporary name and renamed onto it only when
    complete, so ``path`` is either the old file or the whole new one, never half of it."""
    writer = _WRITERS[check_format(fmt)]
    reader = case_batches(con, export)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        rows = writer(iter(reader), reader.schema, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows
