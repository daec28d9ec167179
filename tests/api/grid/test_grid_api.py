"""The grid's HTTP endpoints, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services
from onegrid.grid.domain import Level
from tests.integration.grid.boundary_files import (
    DISTRICTS,
    START,
    box,
    build_tiny_city,
    import_level,
    level_file,
)


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path)
        services.generate_unit_grids(s, clock, valid_from=START)
    return db


def _problem(resp: object, status: int, field: str) -> dict:  # type: ignore[type-arg]
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert body["errors"][0]["field"] == field
    return body  # type: ignore[no-any-return]


def test_list_areas_filters_by_level_and_parent(client: TestClient, city: Database) -> None:
    all_areas = client.get("/api/v1/areas").json()
    assert len(all_areas) == 9
    districts = client.get("/api/v1/areas", params={"level": "district"}).json()
    assert [d["code"] for d in districts] == ["110101", "110102"]
    assert districts[0]["bbox"] == pytest.approx([116.390, 39.900, 116.398, 39.908])
    assert districts[0]["name_zh"] == "东城区" and "geometry" not in districts[0]
    children = client.get("/api/v1/areas", params={"parent": "110102"}).json()
    assert [c["code"] for c in children] == ["110102001", "110102002"]
    paged = client.get("/api/v1/areas", params={"limit": 2, "offset": 1}).json()
    assert [a["code"] for a in paged] == [a["code"] for a in all_areas[1:3]]


def test_bad_list_parameters_are_422_naming_the_field(client: TestClient, city: Database) -> None:
    _problem(client.get("/api/v1/areas", params={"level": "planet"}), 422, "level")
    _problem(client.get("/api/v1/areas", params={"on": "yesterday"}), 422, "on")
    _problem(client.get("/api/v1/areas", params={"limit": 0}), 422, "limit")


def test_area_detail_has_geojson(client: TestClient, city: Database) -> None:
    body = client.get("/api/v1/areas/110101").json()
    assert body["level"] == "district"
    assert shapely.geometry.shape(body["geometry"]).equals(DISTRICTS["110101"])
    missing = client.get("/api/v1/areas/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_area_history_by_date(
    client: TestClient, city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    grown = dict(DISTRICTS, **{"110101": box(116.389, 39.900, 116.398, 39.908)})
    with city.unit_of_work() as s:
        import_level(
            s,
            clock,
            level_file(tmp_path, grown, "d2"),
            Level.DISTRICT,
            parent_code="110000",
            valid_from=date(2026, 6, 1),
        )
    old = client.get("/api/v1/areas/110101", params={"on": "2026-03-01"}).json()
    new = client.get("/api/v1/areas/110101", params={"on": "2026-06-01"}).json()
    assert old["bbox"][0] == pytest.approx(116.390) and old["valid_to"] == "2026-06-01"
    assert new["bbox"][0] == pytest.approx(116.389)
    assert client.get("/api/v1/areas/110101", params={"on": "2025-01-01"}).status_code == 404


def test_children(client: TestClient, city: Database) -> None:
    body = client.get("/api/v1/areas/110101001/children").json()
    assert [c["code"] for c in body] == ["110101001001", "110101001002"]
    assert client.get("/api/v1/areas/nope/children").status_code == 404


def test_unit_grids_list_and_detail(client: TestClient, city: Database) -> None:
    grids = client.get("/api/v1/unit-grids", params={"community": "110101001002"}).json()
    assert grids and all(g["code"].startswith("110101001002") for g in grids)
    assert grids[0]["source"] == "h3"
    detail = client.get(f"/api/v1/unit-grids/{grids[0]['code']}").json()
    assert detail["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get("/api/v1/unit-grids/110101001002999").status_code == 404


def test_locate_inside_and_outside(client: TestClient, city: Database) -> None:
    inside = client.get("/api/v1/locate", params={"lon": 116.392, "lat": 39.906}).json()
    assert inside["inside"] is True
    assert (inside["district"], inside["subdistrict"], inside["community"]) == (
        "110101",
        "110101001",
        "110101001001",
    )
    assert inside["unit_grid"].startswith("110101001001") and len(inside["h3_10"]) == 15
    outside = client.get("/api/v1/locate", params={"lon": 0.0, "lat": 0.0})
    assert outside.status_code == 200
    assert outside.json()["inside"] is False and outside.json()["message"] == "outside the city"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 116.39, "lat": 91}, "lat"),
        ({"lon": 181, "lat": 39.9}, "lon"),
        ({"lon": "east", "lat": 39.9}, "lon"),
        ({"lat": 39.9}, "lon"),
    ],
)
def test_locate_bad_input_names_the_field(
    client: TestClient,
    city: Database,
    params: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    _problem(client.get("/api/v1/locate", params=params), 422, field)


def test_locate_batch(client: TestClient, city: Database) -> None:
    points = [[116.392, 39.906], [116.402, 39.902], [0.0, 0.0]]
    body = client.post("/api/v1/locate/batch", json={"points": points}).json()
    assert body["count"] == 3
    assert body["inside"] == [True, True, False]
    assert body["district"] == ["110101", "110102", ""]
    assert body["unit_grid"][0].startswith("110101001001") and body["unit_grid"][1] == ""
    assert all(len(cell) == 15 for cell in body["h3_10"]), "outside points have cells too"


def test_locate_batch_bad_input(client: TestClient, city: Database) -> None:
    bad = client.post("/api/v1/locate/batch", json={"points": [[116.39, 39.9], [116.39, 95]]})
    body = _problem(bad, 422, "lat")
    assert body["errors"][0]["record"] == "point 1"
    _problem(client.post("/api/v1/locate/batch", json={"points": [[1, 2, 3]]}), 422, "points.0")
    too_many = {"points": [[116.39, 39.9]] * 100_001}
    _problem(client.post("/api/v1/locate/batch", json=too_many), 422, "points")


def test_areas_geojson_for_maps(client: TestClient, city: Database) -> None:
    doc = client.get("/api/v1/areas.geojson", params={"level": "subdistrict"}).json()
    assert doc["type"] == "FeatureCollection"
    assert [f["id"] for f in doc["features"]] == [
        "110101001",
        "110101002",
        "110102001",
        "110102002",
    ]
    simplified = client.get(
        "/api/v1/areas.geojson", params={"level": "district", "tolerance": 50}
    ).json()
    assert len(simplified["features"]) == 2
    assert simplified["features"][0]["properties"]["name_zh"] == "东城区"
    _problem(client.get("/api/v1/areas.geojson", params={"tolerance": -1}), 422, "tolerance")


def test_every_grid_endpoint_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/areas",
        "/api/v1/areas/{code}",
        "/api/v1/areas/{code}/children",
        "/api/v1/unit-grids",
        "/api/v1/unit-grids/{code}",
        "/api/v1/locate",
        "/api/v1/locate/batch",
        "/api/v1/areas.geojson",
    ):
        operation = next(iter(paths[path].values()))
        assert operation["summary"]
        assert "200" in operation["responses"]
