"""POST requests located by the standard address register: ``address_id`` or
``address_string`` in place of ``lat`` and ``long`` (OPEN311.md 1.5)."""

from __future__ import annotations

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
    Keys,
    errors_json,
    errors_xml,
    post,
    valid_json,
    xml_of,
)
from tests.integration.cases.city import CORE, IN_CORE, IN_SUBURB, SUBURB, load_register

pytestmark = pytest.mark.postgres
CORE_ID, CORE_TEXT = "110101001001-0001", "北京市东城区示范路１２号"
SUBURB_ID, SUBURB_TEXT = "110112001001-0007", "北京市通州区Demo Road 7号"
NO_POINT: dict[str, Any] = {"lat": None, "long": None, "address_string": None}


@pytest.fixture
def register(keys: Keys, db: Database, clock: FixedClock) -> Keys:
    # The core's plate written in full-width digits, as registers often are.
    plates = ((CORE_ID, CORE_TEXT, IN_CORE), (SUBURB_ID, SUBURB_TEXT, IN_SUBURB))
    with db.unit_of_work() as s:
        load_register(s, clock, plates)
    return keys


def count(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.execute(select(func.count()).select_from(CASES)).scalar_one())


def stored(db: Database, number: str) -> Any:
    with db.unit_of_work() as s:
        return s.execute(select(CASES).where(CASES.c.number == number)).mappings().one()


def test_an_address_id_places_the_request(client: TestClient, register: Keys, db: Database) -> None:
    resp = post(client, register.client, **NO_POINT, address_id=CORE_ID)
    [result] = valid_json(resp, "post_result")
    row = stored(db, result["service_request_id"])
    assert (row.lon, row.lat) == IN_CORE and row.address == CORE_TEXT
    assert row.district_code == "110101"
    [request] = valid_json(
        client.get(f"{BASE}/requests/{result['service_request_id']}.json"), "requests"
    )
    assert request["address"] == CORE_TEXT
    assert (request["long"], request["lat"]) == IN_CORE


@pytest.mark.parametrize(
    "spelling",
    [SUBURB_TEXT, "北京市通州区 demo road ７ 号", "北京市通州区DEMO  ROAD，7号"],
)
def test_an_address_string_places_the_request(
    client: TestClient, register: Keys, db: Database, spelling: str
) -> None:
    resp = post(client, register.client, "xml", lat=None, long=None, address_string=spelling)
    assert resp.status_code == 200, resp.text
    root = xml_of(resp)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    row = stored(db, root.findtext("request/service_request_id", ""))
    # The register's text is kept, however the client spelled it.
    assert (row.lon, row.lat) == IN_SUBURB and row.address == SUBURB_TEXT


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_address_not_in_the_register_is_a_400_naming_the_field(
    client: TestClient, register: Keys, db: Database, fmt: str
) -> None:
    def error(**kw: Any) -> str:
        resp = post(client, register.client, fmt, **{**NO_POINT, **kw})
        if fmt == "json":
            [one] = errors_json(resp, 400)
            return str(one["description"])
        [text] = errors_xml(resp, 400)
        return text

    unknown_id = error(address_id="110101001001-9999")
    assert unknown_id.startswith("address_id: '110101001001-9999' is not an address id")
    # An unknown id is refused even beside a known address_string: it is not guessed past.
    assert error(address_id="nope", address_string=CORE_TEXT).startswith("address_id:")
    unknown_text = error(address_string="北京市东城区示范路13号")
    assert unknown_text.startswith("address_string: '北京市东城区示范路13号' is not in")
    # No prefix and no partial match: part of a registered address is not that address.
    assert error(address_string="北京市东城区示范路").startswith("address_string:")
    assert error(address_string="示范路12号").startswith("address_string:")
    both = error(address_id=CORE_ID, address_string=SUBURB_TEXT)
    assert both.startswith("address_id, address_string:") and SUBURB_ID in both
    assert "address_id, or address_string" in error()
    assert count(db) == 0  # nothing half-created


def shown_ids(client: TestClient, number: str) -> list[str | None]:
    """The ``address_id`` every GET shows for request ``number``: the request alone and the
    list (plain and with extensions), in JSON and in XML (where null is an empty element)."""
    shown: list[str | None] = []
    for path in (f"requests/{number}", "requests"):
        for extra in ("", "&extensions=true"):
            query = f"?service_request_id={number}{extra}"
            [one] = valid_json(client.get(f"{BASE}/{path}.json{query}"), "requests")
            shown.append(one["address_id"])
            root = xml_of(client.get(f"{BASE}/{path}.xml{query}"))
            assert [e.tag for e in root] == ["request"]
            shown.append(root.findtext("request/address_id") or None)
    return shown


def test_a_request_placed_by_address_id_shows_it(
    client: TestClient, register: Keys, db: Database
) -> None:
    resp = post(client, register.client, **NO_POINT, address_id=f" {CORE_ID} ")
    [result] = valid_json(resp, "post_result")
    number = result["service_request_id"]
    assert stored(db, number).address_id == CORE_ID
    assert shown_ids(client, number) == [CORE_ID] * 8


def test_a_request_placed_by_address_string_keeps_its_id(
    client: TestClient, register: Keys, db: Database
) -> None:
    resp = post(
        client, register.client, **{**NO_POINT, "address_string": "北京市通州区demo road 7号"}
    )
    [result] = valid_json(resp, "post_result")
    number = result["service_request_id"]
    assert stored(db, number).address_id == SUBURB_ID
    assert shown_ids(client, number) == [SUBURB_ID] * 8


