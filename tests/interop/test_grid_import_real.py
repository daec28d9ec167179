"""Real public boundaries through the import, generation and location services.

NYC: DCP boroughs and community districts (CRS84), unit grids for a few districts, and a sample
of real 311 requests located through the service. Beijing: the DataV/AMap district file, whose
coordinates are GCJ-02, located against the UCI PRSA air-quality stations (WGS84).
"""

from __future__ import annotations

import csv
import gzip
from datetime import date

import numpy as np
import pytest
import shapely

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import queries, services
from onegrid.grid.crs import area_m2
from onegrid.grid.domain import Level, padded_area_code
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from tests.support import shared_file

pytestmark = pytest.mark.realdata

START = date(2026, 1, 1)
BOROUGH_CODES = {
    "MANHATTAN": "1",
    "BRONX": "2",
    "BROOKLYN": "3",
    "QUEENS": "4",
    "STATEN ISLAND": "5",
}
# Small community districts (2–4 km²): Financial District, Greenwich Village, Murray Hill,
# Mott Haven, Crown Heights South. A big one (Staten Island's 55 km²) needs > 999 res-10 grids.
SAMPLE_DISTRICTS = ["101", "102", "106", "201", "309"]

STATION_DISTRICTS = {
    "万寿西宫": "西城区",
    "官园": "西城区",
    "东四": "东城区",
    "天坛": "东城区",
    "奥体中心": "朝阳区",
    "农展馆": "朝阳区",
    "古城": "石景山区",
    "海淀万柳": "海淀区",
    "昌平镇": "昌平区",
    "定陵(对照点)": "昌平区",
    "顺义新城": "顺义区",
    "怀柔镇": "怀柔区",
}


def _import(
    db: Database, clock: FixedClock, name: str, **options: object
) -> services.ImportSummary:
    path = shared_file(name)
    with db.unit_of_work() as s:
        opts = AreaImportOptions(valid_from=START, **options)  # type: ignore[arg-type]
        return services.import_areas(s, read_features(path), opts, clock)


def _nyc311_sample(n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = []
    with gzip.open(shared_file("nyc311_2026-04to06_100k.csv.gz"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["latitude"] and row["longitude"] and row["borough"] in BOROUGH_CODES:
                rows.append((float(row["longitude"]), float(row["latitude"]), row["borough"]))
    picked = np.random.default_rng(311).choice(len(rows), size=n, replace=False)
    lon = np.array([rows[i][0] for i in picked])
    lat = np.array([rows[i][1] for i in picked])
    return lon, lat, [rows[i][2] for i in picked]


def test_nyc_boroughs_districts_grids_and_311(db: Database, clock: FixedClock) -> None:
    boroughs = _import(
        db,
        clock,
        "nyc_boroughs.geojson",
        level=Level.DISTRICT,
        code_field="BoroCode",
        name_en_field="BoroName",
    )
    districts = _import(
        db,
        clock,
        "nyc_community_districts.geojson",
        level=Level.SUBDISTRICT,
        code_field="BoroCD",
        parent_from_code_prefix=1,
    )
    assert (boroughs.created, districts.created) == (5, 71)
    with db.unit_of_work() as s:
        report = services.generate_unit_grids(
            s, clock, valid_from=START, res=10, within=SAMPLE_DISTRICTS
        )
    assert report.areas == len(SAMPLE_DISTRICTS)
    with db.reader() as s:
        for code in SAMPLE_DISTRICTS:
            grids = queries.list_unit_grids(s, community=code)
            shape = queries.get_area(s, code).geometry
            assert 200 < len(grids) < 999
            assert all(g.code.startswith(padded_area_code(code)) for g in grids)
            assert sum(g.area_m2 for g in grids) == pytest.approx(area_m2([shape])[0], rel=1e-3)
        lon, lat, borough = _nyc311_sample(2000)
        where = queries.locate_many(s, lon, lat)
    assert where.inside.all(), "every sampled 311 request lies in a community district"
    agree = np.mean([BOROUGH_CODES[b] == d for b, d in zip(borough, where.district, strict=True)])
    assert agree > 0.99, f"311's borough agrees with the polygon for {agree:.2%}"
    assert all(sd.startswith(d) for sd, d in zip(where.subdistrict, where.district, strict=True))
    in_sample = np.isin(where.subdistrict, SAMPLE_DISTRICTS)
    assert in_sample.any()
    assert all(
        grid.startswith(padded_area_code(sd))
        for grid, sd in zip(where.unit_grid[in_sample], where.subdistrict[in_sample], strict=True)
    )
    assert not any(where.unit_grid[~in_sample])


def test_beijing_gcj02_districts_hold_their_air_quality_stations(
    db: Database, clock: FixedClock
) -> None:
    options = {
        "level": Level.DISTRICT,
        "code_field": "adcode",
        "name_field": "name",
        "crs": "gcj02",
    }
    # The file itself is flawed: Shunyi's outline crosses itself, and the import says so.
    with pytest.raises(InvalidInput) as caught:
        _import(db, clock, "beijing_districts_datav_110100.geojson", **options)
    (problem,) = caught.value.problems
    assert problem.record == "feature 10 (code 110113)"
    assert "Self-intersection" in problem.message
    report = _import(db, clock, "beijing_districts_datav_110100.geojson", repair=True, **options)
    assert report.created == 16 and [r.record for r in report.repaired] == [problem.record]

    stations = list(
        csv.DictReader(shared_file("beijing_prsa_station_coords.csv").open(encoding="utf-8"))
    )
    lon = np.array([float(r["lon"]) for r in stations])
    lat = np.array([float(r["lat"]) for r in stations])
    with db.reader() as s:
        where = queries.locate_many(s, lon, lat)
        names = {a.code: a.name_zh for a in queries.list_areas(s, level="district")}
        shapes = {code: queries.get_area(s, code).geometry for code in names}
    found = {r["name_zh"]: names.get(str(d)) for r, d in zip(stations, where.district, strict=True)}
    assert found == STATION_DISTRICTS
    # Brute force: exactly one district polygon contains each station, and it is the answer.
    for r, x, y, d in zip(stations, lon, lat, where.district, strict=True):
        containing = [c for c, g in shapes.items() if shapely.contains_xy(g, x, y)]
        assert containing == [d], r["name_zh"]
