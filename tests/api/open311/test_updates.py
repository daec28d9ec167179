"""servicerequestupdates both ways: the history as updates, posted notes once per update_id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.cases.history import HISTORY
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.open311.conftest import (
    BASE,
    Keys,
    create,
    errors_json,
    errors_xml,
    valid_json,
    xml_of,
)

pytestmark = pytest.mark.postgres


def notes(db: Database) -> int:
    with db.unit_of_work() as s:
        stmt = select(func.count()).select_from(HISTORY).where(HISTORY.c.action == "open311_update")
        return int(s.execute(stmt).scalar_one())


def update(number: str, key: str | None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service_request_id": number,
        "update_id": "fms-comment-7",
        "updated_datetime": "2026-03-02T09:30:00+08:00",
        "status": "OPEN",
        "description": "还没清理 still there",
        "first_name": "San",
        "email": "zhang@example.org",
        "media_url": "https://img.example.org/7.jpg",
        "api_key": key,
    }
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}


def test_a_posted_update_is_kept_once(
    client: TestClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    number = create(client, keys.client)
    clock.advance(timedelta(minutes=30))
    resp = client.post(f"{BASE}/servicerequestupdates.json", data=update(number, keys.client))
    assert resp.status_code == 200, resp.text
    [result] = valid_json(resp, "update_result")
    again = client.post(f"{BASE}/servicerequestupdates.json", data=update(number, keys.client))
    [error] = errors_json(again, 400)
    assert "fms-comment-7" in error["description"] and "already" in error["description"]
    assert notes(db) == 1
    listed = valid_json(client.get(f"{BASE}/servicerequestupdates.json"), "updates")
    assert [u["service_request_id"] for u in listed] == [number, number]
    posted = listed[-1]
    assert posted["update_id"] == result["update_id"]
    assert posted["description"] == "还没清理 still there"
    assert posted["media_url"] == "https://img.example.org/7.jpg"
    assert posted["updated_datetime"] == "2026-03-02T01:30:00Z"
    [ext] = client.get(f"{BASE}/requests/{number}.json", params={"extensions": "true"}).json()
    assert ext["notes"][-1]["type"] == "open311_update"
    assert "zhang" not in str(ext)  # the commenter's personal data is not kept or shown


def test_updates_in_xml_and_in_a_window(client: TestClient, keys: Keys, clock: FixedClock) -> None:
    number = create(client, keys.client)
    ok = client.post(f"{BASE}/servicerequestupdates.xml", data=update(number, keys.client))
    root = xml_of(ok)
    assert root.tag == "service_requests_updates" and [e.tag for e in root] == ["request_update"]
    assert root.findtext("request_update/update_id")
    listed = xml_of(client.get(f"{BASE}/servicerequestupdates.xml"))
    assert [e.tag for e in listed] == ["request_update", "request_update"]
    later = {"start_date": "2026-03-02T01:00:01Z", "end_date": "2026-03-03T00:00:00Z"}
    assert (
        valid_json(client.get(f"{BASE}/servicerequestupdates.json", params=later), "updates") == []
    )
    errors_json(
        client.get(f"{BASE}/servicerequestupdates.json", params={"start_date": "soon"}), 400
    )
    errors_json(
        client.get(f"{BASE}/servicerequestupdates.json", params={"jurisdiction_id": "x"}), 404
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_update_errors_in_order(
    client: TestClient, keys: Keys, db: Database, fmt: str
) -> None:
    number = create(client, keys.client)
    url = f"{BASE}/servicerequestupdates.{fmt}"

    def errors(status: int, data: dict[str, Any]) -> list[str]:
        resp = client.post(url, data=data)
        if fmt == "json":
            return [e["description"] for e in errors_json(resp, status)]
        return errors_xml(resp, status)

    assert "api_key" in errors(403, update(number, None, update_id=None))[0]
    assert "api_key" in errors(403, update(number, keys.other))[0]
    missing = errors(400, update(number, keys.client, update_id=None, status=None))
    assert missing == ["update_id is required", "status is required"]
    assert "W3C" in errors(400, update(number, keys.client, updated_datetime="today"))[0]
    assert "status" in errors(400, update(number, keys.client, status="maybe"))[0]
    assert "4000" in errors(400, update(number, keys.client, description="x" * 4001))[0]
    assert "E0000000" in errors(404, update("E0000000", keys.client))[0]
    assert "jurisdiction" in errors(404, update(number, keys.client, jurisdiction_id="x"))[0]
    assert notes(db) == 0
    ok = client.post(url, data=update(number, keys.client, status="in_progress"))
    assert ok.status_code == 200, ok.text