def test_a_request_at_a_point_shows_no_address_id(
    client: TestClient, register: Keys, db: Database
) -> None:
    number = valid_json(post(client, register.client), "post_result")[0]["service_request_id"]
    assert stored(db, number).address_id is None
    assert shown_ids(client, number) == [None] * 8


def test_a_point_keeps_a_registered_address_id(
    client: TestClient, register: Keys, db: Database
) -> None:
    resp = post(client, register.client, address_string=None, address_id=CORE_ID)
    [result] = valid_json(resp, "post_result")
    row = stored(db, result["service_request_id"])
    # The point places it; without an address_string the register's text is its address.
    assert (row.lon, row.lat) == IN_CORE
    assert (row.address_id, row.address) == (CORE_ID, CORE_TEXT)
    assert shown_ids(client, result["service_request_id"]) == [CORE_ID] * 8
    # An id the register does not hold is dropped beside a point, not refused: the point
    # alone places the request, as before ids were kept.
    resp = post(client, register.client, address_id="110101001001-9999")
    [result] = valid_json(resp, "post_result")
    row = stored(db, result["service_request_id"])
    assert (row.address_id, row.address) == (None, "示范路 1 号")


def test_a_point_wins_over_an_address(client: TestClient, register: Keys, db: Database) -> None:
    resp = post(client, register.client, address_id=SUBURB_ID, address_string="门口")
    [result] = valid_json(resp, "post_result")
    row = stored(db, result["service_request_id"])
    assert (row.lon, row.lat) == IN_CORE and row.address == "门口"
    # The id is kept even though it names a door plate in another district: the point
    # places and routes the case, the id says what the client named.
    assert row.address_id == SUBURB_ID and row.district_code == "110101"
    # The point is checked as before, whatever the address says.
    bad = post(client, register.client, lat="north", address_id=CORE_ID)
    assert "decimal degrees" in errors_json(bad, 400)[0]["description"]
    assert count(db) == 1


def test_an_id_with_its_own_text_agrees(client: TestClient, register: Keys, db: Database) -> None:
    resp = post(
        client,
        register.client,
        lat=None,
        long=None,
        address_id=CORE_ID,
        address_string="示范路 12 号",
    )
    [result] = valid_json(resp, "post_result")
    assert stored(db, result["service_request_id"]).address == CORE_TEXT


def test_without_a_register_an_address_alone_is_still_a_clear_400(
    client: TestClient, keys: Keys, db: Database
) -> None:
    [one] = errors_json(post(client, keys.client, lat=None, long=None), 400)
    assert one["description"].startswith("address_string: '示范路 1 号' is not in")
    assert count(db) == 0


def test_a_shared_server_takes_an_address_only_in_its_jurisdiction(
    register: Keys, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    from onegrid.api.app import create_app

    shared = Settings(
        data_dir=tmp_path,
        open311_jurisdictions=(("core.example", CORE), ("suburb.example", SUBURB)),
    )
    with TestClient(create_app(shared, db=db, clock=clock)) as client:
        [one] = errors_json(
            post(
                client,
                register.client,
                **NO_POINT,
                address_id=SUBURB_ID,
                jurisdiction_id="core.example",
            ),
            400,
        )
        assert one["description"].startswith("address_id: the point")
        assert "outside jurisdiction core.example" in one["description"]
        assert count(db) == 0
        resp = post(
            client,
            register.client,
            **NO_POINT,
            address_id=SUBURB_ID,
            jurisdiction_id="suburb.example",
        )
        assert resp.status_code == 200, resp.text


CONTROLS = [
    ("address_string", {**NO_POINT, "address_string": f"{CORE_TEXT}\x00"}),
    ("address_id", {**NO_POINT, "address_id": f"{CORE_ID}\x00"}),
    ("description", {"description": "rubbish\x00 piled up"}),
    ("description", {"description": "bell \x07"}),
    ("first_name", {"first_name": "San\x1b[31m"}),
    ("attribute[nature]", {"attribute[nature]": "report\x00"}),
    ("service_code", {"service_code": "E0102\x00"}),
]


@pytest.mark.parametrize(("field", "sent"), CONTROLS)
def test_a_control_character_is_a_400_naming_the_field(
    client: TestClient, register: Keys, db: Database, field: str, sent: dict[str, Any]
) -> None:
    # PostgreSQL refuses NUL in text: without the check this was a 500 there (400 on SQLite).
    [one] = errors_json(post(client, register.client, **sent), 400)
    assert one["description"].startswith(f"{field}: U+00"), one
    assert "control character" in one["description"]
    assert count(db) == 0


def test_tabs_and_line_breaks_are_plain_text(
    client: TestClient, register: Keys, db: Database
) -> None:
    resp = post(client, register.client, description="line one\r\n\tline two")
    [result] = valid_json(resp, "post_result")
    assert "line one\n\tline two" in stored(db, result["service_request_id"]).description.replace(
        "\r", ""
    )


def test_a_control_character_in_the_query_string_is_a_400(
    client: TestClient, register: Keys
) -> None:
    resp = client.post(f"{BASE}/requests.json?api_key=og_key%00", data={"service_code": "E0102"})
    [one] = errors_json(resp, 400)
    assert one["description"].startswith("api_key: U+0000")
