"""GET requests' `sort` and `group_filter` (Mark-a-Spot) and JSONP `callback` (Chicago) on every
GET, in both formats where they apply."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.queries import get_case_by_number
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Role, Scope
from tests.api.open311.conftest import (
    BASE,
    Keys,
    create,
    errors_json,
    errors_xml,
    schema,
    valid_json,
    xml_of,
)
from tests.integration.cases.city import DISPATCHER, IN_SUBURB, INSPECTOR, SHIFT

pytestmark = pytest.mark.postgres
OTHER = "E0101"
JSONP_TYPE = "text/javascript; charset=utf-8"


def get(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(f"{BASE}/requests.json", params=params)
    assert resp.status_code == 200, resp.text
    body: list[dict[str, Any]] = valid_json(resp, "requests")
    return body


def ids(body: list[dict[str, Any]]) -> list[str]:
    return [r["service_request_id"] for r in body]


def case_id(db: Database, number: str) -> int:
    with db.unit_of_work() as s:
        return get_case_by_number(s, number).id


@pytest.fixture
def three(client: TestClient, keys: Keys, clock: FixedClock) -> list[str]:
    """Oldest first: rubbish in the core, a second kind an hour later, rubbish in the suburb."""
    first = create(client, keys.client, description="垃圾 rubbish near the gate")
    clock.advance(timedelta(hours=1))
    second = create(client, keys.client, service_code=OTHER, description="路面 pothole")
    clock.advance(timedelta(hours=1))
    lon, lat = IN_SUBURB
    third = create(client, keys.client, lat=str(lat), long=str(lon), description="suburb")
    return [first, second, third]


# ----------------------------------------------------------------------------- sort
def test_sort_by_each_key_both_ways(
    client: TestClient, three: list[str], db: Database, clock: FixedClock
) -> None:
    first, second, third = three
    newest_first = [third, second, first]
    assert ids(get(client)) == newest_first  # the default
    assert ids(get(client, sort="-created")) == newest_first
    assert ids(get(client, sort="created")) == three
    assert ids(get(client, sort="DESC")) == newest_first  # Mark-a-Spot's older spelling
    assert ids(get(client, sort="ASC")) == three
    # service_code (E0101 before E0102), ties newest first
    assert ids(get(client, sort="service_code")) == [second, third, first]
    assert ids(get(client, sort="-service_code")) == [third, first, second]
    assert ids(get(client, sort="request_id")) == sorted(three)
    assert ids(get(client, sort="-request_id")) == sorted(three, reverse=True)
    clock.advance(timedelta(hours=1))
    services.cancel_case(
        db, SHIFT, case_id(db, second), clock=clock, rules=case_rules("Asia/Shanghai"), reason="x"
    )
    # status as clients see it: closed before open; ties newest first
    assert ids(get(client, sort="status")) == [second, third, first]
    assert ids(get(client, sort="-status")) == [third, first, second]
    assert ids(get(client, sort="updated")) == [first, third, second]
    assert ids(get(client, sort="-updated")) == [second, third, first]


def test_sort_holds_across_pages_and_in_xml(client: TestClient, three: list[str]) -> None:
    pages = [ids(get(client, sort="created", page=str(n), page_size="1")) for n in (1, 2, 3, 4)]
    assert pages == [[three[0]], [three[1]], [three[2]], []]
    root = xml_of(client.get(f"{BASE}/requests.xml", params={"sort": "created"}))
    assert [e.findtext("service_request_id") for e in root] == three
    # with service_request_id (which overrides the filters) the order still applies
    chosen = ",".join(three)
    assert ids(get(client, service_request_id=chosen, sort="-request_id")) == sorted(
        three, reverse=True
    )


def test_an_unknown_sort_is_a_400_error_list(client: TestClient, keys: Keys) -> None:
    for bad in ("name", "--created", "created,-updated"):
        [error] = errors_json(client.get(f"{BASE}/requests.json", params={"sort": bad}), 400)
        assert "sort" in error["description"] and "request_id" in error["description"]
        [text] = errors_xml(client.get(f"{BASE}/requests.xml", params={"sort": bad}), 400)
        assert "sort" in text


# ----------------------------------------------------------------------------- group_filter
def test_group_filter_shows_the_requests_of_the_callers_department(
    client: TestClient, three: list[str], keys: Keys, db: Database, clock: FixedClock
) -> None:
    rules = case_rules("Asia/Shanghai")
    first = case_id(db, three[0])
    services.verify_case(db, INSPECTOR, first, clock=clock, rules=rules)
    services.file_case(db, SHIFT, first, clock=clock, rules=rules)
    services.dispatch_case(
        db, DISPATCHER, first, clock=clock, rules=rules, department_code="sanitation"
    )
    with db.unit_of_work() as s:
        dept = Scope.department("sanitation")
        _, sanitation = create_api_key(s, "sanitation system", Role.OPEN311_CLIENT, dept, clock)
    assert ids(get(client, group_filter="1", api_key=sanitation)) == [three[0]]
    assert ids(get(client, group_filter="true", api_key=sanitation)) == [three[0]]
    root = xml_of(
        client.get(f"{BASE}/requests.xml", params={"group_filter": "true", "api_key": sanitation})
    )
    assert [e.findtext("service_request_id") for e in root] == [three[0]]
    # and-ed with the other filters
    assert get(client, group_filter="1", api_key=sanitation, agency_responsible="roads") == []
    assert get(client, group_filter="1", api_key=sanitation, service_code=OTHER) == []
    # a city-wide key belongs to no organisation: nothing (as Mark-a-Spot answers a user
    # in no group)
    assert get(client, group_filter="1", api_key=keys.client) == []
    # off, or without a key (anonymous: ignored), the list is the public one
    assert len(get(client, group_filter="0", api_key=sanitation)) == 3
    assert len(get(client, group_filter="1")) == 3


def test_group_filter_refuses_a_bad_key_or_value(client: TestClient, keys: Keys) -> None:
    bad_key = {"group_filter": "1", "api_key": "og_nope_nope"}
    [error] = errors_json(client.get(f"{BASE}/requests.json", params=bad_key), 403)
    assert "api_key" in error["description"]
    errors_xml(client.get(f"{BASE}/requests.xml", params=bad_key), 403)
    [error] = errors_json(client.get(f"{BASE}/requests.json", params={"group_filter": "mine"}), 400)
    assert "group_filter" in error["description"]


# ----------------------------------------------------------------------------- JSONP
def unwrap(resp: Any, callback: str) -> Any:
    assert resp.headers["content-type"] == JSONP_TYPE, resp.headers
    assert resp.headers["x-content-type-options"] == "nosniff"
    text: str = resp.text
    prefix = f"/**/{callback}("
    assert text.startswith(prefix) and text.endswith(");"), text[:80]
    return json.loads(text[len(prefix) : -2])


def test_jsonp_wraps_every_json_get(client: TestClient, three: list[str]) -> None:
    callback = "app.on311_data$1"
    paths = {
        "discovery.json": "discovery",
        "services.json": "services",
        "services/E0102.json": "service_definition",
        "requests.json": "requests",
        f"requests/{three[0]}.json": "requests",
        f"tokens/{three[0]}.json": "token",
        "servicerequestupdates.json": "updates",
    }
    for path, name in paths.items():
        resp = client.get(f"{BASE}/{path}", params={"callback": callback})
        assert resp.status_code == 200, (path, resp.text)
        body = unwrap(resp, callback)
        jsonschema.validate(body, schema(name))
        assert body == client.get(f"{BASE}/{path}").json(), path
    # filters and the callback together; an empty callback is no callback
    body = unwrap(
        client.get(f"{BASE}/requests.json", params={"callback": "cb", "sort": "created"}), "cb"
    )
    assert ids(body) == three
    plain = client.get(f"{BASE}/requests.json", params={"callback": ""})
    assert plain.headers["content-type"] == "application/json; charset=utf-8"


def test_jsonp_errors_keep_the_spec_status(client: TestClient, three: list[str]) -> None:
    resp = client.get(f"{BASE}/requests/E0000000.json", params={"callback": "cb"})
    assert resp.status_code == 404
    [error] = unwrap(resp, "cb")
    assert error["code"] == 404 and "E0000000" in error["description"]
    jsonschema.validate([error], schema("errors"))
    resp = client.get(f"{BASE}/requests.json", params={"callback": "cb", "status": "pending"})
    assert resp.status_code == 400 and "status" in unwrap(resp, "cb")[0]["description"]


@pytest.mark.parametrize(
    "callback",
    ["alert(1)", "cb;evil()", "1cb", "a..b", "cb.", "a-b", "<script>", "中文", "function",
     "app.delete", "x" * 129, "cb\n"],
)  # fmt: skip
def test_a_callback_that_is_not_a_plain_name_is_a_400(client: TestClient, callback: str) -> None:
    resp = client.get(f"{BASE}/requests.json", params={"callback": callback})
    if callback.strip() == "cb":  # surrounding white space is trimmed like any parameter
        assert resp.status_code == 200
        return
    [error] = errors_json(resp, 400)  # never wrapped in the name it refuses
    assert "callback" in error["description"]


def test_a_callback_goes_with_json_only(client: TestClient) -> None:
    [text] = errors_xml(client.get(f"{BASE}/services.xml", params={"callback": "cb"}), 400)
    assert "callback" in text and ".json" in text
