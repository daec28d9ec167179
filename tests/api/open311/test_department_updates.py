"""A department's own system (a key scoped to the department) moves its cases by posting
``servicerequestupdates``: through the case workflow, as the key, and only on the cases
dispatched to its department; a citizens' client's update stays a note."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.api.open311.search import media_name
from onegrid.cases import services
from onegrid.cases.attachments import ATTACHMENTS
from onegrid.cases.config import CaseRules, case_rules
from onegrid.cases.history import HISTORY
from onegrid.cases.queries import get_case_by_number
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.creating import KEYS
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Role, Scope
from tests.api.open311.conftest import BASE, Keys, errors_json, errors_xml, valid_json, xml_of
from tests.integration.cases.city import DISPATCHER, INSPECTOR, SHIFT
from tests.integration.cases.helpers import new_case, photo, png_bytes, to_handling

pytestmark = pytest.mark.postgres
URL = f"{BASE}/servicerequestupdates"


@dataclass(frozen=True)
class Systems:
    sanitation: str  # the key of the department the test cases are dispatched to
    sanitation_actor: str
    roads: str  # another department's system
    citizen: str  # FixMyStreet: a city-wide Open311 key


@pytest.fixture
def systems(db: Database, clock: FixedClock, keys: Keys) -> Systems:
    with db.unit_of_work() as s:
        key, raw = create_api_key(
            s, "sanitation-system", Role.OPEN311_CLIENT, Scope.department("sanitation"), clock
        )
        _, roads = create_api_key(
            s, "roads-system", Role.OPEN311_CLIENT, Scope.department("roads"), clock
        )
    return Systems(raw, f"api_key:{key.id}", roads, keys.client)


@pytest.fixture
def rules(settings: Settings) -> CaseRules:
    return case_rules(settings.timezone)


def dispatched(db: Database, clock: FixedClock, rules: Any) -> CaseRecord:
    """A case dispatched to sanitation (the duty rule of E01 events)."""
    rec = new_case(db, clock, rules)
    services.file_case(db, SHIFT, rec.id, clock=clock, rules=rules)
    return services.dispatch_case(db, DISPATCHER, rec.id, clock=clock, rules=rules)


def case_of(db: Database, number: str) -> CaseRecord:
    with db.reader() as s:
        return get_case_by_number(s, number)


def entries(db: Database, case_id: int) -> list[Any]:
    with db.reader() as s:
        return list(
            s.execute(select(HISTORY).where(HISTORY.c.case_id == case_id).order_by(HISTORY.c.id))
        )


def count(db: Database, table: Any) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def send(
    client: TestClient,
    key: str,
    number: str,
    status: str,
    update_id: str = "dept-1",
    fmt: str = "json",
    photo: bool = False,
    **kw: Any,
) -> Any:
    data = {
        "api_key": key,
        "service_request_id": number,
        "update_id": update_id,
        "updated_datetime": "2026-03-02T10:30:00+08:00",
        "status": status,
        "description": kw.pop("description", "已清运完毕 cleared"),
        **kw,
    }
    files = [("photo1", ("after.png", png_bytes("green"), "image/png"))] if photo else None
    return client.post(f"{URL}.{fmt}", data=data, files=files)


def result_id(resp: Any, fmt: str = "json") -> int:
    assert resp.status_code == 200, resp.text
    if fmt == "xml":
        root = xml_of(resp)
        assert root.tag == "service_requests_updates"
        return int(root.findtext("request_update/update_id") or "")
    [body] = valid_json(resp, "update_result")
    return int(body["update_id"])


def errors(resp: Any, status: int, fmt: str) -> list[str]:
    if fmt == "json":
        return [e["description"] for e in errors_json(resp, status)]
    return errors_xml(resp, status)


@pytest.mark.parametrize("status", ["action_scheduled", "IN_PROGRESS", "Investigating"])
def test_under_way_accepts_a_dispatched_case_then_notes_its_handling(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems, status: str
) -> None:
    rec = dispatched(db, clock, rules)
    first = result_id(send(client, systems.sanitation, rec.number, status))
    assert case_of(db, rec.number).status == "handling"
    accept = entries(db, rec.id)[-1]
    assert (accept.id, accept.action, accept.from_status) == (first, "accept", "dispatched")
    # The audit trail names the department's system, acting as the key it posted with.
    assert (accept.actor, accept.actor_name) == (systems.sanitation_actor, "sanitation-system")
    assert accept.role == "open311_client"
    assert accept.details["open311_update"]["update_id"] == "dept-1"
    # When the system says it happened, for the audit trail (the entry's own time is ours).
    assert accept.details["open311_update"]["updated_datetime"] == "2026-03-02T10:30:00+08:00"

    second = send(client, systems.sanitation, rec.number, status, "dept-2", description="进行中")
    handle = entries(db, rec.id)[-1]
    assert (handle.id, handle.action, handle.reason) == (result_id(second), "handle", "进行中")
    assert case_of(db, rec.number).status == "handling"


@pytest.mark.parametrize(("status", "fmt"), [("closed", "json"), ("FIXED", "xml")])
def test_done_reports_back_for_the_inspectors_check(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    rules: Any,
    systems: Systems,
    status: str,
    fmt: str,
) -> None:
    rec = dispatched(db, clock, rules)
    resp = send(client, systems.sanitation, rec.number, status, fmt=fmt, photo=True)
    last = result_id(resp, fmt)
    after = case_of(db, rec.number)
    # A department never closes a case: the result waits for the inspector's on-site check.
    assert after.status == "to_check" and after.closed_at is None
    accept, report = entries(db, rec.id)[-2:]
    assert (accept.action, report.action, report.id) == ("accept", "report_back", last)
    assert report.reason == "已清运完毕 cleared"
    assert report.actor == systems.sanitation_actor
    [photo] = report.attachment_ids
    with db.reader() as s:
        row = s.execute(select(ATTACHMENTS).where(ATTACHMENTS.c.id == photo)).one()
    assert (row.case_id, row.uploaded_by, row.media_type) == (
        rec.id,
        systems.sanitation_actor,
        "image/png",
    )
    listed = valid_json(client.get(f"{URL}.json"), "updates")
    assert listed[-1]["update_id"] == str(last)
    assert listed[-1]["description"] == report.reason
    assert listed[-1]["external_status_code"] == "IN_PROGRESS"  # to_check, for FMS


def test_from_handling_done_reports_back_alone(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = to_handling(db, clock, rules)
    before = len(entries(db, rec.id))
    result_id(send(client, systems.sanitation, rec.number, "closed", photo=True))
    assert [e.action for e in entries(db, rec.id)[before:]] == ["report_back"]
    assert case_of(db, rec.number).status == "to_check"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_done_without_a_photo_names_the_rule_and_writes_nothing(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems, fmt: str
) -> None:
    rec = dispatched(db, clock, rules)
    history, claims = len(entries(db, rec.id)), count(db, KEYS)
    # A media_url elsewhere is a link, never fetched: it is not a photo of the result here.
    resp = send(
        client, systems.sanitation, rec.number, "closed", fmt=fmt, media_url="https://x.org/1.jpg"
    )
    [error] = errors(resp, 400, fmt)
    assert "attachments_required" in error and "photo1" in error
    # Nothing half-written: not the accept before it, not the update_id.
    assert case_of(db, rec.number).status == "dispatched"
    assert (len(entries(db, rec.id)), count(db, KEYS)) == (history, claims)
    # The same update_id sent again, with its photo, goes through.
    resp = send(client, systems.sanitation, rec.number, "closed", fmt=fmt, photo=True)
    result_id(resp, fmt)
    assert case_of(db, rec.number).status == "to_check"


def test_a_photo_sent_earlier_by_the_system_counts_by_its_media_url(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = dispatched(db, clock, rules)
    result_id(send(client, systems.sanitation, rec.number, "in_progress", photo=True))
    [accept] = entries(db, rec.id)[-1:]
    [photo] = accept.attachment_ids
    with db.reader() as s:
        row = s.execute(select(ATTACHMENTS).where(ATTACHMENTS.c.id == photo)).one()
    url = f"http://testserver{BASE}/media/{media_name(photo, row.sha256, row.media_type)}"
    wrong = url.replace(row.sha256[:16], "0" * 16)
    refused = send(client, systems.sanitation, rec.number, "fixed", "dept-2", media_url=wrong)
    assert "attachments_required" in errors(refused, 400, "json")[0]
    result_id(send(client, systems.sanitation, rec.number, "fixed", "dept-2", media_url=url))
    report = entries(db, rec.id)[-1]
    assert (report.action, report.attachment_ids) == ("report_back", [photo])
    assert report.details["open311_update"]["media_url"] == url


@pytest.mark.parametrize(
    "status", ["not_councils_responsibility", "INTERNAL_REFERRAL", "not responsible"]
)
def test_not_ours_returns_the_case_to_the_command_centre(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems, status: str
) -> None:
    rec = to_handling(db, clock, rules)
    reason = "不属于环卫，应由园林处理 gardens' work"
    last = result_id(send(client, systems.sanitation, rec.number, status, description=reason))
    after = case_of(db, rec.number)
    assert (after.status, after.department_code, after.returns) == ("to_dispatch", None, 1)
    back = entries(db, rec.id)[-1]
    assert (back.id, back.action, back.reason) == (last, "return", reason)
    # A replay is told it landed, although the case is no longer the department's.
    again = send(client, systems.sanitation, rec.number, status, description=reason)
    assert "already received" in errors(again, 400, "json")[0]
    # Anything new from that department is refused: the case is not dispatched to it.
    history = len(entries(db, rec.id))
    other = send(client, systems.sanitation, rec.number, "in_progress", "dept-2")
    assert "sanitation-system" in errors(other, 403, "json")[0]
    assert len(entries(db, rec.id)) == history


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_departments_key_is_refused_and_writes_nothing(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems, fmt: str
) -> None:
    rec = dispatched(db, clock, rules)
    history, claims, files = len(entries(db, rec.id)), count(db, KEYS), count(db, ATTACHMENTS)
    for status in ("closed", "in_progress", "open", "not responsible"):
        resp = send(client, systems.roads, rec.number, status, fmt=fmt, photo=True)
        [error] = errors(resp, 403, fmt)
        assert "roads-system" in error and "department sanitation" in error
    assert (len(entries(db, rec.id)), count(db, KEYS), count(db, ATTACHMENTS)) == (
        history,
        claims,
        files,
    )
    assert case_of(db, rec.number).status == "dispatched"
    # An unknown request is still a 404 for a department's key, before its department.
    assert (
        "E0000000"
        in errors(send(client, systems.roads, "E0000000", "closed", fmt=fmt), 404, fmt)[0]
    )


def test_a_replayed_update_does_not_move_the_case_twice(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = dispatched(db, clock, rules)
    result_id(send(client, systems.sanitation, rec.number, "in_progress"))
    after_first = entries(db, rec.id)
    again = send(client, systems.sanitation, rec.number, "in_progress")
    assert "dept-1" in errors(again, 400, "json")[0]
    assert entries(db, rec.id) == after_first
    assert case_of(db, rec.number).version == after_first[-1].version


def test_what_is_already_true_is_a_note_and_what_the_workflow_forbids_a_400(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = dispatched(db, clock, rules)
    result_id(send(client, systems.sanitation, rec.number, "fixed", photo=True))
    version = case_of(db, rec.number).version
    # "closed" after "fixed": already reported back, kept as a note, nothing moves.
    note = result_id(send(client, systems.sanitation, rec.number, "closed", "dept-2"))
    last = entries(db, rec.id)[-1]
    assert (last.id, last.action, last.to_status) == (note, "open311_update", "to_check")
    assert case_of(db, rec.number).version == version
    # A department that reported back cannot disown the case: the return rule, nothing written.
    history = len(entries(db, rec.id))
    refused = send(client, systems.sanitation, rec.number, "wrong department", "dept-3")
    [error] = errors(refused, 400, "json")
    # Named by the field the client sent (status), not the case service's "action".
    assert error.startswith("status: ")
    assert "to_check cannot return" in error and "check, rework" in error
    assert len(entries(db, rec.id)) == history
    # Plain "open" from the department is a note too.
    result_id(send(client, systems.sanitation, rec.number, "open", "dept-4"))
    assert entries(db, rec.id)[-1].action == "open311_update"


def test_a_held_case_cannot_be_reported_back(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = to_handling(db, clock, rules)
    services.hold_case(db, SHIFT, rec.id, clock=clock, rules=rules, reason="雨季施工")
    [error] = errors(
        send(client, systems.sanitation, rec.number, "closed", fmt="xml", photo=True), 400, "xml"
    )
    assert "on_hold cannot report_back" in error and "resume" in error
    assert case_of(db, rec.number).status == "on_hold"
    assert count(db, ATTACHMENTS) == 0  # the photo of the refused update is not kept


def test_a_description_too_long_for_a_reason_is_named(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = to_handling(db, clock, rules)
    resp = send(client, systems.sanitation, rec.number, "in_progress", description="x" * 2001)
    assert errors(resp, 400, "json") == ["description: a reason is at most 2000 characters"]


def test_a_citizens_client_update_stays_a_note(
    client: TestClient, db: Database, clock: FixedClock, rules: Any, systems: Systems
) -> None:
    rec = dispatched(db, clock, rules)
    for i, status in enumerate(("closed", "in_progress", "not councils responsibility")):
        resp = send(client, systems.citizen, rec.number, status, f"fms-{i}", photo=True)
        assert entries(db, rec.id)[-1].id == result_id(resp)
        assert entries(db, rec.id)[-1].action == "open311_update"
    after = case_of(db, rec.number)
    assert (after.status, after.department_code) == ("dispatched", "sanitation")
    assert count(db, ATTACHMENTS) == 0  # as before: a citizen's update takes no files


def test_a_departments_photo_is_checked_after_the_fields(
    client: TestClient, db: Database, clock: FixedClock, rules: CaseRules, systems: Systems
) -> None:
    rec = dispatched(db, clock, rules)
    pdf = [("photo1", ("report.pdf", b"%PDF-1.4\n%%EOF", "application/pdf"))]
    data = {"api_key": systems.sanitation, "service_request_id": rec.number, "status": "closed"}
    missing = client.post(f"{URL}.json", data=data, files=pdf)
    assert [e["description"] for e in errors_json(missing, 400)] == [
        "update_id is required",
        "updated_datetime is required",
        "description is required",
    ]
    full = {**data, "update_id": "d-1", "updated_datetime": "2026-03-02T02:00:00Z"}
    bad = client.post(f"{URL}.json", data={**full, "description": "done"}, files=pdf)
    assert "photos only" in errors_json(bad, 400)[0]["description"]
    assert (case_of(db, rec.number).status, count(db, ATTACHMENTS)) == ("dispatched", 0)


V1 = "/api/v1/cases"


def test_a_department_systems_key_moves_cases_only_through_open311(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    rules: Any,
    systems: Systems,
    tmp_path: Path,
) -> None:
    """The key may post updates, not call the case API's workflow: there it would take any
    attachment of the case as the result (the reporter's own photo) with no update_id, and read
    the case back. Refused (403), nothing written; the Open311 path still moves the case."""
    key = {"X-API-Key": systems.sanitation}
    rec = dispatched(db, clock, rules)
    handling = to_handling(db, clock, rules)
    reporters = photo(db, clock, handling.id, tmp_path, by=INSPECTOR)
    before = (entries(db, rec.id), entries(db, handling.id))
    for case, action, body in (
        (rec, "accept", {}),
        (rec, "return", {"reason": "不属于环卫"}),
        (handling, "handle", {"reason": "进行中"}),
        (handling, "report-back", {"reason": "done", "attachments": [reporters]}),
    ):
        resp = client.post(f"{V1}/{case.id}/{action}", json=body, headers=key)
        assert resp.status_code == 403, (action, resp.text)
        assert "138****5678" not in resp.text and "reporter" not in resp.json()
    assert (entries(db, rec.id), entries(db, handling.id)) == before
    assert (case_of(db, rec.number).status, case_of(db, handling.number).status) == (
        "dispatched",
        "handling",
    )
    # The same key, by Open311: the step is taken, in its name.
    first = result_id(send(client, systems.sanitation, rec.number, "in_progress"))
    accept = entries(db, rec.id)[-1]
    assert (accept.id, accept.action, accept.actor) == (first, "accept", systems.sanitation_actor)
    assert case_of(db, rec.number).status == "handling"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://[::1/x.jpg", "ftp://x.org/1.jpg"])
@pytest.mark.parametrize("who", ["sanitation", "citizen"])
def test_a_media_url_is_an_http_url_or_the_update_is_refused(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    rules: Any,
    systems: Systems,
    url: str,
    who: str,
) -> None:
    """A media_url is shown again to every client (GET): never a script link, and one that
    does not parse is a 400 naming it, not a 500."""
    rec = dispatched(db, clock, rules)
    history, claims = len(entries(db, rec.id)), count(db, KEYS)
    resp = send(client, getattr(systems, who), rec.number, "in_progress", media_url=url)
    [error] = errors(resp, 400, "json")
    assert error.startswith("media_url ") and "http(s)" in error
    assert (len(entries(db, rec.id)), count(db, KEYS)) == (history, claims)
    assert case_of(db, rec.number).status == "dispatched"
    listed = valid_json(client.get(f"{URL}.json"), "updates")
    assert url not in [u["media_url"] for u in listed]
