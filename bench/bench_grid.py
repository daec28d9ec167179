"""The city grid: coordinate conversion, boundary import, unit-grid generation, point location.

Run: ``python bench/bench_grid.py`` (SQLite in a temporary directory, real NYC data from
``../shared/data`` or ``$ONEGRID_SHARED_DATA``; about a minute). Each figure is printed beside
the raw limit measured in the same run, and their ratio:
- GCJ-02 → WGS84 (iterated to 1e-9°) vs the forward WGS84 → GCJ-02 formula, one pass;
- area import (check, convert, version, write) vs parsing the same file (json + shapely);
- unit-grid generation (cover, clip, merge slivers, number) vs H3's own polyfill of the areas;
- locating 311 points through the service (cached locator) vs the bare ``Locator``.
"""

from __future__ import annotations

import csv
import gzip
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import h3
import numpy as np
import shapely
from _common import DATA, timed
from shapely.geometry import shape

from onegrid.core.clock import SystemClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid import crs, queries, services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.grid.location import clear_locator_cache
from onegrid.schema import migrate

START = date(2026, 1, 1)
SMALL_DISTRICTS = ["101", "102", "106", "201", "309"]


def show(name: str, ours: float, limit: float, limit_name: str, unit: str) -> None:
    print(
        f"{name:<38} {ours:>12,.0f} {unit}/s   raw limit ({limit_name}) {limit:>12,.0f} {unit}/s"
        f"   ratio {ours / limit:5.2f}"
    )


def bench_crs() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(115.4, 117.5, 1_000_000), rng.uniform(39.4, 41.1, 1_000_000)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    forward = timed(lambda: crs.wgs84_to_gcj02(lon, lat))
    inverse = timed(lambda: crs.gcj02_to_wgs84(glon, glat))
    show("GCJ-02 → WGS84 (iterated)", 1e6 / inverse, 1e6 / forward, "forward formula", "points")


def _import(db: Database, name: str, **options: object) -> services.ImportSummary:
    with db.unit_of_work() as s:
        opts = AreaImportOptions(valid_from=START, **options)  # type: ignore[arg-type]
        return services.import_areas(s, read_features(DATA / name), opts, SystemClock())


def bench_import(db: Database) -> None:
    path = DATA / "nyc_community_districts.geojson"

    def parse() -> None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        [shape(f["geometry"]) for f in doc["features"]]

    raw = timed(parse)
    _import(db, "nyc_boroughs.geojson", level=Level.DISTRICT, code_field="BoroCode")
    start = time.perf_counter()
    _import(
        db,
        "nyc_community_districts.geojson",
        level=Level.SUBDISTRICT,
        code_field="BoroCD",
        parent_from_code_prefix=1,
    )
    ours = time.perf_counter() - start
    size = path.stat().st_size / 1e6
    show("import 71 community districts", 71 / ours, 71 / raw, "json + shapely parse", "features")
    print(f"{'':<38} ({size:.1f} MB in {ours:.2f} s)")


def bench_generation(db: Database) -> None:
    with db.reader() as s:
        areas = [queries.get_area(s, code).geometry for code in SMALL_DISTRICTS]
    raw = timed(lambda: [h3.geo_to_cells(a, 10) for a in areas], repeat=2)
    cells = sum(len(h3.geo_to_cells(a, 10)) for a in areas)
    start = time.perf_counter()
    with db.unit_of_work() as s:
        report = services.generate_unit_grids(
            s, SystemClock(), valid_from=START, res=10, within=SMALL_DISTRICTS
        )
    ours = time.perf_counter() - start
    grids = report.grids.created
    show("generate res-10 grids (5 districts)", grids / ours, cells / raw, "h3 polyfill", "cells")
    start = time.perf_counter()
    with db.unit_of_work() as s:
        everything = services.generate_unit_grids(
            s, SystemClock(), valid_from=date(2026, 2, 1), res=9, level=Level.SUBDISTRICT
        )
    print(
        f"{'all 71 districts at res 9':<38} {everything.grids.accepted:,} grids in "
        f"{time.perf_counter() - start:.1f} s"
    )


def _points() -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    with gzip.open(DATA / "nyc311_2026-04to06_100k.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["latitude"] and row["longitude"]:
                xs.append(float(row["longitude"]))
                ys.append(float(row["latitude"]))
    return np.array(xs), np.array(ys)


def bench_locate(db: Database) -> None:
    lon, lat = _points()
    clear_locator_cache()
    with db.reader() as s:
        start = time.perf_counter()
        locator = queries.get_locator(s)
        build = time.perf_counter() - start
        ours = timed(lambda: queries.locate_many(s, lon, lat))
    raw = timed(lambda: locator.locate_many(lon, lat))
    show(
        "locate 311 points via the service",
        len(lon) / ours,
        len(lon) / raw,
        "bare Locator",
        "points",
    )
    print(f"{'':<38} (locator for 5 boroughs, 71 districts, the grids: built in {build:.2f} s)")


def main() -> None:
    print(f"bench_grid: {shapely.geos_version_string=}, h3 {h3.__version__}")
    bench_crs()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        migrate(db.engine)
        bench_import(db)
        bench_generation(db)
        bench_locate(db)
        db.engine.dispose()


if __name__ == "__main__":
    main()
