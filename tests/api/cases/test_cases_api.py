"""The v1 case API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from onegrid.cases.config import CasesSettings
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services as grid
from tests.api.cases.conftest import Headers
from tests.api.signins import sign_in
from tests.integration.cases.city import (
    CITY,
    CORE_SUB,
    IN_CORE,
    IN_SUBURB,
    OUTSIDE,
    split_core_community,
)

pytestmark = pytest.mark.postgres
BASE = "/api/v1/cases"


def body(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category_code": "E0102",
        "channel": "inspector",
        "description": "垃圾堆积",
        "lon": IN_CORE[0],
        "lat": IN_CORE[1],
        "address": "示范路 1 号",
        "reporter": {"name": "张三", "phone": "13812345678"},
    }
    out.update(kw)
    return out


def create(client: TestClient, headers: Headers | None = None, **kw: Any) -> dict[str, Any]:
    resp = client.post(BASE, json=body(**kw), headers=headers or {})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def post(client: TestClient, case: dict[str, Any], action: str, who: Headers, **kw: Any) -> Any:
    return client.post(f"{BASE}/{case['id']}/{action}", json=kw, headers=who)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, format="PNG")
    return out.getvalue()


def rule_of(resp: Any) -> str:
    return resp.json()["errors"][0]["rule"]  # type: ignore[no-any-return]


def test_anonymous_public_report_is_created_and_masked(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    resp = client.post(BASE, json=body(channel="web_app"))
    assert resp.status_code == 201, resp.text
    case = resp.json()
    assert case["status"] == "to_verify" and case["number"].startswith("E0102")
    assert resp.headers["Location"] == f"{BASE}/{case['id']}" and resp.headers["ETag"] == '"1"'
    assert case["reporter"] == {
        "name": "张*",
        "phone": "138****5678",
        "email": None,
        "masked": True,
    }
    assert case["clock"]["step"] == "dispatch" and case["clock"]["light"] == "green"
    assert case["allowed_actions"] == ["verify", "cancel", "merge"]
    seen = client.get(f"{BASE}/{case['id']}", headers=as_["leader"]).json()
    assert seen["reporter"]["phone"] == "13812345678" and not seen["reporter"]["masked"]
    masked = client.get(f"{BASE}/{case['id']}", headers=as_["insp"]).json()
    assert masked["reporter"]["masked"]  # inspectors do not call reporters back
    assert client.get(f"{BASE}/{case['id']}").status_code == 401
    assert client.get(f"{BASE}/{case['id']}", headers=as_["analyst"]).status_code == 403
    assert client.get(f"{BASE}/{case['id']}", headers=as_["sanit"]).status_code == 403


def test_bad_input_is_a_4xx_naming_the_rule(client: TestClient, as_: dict[str, Headers]) -> None:
    insp = as_["insp"]
    cases = [
        (body(category_code="E9999"), 422, "known_category"),
        (body(lon=OUTSIDE[0], lat=OUTSIDE[1]), 422, "inside_city"),
        (body(channel="pigeon"), 422, "enum"),
        (body(channel="sensor"), 422, "channel_role"),
        (body(description=""), 422, "required"),
    ]
    for payload, status, rule in cases:
        resp = client.post(BASE, json=payload, headers=insp)
        assert (resp.status_code, rule_of(resp)) == (status, rule), resp.text
        assert resp.headers["content-type"] == "application/problem+json"
    assert client.get(BASE, headers=as_["leader"]).json()["items"] == []


def test_a_control_character_is_a_422_naming_the_field(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    # PostgreSQL refuses NUL in text: each of these was a 500 there before the check.
    payload = body(
        description="垃圾\x00堆积",
        address="示范路\x1b 1 号",
        reporter={"name": "张\x00三", "email": "z\x00@example.org"},
        external_ref="ref\x00",
        category_code="E0102\x00",
    )
    resp = client.post(BASE, json=payload, headers=as_["insp"])
    assert resp.status_code == 422, resp.text
    found = {(e["field"], e["rule"]) for e in resp.json()["errors"]}
    assert {
        ("description", "control_character"),
        ("address", "control_character"),
        ("reporter.name", "control_character"),
        ("reporter.email", "control_character"),
        ("external_ref", "control_character"),
        ("category_code", "control_character"),
    } <= found, found
    # Nor an unpaired surrogate (not Unicode text: pydantic refuses it already).
    escaped = json.dumps(body(description="垃圾\ud800"))  # sent as the escape "\\ud800"
    json_type = {"content-type": "application/json"}
    resp = client.post(BASE, content=escaped, headers={**as_["insp"], **json_type})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "description"
    # Tabs and line breaks are plain text.
    assert create(client, as_["insp"], description="垃圾\r\n\t堆积")["id"]
    assert len(client.get(BASE, headers=as_["leader"]).json()["items"]) == 1


def test_every_broken_rule_of_a_report_is_answered_at_once(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    """The channel rule is reported with the field rules, so one round fixes everything."""
    payload = body(
        channel="sensor",  # an inspector may not report as a sensor
        category_code="E9999",
        description=" ",
        lat=95.0,
        reporter={"name": "张三", "phone": "call me"},
        tags=["no spaces allowed"],
    )
    resp = client.post(BASE, json=payload, headers=as_["insp"])
    assert resp.status_code == 422, resp.text
    found = {(e["field"], e["rule"]) for e in resp.json()["errors"]}
    assert found == {
        ("channel", "channel_role"),
        ("category_code", "known_category"),
        ("description", "required"),
        ("lat", "latitude"),
        ("reporter.phone", "phone_format"),
        ("tags", "tag_format"),
    }
    # A good point outside the city is named together with the channel rule too.
    outside = client.post(
        BASE,
        json=body(channel="sensor", lon=OUTSIDE[0], lat=OUTSIDE[1], description=""),
        headers=as_["insp"],
    )
    assert {(e["field"], e["rule"]) for e in outside.json()["errors"]} == {
        ("channel", "channel_role"),
        ("description", "required"),
        ("lon", "inside_city"),
        ("lat", "inside_city"),  # both are past the city's bounds
    }
    assert client.get(BASE, headers=as_["leader"]).json()["items"] == []


def test_idempotency_key(client: TestClient, as_: dict[str, Headers]) -> None:
    headers = {**as_["insp"], "Idempotency-Key": "abc-123"}
    first = client.post(BASE, json=body(), headers=headers)
    again = client.post(BASE, json=body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post(BASE, json=body(description="else"), headers=headers)
    assert other.status_code == 422 and rule_of(other) == "idempotency_key_reuse"
    assert len(client.get(BASE, headers=as_["leader"]).json()["items"]) == 1


def test_the_workflow_over_http(client: TestClient, as_: dict[str, Headers]) -> None:
    case = create(client, as_["insp"])
    assert post(client, case, "file", as_["insp"]).status_code == 403
    case = post(client, case, "file", as_["leader"], expected_version=1).json()
    stale = post(client, case, "cancel", as_["leader"], expected_version=1, reason="dup")
    assert stale.status_code == 409
    assert stale.json()["current"]["status"] == "to_dispatch"
    assert stale.json()["current"]["version"] == 2
    bad = client.post(
        f"{BASE}/{case['id']}/dispatch", json={}, headers={**as_["disp"], "If-Match": '"1"'}
    )
    assert bad.status_code == 409
    case = post(client, case, "dispatch", as_["disp"], expected_version=2).json()
    assert case["department_code"] == "sanitation" and case["clock"]["step"] == "handle"
    assert post(client, case, "accept", as_["roads"]).status_code == 403
    case = post(client, case, "accept", as_["sanit"]).json()
    resp = post(client, case, "report-back", as_["sanit"], reason="cleared")
    assert resp.status_code == 422 and rule_of(resp) == "attachments_required"
    up = client.post(
        f"{BASE}/{case['id']}/attachments",
        headers=as_["sanit"],
        files={"file": ("after.png", png(), "image/png")},
    )
    assert up.status_code == 201, up.text
    att = up.json()
    assert att["media_type"] == "image/png" and len(att["sha256"]) == 64
    case = post(
        client, case, "report-back", as_["sanit"], reason="cleared", attachments=[att["id"]]
    ).json()
    case = post(client, case, "check", as_["insp"], passed=False, reason="still dirty").json()
    resp = post(client, case, "close", as_["leader"])
    assert resp.status_code == 422 and rule_of(resp) == "close_after_passed_check"
    case = post(client, case, "rework", as_["leader"], reason="again").json()
    assert case["status"] == "handling" and case["reworks"] == 1
    case = post(
        client,
        case,
        "extend-request",
        as_["sanit"],
        amount=1,
        unit="working_days",
        reason="truck broken",
    ).json()
    assert case["extension_pending"] == "1 working_days"
    case = post(client, case, "extend-approve", as_["leader"]).json()
    assert case["extensions_granted"] == 1
    case = post(
        client, case, "report-back", as_["sanit"], reason="done", attachments=[att["id"]]
    ).json()
    case = post(client, case, "check", as_["insp"], passed=True).json()
    case = post(client, case, "close", as_["leader"]).json()
    assert case["status"] == "closed" and case["clock"] is None
    history = client.get(f"{BASE}/{case['id']}/history", headers=as_["leader"]).json()
    assert [h["action"] for h in history] == [
        "create",
        "file",
        "dispatch",
        "accept",
        "report_back",
        "check",
        "rework",
        "extend_request",
        "extend_approve",
        "report_back",
        "check",
        "close",
    ]
    assert history[4]["attachment_ids"] == [att["id"]] and history[5]["reason"] == "still dirty"
    got = client.get(f"{BASE}/{case['id']}/attachments/{att['id']}", headers=as_["leader"])
    assert got.status_code == 200 and got.content == png()
    parties = client.get(f"{BASE}/{case['id']}/parties", headers=as_["leader"]).json()
    assert parties["district_code"] == "110101" and parties["department_code"] == "sanitation"
    assert "E01" in parties["duty_explanation"]


def test_a_case_of_today_follows_todays_rule_not_one_scheduled_ahead(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    # The city's E01 rule names sanitation since 2025; roads takes over from 2026-04-01, a
    # month after the fixed clock's day (2026-03-02 in Beijing).
    with city.unit_of_work() as s:
        grid.set_duty_rule(
            s,
            clock,
            area_code=CITY,
            category_prefix="E01",
            department_code="roads",
            valid_from=date(2026, 4, 1),
        )
    case = create(client, as_["insp"])
    # An inspector who patrols the case's grid only from next month is not one of its parties yet.
    with city.unit_of_work() as s:
        grid.assign_inspector(
            s,
            clock,
            user_id=777,
            unit_grid_code=case["location"]["unit_grid"],
            valid_from=date(2026, 4, 1),
        )
    case = post(client, case, "file", as_["leader"]).json()
    resp = post(client, case, "dispatch", as_["disp"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["department_code"] == "sanitation"
    parties = client.get(f"{BASE}/{case['id']}/parties", headers=as_["leader"]).json()
    assert parties["suggested_department_code"] == "sanitation"
    assert 777 not in parties["inspector_user_ids"]

    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    leader = sign_in(client, "leader")  # the morning's sign-in has long expired
    later = client.get(f"{BASE}/{case['id']}/parties", headers=leader).json()
    assert later["suggested_department_code"] == "roads"
    assert later["department_code"] == "sanitation"  # dispatched cases stay where they went
    assert 777 in later["inspector_user_ids"]


def test_a_case_of_today_lies_in_todays_community_not_one_scheduled_ahead(
    client: TestClient,
    as_: dict[str, Headers],
    city: Database,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    # The fixed clock's day is 2026-03-02 in Beijing; the new layout takes effect 2026-04-01.
    with city.unit_of_work() as s:
        split_core_community(s, clock, tmp_path, date(2026, 4, 1))
    located = client.get(
        "/api/v1/locate", params={"lon": IN_CORE[0], "lat": IN_CORE[1], "on": "2026-04-01"}
    ).json()
    assert located["community"] == f"{CORE_SUB}002"  # the change is there, for its day

    case = create(client, as_["insp"])
    assert case["location"]["community"] == f"{CORE_SUB}001"
    assert case["location"]["unit_grid"].startswith(f"{CORE_SUB}001")

    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    later = create(client, sign_in(client, "insp"))
    assert later["location"]["community"] == f"{CORE_SUB}002"


def test_attachments_are_checked_by_content_and_size(
    client: TestClient, as_: dict[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = create(client, as_["insp"])
    url = f"{BASE}/{case['id']}/attachments"
    fake = client.post(
        url,
        headers=as_["insp"],
        files={"file": ("photo.jpg", b"<html>not an image</html>", "image/jpeg")},
    )
    assert fake.status_code == 422 and rule_of(fake) == "attachment_content_type"
    renamed = client.post(url, headers=as_["insp"], files={"file": ("p.jpg", png(), "image/jpeg")})
    assert (
        renamed.status_code == 422
        and "named .jpg but its content is image/png" in (renamed.json()["errors"][0]["message"])
    )
    exe = client.post(url, headers=as_["insp"], files={"file": ("x.exe", b"MZ", "x/y")})
    assert exe.status_code == 422 and rule_of(exe) == "attachment_extension"
    monkeypatch.setattr(
        "onegrid.api.v1.cases.cases_settings", lambda: CasesSettings(attachment_max_bytes=50)
    )
    big = client.post(url, headers=as_["insp"], files={"file": ("big.png", png() * 10, "i/p")})
    assert big.status_code == 422 and rule_of(big) == "attachment_size"
    listed = client.get(url, headers=as_["leader"]).json()
    assert listed == []


def test_listing_filters_cursor_and_reach(client: TestClient, as_: dict[str, Headers]) -> None:
    core = [create(client, as_["insp"]) for _ in range(3)]
    suburb = [
        create(
            client,
            as_["insp"],
            lon=IN_SUBURB[0],
            lat=IN_SUBURB[1],
            category_code="E0501",
            description="占道经营",
        )
        for _ in range(2)
    ]
    leader = as_["leader"]

    def ids(**params: Any) -> list[int]:
        resp = client.get(BASE, params=params, headers=leader)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert ids() == [c["id"] for c in reversed(core + suburb)]
    assert ids(area="110112") == [c["id"] for c in reversed(suburb)]
    assert ids(area="110101001") == [c["id"] for c in reversed(core)]
    assert ids(category="E05") == [c["id"] for c in reversed(suburb)]
    assert ids(q="占道") == [c["id"] for c in reversed(suburb)]
    assert ids(q=core[0]["number"]) == [core[0]["id"]]
    assert ids(light="green", sort="created_at")[0] == core[0]["id"]
    assert ids(light="red") == [] and ids(overdue=True) == []
    assert ids(status=["to_file"], channel=["inspector"], urgency=["normal"]) == ids()
    first = client.get(BASE, params={"limit": 2}, headers=leader).json()
    second = client.get(
        BASE, params={"limit": 2, "cursor": first["next_cursor"]}, headers=leader
    ).json()
    third = client.get(
        BASE, params={"limit": 2, "cursor": second["next_cursor"]}, headers=leader
    ).json()
    paged = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert paged == ids() and third["next_cursor"] is None
    bad = client.get(BASE, params={"cursor": "nonsense"}, headers=leader)
    assert bad.status_code == 422 and rule_of(bad) == "valid_cursor"
    naive = client.get(BASE, params={"created_from": "2026-03-01T00:00:00"}, headers=leader)
    assert naive.status_code == 422 and rule_of(naive) == "timezone_aware"
    mine = client.get(BASE, headers=as_["leader_suburb"]).json()["items"]
    assert sorted(c["id"] for c in mine) == sorted(c["id"] for c in suburb)
    assert client.get(BASE, headers=as_["analyst"]).status_code == 403


def test_a_citizen_sees_only_their_own_reports(client: TestClient, as_: dict[str, Headers]) -> None:
    own = create(client, as_["citizen"], channel="web_app")
    create(client, as_["insp"])
    assert own["reporter"]["masked"] is False  # their own data
    listed = client.get(BASE, headers=as_["citizen"]).json()["items"]
    assert [c["id"] for c in listed] == [own["id"]]


def test_merge_and_split_endpoints(client: TestClient, as_: dict[str, Headers]) -> None:
    keep, dup = create(client, as_["insp"]), create(client, as_["hotline"], channel="hotline")
    merged = post(client, dup, "merge", as_["hotline"], into_case_id=keep["id"])
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    post(client, keep, "file", as_["leader"])
    split = post(
        client,
        keep,
        "split",
        as_["leader"],
        lead_department_code="roads",
        parts=[{"department_code": "sanitation"}, {"department_code": "roads"}],
    )
    assert split.status_code == 201, split.text
    out = split.json()
    assert out["parent"]["status"] == "split" and len(out["children"]) == 2
    assert {c["department_code"] for c in out["children"]} == {"sanitation", "roads"}


def test_openapi_documents_every_case_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for action in (
        "verify",
        "file",
        "cancel",
        "dispatch",
        "accept",
        "return",
        "handle",
        "report-back",
        "check",
        "close",
        "rework",
        "extend-request",
        "extend-approve",
        "extend-refuse",
        "hold",
        "resume",
        "reopen",
        "merge",
        "split",
        "history",
        "parties",
        "attachments",
    ):
        assert f"{BASE}/{{case_id}}/{action}" in paths, action
    create_op = paths[BASE]["post"]
    assert create_op["summary"] and "examples" in str(spec["components"]["schemas"]["CaseCreate"])


def test_a_listed_case_reads_as_the_case_itself(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    """The list writes its page itself (no second validation): same fields, masking, clock."""
    case = client.post(BASE, json=body(channel="web_app")).json()
    for who, masked in (("leader", False), ("insp", True)):
        page = client.get(BASE, headers=as_[who])
        assert page.status_code == 200 and page.headers["content-type"] == "application/json"
        listed = next(c for c in page.json()["items"] if c["id"] == case["id"])
        assert listed == client.get(f"{BASE}/{case['id']}", headers=as_[who]).json()
        assert listed["reporter"]["masked"] is masked and listed["clock"]["light"] == "green"
    spec = client.get("/openapi.json").json()
    ok = spec["paths"][BASE]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/CasePageOut"}


def test_mine_lists_the_cases_the_caller_reported(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    theirs = create(client, as_["citizen"], channel="web_app")
    patrol = create(client, as_["insp"])
    create(client, as_["insp"], description="另一处垃圾")

    def mine(who: str) -> list[int]:
        resp = client.get(BASE, params={"mine": "true"}, headers=as_[who])
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert mine("citizen") == [theirs["id"]]
    assert patrol["id"] in mine("insp") and theirs["id"] not in mine("insp")
    assert len(mine("insp")) == 2
    assert mine("leader") == []  # reads every case, reported none
