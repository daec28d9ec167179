"""GET requests, one request and tokens: every filter, the extensions, both formats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.queries import get_case_by_number
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.open311.conftest import (
    BASE,
    EVENT,
    Keys,
    create,
    errors_json,
    errors_xml,
    valid_json,
    xml_of,
)
from tests.integration.cases.city import DISPATCHER, IN_CORE, IN_SUBURB, INSPECTOR, SHIFT

pytestmark = pytest.mark.postgres
OTHER = "E0101"


def get(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(f"{BASE}/requests.json", params=params)
    assert resp.status_code == 200, resp.text
    body: list[dict[str, Any]] = valid_json(resp, "requests")
    return body


def ids(body: list[dict[str, Any]]) -> list[str]:
    return [r["service_request_id"] for r in body]


def cancel(db: Database, clock: FixedClock, number: str) -> None:
    with db.unit_of_work() as s:
        case_id = get_case_by_number(s, number).id
    services.cancel_case(
        db, SHIFT, case_id, clock=clock, rules=case_rules("Asia/Shanghai"), reason="重复 repeat"
    )


@pytest.fixture
def three(client: TestClient, keys: Keys, clock: FixedClock) -> list[str]:
    """Three requests an hour apart: rubbish in the core, a second kind, one in the suburb."""
    first = create(client, keys.client, description="垃圾 rubbish near the gate")
    clock.advance(timedelta(hours=1))
    second = create(client, keys.client, service_code=OTHER, description="路面 pothole")
    clock.advance(timedelta(hours=1))
    lon, lat = IN_SUBURB
    third = create(client, keys.client, lat=str(lat), long=str(lon), description="suburb")
    return [first, second, third]


def test_requests_are_a_bare_array_newest_first_with_the_spec_fields(
    client: TestClient, three: list[str]
) -> None:
    body = get(client)
    assert ids(body) == three[::-1]
    first = body[-1]
    assert first["status"] == "open" and first["service_code"] == EVENT
    assert first["requested_datetime"] == "2026-03-02T01:00:00Z"
    assert (first["long"], first["lat"]) == IN_CORE
    assert first["expected_datetime"] is not None
    assert "email" not in first and "phone" not in first
    root = xml_of(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"] * 3
    assert root.findtext("request/lat") and root.findtext("request/requested_datetime")


def test_filters(client: TestClient, three: list[str], db: Database, clock: FixedClock) -> None:
    first, second, third = three
    assert ids(get(client, service_code=OTHER)) == [second]
    assert ids(get(client, service_code=f"{OTHER},{EVENT}")) == [third, second, first]
    # service_request_id overrides every other filter
    assert set(ids(get(client, service_request_id=f"{first},{second}", service_code="X"))) == {
        first,
        second,
    }
    cancel(db, clock, first)
    assert ids(get(client, status="closed")) == [first]
    assert ids(get(client, status="open")) == [third, second]
    assert len(get(client, status="open,closed")) == 3
    # start/end on requested time, half-open, any zone
    assert ids(get(client, start_date="2026-03-02T10:00:00+08:00")) == [third, second]
    assert ids(get(client, end_date="2026-03-02T02:00:00Z")) == [first]
    assert (
        ids(get(client, start_date="2026-03-02T01:00:00Z", end_date="2026-03-02T03:00:00Z"))[-1]
        == first
    )
    assert ids(get(client, updated_after="2026-03-02T02:30:00Z")) == [third, first]
    assert ids(get(client, updated_before="2026-03-02T01:30:00Z")) == []
    assert ids(get(client, q="POTHOLE")) == [second]
    assert ids(get(client, q=second)) == [second]
    lon, lat = IN_SUBURB
    assert ids(get(client, bbox=f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}")) == [
        third
    ]
    near = {"lat": str(lat), "long": str(lon + 0.001)}  # ~85 m east of the suburb report
    assert ids(get(client, **near, radius="100")) == [third]
    assert ids(get(client, **near, radius="50")) == []
    assert get(client, jurisdiction_id="", status="") != []  # empty counts as absent


def test_paging_keeps_a_bare_array(client: TestClient, three: list[str]) -> None:
    pages = [ids(get(client, page=str(n), page_size="2")) for n in (1, 2, 3)]
    assert pages == [three[:0:-1], three[:1], []]
    # Mark-a-Spot's limit/offset
    assert ids(get(client, limit="1", offset="1")) == [three[1]]
    assert ids(get(client, offset="2")) == [three[0]]


def test_agency_responsible_filters_on_the_department(
    client: TestClient, three: list[str], db: Database, clock: FixedClock
) -> None:
    assert get(client, agency_responsible="sanitation") == []  # nothing dispatched yet
    with db.unit_of_work() as s:
        case_id = get_case_by_number(s, three[0]).id
    rules = case_rules("Asia/Shanghai")
    services.verify_case(db, INSPECTOR, case_id, clock=clock, rules=rules)
    services.file_case(db, SHIFT, case_id, clock=clock, rules=rules)
    services.dispatch_case(
        db, DISPATCHER, case_id, clock=clock, rules=rules, department_code="sanitation"
    )
    [dispatched] = get(client, agency_responsible="roads,sanitation")
    assert dispatched["service_request_id"] == three[0]
    assert dispatched["agency_responsible"]


def test_the_default_window_is_the_last_90_days(
    client: TestClient, three: list[str], clock: FixedClock
) -> None:
    clock.advance(timedelta(days=91))
    assert get(client) == []
    assert len(get(client, start_date="2026-03-01T00:00:00Z")) == 3


BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
    ({"start_date": "2026-03-02"}, "time zone"),
    ({"start_date": "yesterday"}, "W3C"),
    ({"end_date": "2026-01-01T00:00:00Z", "start_date": "2026-02-01T00:00:00Z"}, "after"),
    ({"status": "pending"}, "status"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "117,40,116,39"}, "bbox"),
    ({"page": "0"}, "page"),
    ({"page_size": "5000"}, "page_size"),
    # PostgreSQL refuses NUL in text: these were 500s there.
    ({"service_request_id": "E0102\x00"}, "service_request_id: U+0000"),
    ({"service_code": "E0102,E\x00"}, "service_code: U+0000"),
]


def test_bad_parameters_are_400_error_lists(client: TestClient, keys: Keys) -> None:
    for params, words in BAD_PARAMETERS:
        [error] = errors_json(client.get(f"{BASE}/requests.json", params=params), 400)
        assert words in error["description"], (params, error)
        [text] = errors_xml(client.get(f"{BASE}/requests.xml", params=params), 400)
        assert words in text


def test_one_request_is_a_one_element_list(client: TestClient, three: list[str]) -> None:
    number = three[0]
    [one] = valid_json(client.get(f"{BASE}/requests/{number}.json"), "requests")
    assert one["service_request_id"] == number
    root = xml_of(client.get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    [error] = errors_json(client.get(f"{BASE}/requests/E0000000.json"), 404)
    assert "E0000000" in error["description"]
    assert errors_xml(client.get(f"{BASE}/requests/E0000000.xml"), 404)


def test_extensions_add_history_notes_and_fine_status(
    client: TestClient, three: list[str], db: Database, clock: FixedClock
) -> None:
    cancel(db, clock, three[0])
    plain = get(client, service_request_id=three[0])[0]
    assert "notes" not in plain and "extended_attributes" not in plain
    [ext] = get(client, service_request_id=three[0], extensions="true")
    assert [n["type"] for n in ext["notes"]] == ["create", "cancel"]
    assert ext["notes"][1]["description"] == "重复 repeat"
    extended = ext["extended_attributes"]
    assert extended["channel"] == "open311" and extended["duplicate"] is False
    assert extended["fms_status"] == "NO_FURTHER_ACTION" and ext["status"] == "closed"
    assert extended["district"]
    root = xml_of(client.get(f"{BASE}/requests/{three[0]}.xml", params={"extensions": "true"}))
    assert [n.tag for n in root.find("request/notes") or []] == ["note", "note"]
    assert root.findtext("request/extended_attributes/duplicate") == "false"


def test_tokens_resolve_to_the_request(client: TestClient, three: list[str]) -> None:
    body = valid_json(client.get(f"{BASE}/tokens/{three[0]}.json"), "token")
    assert body == [{"service_request_id": three[0], "token": three[0]}]
    root = xml_of(client.get(f"{BASE}/tokens/{three[0]}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/token") == three[0]
    errors_json(client.get(f"{BASE}/tokens/nope.json"), 404)


def test_an_unknown_jurisdiction_is_404_everywhere(client: TestClient, three: list[str]) -> None:
    for path in ("requests.json", f"requests/{three[0]}.json", f"tokens/{three[0]}.json"):
        errors_json(client.get(f"{BASE}/{path}", params={"jurisdiction_id": "sfgov.org"}), 404)
    assert get(client, jurisdiction_id="110000")
