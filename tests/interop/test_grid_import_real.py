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


def _nyc_grid(db: Database, clock: FixedClock) -> None:
    """NYC's boroughs (districts) and community districts (subdistricts), with unit grids in
    ``SAMPLE_DISTRICTS``."""
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


def test_nyc_boroughs_districts_grids_and_311(db: Database, clock: FixedClock) -> None:
    _nyc_grid(db, clock)
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


def _nyc311_near(box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Every located 311 request in ``box`` (whatever its borough column says)."""
    west, south, east, north = box
    lon, lat = [], []
    with gzip.open(shared_file("nyc311_2026-04to06_100k.csv.gz"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["latitude"] and row["longitude"]:
                x, y = float(row["longitude"]), float(row["latitude"])
                if west <= x <= east and south <= y <= north:
                    lon.append(x)
                    lat.append(y)
    return np.array(lon), np.array(lat)


def _finest_covering(
    codes: list[str], geoms: list[shapely.Geometry], x: np.ndarray, y: np.ndarray
) -> list[str]:
    """Brute force: the smallest code (string order) of the polygons covering each point, ""
    where none does; a point on a shared border is covered by both sides."""
    best = [""] * len(x)
    for code, geom in sorted(zip(codes, geoms, strict=True), reverse=True):
        west, south, east, north = geom.bounds
        near = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
        shapely.prepare(geom)
        for i in near[shapely.intersects_xy(geom, x[near], y[near])]:
            best[i] = code  # codes come largest first: the smallest covering one stays
    return best


def test_nyc_311_located_as_brute_force_containment_says(db: Database, clock: FixedClock) -> None:
    """Around the sampled districts, the locator answers every 311 request as a plain polygon
    test over the stored polygons does: the finest tier that covers the point gives the code
    (the smallest one on a border), coarser tiers follow the parents, and a point that no
    polygon covers is outside."""
    _nyc_grid(db, clock)
    with db.reader() as s:
        areas = {
            a.code: queries.get_area(s, a.code)
            for level in ("district", "subdistrict", "community")
            for a in queries.list_areas(s, level=level)
        }
        grids = [
            g
            for code in SAMPLE_DISTRICTS
            for g in queries.list_unit_grids(s, community=code, with_geometry=True)
        ]
        sampled = shapely.union_all([areas[c].geometry for c in SAMPLE_DISTRICTS])
        lon, lat = _nyc311_near(sampled.bounds)
        # Points no polygon covers (New York Harbor, Jersey City, the Atlantic), and the corners
        # of unit grids, which lie on the borders between grids.
        corners = np.concatenate([shapely.get_coordinates(g.geometry)[:3] for g in grids[::25]])
        lon = np.concatenate([lon, [-74.03, -74.07, -73.70], corners[:, 0]])
        lat = np.concatenate([lat, [40.66, 40.72, 40.40], corners[:, 1]])
        where = queries.locate_many(s, lon, lat)

    in_sampled = shapely.contains_xy(sampled, lon, lat)
    assert in_sampled.sum() > 1000, "enough real requests fall in the sampled districts"
    by_level: dict[str, tuple[list[str], list[shapely.Geometry]]] = {}
    for a in areas.values():
        codes, geoms = by_level.setdefault(a.level, ([], []))
        codes.append(a.code)
        geoms.append(a.geometry)
    covering = {
        Level.UNIT_GRID: _finest_covering(
            [g.code for g in grids], [g.geometry for g in grids], lon, lat
        ),
        **{
            Level(level): _finest_covering(codes, geoms, lon, lat)
            for level, (codes, geoms) in by_level.items()
        },
    }
    parent = {a.code: a.parent_code for a in areas.values()} | {
        g.code: g.community_code for g in grids
    }
    level_of = {a.code: Level(a.level) for a in areas.values()}
    tiers = [Level.UNIT_GRID, Level.COMMUNITY, Level.SUBDISTRICT, Level.DISTRICT]
    answered = {
        Level.UNIT_GRID: where.unit_grid,
        Level.COMMUNITY: where.community,
        Level.SUBDISTRICT: where.subdistrict,
        Level.DISTRICT: where.district,
    }
    mismatches = []
    for i in range(len(lon)):
        expected = dict.fromkeys(tiers, "")
        finest = next((t for t in tiers if covering.get(t, [""] * len(lon))[i]), None)
        if finest is not None:
            code: str | None = covering[finest][i]
            expected[finest] = code or ""
            code = parent.get(code or "")
            while code and code in level_of:
                expected[level_of[code]] = code
                code = parent.get(code)
        got = {t: str(answered[t][i]) for t in tiers}
        if got != expected or bool(where.inside[i]) != (finest is not None):
            mismatches.append((float(lon[i]), float(lat[i]), got, expected))
    assert not mismatches, f"{len(mismatches)} of {len(lon)} points, e.g. {mismatches[:3]}"
    # Every request inside a sampled district has a unit grid; some points are outside.
    assert all(where.unit_grid[in_sampled])
    assert (~where.inside).sum() >= 3
    # The area answered covers the point itself, not just by the parent chain.
    for t in (Level.SUBDISTRICT, Level.DISTRICT):
        for i in np.flatnonzero(in_sampled):
            assert shapely.intersects_xy(areas[answered[t][i]].geometry, lon[i], lat[i]), (t, i)


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
