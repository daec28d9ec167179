"""The 12 Beijing air-quality stations land in their districts (DataV polygons, GCJ-02).

The district polygons are AMap data in GCJ-02; the station list is WGS84. Rather than move the
polygons, the test moves the 12 stations into GCJ-02 with the grid context's converter.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from onegrid.grid.crs import wgs84_to_gcj02
from onegrid.grid.domain import Level
from onegrid.grid.locator import Locator, Shape
from tests.support import shared_file

pytestmark = pytest.mark.realdata

# Checked against a brute-force Shapely containment test before being written down here.
EXPECTED = {
    "Wanshouxigong": "西城区",
    "Guanyuan": "西城区",
    "Dongsi": "东城区",
    "Tiantan": "东城区",
    "Aotizhongxin": "朝阳区",
    "Nongzhanguan": "朝阳区",
    "Gucheng": "石景山区",
    "Wanliu": "海淀区",
    "Changping": "昌平区",
    "Dingling": "昌平区",
    "Shunyi": "顺义区",
    "Huairou": "怀柔区",
}


@pytest.fixture(scope="module")
def districts() -> tuple[list[Shape], dict[str, str]]:
    with shared_file("beijing_districts_datav_110100.geojson").open(encoding="utf-8") as f:
        features = json.load(f)["features"]
    shapes = [
        Shape(
            str(f["properties"]["adcode"]),
            Level.DISTRICT,
            str(f["properties"]["parent"]["adcode"]),
            shape(f["geometry"]),
        )
        for f in features
    ]
    names = {str(f["properties"]["adcode"]): f["properties"]["name"] for f in features}
    return shapes, names


@pytest.fixture(scope="module")
def stations() -> pd.DataFrame:
    frame = pd.read_csv(shared_file("beijing_prsa_station_coords.csv"))
    lon, lat = wgs84_to_gcj02(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return frame.assign(lon=lon, lat=lat)


def test_each_station_lands_in_its_district(
    districts: tuple[list[Shape], dict[str, str]], stations: pd.DataFrame
) -> None:
    shapes, names = districts
    locator = Locator.build(shapes)
    assert len(shapes) == 16
    assert locator.levels == (Level.DISTRICT,)
    batch = locator.locate_many(stations["lon"], stations["lat"])
    found = {
        station: names[code]
        for station, code in zip(stations["station"], batch.district, strict=True)
    }
    assert found == EXPECTED
    assert set(batch.city) == {"110000"}  # named by the districts' parent code


def test_the_expected_districts_agree_with_brute_force(
    districts: tuple[list[Shape], dict[str, str]], stations: pd.DataFrame
) -> None:
    shapes, names = districts
    for station, lon, lat in zip(
        stations["station"], stations["lon"], stations["lat"], strict=True
    ):
        point = shapely.Point(lon, lat)
        covering = [names[s.code] for s in shapes if s.geometry.intersects(point)]
        assert covering == [EXPECTED[station]]


def test_beijing_locates_at_scale(districts: tuple[list[Shape], dict[str, str]]) -> None:
    """16,000 km²: the table stays small because only borders are refined."""
    shapes, _names = districts
    locator = Locator.build(shapes, index_res=10)
    assert locator.table_size < 200_000
    rng = np.random.default_rng(3)
    west, south, east, north = shapely.total_bounds([s.geometry for s in shapes])
    lon, lat = rng.uniform(west, east, 50_000), rng.uniform(south, north, 50_000)
    batch = locator.locate_many(lon, lat)
    ranked = sorted(shapes, key=lambda s: s.code)
    tree = shapely.STRtree([s.geometry for s in ranked])
    point_i, shape_i = tree.query(shapely.points(lon, lat), predicate="intersects")
    best = np.full(lon.size, len(ranked))
    np.minimum.at(best, point_i, shape_i)
    codes = np.array([s.code for s in ranked] + [""], dtype=object)
    assert batch.district.tolist() == codes[best].tolist()
