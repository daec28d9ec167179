"""NGSI-LD: a FIWARE-style client lists entities of a type with their latest values."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from tests.api.sensing.conftest import Headers

BASE = "/ngsi-ld/v1"


def post(client: TestClient, clock: FixedClock, key: Headers) -> None:
    t = clock.now()
    body = {
        "readings": [
            {
                "device": "AQ-W1",
                "ts": (t - timedelta(minutes=1)).isoformat(),
                "values": {"pm2_5": 20.0},
            },
            {"device": "AQ-W1", "ts": t.isoformat(), "values": {"pm2_5": 90.0, "pm10": 130.0}},
            {"device": "AQ-E1", "ts": t.isoformat(), "values": {"pm2_5": 40.0}},
        ]
    }
    assert client.post("/api/v1/sensing/readings", json=body, headers=key).status_code == 200


def test_entities_of_a_type_with_their_latest_values(
    client: TestClient, clock: FixedClock, keys: dict[str, Headers]
) -> None:
    post(client, clock, keys["gateway"])
    resp = client.get(
        f"{BASE}/entities", params={"type": "AirQualityObserved"}, headers=keys["gateway"]
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in resp.headers["link"]
    entities = {e["id"]: e for e in resp.json()}
    assert set(entities) == {
        "urn:ngsi-ld:AirQualityObserved:AQ-E1",
        "urn:ngsi-ld:AirQualityObserved:AQ-W1",
    }
    west = entities["urn:ngsi-ld:AirQualityObserved:AQ-W1"]
    assert west["type"] == "AirQualityObserved"
    assert west["pm25"]["value"] == 90.0 and west["pm25"]["unitCode"] == "GQ"
    assert west["pm25"]["observedAt"] == "2026-03-02T01:00:00.000Z"
    assert west["location"]["value"]["coordinates"] == [116.302, 39.912]


def test_query_options(client: TestClient, clock: FixedClock, keys: dict[str, Headers]) -> None:
    post(client, clock, keys["gateway"])
    resp = client.get(
        f"{BASE}/entities",
        params={
            "type": "AirQualityObserved",
            "q": "pm25>50",
            "options": "keyValues,count",
            "attrs": "pm25,pm10",
        },
        headers={**keys["gateway"], "Accept": "application/ld+json"},
    )
    assert resp.headers["content-type"] == "application/ld+json"
    assert resp.headers["NGSILD-Results-Count"] == "1"
    (entity,) = resp.json()
    assert entity["pm25"] == 90.0 and entity["pm10"] == 130.0 and "location" not in entity
    assert entity["@context"]
    paged = client.get(
        f"{BASE}/entities",
        params={"type": "AirQualityObserved", "limit": 1, "offset": 1},
        headers=keys["gateway"],
    )
    assert [e["id"] for e in paged.json()] == ["urn:ngsi-ld:AirQualityObserved:AQ-W1"]
    one = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:AQ-E1", headers=keys["gateway"]
    )
    assert one.json()["pm25"]["value"] == 40.0
    types = client.get(f"{BASE}/types", headers=keys["gateway"]).json()
    assert "AirQualityObserved" in types["typeList"]


def test_errors_use_ngsi_ld_problem_types(client: TestClient, keys: dict[str, Headers]) -> None:
    missing = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AirQualityObserved:NOPE", headers=keys["gateway"]
    )
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    bare = client.get(f"{BASE}/entities", headers=keys["gateway"])
    assert bare.status_code == 400
    assert bare.json()["type"].endswith("BadRequestData")
    assert client.get(f"{BASE}/entities", params={"type": "AirQualityObserved"}).status_code == 401
