"""Open-data export: a dataset or a case extract, free of personal data, as files and a manifest.

Three sources can be published:
- ``cases``: one row per case created in the period, from the lake. No reporter, no staff
  account, no coordinates: the location is coarsened to the H3 res-9 cell and the community.
- ``case_counts``: requests per month, category, community and H3 res-9 cell (an aggregate).
- a catalogue dataset flagged ``open``: its columns marked ``personal`` are dropped.

Each publication is a directory ``<data_dir>/open-data/<name>/<stamp>/`` with one file per format
and ``manifest.json`` (rows, columns, files with size and SHA-256, licence, lineage, what was
removed). It is written in a temporary directory and renamed into place, and ``LATEST`` names the
newest, so a reader never sees half a publication.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import h3ronpy
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from h3ronpy import vector as h3_vector

from onegrid.analytics.datasets import FORMATS, Catalogue, DatasetEntry, check_name, require_read
from onegrid.analytics.evaluation import registered
from onegrid.analytics.lake import Lake
from onegrid.analytics.period import Period
from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.core.settings import Settings
from onegrid.people.domain import Principal

BUILT_IN = ("cases", "case_counts")
OPEN_RES = 9
KEEP_PUBLICATIONS = 5

# The case extract's columns: what a case is, where (coarsely) and when, never who.
_CASE_EXTRACT = """
SELECT number, category_code, channel, nature, urgency, status, department_code,
       district_code, subdistrict_code, community_code, h3_10,
       created_at, dispatched_at, closed_at
FROM cases
WHERE created_at >= $start AND created_at < $end AND merged_into_id IS NULL
ORDER BY created_at, number
"""
_CASE_COUNTS = """
SELECT strftime(created_at AT TIME ZONE $tz, '%Y-%m') AS month, category_code,
       district_code, subdistrict_code, community_code, h3_9, count(*) AS requests
FROM case_extract
GROUP BY ALL
ORDER BY month, category_code, community_code, h3_9
"""
_REMOVED_FROM_CASES = [
    "reporter_key",
    "created_by",
    "lon",
    "lat",
    "h3_10",
    "unit_grid_code",
    "component_id",
]


@dataclass(frozen=True)
class Extract:
    """What will be published: the rows, how to draw them on a map, and the manifest's facts."""

    name: str
    table: pa.Table
    title: str
    licence: str
    publisher: str
    lineage: dict[str, Any]
    removed: list[str]
    location: str
    cell_column: str | None = None  # H3 cells drawn as polygons in GeoJSON
    wkb_column: str | None = None  # a geometry column (WKB)
    lon: str | None = None
    lat: str | None = None

    @property
    def mappable(self) -> bool:
        return bool(self.cell_column or self.wkb_column or (self.lon and self.lat))


def _parents(cells: pa.ChunkedArray | pa.Array, res: int) -> pa.Array:
    """Each H3 cell's parent at ``res``, nulls kept (computed once per distinct cell)."""
    arr = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
    distinct = pc.unique(arr).drop_null()
    if len(distinct) == 0:
        return pa.nulls(len(arr), pa.string())
    parsed = h3ronpy.cells_parse(distinct)
    parents = pa.array(h3ronpy.cells_to_string(h3ronpy.change_resolution(parsed, res)))
    return pc.take(parents.cast(pa.string()), pc.index_in(arr, value_set=distinct))


def case_extract(con: duckdb.DuckDBPyConnection, period: Period) -> Extract:
    params = {"start": period.start, "end": period.end}
    table = con.sql(_CASE_EXTRACT, params=params).to_arrow_table()
    h3_9 = _parents(table["h3_10"], OPEN_RES)
    table = table.drop_columns(["h3_10"]).append_column("h3_9", h3_9)
    return Extract(
        "cases",
        table,
        f"Cases created {period.first} to {period.last}",
        "",
        "",
        {"source": "lake.cases", "period": [str(period.first), str(period.last)]},
        _REMOVED_FROM_CASES,
        f"H3 res-{OPEN_RES} cell and community",
        cell_column="h3_9",
    )


def case_counts(con: duckdb.DuckDBPyConnection, period: Period) -> Extract:
    cases = case_extract(con, period)
    counts = _aggregate(con, cases.table, period.tz)
    return Extract(
        "case_counts",
        counts,
        f"Requests per month, category, community and H3 cell, {period.first} to {period.last}",
        "",
        "",
        {**cases.lineage, "aggregate": "count per month, category, community, h3_9"},
        [*_REMOVED_FROM_CASES, "number"],
        f"H3 res-{OPEN_RES} cell and community",
        cell_column="h3_9",
    )


