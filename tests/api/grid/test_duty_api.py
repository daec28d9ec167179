"""Duty rules and inspectors' grids over HTTP, and the route a rule makes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from onegrid.db.session import Database
from tests.api.grid.admin_city import SignIns

IN_DONGCHENG = {"lon": 116.392, "lat": 39.906}
IN_XICHENG = {"lon": 116.402, "lat": 39.906}
RULE = {
    "area_code": "110101",
    "category_prefix": "E01",
    "department_code": "sanitation",
    "valid_from": "2026-03-01",
}


def _explain(client: TestClient, who: dict[str, str], where: dict[str, float], **extra: str) -> Any:
    resp = client.get(
        "/api/v1/duty-rules/explain",
        params={"category": "E0101", **where, **extra},
        headers=who,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_rule_created_is_used_by_routing_until_it_ends(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    admin = as_["cityadmin"]
    before = _explain(client, admin, IN_DONGCHENG)
    assert before["route"]["rule"] == "district_fallback"
    assert before["route"]["department_code"] == "110101ZF"

    created = client.post("/api/v1/duty-rules", json=RULE, headers=as_["dongcheng"])
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["kind"] == "owner" and rule["valid_to"] is None

    routed = _explain(client, admin, IN_DONGCHENG)
    assert routed["location"]["district"] == "110101"
    assert routed["route"]["department_code"] == "sanitation"
    assert (routed["route"]["rule"], routed["route"]["rule_id"]) == ("duty_owner", rule["id"])
    assert f"rule #{rule['id']}" in routed["route"]["explanation"]
    assert [r["id"] for r in routed["rules_here"]] == [rule["id"]]
    # The rule holds in its area only.
    assert _explain(client, admin, IN_XICHENG)["route"]["department_code"] == "110102ZF"

    listed = client.get("/api/v1/duty-rules", params={"category_prefix": "E"}, headers=admin).json()
    assert [r["id"] for r in listed] == [rule["id"]]
    assert (
        client.get("/api/v1/duty-rules", params={"department": "roads"}, headers=admin).json() == []
    )

    ended = client.post(
        f"/api/v1/duty-rules/{rule['id']}/end", json={"valid_to": "2026-03-02"}, headers=admin
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["valid_to"] == "2026-03-02"
    assert _explain(client, admin, IN_DONGCHENG)["route"]["rule"] == "district_fallback"
    assert client.get("/api/v1/duty-rules", headers=admin).json() == []
    history = client.get("/api/v1/duty-rules", params={"include_ended": True}, headers=admin)
    assert [r["id"] for r in history.json()] == [rule["id"]]
    again = client.post(
        f"/api/v1/duty-rules/{rule['id']}/end", json={"valid_to": "2026-03-01"}, headers=admin
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "valid_to"
    assert client.post("/api/v1/duty-rules/999999/end", json={}, headers=admin).status_code == 404


def test_a_rule_scheduled_ahead_routes_only_from_its_first_day(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    # The fixed clock's day in Beijing is 2026-03-02; the replacement starts a month later.
    admin = as_["cityadmin"]
    old = client.post(
        "/api/v1/duty-rules", json={**RULE, "valid_from": "2026-02-01"}, headers=admin
    ).json()
    new = client.post(
        "/api/v1/duty-rules",
        json={**RULE, "department_code": "roads", "valid_from": "2026-04-01"},
        headers=admin,
    )
    assert new.status_code == 201, new.text
    new_id = new.json()["id"]

    today = _explain(client, admin, IN_DONGCHENG)
    assert today["route"]["department_code"] == "sanitation"
    assert (today["route"]["rule"], today["route"]["rule_id"]) == ("duty_owner", old["id"])
    assert [r["id"] for r in today["rules_here"]] == [old["id"]]

    eve = _explain(client, admin, IN_DONGCHENG, on="2026-03-31")
    assert eve["route"]["rule_id"] == old["id"]
    ahead = _explain(client, admin, IN_DONGCHENG, on="2026-04-01")
    assert ahead["route"]["department_code"] == "roads"
    assert ahead["route"]["rule_id"] == new_id
    assert [r["id"] for r in ahead["rules_here"]] == [new_id]
    before = _explain(client, admin, IN_DONGCHENG, on="2026-01-31")
    assert before["route"]["rule"] == "district_fallback" and before["rules_here"] == []
    bad = client.get(
        "/api/v1/duty-rules/explain",
        params={"category": "E0101", **IN_DONGCHENG, "on": "someday"},
        headers=admin,
    )
    assert bad.status_code == 422

    # The catalogue lists the rule in force today beside the one scheduled after it.
    listed = client.get("/api/v1/duty-rules", headers=admin).json()
    assert [(r["id"], r["valid_to"]) for r in listed] == [
        (old["id"], "2026-04-01"),
        (new_id, None),
    ]
    on_day = client.get("/api/v1/duty-rules", params={"on": "2026-04-01"}, headers=admin).json()
    assert [r["id"] for r in on_day] == [new_id]


def test_bad_rules_are_422_naming_each_field(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    admin = as_["cityadmin"]
    for change, field, rule in [
        ({"department_code": "nobody"}, "department_code", "known-department"),
        ({"category_prefix": "E1"}, "category_prefix", "category-prefix"),
        ({"area_code": "999999"}, "area_code", "area-exists"),
        ({"kind": "boss"}, "kind", "duty-kind"),
        ({"kind": "territorial", "area_code": "110101001001"}, "area_code", "territorial-level"),
        ({"valid_from": "someday"}, "valid_from", "date_from_datetime_parsing"),
    ]:
        resp = client.post("/api/v1/duty-rules", json={**RULE, **change}, headers=admin)
        assert resp.status_code == 422, (change, resp.text)
        first = resp.json()["errors"][0]
        assert (first["field"], first["rule"]) == (field, rule), first
    assert client.get("/api/v1/duty-rules", headers=admin).json() == []
    unknown = client.get(
        "/api/v1/duty-rules/explain", params={"category": "Z9999", **IN_DONGCHENG}, headers=admin
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "category"
    outside = _explain(client, admin, {"lon": 0.0, "lat": 0.0})
    assert outside["location"]["inside"] is False and outside["route"] is None


def test_reach_of_a_district_admin_over_rules(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    other = {**RULE, "area_code": "110102"}
    resp = client.post("/api/v1/duty-rules", json=other, headers=as_["dongcheng"])
    assert resp.status_code == 403, resp.text
    assert "110102" in resp.json()["detail"]
    city_rule = client.post("/api/v1/duty-rules", json=other, headers=as_["cityadmin"]).json()
    end = client.post(
        f"/api/v1/duty-rules/{city_rule['id']}/end", json={}, headers=as_["dongcheng"]
    )
    assert end.status_code == 403
    mine = client.post("/api/v1/duty-rules", json=RULE, headers=as_["dongcheng"]).json()
    # A district admin's list holds only what lies inside the district.
    seen = client.get("/api/v1/duty-rules", headers=as_["dongcheng"]).json()
    assert [r["id"] for r in seen] == [mine["id"]]
    everything = client.get("/api/v1/duty-rules", headers=as_["cityadmin"]).json()
    assert {r["id"] for r in everything} == {mine["id"], city_rule["id"]}
    assert client.post("/api/v1/duty-rules", json=RULE, headers=as_["analyst"]).status_code == 403
    assert client.get("/api/v1/duty-rules").status_code == 401


def _user_id(client: TestClient, who: dict[str, str], name: str) -> int:
    users = client.get("/api/v1/users", headers=who).json()
    items = users["items"] if isinstance(users, dict) else users
    return next(int(u["id"]) for u in items if u["username"] == name)


def test_inspectors_grids_assign_list_end(
    client: TestClient, as_: SignIns, admin_city: Database
) -> None:
    admin = as_["dongcheng"]
    grids = [
        g["code"]
        for g in client.get("/api/v1/unit-grids", params={"community": "110101001001"}).json()
    ][:2]
    insp = _user_id(client, as_["cityadmin"], "insp")
    resp = client.post(
        "/api/v1/inspector-grids",
        json={"user_id": insp, "unit_grid_codes": grids, "valid_from": "2026-03-01"},
        headers=admin,
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["added"] == 2
    assert {a["unit_grid_code"] for a in resp.json()["assignments"]} == set(grids)
    again = client.post(
        "/api/v1/inspector-grids", json={"user_id": insp, "unit_grid_codes": grids}, headers=admin
    )
    assert again.json()["added"] == 0
    listed = client.get("/api/v1/inspector-grids", params={"user_id": insp}, headers=admin).json()
    assert [(a["username"], a["unit_grid_code"]) for a in listed] == [
        ("insp", g) for g in sorted(grids)
    ]

    ended = client.post(
        "/api/v1/inspector-grids/end",
        json={"user_id": insp, "unit_grid_code": grids[0], "valid_to": "2026-03-05"},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["valid_to"] == "2026-03-05"
    # Listed as of today until its last day (the 4th), with the day it ends.
    still = client.get("/api/v1/inspector-grids", params={"user_id": insp}, headers=admin).json()
    assert sorted((a["unit_grid_code"], a["valid_to"]) for a in still) == sorted(
        [(grids[0], "2026-03-05"), (grids[1], None)]
    )
    after = client.get(
        "/api/v1/inspector-grids", params={"user_id": insp, "on": "2026-03-05"}, headers=admin
    ).json()
    assert [a["unit_grid_code"] for a in after] == [grids[1]]
    assert (
        client.post(
            "/api/v1/inspector-grids/end",
            json={"user_id": insp, "unit_grid_code": grids[0]},
            headers=admin,
        ).status_code
        == 404
    )

    analyst = _user_id(client, as_["cityadmin"], "analyst")
    for body, field, rule in [
        ({"user_id": analyst, "unit_grid_codes": grids}, "user_id", "inspector-role"),
        ({"user_id": 99999, "unit_grid_codes": grids}, "user_id", "user-exists"),
        (
            {"user_id": insp, "unit_grid_codes": ["110101001001999"]},
            "unit_grid_codes",
            "unit-grid-exists",
        ),
        ({"user_id": insp, "unit_grid_codes": []}, "unit_grid_codes", "too_short"),
    ]:
        resp = client.post("/api/v1/inspector-grids", json=body, headers=as_["cityadmin"])
        assert resp.status_code == 422, (body, resp.text)
        first = resp.json()["errors"][0]
        assert (first["field"], first["rule"]) == (field, rule), first
