"""Area and unit-grid imports over HTTP: the dry-run plan, applying it, bad files, reach."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.api.v1 import grid_admin
from onegrid.db.session import Database
from onegrid.grid.models import AreaRow, GridChangeRow, UnitGridRow
from tests.api.grid.admin_city import SignIns, collection, feature
from tests.integration.grid.boundary_files import EQUATOR, MID, SOUTH, WEST, box

SPLIT = (WEST + MID) / 2
# Two communities for the subdistrict 110101002 (south-west), which has none yet.
NEW_COMMUNITIES = collection(
    feature(box(WEST, SOUTH, SPLIT, EQUATOR), code="110101002001", name="东社区", name_en="East"),
    feature(box(SPLIT, SOUTH, MID, EQUATOR), code="110101002002", name="西社区", name_en="West"),
)
IN_FIRST = {"lon": WEST + 0.001, "lat": SOUTH + 0.001}
COMMUNITY = {"level": "community", "parent_from_code_prefix": 9, "name_field": "name"}
GEOJSON = {"Content-Type": "application/geo+json"}


def _counts(db: Database) -> tuple[int, int, int]:
    with db.unit_of_work() as s:
        return (
            s.scalar(select(func.count()).select_from(AreaRow)) or 0,
            s.scalar(select(func.count()).select_from(UnitGridRow)) or 0,
            s.scalar(select(func.count()).select_from(GridChangeRow)) or 0,
        )


def _import(
    client: TestClient, who: dict[str, str], body: bytes, **params: Any
) -> Any:  # the response
    return client.post(
        "/api/v1/areas/import", params=params, content=body, headers={**who, **GEOJSON}
    )


def test_dry_run_answers_the_plan_and_writes_nothing(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    before = _counts(admin_city)
    resp = _import(client, as_["cityadmin"], NEW_COMMUNITIES, dry_run="true", **COMMUNITY)
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    assert plan["dry_run"] is True and plan["applied"] is False
    assert plan["new"] == ["110101002001", "110101002002"]
    assert plan["changed"] == plan["unchanged"] == plan["retired"] == []
    assert [i["record"] for i in plan["items"]] == [
        "feature 1 (code 110101002001)",
        "feature 2 (code 110101002002)",
    ]
    assert [i["feature_index"] for i in plan["items"]] == [1, 2]  # for a page in any language
    shapes = {f["properties"]["code"]: f for f in plan["map"]["features"]}
    assert shapely.geometry.shape(shapes["110101002001"]["geometry"]).equals(
        box(WEST, SOUTH, SPLIT, EQUATOR)
    )
    assert _counts(admin_city) == before
    assert client.get("/api/v1/areas", params={"parent": "110101002"}).json() == []


def test_apply_writes_versions_and_the_locator_sees_them(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    # Locate first, so a locator of the old grid is cached.
    old = client.get("/api/v1/locate", params=IN_FIRST).json()
    assert old["subdistrict"] == "110101002" and old["community"] is None
    _, _, changes = _counts(admin_city)
    resp = _import(client, as_["cityadmin"], NEW_COMMUNITIES, name_en_field="name_en", **COMMUNITY)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["applied"] is True and body["new"] == ["110101002001", "110101002002"]
    assert body["summary"].startswith("2 accepted (2 new")
    assert _counts(admin_city)[2] == changes + 1  # the grid change token was written
    new = client.get("/api/v1/locate", params=IN_FIRST).json()
    assert new["community"] == "110101002001"
    area = client.get("/api/v1/areas/110101002001").json()
    assert (area["name_zh"], area["name_en"], area["valid_from"]) == (
        "东社区",
        "East",
        "2026-03-02",
    )

    # The same file again changes nothing; a moved border is a new version from its day.
    again = _import(
        client,
        as_["cityadmin"],
        NEW_COMMUNITIES,
        dry_run=True,
        name_en_field="name_en",
        **COMMUNITY,
    ).json()
    assert again["unchanged"] == ["110101002001", "110101002002"]
    moved = collection(
        feature(box(WEST, SOUTH, SPLIT + 0.001, EQUATOR), code="110101002001", name="东社区"),
        feature(box(SPLIT + 0.001, SOUTH, MID, EQUATOR), code="110101002002", name="西社区"),
    )
    later = _import(client, as_["cityadmin"], moved, valid_from="2026-06-01", **COMMUNITY).json()
    assert later["changed"] == ["110101002001", "110101002002"]
    assert [i["change"] for i in later["items"]] == ["version", "version"]
    assert "onegrid grid generate" in later["advice"]
    then = client.get("/api/v1/areas/110101002001", params={"on": "2026-05-31"}).json()
    assert then["valid_to"] == "2026-06-01"
    point = {"lon": SPLIT + 0.0005, "lat": SOUTH + 0.001}
    assert client.get("/api/v1/locate", params=point).json()["community"] == "110101002002"
    on_june = client.get("/api/v1/locate", params={**point, "on": "2026-06-01"}).json()
    assert on_june["community"] == "110101002001"


def test_a_multipart_upload_works_like_a_body(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    resp = client.post(
        "/api/v1/areas/import",
        params={**COMMUNITY, "dry_run": True},
        files={"file": ("communities.geojson", NEW_COMMUNITIES, "application/geo+json")},
        headers=as_["cityadmin"],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["source"] == "communities.geojson"


def test_a_bad_file_is_one_422_naming_every_problem_and_writes_nothing(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    bowtie = shapely.Polygon([(WEST, SOUTH), (MID, EQUATOR), (MID, SOUTH), (WEST, EQUATOR)])
    bad = collection(
        feature(box(WEST, SOUTH, SPLIT, EQUATOR), name="无编码"),
        feature(bowtie, code="110101002001", name="自相交"),
        feature(shapely.Point(WEST, SOUTH), code="110101002002", name="点"),
        feature(box(WEST, SOUTH, SPLIT, EQUATOR), code="110109001001", name="无上级"),
        feature(box(WEST, SOUTH, SPLIT, EQUATOR), code="110101002003", name=""),
    )
    before = _counts(admin_city)
    resp = _import(client, as_["cityadmin"], bad, **COMMUNITY)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    errors = {(e.get("record", ""), e["field"], e["rule"]) for e in resp.json()["errors"]}
    assert errors == {
        ("feature 1", "code", "code-required"),
        ("feature 2 (code 110101002001)", "geometry", "valid-geometry"),
        ("feature 3 (code 110101002002)", "geometry", "polygon-geometry"),
        ("feature 4 (code 110109001001)", "parent", "parent-exists"),
        ("feature 5 (code 110101002003)", "name", "name-required"),
    }
    # The dry run refuses the same file the same way: it is the plan of the real thing.
    assert _import(client, as_["cityadmin"], bad, dry_run=True, **COMMUNITY).status_code == 422
    assert _counts(admin_city) == before


def test_unreadable_input_names_the_file_or_the_option(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    cases: list[tuple[bytes, dict[str, Any], str, str]] = [
        (b"{not json", COMMUNITY, "file", "geojson-syntax"),
        (b'{"type": "Point"}', COMMUNITY, "file", "geojson-type"),
        (b"", COMMUNITY, "file", "required"),
        ("名".encode("gb18030") * 3, COMMUNITY, "file", "utf8-encoding"),
        (NEW_COMMUNITIES, {**COMMUNITY, "level": "planet"}, "level", "enum"),
        (NEW_COMMUNITIES, {**COMMUNITY, "crs": "EPSG:999999"}, "crs", "known-crs"),
        (
            NEW_COMMUNITIES,
            {**COMMUNITY, "parent_code": "110101002"},
            "parent_from_code_prefix",
            "one-parent-source",
        ),
    ]
    for body, params, field, rule in cases:
        resp = _import(client, as_["cityadmin"], body, **params)
        assert resp.status_code == 422, (params, resp.text)
        first = resp.json()["errors"][0]
        assert (first["field"], first["rule"]) == (field, rule), first


def test_reach_a_district_admin_imports_only_inside_their_district(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    outside = collection(
        feature(box(MID, SOUTH, MID + 0.002, EQUATOR), code="110102002001", name="外区社区")
    )
    before = _counts(admin_city)
    for dry in (True, False):
        resp = _import(client, as_["dongcheng"], outside, dry_run=dry, **COMMUNITY)
        assert resp.status_code == 403, resp.text
        assert "110102" in resp.json()["detail"]
    assert _counts(admin_city) == before
    inside = _import(client, as_["dongcheng"], NEW_COMMUNITIES, **COMMUNITY)
    assert inside.status_code == 200, inside.text
    assert _import(client, as_["insp"], NEW_COMMUNITIES, **COMMUNITY).status_code == 403
    assert (
        client.post("/api/v1/areas/import", params=COMMUNITY, content=NEW_COMMUNITIES).status_code
        == 401
    )


def test_unit_grid_import_plans_retirements_and_locates_the_new_grid(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    community = "110101001001"
    generated = [
        g["code"] for g in client.get("/api/v1/unit-grids", params={"community": community}).json()
    ]
    assert len(generated) > 1
    official = collection(
        feature(box(WEST, EQUATOR, 116.394, 39.908), code=f"{community}901", community=community)
    )
    dry = client.post(
        "/api/v1/unit-grids/import",
        params={"dry_run": True},
        content=official,
        headers={**as_["dongcheng"], **GEOJSON},
    ).json()
    assert dry["new"] == [f"{community}901"]
    assert sorted(dry["retired"]) == sorted(generated)
    assert {f["properties"]["change"] for f in dry["map"]["features"]} == {"create", "retire"}
    point = {"lon": WEST + 0.001, "lat": EQUATOR + 0.001}
    assert client.get("/api/v1/locate", params=point).json()["unit_grid"] in generated
    applied = client.post(
        "/api/v1/unit-grids/import", content=official, headers={**as_["dongcheng"], **GEOJSON}
    )
    assert applied.status_code == 200, applied.text
    assert client.get("/api/v1/locate", params=point).json()["unit_grid"] == f"{community}901"
    bad = collection(feature(box(WEST, EQUATOR, 116.394, 39.908), code="123", community=community))
    resp = client.post(
        "/api/v1/unit-grids/import", content=bad, headers={**as_["cityadmin"], **GEOJSON}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "code"


def test_rename_corrects_names_in_place(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    before = client.get("/api/v1/areas/110101").json()
    resp = client.patch(
        "/api/v1/areas/110101", json={"name_en": "Dongcheng"}, headers=as_["dongcheng"]
    )
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert (after["name_zh"], after["name_en"]) == (before["name_zh"], "Dongcheng")
    assert after["valid_from"] == before["valid_from"] and after["valid_to"] is None
    with admin_city.unit_of_work() as s:
        assert s.scalar(select(func.count()).where(AreaRow.code == "110101")) == 1
    empty = client.patch("/api/v1/areas/110101", json={"name_zh": " "}, headers=as_["dongcheng"])
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "name_zh"
    nothing = client.patch("/api/v1/areas/110101", json={}, headers=as_["dongcheng"])
    assert nothing.status_code == 422
    assert (
        client.patch(
            "/api/v1/areas/110102", json={"name_en": "X"}, headers=as_["dongcheng"]
        ).status_code
        == 403
    )
    assert (
        client.patch(
            "/api/v1/areas/110109", json={"name_en": "X"}, headers=as_["cityadmin"]
        ).status_code
        == 404
    )


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    client: TestClient, as_: SignIns, admin_city: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grid_admin, "MAX_UPLOAD_BYTES", 100)
    before = _counts(admin_city)
    for sent in (
        {"content": NEW_COMMUNITIES, "headers": {**as_["cityadmin"], **GEOJSON}},
        {"files": {"file": ("c.geojson", NEW_COMMUNITIES)}, "headers": as_["cityadmin"]},
    ):
        resp = client.post("/api/v1/areas/import", params=COMMUNITY, **sent)
        assert resp.status_code == 413, resp.text
        assert resp.json()["detail"].startswith("file:")
    assert _counts(admin_city) == before
