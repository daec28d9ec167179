"""Cities sharing one server: with two jurisdictions configured, every call names one and sees
only the requests in its area; with one, jurisdiction_id stays optional."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.cases.records import CASES
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from tests.api.open311.conftest import (
    BASE,
    EVENT,
    Keys,
    create,
    errors_json,
    errors_xml,
    post,
    valid_json,
    xml_of,
)
from tests.integration.cases.city import CORE, IN_CORE, IN_SUBURB, SUBURB

pytestmark = pytest.mark.postgres
EAST, WEST = "core.example.gov.cn", "suburb.example.gov.cn"  # own IN_CORE and IN_SUBURB
SUBURB_POINT = {"lat": str(IN_SUBURB[1]), "long": str(IN_SUBURB[0])}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, open311_jurisdictions=((EAST, CORE), (WEST, SUBURB)))


@pytest.fixture
def two(client: TestClient, keys: Keys) -> dict[str, str]:
    """One request in each jurisdiction, by jurisdiction_id."""
    return {
        EAST: create(client, keys.client, jurisdiction_id=EAST),
        WEST: create(client, keys.client, jurisdiction_id=WEST, **SUBURB_POINT),
    }


def cases(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.execute(select(func.count()).select_from(CASES)).scalar_one())


def ids(resp: Any) -> list[str]:
    return [r["service_request_id"] for r in valid_json(resp, "requests")]


GETS = [
    "services.{fmt}",
    f"services/{EVENT}.{{fmt}}",
    "requests.{fmt}",
    "requests/{number}.{fmt}",
    "tokens/{number}.{fmt}",
    "servicerequestupdates.{fmt}",
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_call_must_name_a_known_jurisdiction(
    client: TestClient, keys: Keys, db: Database, two: dict[str, str], fmt: str
) -> None:
    def descriptions(resp: Any, status: int) -> list[str]:
        if fmt == "json":
            return [e["description"] for e in errors_json(resp, status)]
        return errors_xml(resp, status)

    for path in GETS:
        url = f"{BASE}/{path.format(fmt=fmt, number=two[EAST])}"
        for missing in ({}, {"jurisdiction_id": ""}):
            [error] = descriptions(client.get(url, params=missing), 400)
            assert error.startswith("jurisdiction_id is required") and EAST in error, url
        [error] = descriptions(client.get(url, params={"jurisdiction_id": "sfgov.org"}), 404)
        assert "sfgov.org" in error
        assert client.get(url, params={"jurisdiction_id": EAST}).status_code == 200, url
    # The POSTs check it after the api_key (403 first), before anything else.
    assert descriptions(post(client, None, fmt=fmt), 403)
    [error] = descriptions(post(client, keys.client, fmt=fmt, service_code=None), 400)
    assert error.startswith("jurisdiction_id is required")
    descriptions(post(client, keys.client, fmt=fmt, jurisdiction_id="sfgov.org"), 404)
    update = {
        "api_key": keys.client,
        "service_request_id": two[EAST],
        "update_id": "u1",
        "updated_datetime": "2026-03-02T09:30:00+08:00",
        "status": "OPEN",
        "description": "still there",
    }
    resp = client.post(f"{BASE}/servicerequestupdates.{fmt}", data=update)
    assert descriptions(resp, 400)[0].startswith("jurisdiction_id is required")
    assert cases(db) == 2


def test_each_jurisdiction_sees_only_its_own_requests(
    client: TestClient, two: dict[str, str]
) -> None:
    both = ",".join(two.values())
    for jurisdiction, number in two.items():
        mine = {"jurisdiction_id": jurisdiction}
        assert ids(client.get(f"{BASE}/requests.json", params=mine)) == [number]
        # service_request_id overrides the filters, not the jurisdiction.
        listed = client.get(f"{BASE}/requests.json", params={**mine, "service_request_id": both})
        assert ids(listed) == [number]
        root = xml_of(client.get(f"{BASE}/requests.xml", params=mine))
        assert [r.findtext("service_request_id") for r in root] == [number]
        updates = client.get(f"{BASE}/servicerequestupdates.json", params=mine)
        assert {u["service_request_id"] for u in valid_json(updates, "updates")} == {number}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_jurisdictions_request_is_not_found(
    client: TestClient, keys: Keys, two: dict[str, str], fmt: str
) -> None:
    theirs = {"jurisdiction_id": EAST}
    for path in ("requests", "tokens"):
        resp = client.get(f"{BASE}/{path}/{two[WEST]}.{fmt}", params=theirs)
        [error] = errors_json(resp, 404) if fmt == "json" else errors_xml(resp, 404)
        assert two[WEST] in str(error)
        own = client.get(f"{BASE}/{path}/{two[WEST]}.{fmt}", params={"jurisdiction_id": WEST})
        assert own.status_code == 200
    update = {
        "api_key": keys.client,
        "jurisdiction_id": EAST,
        "service_request_id": two[WEST],
        "update_id": "fms-comment-9",
        "updated_datetime": "2026-03-02T09:30:00+08:00",
        "status": "OPEN",
        "description": "still there",
    }
    resp = client.post(f"{BASE}/servicerequestupdates.{fmt}", data=update)
    assert resp.status_code == 404, resp.text
    resp = client.post(
        f"{BASE}/servicerequestupdates.{fmt}", data={**update, "jurisdiction_id": WEST}
    )
    assert resp.status_code == 200, resp.text  # the 404 claimed no update_id


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_point_in_another_jurisdiction_is_refused(
    client: TestClient, keys: Keys, db: Database, fmt: str
) -> None:
    resp = post(client, keys.client, fmt=fmt, jurisdiction_id=EAST, **SUBURB_POINT)
    if fmt == "json":
        [error] = errors_json(resp, 400)
        description = error["description"]
    else:
        [description] = errors_xml(resp, 400)
    assert description.startswith("lat, long:") and EAST in description and CORE in description
    assert cases(db) == 0
    lat, lon = str(IN_CORE[1]), str(IN_CORE[0])
    assert (
        post(client, keys.client, fmt=fmt, jurisdiction_id=WEST, lat=lat, long=lon).status_code
        == 400
    )
    assert cases(db) == 0


def test_services_are_the_same_for_every_jurisdiction(client: TestClient, keys: Keys) -> None:
    east, west = (
        valid_json(client.get(f"{BASE}/services.json", params={"jurisdiction_id": j}), "services")
        for j in (EAST, WEST)
    )
    assert east == west and EVENT in {s["service_code"] for s in east}


def test_discovery_names_the_jurisdictions_without_requiring_one(
    client: TestClient, keys: Keys
) -> None:
    shared = valid_json(client.get(f"{BASE}/discovery.json"), "discovery")
    assert "jurisdiction_id" in shared["contact"]
    assert f"{EAST} (area {CORE})" in shared["contact"] and WEST in shared["contact"]
    assert [e["url"] for e in shared["endpoints"]] == ["http://testserver/open311/v2"]
    one = client.get(f"{BASE}/discovery.json", params={"jurisdiction_id": WEST})
    contact = valid_json(one, "discovery")["contact"]
    assert WEST in contact and EAST not in contact
    root = xml_of(client.get(f"{BASE}/discovery.xml", params={"jurisdiction_id": EAST}))
    assert EAST in (root.findtext("contact") or "")
    errors_xml(client.get(f"{BASE}/discovery.xml", params={"jurisdiction_id": "x"}), 404)


BEIJING = "beijing.example.gov.cn"


@pytest.fixture
def single(db: Database, clock: FixedClock, tmp_path: Path) -> Iterator[TestClient]:
    """A server configured with one jurisdiction, the whole city."""
    from onegrid.api.app import create_app

    settings = Settings(data_dir=tmp_path, open311_jurisdictions={BEIJING: "110000"})
    with TestClient(create_app(settings, db=db, clock=clock)) as c:
        yield c


def test_one_configured_jurisdiction_is_optional_and_owns_every_request(
    single: TestClient, keys: Keys
) -> None:
    core = create(single, keys.client)
    suburb = create(single, keys.client, jurisdiction_id=BEIJING, **SUBURB_POINT)
    for params in ({}, {"jurisdiction_id": ""}, {"jurisdiction_id": BEIJING}):
        assert set(ids(single.get(f"{BASE}/requests.json", params=params))) == {core, suburb}
        assert single.get(f"{BASE}/requests/{suburb}.xml", params=params).status_code == 200
    [error] = errors_json(
        single.get(f"{BASE}/services.json", params={"jurisdiction_id": "110000"}), 404
    )
    assert BEIJING in error["description"]
    shared = valid_json(single.get(f"{BASE}/discovery.json"), "discovery")
    assert "jurisdiction" not in shared["contact"]
