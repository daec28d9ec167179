"""Parking areas from a city's file: GeoJSON polygons and points with a radius, or YAML items;
every problem named by the feature's index and field, and one bad area refuses the file."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from onegrid.core.errors import InvalidInput
from onegrid.sensing.domain.parking import buffer, check_area, parse_areas

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[116.30, 39.90], [116.301, 39.90], [116.301, 39.901], [116.30, 39.90]]],
}


def feature(props: dict[str, Any], geometry: Any = SQUARE) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def problems(doc: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_areas(doc)
    return [(p.field, p.rule) for p in caught.value.problems]


def test_polygons_and_points_with_a_radius_become_areas() -> None:
    point = {"type": "Point", "coordinates": [116.305, 39.91]}
    drafts = parse_areas(
        collection(
            feature({"code": "P-1", "name": "Metro exit A", "capacity": 40}),
            feature({"code": "P-2", "capacity": 0, "radius_m": 25}, point),
        )
    )
    assert [(d.code, d.name, d.capacity) for d in drafts] == [
        ("P-1", "Metro exit A", 40),
        ("P-2", "P-2", 0),  # no name: the code
    ]
    assert drafts[0].geometry.equals(shapely.geometry.shape(SQUARE))
    circle = drafts[1].geometry
    assert isinstance(circle, shapely.Polygon)
    assert circle.equals_exact(buffer(116.305, 39.91, 25), 1e-12)
    # 25 m each way: about 2.2e-4 degrees of latitude and 2.9e-4 of longitude at 39.9°N.
    minx, miny, maxx, maxy = circle.bounds
    assert maxy - miny == pytest.approx(50 / 111_320, rel=0.01)
    assert maxx - minx == pytest.approx(50 / (111_320 * 0.7672), rel=0.01)


def test_the_yaml_form_takes_lon_and_lat_for_a_point() -> None:
    drafts = parse_areas(
        {
            "areas": [
                {
                    "code": "M-1",
                    "name": "西单",
                    "capacity": 30,
                    "lon": 116.37,
                    "lat": 39.9,
                    "radius_m": 50,
                },
                {"code": "M-2", "capacity": 10, "geometry": SQUARE},
            ]
        }
    )
    assert [d.code for d in drafts] == ["M-1", "M-2"]
    assert drafts[0].geometry.contains(shapely.Point(116.37, 39.9))


def test_every_problem_names_the_feature_index_and_field() -> None:
    line = {"type": "LineString", "coordinates": [[116.3, 39.9], [116.31, 39.91]]}
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    }
    found = problems(
        collection(
            feature({"code": "P-1", "capacity": 5}),
            feature({"code": "op@area", "capacity": -1}),
            feature({"code": "P-3", "capacity": "many"}),
            feature(
                {"code": "P-4", "capacity": 5}, {"type": "Point", "coordinates": [116.3, 39.9]}
            ),
            feature({"code": "P-5", "capacity": 5}, line),
            feature({"code": "P-6", "capacity": 5}, bowtie),
            feature({"code": "P-1", "capacity": 7}),
            feature(
                {"code": "P-8", "capacity": 5}, {"type": "Point", "coordinates": [391.0, 39.9]}
            ),
            {"type": "Feature", "geometry": SQUARE},
            "not a feature",
            feature({"code": "P-11", "capacity": True}),
        )
    )
    assert found == [
        ("features[1].properties.code", "area_code"),
        ("features[1].properties.capacity", "capacity"),
        ("features[2].properties.capacity", "capacity"),
        ("features[3].properties.radius_m", "radius"),
        ("features[4].geometry.type", "polygon"),
        ("features[5].geometry", "valid_polygon"),
        ("features[6].properties.code", "unique"),
        ("features[7].geometry", "wgs84"),
        ("features[8].properties", "mapping"),
        ("features[9]", "mapping"),
        ("features[10].properties.capacity", "capacity"),
    ]


def test_a_file_that_is_neither_form_is_refused() -> None:
    assert problems({"type": "Feature"}) == [("file", "areas_file")]
    assert problems([1, 2]) == [("file", "areas_file")]
    assert problems({"areas": {"P-1": 4}}) == [("areas", "list")]
    assert problems({"areas": [{"code": "P-1", "capacity": 4}]}) == [
        ("areas[0].geometry", "geometry")
    ]


@pytest.mark.parametrize("radius", [0, -5, 1001, "25", None])
def test_a_point_needs_a_sensible_radius(radius: object) -> None:
    point = {"type": "Point", "coordinates": [116.3, 39.9]}
    draft, found = check_area("P-1", "", 5, point, radius_m=radius)
    assert draft is None
    assert [(p.field, p.rule) for p in found] == [("radius_m", "radius")]
