from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from onegrid.core.errors import InvalidInput
from onegrid.grid import crs

TIANANMEN_WGS84 = (116.391275, 39.906217)

# wandergis/coordtransform's README vectors, the reference most copies of the algorithm cite.
README_POINT = (116.404, 39.915)
README_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
README_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
README_WGS84_TO_BD09 = (116.41662724378733, 39.922699552216216)
# Their inverses are one-step approximations; ours iterates, so it differs by < 1e-6°.
README_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)


def _pair(xy: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(xy[0]), float(xy[1])


def test_forward_transforms_match_the_published_vectors_exactly() -> None:
    assert _pair(crs.wgs84_to_gcj02(*README_POINT)) == pytest.approx(
        README_WGS84_TO_GCJ02, abs=1e-12
    )
    assert _pair(crs.gcj02_to_bd09(*README_POINT)) == pytest.approx(README_GCJ02_TO_BD09, abs=1e-12)
    assert _pair(crs.wgs84_to_bd09(*README_POINT)) == pytest.approx(README_WGS84_TO_BD09, abs=1e-12)


def test_iterated_inverse_is_exact_where_the_one_step_inverse_is_not() -> None:
    wgs = _pair(crs.gcj02_to_wgs84(*README_POINT))
    assert wgs == pytest.approx(README_GCJ02_TO_WGS84_APPROX, abs=1e-6)
    assert wgs != pytest.approx(README_GCJ02_TO_WGS84_APPROX, abs=1e-8)
    assert _pair(crs.wgs84_to_gcj02(*wgs)) == pytest.approx(README_POINT, abs=1e-9)


def test_tiananmen_offsets() -> None:
    gcj = _pair(crs.wgs84_to_gcj02(*TIANANMEN_WGS84))
    # The formula gives (116.397516, 39.907618); AMap's own answer for the spot is within ~2 m.
    assert gcj == pytest.approx((116.397524, 39.907632), abs=3e-5)
    bd = _pair(crs.wgs84_to_bd09(*TIANANMEN_WGS84))
    assert bd == pytest.approx((116.404, 39.915), abs=2e-3)
    assert _pair(crs.bd09_to_wgs84(*bd)) == pytest.approx(TIANANMEN_WGS84, abs=1e-9)


china = st.tuples(st.floats(74.0, 134.5), st.floats(4.0, 53.0))


@given(china)
def test_round_trips_inside_china_are_below_a_millionth_of_a_degree(p: tuple[float, float]) -> None:
    assert _pair(crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(*p))) == pytest.approx(p, abs=1e-7)
    assert _pair(crs.bd09_to_wgs84(*crs.wgs84_to_bd09(*p))) == pytest.approx(p, abs=1e-7)
    assert _pair(crs.bd09_to_gcj02(*crs.gcj02_to_bd09(*p))) == pytest.approx(p, abs=1e-7)


def test_vectorised_round_trip_of_a_city_worth_of_points() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(115.4, 117.5, 50_000)
    lat = rng.uniform(39.4, 41.1, 50_000)
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-7
    assert np.max(np.abs(back[1] - lat)) < 1e-7


@pytest.mark.parametrize("point", [(-73.9857, 40.7484), (2.2945, 48.8584), (151.2153, -33.8568)])
def test_no_offset_outside_china(point: tuple[float, float]) -> None:
    assert _pair(crs.wgs84_to_gcj02(*point)) == point
    assert _pair(crs.gcj02_to_wgs84(*point)) == point
    assert not crs.in_china_box(*point)


def test_epsg_3857_to_wgs84() -> None:
    system = crs.parse_crs("EPSG:3857")
    lon, lat = crs.to_wgs84(np.array([0.0, 20037508.342789244]), np.array([0.0, 0.0]), system)
    assert lon.tolist() == pytest.approx([0.0, 180.0])
    assert lat.tolist() == pytest.approx([0.0, 0.0])
    x, y = crs.from_wgs84(-73.9857, 40.7484, system)
    assert _pair(crs.to_wgs84(x, y, system)) == pytest.approx((-73.9857, 40.7484), abs=1e-9)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("WGS84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "wgs84"),
        ("GCJ-02", "gcj02"),
        ("bd09", "bd09"),
        ("epsg:3857", "EPSG:3857"),
        ("urn:ogc:def:crs:EPSG::2263", "EPSG:2263"),
    ],
)
def test_parse_crs_names(name: str, canonical: str) -> None:
    assert crs.parse_crs(name).name == canonical


@pytest.mark.parametrize("name", ["mercator", "EPSG:999999", ""])
def test_unknown_crs_is_refused_naming_the_field_and_the_choices(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        crs.parse_crs(name)
    problem = caught.value.problems[0]
    assert problem.field == "crs"
    assert problem.rule == "known-crs"
    if name != "EPSG:999999":
        assert "wgs84, gcj02, bd09" in problem.message


def test_geometry_to_wgs84_moves_every_vertex() -> None:
    square = shapely.box(116.39, 39.90, 116.40, 39.91)
    xs, ys = crs.wgs84_to_gcj02(*shapely.get_coordinates(square).T)
    in_gcj = shapely.Polygon(np.column_stack([xs, ys]))
    back = crs.geometry_to_wgs84(in_gcj, crs.parse_crs("gcj02"))
    assert np.allclose(shapely.get_coordinates(back), shapely.get_coordinates(square), atol=1e-9)


def test_area_of_a_res_10_h3_cell_in_beijing_is_about_10700_m2() -> None:
    import h3

    cell = h3.latlng_to_cell(39.9, 116.4, 10)
    polygon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
    assert crs.area_m2([polygon])[0] == pytest.approx(h3.cell_area(cell, "m^2"), rel=2e-3)
    assert 10_000 < crs.area_m2([polygon])[0] < 11_500