def _aggregate(con: duckdb.DuckDBPyConnection, table: pa.Table, tz: str) -> pa.Table:
    with registered(con, case_extract=table):
        return con.sql(_CASE_COUNTS, params={"tz": tz}).to_arrow_table()


def dataset_extract(
    catalogue: Catalogue, principal: Principal, name: str, *, open_only: bool = True
) -> Extract:
    """A dataset as ``principal`` may read it; for open data (``open_only``) the dataset must be
    flagged open and its personal columns are dropped."""
    entry = catalogue.entry(name)
    require_read(principal, entry)
    if not open_only:
        spec = entry.spec
        return Extract(
            name,
            pq.read_table(catalogue.data_path(name)),
            spec.title,
            spec.licence,
            spec.owner,
            _dataset_lineage(entry),
            [],
            "as imported",
            wkb_column=spec.geometry,
            lon=spec.lon,
            lat=spec.lat,
        )
    if not entry.spec.open:
        raise InvalidInput(
            FieldProblem(
                "source", "open_dataset", f"dataset {name!r} is not open: its owner shares it only"
            )
        )
    personal = [c.name for c in entry.spec.columns if c.personal]
    table = pq.read_table(catalogue.data_path(name)).drop_columns(personal)
    spec = entry.spec
    lon = spec.lon if spec.lon not in personal else None
    lat = spec.lat if spec.lat not in personal else None
    geometry = spec.geometry if spec.geometry not in personal else None
    return Extract(
        name,
        table,
        spec.title,
        spec.licence,
        spec.owner,
        _dataset_lineage(entry),
        personal,
        "as published by the owner",
        wkb_column=geometry,
        lon=lon,
        lat=lat,
    )


def extract_for(
    settings: Settings,
    principal: Principal,
    source: str,
    start: date | None = None,
    end: date | None = None,
) -> Extract:
    """The extract a publication of ``source`` is made of."""
    if source not in BUILT_IN:
        return dataset_extract(Catalogue.under(settings.data_dir), principal, source)
    missing = [n for n, v in (("start", start), ("end", end)) if v is None]
    if missing:
        raise InvalidInput(
            [FieldProblem(n, "required", f"{source} needs a period: give {n}") for n in missing]
        )
    assert start is not None and end is not None
    period = Period(start, end, settings.timezone)
    con = Lake.under(settings.data_dir).connect()
    return case_extract(con, period) if source == "cases" else case_counts(con, period)


def _dataset_lineage(entry: DatasetEntry) -> dict[str, Any]:
    return {
        "source": f"catalogue.{entry.name}",
        "version": entry.version,
        "refreshed_at": entry.refreshed_at.isoformat(),
        "file": entry.lineage.source,
        "sha256": entry.lineage.sha256,
    }


# -- writing -----------------------------------------------------------------------------------


def _geometries(extract: Extract, table: pa.Table) -> list[str | None]:
    """GeoJSON geometry text per row."""
    if extract.cell_column:
        cells = table[extract.cell_column].combine_chunks()
        valid = pc.is_valid(cells)
        polygons = pa.array(
            h3_vector.cells_to_wkb_polygons(h3ronpy.cells_parse(cells.filter(valid)))
        )
        shapes = iter(shapely.from_wkb(polygons.to_pylist()))
        texts = [shapely.to_geojson(next(shapes)) if ok else None for ok in valid.to_pylist()]
        return texts
    if extract.wkb_column:
        wkb = table[extract.wkb_column].to_pylist()
        return [None if w is None else shapely.to_geojson(shapely.from_wkb(w)) for w in wkb]
    assert extract.lon and extract.lat
    lons, lats = table[extract.lon].to_pylist(), table[extract.lat].to_pylist()
    return [
        None
        if x is None or y is None
        else orjson.dumps({"type": "Point", "coordinates": [x, y]}).decode()
        for x, y in zip(lons, lats, strict=True)
    ]


def _features(extract: Extract) -> Iterator[bytes]:
    props = extract.table
    if extract.wkb_column:
        props = props.drop_columns([extract.wkb_column])
    for batch_start in range(0, max(props.num_rows, 1), 50_000):
        part = props.slice(batch_start, 50_000)
        if part.num_rows == 0:
            break
        shapes = _geometries(extract, extract.table.slice(batch_start, 50_000))
        for row, geom in zip(part.to_pylist(), shapes, strict=True):
            head = orjson.dumps(
                {"type": "Feature", "properties": row},
                option=orjson.OPT_PASSTHROUGH_DATETIME,
                default=_jsonable,
            )
            yield head[:-1] + b',"geometry":' + (geom.encode() if geom else b"null") + b"}"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


