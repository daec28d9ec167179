"""Every point of 100k NYC 311 requests, located in NYC's boroughs and community districts,
agrees with a brute-force Shapely containment check."""

from __future__ import annotations

import json

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from onegrid.grid.domain import Level
from onegrid.grid.locator import Locator, Shape
from tests.support import shared_file

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _features(name: str) -> list[dict]:  # type: ignore[type-arg]
    with shared_file(name).open(encoding="utf-8") as f:
        features: list[dict] = json.load(f)["features"]  # type: ignore[type-arg]
    return features


@pytest.fixture(scope="module")
def nyc_shapes() -> list[Shape]:
    boroughs = [
        Shape(str(f["properties"]["BoroCode"]), Level.DISTRICT, None, shape(f["geometry"]))
        for f in _features("nyc_boroughs.geojson")
    ]
    # Joint-interest areas (164, 226-228, 355-356, 480-484, 595: parks, airports) are real
    # polygons of the layer and are kept as subdistricts like the 59 community districts.
    districts = [
        Shape(str(cd), Level.SUBDISTRICT, str(cd // 100), shape(f["geometry"]))
        for f in _features("nyc_community_districts.geojson")
        if (cd := int(f["properties"]["BoroCD"]))
    ]
    return boroughs + districts


@pytest.fixture(scope="module")
def requests() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(
        shared_file("nyc311_2026-04to06_100k.csv.gz"), usecols=["latitude", "longitude"]
    ).dropna()
    return frame["longitude"].to_numpy(np.float64), frame["latitude"].to_numpy(np.float64)


def brute_force(shapes: list[Shape], lon: np.ndarray, lat: np.ndarray) -> list[Shape | None]:
    """For each point: the smallest-code community district covering it, else the borough.
    Every point is tested against every polygon, finest tier and smallest code first."""
    ranked = sorted(shapes, key=lambda s: (-s.level.depth, s.code))
    best = np.full(lon.size, len(ranked))
    for rank in reversed(range(len(ranked))):
        best[shapely.intersects_xy(ranked[rank].geometry, lon, lat)] = rank
    return [ranked[b] if b < len(ranked) else None for b in best]


def test_all_311_points_agree_with_brute_force(
    nyc_shapes: list[Shape], requests: tuple[np.ndarray, np.ndarray]
) -> None:
    lon, lat = requests
    assert lon.size > 95_000
    batch = Locator.build(nyc_shapes).locate_many(lon, lat)
    truth = brute_force(nyc_shapes, lon, lat)

    subdistrict = [s.code if s and s.level is Level.SUBDISTRICT else "" for s in truth]
    district = [
        "" if s is None else s.code if s.level is Level.DISTRICT else s.parent_code for s in truth
    ]
    assert batch.inside.tolist() == [s is not None for s in truth]
    assert batch.subdistrict.tolist() == subdistrict
    assert batch.district.tolist() == district
    assert set(batch.community) == set(batch.unit_grid) == set(batch.city) == {""}
    # Nearly all requests are in the city; the few that are not lie off its shores.
    assert 0.99 < batch.inside.mean() < 1.0
    assert len(set(subdistrict) - {""}) >= 59


def test_single_point_location_and_h3_cells_match_the_batch(
    nyc_shapes: list[Shape], requests: tuple[np.ndarray, np.ndarray]
) -> None:
    lon, lat = (a[::50] for a in requests)
    locator = Locator.build(nyc_shapes)
    batch = locator.locate_many(lon, lat)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        single = locator.locate(x, y)
        assert single == batch.location(i)
        assert h3.int_to_str(int(batch.h3_11[i])) == h3.latlng_to_cell(y, x, 11)
        assert h3.int_to_str(int(batch.h3_9[i])) == h3.latlng_to_cell(y, x, 9)


def test_a_finer_index_gives_the_same_answers(
    nyc_shapes: list[Shape], requests: tuple[np.ndarray, np.ndarray]
) -> None:
    lon, lat = requests
    coarse = Locator.build(nyc_shapes, index_res=8).locate_many(lon, lat)
    fine = Locator.build(nyc_shapes, index_res=11).locate_many(lon, lat)
    assert np.array_equal(coarse.subdistrict, fine.subdistrict)
    assert np.array_equal(coarse.district, fine.district)
