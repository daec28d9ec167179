"""The web's citizen report (POST /api/v1/cases) is screened for duplicates like the hotline's
calls: a repeat is proposed, named in ``Possible-Duplicate-Of``, and once a dispatcher confirms
it, its reporter is among those kept informed of the open case."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.dispatch.conftest import Headers
from tests.integration.cases.city import IN_CORE, IN_SUBURB

pytestmark = pytest.mark.postgres
CASES = "/api/v1/cases"


def report(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category_code": "E0102",
        "channel": "web_app",
        "description": "小区东门垃圾堆积 rubbish at the east gate",
        "lon": IN_CORE[0],
        "lat": IN_CORE[1],
        "reporter": {"name": "李四", "phone": "13900001111"},
    }
    out.update(kw)
    return out


def test_a_repeated_web_report_is_proposed_and_its_reporter_kept_informed(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    first = client.post(CASES, json=report())
    assert first.status_code == 201 and "Possible-Duplicate-Of" not in first.headers
    again = client.post(CASES, json=report(reporter={"name": "王五", "phone": "13900002222"}))
    assert again.status_code == 201, again.text
    assert again.headers["Possible-Duplicate-Of"] == first.json()["number"]
    desk = as_["desk"]
    [proposal] = client.get("/api/v1/hotline/duplicates", headers=desk).json()
    assert (proposal["case_id"], proposal["existing_case_id"]) == (
        again.json()["id"],
        first.json()["id"],
    )
    done = client.post(f"/api/v1/hotline/duplicates/{proposal['id']}/confirm", headers=desk)
    assert done.status_code == 200, done.text
    merged = client.get(f"{CASES}/{again.json()['id']}", headers=desk).json()
    assert merged["status"] == "merged"
    informed = client.get(
        f"/api/v1/hotline/cases/{first.json()['id']}/requesters", headers=desk
    ).json()
    assert [r["source"] for r in informed] == ["case", "merged_case"]


def test_far_away_or_another_kind_is_no_duplicate_and_a_retry_answers_the_same(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    first = client.post(CASES, json=report()).json()
    far = client.post(CASES, json=report(lon=IN_SUBURB[0], lat=IN_SUBURB[1]))
    other = client.post(CASES, json=report(category_code="E0101"))
    assert far.status_code == other.status_code == 201
    assert "Possible-Duplicate-Of" not in far.headers
    assert "Possible-Duplicate-Of" not in other.headers
    key = {"Idempotency-Key": "web-report-1"}
    one = client.post(CASES, json=report(), headers=key)
    two = client.post(CASES, json=report(), headers=key)
    assert (one.status_code, two.status_code) == (201, 200)
    assert one.headers["Possible-Duplicate-Of"] == two.headers["Possible-Duplicate-Of"]
    assert one.headers["Possible-Duplicate-Of"] == first["number"]
    listed = client.get("/api/v1/hotline/duplicates", headers=as_["desk"]).json()
    assert [p["case_id"] for p in listed] == [one.json()["id"]]  # screened once
