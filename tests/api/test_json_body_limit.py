"""A JSON body past 1 MiB is refused before it is parsed, naming the rule."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from onegrid.api.plain_text import JSON_MAX_BYTES


def test_a_json_body_past_the_limit_is_a_413_before_any_parsing(client: TestClient) -> None:
    body = json.dumps({"description": "x" * JSON_MAX_BYTES, "lon": 116.3, "lat": 39.9})
    resp = client.post("/api/v1/cases", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"] == [
        {"field": "body", "rule": "max_size", "message": "a JSON body is at most 1,048,576 bytes"}
    ]


def test_a_json_body_within_the_limit_reaches_the_route(client: TestClient) -> None:
    body = json.dumps({"description": "x" * 5000, "lon": 116.3, "lat": 39.9})
    resp = client.post("/api/v1/cases", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 422  # the route's own rules answer (description, category…)
    assert "max_size" not in resp.text


def test_a_body_that_is_not_json_names_the_body_and_where_parsing_stopped(
    client: TestClient,
) -> None:
    resp = client.post(
        "/api/v1/cases", content=b'{"lon": x}', headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    [error] = resp.json()["errors"]
    assert (error["field"], error["rule"]) == ("body", "json_invalid")
    assert error["message"].endswith("at character 8")
