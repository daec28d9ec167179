"""The sensing API: HTTP batch ingest with an API key, bad input as 4xx naming the field,
devices, series, alerts and rules."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.models import ReadingRow
from tests.api.sensing.conftest import Headers
from tests.integration.sensing.city import City

URL = "/api/v1/sensing/readings"


def stored(db: Database) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(ReadingRow)).scalar_one())


def test_a_gateway_posts_a_batch(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    keys: dict[str, Headers],
    users: dict[str, Headers],
) -> None:
    now = clock.now().isoformat()
    body = {
        "readings": [
            {"device": "AQ-W1", "ts": now, "values": {"pm2_5": 31.5, "pm10": 60}},
            {"device": "AQ-E1", "ts": now, "values": {"pm2_5": 0.05}, "units": {"pm2_5": "mg/m3"}},
        ]
    }
    resp = client.post(URL, json=body, headers=keys["gateway"])
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "accepted": 3,
        "alerts_raised": [],
        "alerts_reopened": [],
        "alerts_cleared": [],
    }
    device = client.get("/api/v1/sensing/devices/AQ-E1", headers=users["analyst"]).json()
    assert device["latest"]["pm2_5"]["value"] == 50.0
    assert device["latest"]["pm2_5"]["unit"] == "µg/m³"
    assert device["areas"]["district"] == "110112"
    stats = client.get("/api/v1/sensing/ingest/stats", headers=keys["gateway"]).json()
    assert stats["accepted"] == {"http": 3}


def test_bad_input_is_a_422_naming_each_field_and_stores_nothing(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    keys: dict[str, Headers],
    users: dict[str, Headers],
) -> None:
    now = clock.now()
    body = {
        "readings": [
            {"device": "AQ-W1", "ts": now.isoformat(), "values": {"pm2_5": 31.5}},
            {"device": "AQ-W1", "ts": now.isoformat(), "values": {"pm2_5": "lots"}},
            {
                "device": "AQ-W1",
                "ts": (now + timedelta(hours=2)).isoformat(),
                "values": {"pm2_5": 1},
            },
            {"device": "AQ-W1", "values": {"pm2_5": 1}, "units": {"pm2_5": "°C"}},
            {"device": "NOPE", "values": {"pm2_5": 1}},
        ]
    }
    resp = client.post(URL, json=body, headers=keys["gateway"])
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    errors = [(e["field"], e["rule"]) for e in resp.json()["errors"]]
    assert errors == [
        ("readings[1].values.pm2_5", "bad_value"),
        ("readings[2].ts", "future_timestamp"),
        ("readings[3].units.pm2_5", "unit_mismatch"),
        ("readings[4].device", "unknown_device"),
    ]
    assert stored(db) == 0
    not_json = client.post(
        URL, content=b"{oops", headers={**keys["gateway"], "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["rule"] == "malformed_json"
    stats = client.get("/api/v1/sensing/ingest/stats", headers=users["analyst"]).json()
    assert stats["rejected"]["http"] == {
        "bad_value": 1,
        "future_timestamp": 1,
        "unit_mismatch": 1,
        "unknown_device": 1,
        "malformed_json": 1,
    }
    assert stats["accepted"] == {}
    letters = client.get("/api/v1/sensing/dead-letters", headers=users["admin"]).json()
    assert len(letters) == 5 and letters[0]["payload"] == "{oops"


def test_who_may_post(
    client: TestClient, clock: FixedClock, keys: dict[str, Headers], users: dict[str, Headers]
) -> None:
    body = {"readings": [{"device": "AQ-W1", "values": {"pm2_5": 1}}]}
    assert client.post(URL, json=body).status_code == 401
    assert client.post(URL, json=body, headers={"X-API-Key": "og_nonsense"}).status_code == 401
    assert client.post(URL, json=body, headers=users["citizen"]).status_code == 403
    # A gateway of the east district may post for east devices only.
    assert client.post(URL, json=body, headers=keys["east"]).status_code == 403
    east = {"readings": [{"device": "AQ-E1", "values": {"pm2_5": 1}}]}
    assert client.post(URL, json=east, headers=keys["east"]).status_code == 200


def test_an_alert_raised_over_http_opens_a_case(
    client: TestClient,
    clock: FixedClock,
    keys: dict[str, Headers],
    users: dict[str, Headers],
    city: City,
) -> None:
    body = {
        "readings": [
            {"device": "COVER-1", "ts": clock.now().isoformat(), "values": {"cover_open": 1}}
        ]
    }
    resp = client.post(URL, json=body, headers=keys["gateway"])
    assert resp.status_code == 200 and len(resp.json()["alerts_raised"]) == 1
    alerts = client.get("/api/v1/sensing/alerts?status=active", headers=users["analyst"]).json()
    assert [(a["rule_code"], a["case_state"], a["department_code"]) for a in alerts] == [
        ("cover.open", "opened", "water")
    ]
    assert alerts[0]["case_number"].startswith("C0102")


def test_devices_are_registered_by_admins_with_every_problem_named(
    client: TestClient, users: dict[str, Headers], city: City
) -> None:
    url = "/api/v1/sensing/devices/AQ-NEW"
    good = {"kind": "air_micro", "lon": 116.301, "lat": 39.911, "name": "新微站"}
    assert client.put(url, json=good, headers=users["analyst"]).status_code == 403
    resp = client.put(url, json=good, headers=users["admin"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["quantities"] == {
        "pm2_5": "µg/m³",
        "pm10": "µg/m³",
        "temperature": "°C",
        "humidity": "%",
    }
    bad = {
        "kind": "air_micro",
        "lon": 116.301,
        "lat": 39.911,
        "quantities": {"pm2_5": "°C", "pm9": "µg/m³"},
        "interval_s": 0,
        "component_id": city.cover,
    }
    resp = client.put(url, json=bad, headers=users["admin"])
    assert resp.status_code == 422
    assert {(e["field"], e["rule"]) for e in resp.json()["errors"]} == {
        ("quantities.pm2_5", "unit_for_quantity"),
        ("quantities.pm9", "known_quantity"),
        ("interval_s", "interval_range"),
        ("component_id", "component_class_for_kind"),
    }
    outside = {**good, "lon": 117.0}
    resp = client.put(url, json=outside, headers=users["admin"])
    assert resp.status_code == 422 and resp.json()["errors"][0]["rule"] == "inside_city"
    page = client.get(
        "/api/v1/sensing/devices?area=110101&kind=air_micro", headers=users["analyst"]
    ).json()
    assert [d["id"] for d in page["items"]] == ["AQ-NEW", "AQ-W1"] and page["total"] == 2
    assert client.delete(url, headers=users["admin"]).json()["active"] is False


def test_series_and_rules(
    client: TestClient, clock: FixedClock, keys: dict[str, Headers], users: dict[str, Headers]
) -> None:
    start = clock.now() - timedelta(hours=1)
    body = {
        "readings": [
            {
                "device": "AQ-W1",
                "ts": (start + timedelta(minutes=m)).isoformat(),
                "values": {"pm2_5": float(m)},
            }
            for m in range(60)
        ]
    }
    assert client.post(URL, json=body, headers=keys["gateway"]).status_code == 200
    resp = client.get(
        "/api/v1/sensing/series",
        params={
            "quantity": "pm2_5",
            "device": "AQ-W1",
            "start": start.isoformat(),
            "end": clock.now().isoformat(),
            "bucket_s": 900,
        },
        headers=users["analyst"],
    )
    assert resp.status_code == 200, resp.text
    series = resp.json()
    assert series["unit"] == "µg/m³"
    assert [(p["count"], p["mean"]) for p in series["points"]] == [
        (15, 7.0),
        (15, 22.0),
        (15, 37.0),
        (15, 52.0),
    ]
    bad = client.get("/api/v1/sensing/series", params={"quantity": "pm9"}, headers=users["analyst"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quantity"
    rules = client.get("/api/v1/sensing/rules", headers=users["analyst"]).json()
    assert "aq.pm25.high" in {r["code"] for r in rules}
    change = {
        "rules": [
            {
                "code": "aq.pm25.high",
                "name": "PM2.5 above 115",
                "kind": "threshold",
                "quantity": "pm2_5",
                "above": 115,
                "for": "1h",
            }
        ]
    }
    resp = client.put("/api/v1/sensing/rules", json=change, headers=users["admin"])
    assert resp.json() == {"changed": ["aq.pm25.high"]}
    broken = {"rules": [{"code": "x", "kind": "threshold", "quantity": "pm2_5"}]}
    resp = client.put("/api/v1/sensing/rules", json=broken, headers=users["admin"])
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "rules[0].above"


def test_the_openapi_document_describes_the_batch(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/sensing/readings"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["readings"]
    assert "/ngsi-ld/v1/entities" in spec["paths"]
