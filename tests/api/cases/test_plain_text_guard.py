"""Every body, query and path of the v1 API is plain text (``api.plain_text``), on both
databases: PostgreSQL refuses NUL in text, so each of these was a 500 there."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create

pytestmark = pytest.mark.postgres
JSON = {"content-type": "application/json"}


def test_a_control_character_in_a_transition_reason_is_refused_before_anything_is_written(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"], channel="web_app")
    sent = json.dumps({"reason": "作废\u0000", "expected_version": 1})
    who = {**as_["leader"], **JSON}
    resp = client.post(f"{BASE}/{case['id']}/cancel", content=sent, headers=who)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["errors"] == [
        {
            "field": "reason",
            "rule": "control_character",
            "message": resp.json()["errors"][0]["message"],
        }
    ]
    assert "U+0000" in resp.json()["detail"]
    again = client.get(f"{BASE}/{case['id']}", headers=as_["leader"]).json()
    assert (again["status"], again["version"]) == ("to_verify", 1)


def test_a_nested_field_and_a_list_item_are_named(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    sent = json.dumps({"a": [{"b": "x"}, {"b": "y\u001b"}], "reporter": {"name": "\u0007"}})
    resp = client.post(BASE, content=sent, headers={**as_["insp"], **JSON})
    assert resp.status_code == 422
    fields = [e["field"] for e in resp.json()["errors"]]
    assert fields == ["a.1.b", "reporter.name"]


def test_a_query_or_a_path_with_a_control_character_is_refused(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    resp = client.get(f"{BASE}?q=ab%00c", headers=as_["leader"])
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "q", resp.text
    resp = client.get(f"{BASE}?area=%1b110101", headers=as_["leader"])
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "area"
    resp = client.get("/api/v1/areas/1101%0001", headers=as_["leader"])
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "path"


def test_plain_text_passes_untouched(client: TestClient, as_: dict[str, Headers]) -> None:
    # Tabs and line breaks, an escaped backslash before "u0000" (the text \u0000, not a NUL),
    # and a query with percent-escapes of ordinary characters.
    case = create(client, as_["insp"], description="路面\t破损\r\n见 C:\\u0000 照片")
    assert case["description"] == "路面\t破损\r\n见 C:\\u0000 照片"
    listed = client.get(f"{BASE}?q=%E8%B7%AF%E9%9D%A2", headers=as_["leader"])
    assert listed.status_code == 200, listed.text
