"""The city's time limits and calendar saved from the admin pages: validated, versioned, and
in force for new cases at once; the past kept as it was."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.admin.conftest import Headers, sign_in
from tests.api.cases.test_cases_api import create
from tests.rule_documents import new_limits_version

pytestmark = pytest.mark.postgres
LIMITS = "/api/v1/admin/time-limits"
CALENDAR = "/api/v1/admin/calendar"


def _deadline(case: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(case["clock"]["deadline"].replace("Z", "+00:00"))


def _put(
    client: TestClient, path: str, who: Headers, document: Any, base: int, note: str = "x"
) -> Any:
    return client.put(
        path, json={"document": document, "note": note, "base_revision": base}, headers=who
    )


def test_a_new_version_applies_to_cases_filed_from_its_first_day(
    client: TestClient, as_: dict[str, Headers], clock: FixedClock
) -> None:
    admin = as_["admin"]
    before = client.get(LIMITS, headers=admin).json()
    assert (before["source"], before["revision"], before["in_force"]) == ("file", 0, "2025.01")
    doc = before["document"]
    doc["versions"].append(new_limits_version("2026.03", "2026-03-03"))  # tomorrow in Beijing
    saved = _put(client, LIMITS, admin, doc, 0, "dispatch within one hour")
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 1 and saved.json()["note"] == "dispatch within one hour"

    after = client.get(LIMITS, headers=admin).json()
    assert (after["source"], after["revision"], after["saved_by_name"]) == ("revision", 1, "admin")
    assert after["in_force"] == "2025.01"
    today = create(client, as_["insp"])
    assert today["limits_version"] == "2025.01"  # filed today: the version in force today
    clock.advance(timedelta(days=1))  # Tuesday 09:00
    tomorrow = create(client, sign_in(client, "insp"))
    assert tomorrow["limits_version"] == "2026.03"
    assert _deadline(tomorrow) - clock.now() == timedelta(hours=1)
    # The case filed yesterday keeps its version.
    again = client.get(f"/api/v1/cases/{today['id']}", headers=sign_in(client, "insp")).json()
    assert again["limits_version"] == "2025.01"


def test_a_holiday_from_today_moves_new_deadlines_at_once(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    admin = as_["admin"]
    plain = create(client, as_["insp"])
    assert _deadline(plain).isoformat() == "2026-03-02T03:00:00+00:00"  # 09:00 + 2 h
    cal = client.get(CALENDAR, headers=admin).json()
    assert cal["source"] == "file" and cal["revision"] == 0
    doc = cal["document"]
    doc["years"]["2026"]["holidays"].append(
        {"name": "City Day", "name_zh": "城市日", "from": "2026-03-02", "to": "2026-03-02"}
    )
    saved = _put(client, CALENDAR, admin, doc, 0, "城市日放假")
    assert saved.status_code == 200, saved.text
    moved = create(client, as_["insp"])
    assert _deadline(moved).isoformat() == "2026-03-03T02:30:00+00:00"  # next day 08:30 + 2 h
    shown = client.get(CALENDAR, headers=admin).json()
    y2026 = next(y for y in shown["years"] if y["year"] == 2026)
    assert any(h["name"] == "City Day" for h in y2026["holidays"])
    assert shown["source"] == "revision" and shown["revision"] == 1


def test_a_stale_base_revision_is_a_conflict(client: TestClient, as_: dict[str, Headers]) -> None:
    admin = as_["admin"]
    doc = client.get(CALENDAR, headers=admin).json()["document"]
    assert _put(client, CALENDAR, admin, doc, 0, "first").status_code == 200
    stale = _put(client, CALENDAR, admin, doc, 0, "second, from the same page")
    assert stale.status_code == 409, stale.text
    assert stale.json()["current"]["revision"] == 1
    assert stale.json()["current"]["note"] == "first"
    assert _put(client, CALENDAR, admin, doc, 1, "second, reloaded").status_code == 200
    assert [r["revision"] for r in client.get(f"{CALENDAR}/history", headers=admin).json()] == [
        2,
        1,
    ]


def test_changing_a_version_in_force_is_refused_naming_it(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    admin = as_["admin"]
    doc = client.get(LIMITS, headers=admin).json()["document"]
    bad = copy.deepcopy(doc)
    bad["versions"][0]["defaults"]["handle"] = "4 working_days"
    bad["versions"].append(new_limits_version("2026.02", "2026-02-01"))
    resp = _put(client, LIMITS, admin, bad, 0)
    assert resp.status_code == 422, resp.text
    errors = {(e["field"], e["rule"]): e["message"] for e in resp.json()["errors"]}
    assert set(errors) == {
        ("versions[0]", "version_in_use_unchanged"),
        (f"versions[{len(bad['versions']) - 1}].valid_from", "starts_after_today"),
    }
    assert "2025.01" in errors[("versions[0]", "version_in_use_unchanged")]
    check = client.post(f"{LIMITS}/check", json=bad, headers=admin)
    assert check.status_code == 422 and len(check.json()["errors"]) == 2
    past_day = client.get(CALENDAR, headers=admin).json()["document"]
    past_day["years"]["2026"]["holidays"].append({"name": "Late", "from": "2026-02-27"})
    resp = _put(client, CALENDAR, admin, past_day, 0)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["rule"] == "past_days_unchanged"
    assert client.get(f"{LIMITS}/history", headers=admin).json() == []
    assert client.get(f"{CALENDAR}/history", headers=admin).json() == []
    missing_note = _put(client, LIMITS, admin, doc, 0, note=" ")
    assert missing_note.status_code == 422 and missing_note.json()["errors"][0]["field"] == "note"


def test_only_a_city_wide_admin_changes_the_city_rules(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    doc = client.get(CALENDAR, headers=as_["district"]).json()["document"]  # may read
    resp = _put(client, CALENDAR, as_["district"], doc, 0)
    assert resp.status_code == 403, resp.text
    assert _put(client, LIMITS, as_["insp"], {}, 0).status_code == 403
    assert client.get(f"{LIMITS}/history", headers=as_["insp"]).status_code == 403
    assert _put(client, LIMITS, {}, {}, 0).status_code == 401
    assert client.get(f"{CALENDAR}/history", headers=as_["admin"]).json() == []


def test_history_is_kept_and_never_rewritten(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    admin = as_["admin"]
    doc = client.get(LIMITS, headers=admin).json()["document"]
    assert _put(client, LIMITS, admin, doc, 0, "as shipped").status_code == 200
    clock.advance(timedelta(minutes=5))
    doc["versions"].append(new_limits_version("2027.01", "2027-01-01"))
    assert _put(client, LIMITS, admin, doc, 1, "2027 limits").status_code == 200
    rows = client.get(f"{LIMITS}/history", headers=admin).json()
    assert [(r["revision"], r["note"], r["saved_by_name"]) for r in rows] == [
        (2, "2027 limits", "admin"),
        (1, "as shipped", "admin"),
    ]
    assert rows[0]["document"] is None and rows[0]["saved_at"] > rows[1]["saved_at"]
    one = client.get(f"{LIMITS}/revisions/1", headers=admin).json()
    assert [v["version"] for v in one["document"]["versions"]] == ["2025.01", "2026.11"]
    assert client.get(f"{LIMITS}/revisions/9", headers=admin).status_code == 404
    for sql in (
        "UPDATE case_rule_revisions SET note = 'rewritten'",
        "DELETE FROM case_rule_revisions",
    ):
        with pytest.raises(DBAPIError, match="append-only"), city.engine.begin() as conn:
            conn.execute(text(sql))
    assert len(client.get(f"{LIMITS}/history", headers=admin).json()) == 2


def test_new_working_hours_from_tomorrow_count_new_deadlines_and_then_stay(
    client: TestClient, as_: dict[str, Headers], clock: FixedClock
) -> None:
    admin = as_["admin"]
    cal = client.get(CALENDAR, headers=admin).json()
    assert cal["working_period_changes"] == [] and cal["day_hours"] == 7.5
    doc = cal["document"]
    summer = {
        "from": "2026-03-03",
        "name": "summer hours",
        "periods": [["08:00", "12:00"], ["14:00", "18:00"]],
    }
    doc["working_period_changes"] = [summer]
    saved = _put(client, CALENDAR, admin, doc, 0, "夏季作息")
    assert saved.status_code == 200, saved.text
    shown = client.get(CALENDAR, headers=admin).json()
    assert shown["working_periods"] == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert shown["working_period_changes"] == [
        {
            "first": "2026-03-03",
            "name": "summer hours",
            "periods": summer["periods"],
            "day_hours": 8.0,
        }
    ]
    today = create(client, as_["insp"])
    assert _deadline(today).isoformat() == "2026-03-02T03:00:00+00:00"  # 09:00 + 2 h, as before
    clock.advance(timedelta(hours=26))  # Tuesday 11:00, under the new hours
    tomorrow = create(client, sign_in(client, "insp"))
    assert _deadline(tomorrow).isoformat() == "2026-03-03T07:00:00+00:00"  # 11–12, 14–15

    # In force since today, the change can no longer go or move.
    admin = sign_in(client, "admin")
    doc["working_period_changes"] = []
    refused = _put(client, CALENDAR, admin, doc, 1, "back to the old hours")
    assert refused.status_code == 422, refused.text
    assert {(p["field"], p["rule"]) for p in refused.json()["errors"]} == {
        ("working_period_changes", "working_periods_unchanged")
    }
    assert client.get(CALENDAR, headers=admin).json()["revision"] == 1