def _write_geojson(extract: Extract, path: Path) -> None:
    with path.open("wb") as f:
        f.write(b'{"type":"FeatureCollection","features":[\n')
        for i, feature in enumerate(_features(extract)):
            if i:
                f.write(b",\n")
            f.write(feature)
        f.write(b"\n]}\n")


def _write_csv(extract: Extract, path: Path) -> None:
    table = extract.table
    if extract.wkb_column:
        wkt = shapely.to_wkt(shapely.from_wkb(table[extract.wkb_column].to_pylist()))
        i = table.schema.get_field_index(extract.wkb_column)
        table = table.set_column(i, extract.wkb_column, pa.array(wkt.tolist(), pa.string()))
    pacsv.write_csv(table, path)


def _write_parquet(extract: Extract, path: Path) -> None:
    pq.write_table(extract.table, path, compression="zstd")


_WRITERS = {"csv": _write_csv, "parquet": _write_parquet, "geojson": _write_geojson}


def write_file(extract: Extract, fmt: str, path: Path) -> None:
    """One file in ``fmt``, written beside ``path`` and renamed onto it when complete."""
    check_formats([fmt], extract)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        _WRITERS[fmt](extract, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def check_formats(formats: list[str], extract: Extract | None = None) -> list[str]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidInput(
            FieldProblem("formats", "known_format", f"formats must be among {', '.join(FORMATS)}")
        )
    if extract is not None and "geojson" in formats and not extract.mappable:
        raise InvalidInput(
            FieldProblem(
                "formats",
                "mappable",
                f"{extract.name} has no geometry or longitude/latitude: no GeoJSON",
            )
        )
    return formats


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OpenData:
    """Published open data under ``<data_dir>/open-data``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def under(cls, data_dir: Path) -> OpenData:
        return cls(data_dir / "open-data")

    def publish(self, extract: Extract, formats: list[str], clock: Clock) -> dict[str, Any]:
        check_formats(formats, extract)
        now = clock.now()
        stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.root / extract.name
        folder.mkdir(parents=True, exist_ok=True)
        stage = folder / f".tmp-{uuid.uuid4().hex}"
        stage.mkdir()
        try:
            files = []
            for fmt in formats:
                path = stage / f"{extract.name}.{fmt}"
                _WRITERS[fmt](extract, path)
                files.append(
                    {
                        "path": path.name,
                        "format": fmt,
                        "bytes": path.stat().st_size,
                        "sha256": _sha256(path),
                    }
                )
            manifest = {
                "name": extract.name,
                "title": extract.title,
                "licence": extract.licence,
                "publisher": extract.publisher,
                "published_at": now.isoformat(),
                "publication": stamp,
                "rows": extract.table.num_rows,
                "columns": [{"name": f.name, "type": str(f.type)} for f in extract.table.schema],
                "files": files,
                "lineage": extract.lineage,
                "personal_data_removed": extract.removed,
                "location": extract.location,
            }
            (stage / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            stage.rename(folder / stamp)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        pointer = folder / f".LATEST-{uuid.uuid4().hex}"
        pointer.write_text(stamp, encoding="utf-8")
        pointer.replace(folder / "LATEST")
        old = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        for stale in old[:-KEEP_PUBLICATIONS]:
            shutil.rmtree(stale, ignore_errors=True)
        return manifest

    def latest(self, name: str) -> Path:
        pointer = self.root / check_name(name) / "LATEST"
        if not pointer.exists():
            raise NotFound(f"no open data published as {name!r}")
        return pointer.parent / pointer.read_text(encoding="utf-8").strip()

    def manifest(self, name: str) -> dict[str, Any]:
        raw: dict[str, Any] = json.loads((self.latest(name) / "manifest.json").read_text("utf-8"))
        return raw

    def manifests(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        return [
            self.manifest(p.name)
            for p in sorted(self.root.iterdir())
            if p.is_dir() and (p / "LATEST").exists()
        ]

    def file(self, name: str, filename: str) -> Path:
        """A file of the latest publication, by the name its manifest lists."""
        here = self.latest(name)
        listed = {f["path"] for f in self.manifest(name)["files"]} | {"manifest.json"}
        if filename not in listed:
            raise NotFound(f"{name!r} has no file {filename!r}")
        return here / filename
