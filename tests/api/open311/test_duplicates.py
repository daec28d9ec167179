"""A posted request that repeats an open one: proposed as a duplicate, the reporter told in
``service_notice``, the reply still a valid GeoReport v2 result; once a dispatcher confirms, the
request reads as closed and names the one it was merged into."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.cases.config import case_rules
from onegrid.cases.queries import get_case_by_number
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.services import (
    ProposalStatus,
    confirm_duplicate,
    list_proposals,
)
from onegrid.dispatch.hotline.requesters import requesters_of
from tests.api.open311.conftest import BASE, Keys, create, post, valid_json, xml_of
from tests.integration.cases.city import IN_SUBURB, SHIFT

pytestmark = pytest.mark.postgres
RUBBISH = "小区东门垃圾堆积 rubbish piled at the east gate"


def proposals_of(db: Database, number: str) -> list[Any]:
    with db.unit_of_work() as s:
        case_id = get_case_by_number(s, number).id
        return [p for p in list_proposals(s, case_id=case_id) if p.case_id == case_id]


def test_a_repeat_is_its_own_request_with_a_notice_naming_the_open_one(
    client: TestClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    first = create(client, keys.client, description=RUBBISH)
    clock.advance(timedelta(minutes=20))
    resp = post(client, keys.client, description="东门垃圾堆积很久了 rubbish at the east gate")
    [result] = valid_json(resp, "post_result")
    second = result["service_request_id"]
    assert second != first and "token" not in result
    assert first in result["service_notice"]
    [proposal] = proposals_of(db, second)
    assert proposal.status is ProposalStatus.PROPOSED
    # the request stands: it can be read and followed like any other
    [read] = valid_json(client.get(f"{BASE}/requests/{second}.json"), "requests")
    assert read["status"] == "open" and read["status_notes"] is None
    # XML carries the same notice
    clock.advance(timedelta(minutes=1))
    root = xml_of(post(client, keys.client, fmt="xml", description=RUBBISH))
    assert root.tag == "service_requests"
    assert first in (root.findtext("request/service_notice") or "")


def test_no_notice_for_another_kind_far_away_or_long_after(
    client: TestClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    first = create(client, keys.client, description=RUBBISH)
    lon, lat = IN_SUBURB
    for kw in ({"service_code": "E0101"}, {"lat": str(lat), "long": str(lon)}):
        resp = post(client, keys.client, description=RUBBISH, **kw)
        [result] = valid_json(resp, "post_result")
        assert result["service_notice"] is None, kw
        assert proposals_of(db, result["service_request_id"]) == []
    clock.advance(timedelta(days=8))  # outside the 168-hour window of the shipped rules
    [result] = valid_json(post(client, keys.client, description=RUBBISH), "post_result")
    assert result["service_notice"] is None
    assert first != result["service_request_id"]


def test_a_retried_post_gets_the_same_notice(
    client: TestClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    first = create(client, keys.client, description=RUBBISH)
    data = {
        "api_key": keys.client,
        "service_code": "E0102",
        "lat": "39.91",
        "long": "116.305",
        "description": RUBBISH,
    }
    headers = {"Idempotency-Key": "fms-report-77"}
    one = client.post(f"{BASE}/requests.json", data=data, headers=headers).json()
    again = client.post(f"{BASE}/requests.json", data=data, headers=headers).json()
    assert one == again and first in one[0]["service_notice"]
    assert len(proposals_of(db, one[0]["service_request_id"])) == 1  # screened once


def test_a_confirmed_duplicate_reads_closed_and_names_the_request_it_joined(
    client: TestClient, keys: Keys, db: Database, clock: FixedClock
) -> None:
    first = create(client, keys.client, description=RUBBISH)
    second = create(client, keys.client, description=RUBBISH, first_name="Si", phone="13900002222")
    [proposal] = proposals_of(db, second)
    confirm_duplicate(db, SHIFT, proposal.id, clock=clock, rules=case_rules("Asia/Shanghai"))
    [plain] = valid_json(client.get(f"{BASE}/requests/{second}.json"), "requests")
    assert plain["status"] == "closed" and first in plain["status_notes"]
    [ext] = valid_json(
        client.get(f"{BASE}/requests/{second}.json", params={"extensions": "true"}), "requests"
    )
    extended = ext["extended_attributes"]
    assert extended["duplicate"] is True and extended["parent_service_request_id"] == first
    assert extended["fms_status"] == "DUPLICATE"
    root = xml_of(client.get(f"{BASE}/requests.xml", params={"service_request_id": second}))
    assert first in (root.findtext("request/status_notes") or "")
    # the merged request's reporter is now among those kept informed of the first, which
    # stays open
    with db.reader() as s:
        kept = requesters_of(s, get_case_by_number(s, first).id, clock.now())
        merged_id = get_case_by_number(s, second).id
    assert [(r.source, r.case_id) for r in kept][-1] == ("merged_case", merged_id)
    [listed] = valid_json(client.get(f"{BASE}/requests/{first}.json"), "requests")
    assert listed["status"] == "open" and listed["status_notes"] is None
