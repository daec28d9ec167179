"""POST requests: success in both formats, multipart, attributes and the validation order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.cases.records import CASES
from onegrid.db.session import Database
from tests.api.open311.conftest import (
    BASE,
    EVENT,
    Keys,
    create,
    errors_json,
    errors_xml,
    form,
    post,
    valid_json,
    xml_of,
)
from tests.integration.cases.city import IN_CORE, OUTSIDE

pytestmark = pytest.mark.postgres


def count(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.execute(select(func.count()).select_from(CASES)).scalar_one())


def stored(db: Database, number: str) -> Any:
    with db.unit_of_work() as s:
        return s.execute(select(CASES).where(CASES.c.number == number)).mappings().one()


def test_post_json_creates_an_open311_case(client: TestClient, keys: Keys, db: Database) -> None:
    resp = post(client, keys.client)
    assert resp.status_code == 200, resp.text
    [result] = valid_json(resp, "post_result")
    assert "token" not in result
    row = stored(db, result["service_request_id"])
    assert row.channel == "open311" and row.category_code == EVENT
    assert row.status == "to_verify" and row.nature == "report"
    assert row.reporter_name == "San Zhang" and row.reporter_email == "zhang@example.org"
    assert row.description == "垃圾堆积 rubbish piled up" and row.address == "示范路 1 号"
    assert (row.lon, row.lat) == IN_CORE


def test_post_xml_returns_service_requests_request(client: TestClient, keys: Keys) -> None:
    resp = post(client, keys.client, fmt="xml")
    assert resp.status_code == 200, resp.text
    root = xml_of(resp)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert root.findtext("request/service_request_id", "").startswith(EVENT)


def test_api_key_may_come_in_the_query_string(client: TestClient, keys: Keys) -> None:
    resp = client.post(f"{BASE}/requests.json", params={"api_key": keys.client}, data=form())
    assert resp.status_code == 200, resp.text


def test_attributes_single_and_list_syntax(client: TestClient, keys: Keys, db: Database) -> None:
    number = create(client, keys.client, **{"attribute[nature]": "complaint"})
    assert stored(db, number).nature == "complaint"
    number = create(client, keys.client, **{"attribute[nature][]": "suggestion"})
    assert stored(db, number).nature == "suggestion"
    number = create(client, keys.client, **{"attribute[nature]": "", "attribute[other]": "x"})
    assert stored(db, number).nature == "report"  # an empty optional value counts as absent


def test_media_urls_are_kept_with_the_report(client: TestClient, keys: Keys, db: Database) -> None:
    data = {**form(), "api_key": keys.client}
    resp = client.post(
        f"{BASE}/requests.json",
        data={
            **data,
            "media_url": ["https://img.example.org/1.jpg", "https://img.example.org/2.jpg"],
        },
    )
    assert resp.status_code == 200, resp.text
    row = stored(db, resp.json()[0]["service_request_id"])
    assert row.description.endswith("https://img.example.org/1.jpg\nhttps://img.example.org/2.jpg")
    for url in ("javascript:alert(1)", "http://[::1/1.jpg"):  # the second does not even parse
        bad = client.post(f"{BASE}/requests.json", data={**data, "media_url": url})
        [error] = errors_json(bad, 400)
        assert error["description"].startswith("media_url ")


def test_multipart_without_files_is_accepted(client: TestClient, keys: Keys) -> None:
    data = {**form(), "api_key": keys.client}
    ok = client.post(f"{BASE}/requests.json", data=data, files={"ignored": ("", b"")})
    assert ok.status_code == 200, ok.text


def test_every_datatype_is_answered_and_kept(client: TestClient, keys: Keys, db: Database) -> None:
    answers = {
        "attribute[nature]": "complaint",
        "attribute[hazards][]": ["traffic", "children"],
        "attribute[observed_at]": "2026-03-02T08:15:00+08:00",
        "attribute[extent]": "2.5",
        "attribute[details]": "两袋垃圾\ntwo bags",
    }
    number = create(client, keys.client, **answers)
    row = stored(db, number)
    assert row.nature == "complaint"
    assert "[hazards] traffic,children" in row.description
    assert "[extent] 2.5" in row.description
    one = client.get(f"{BASE}/requests/{number}.json", params={"extensions": "true"})
    [request] = valid_json(one, "requests")
    got = {a["code"]: a for a in request["attributes"]}
    assert set(got) == {"nature", "hazards", "observed_at", "extent", "details"}
    assert got["hazards"]["value"] == "traffic,children"
    assert "blocks traffic" in got["hazards"]["name"]


BAD_ANSWERS: list[tuple[str, Any, str]] = [
    ("nature", "bribe", "not one of"),
    ("hazards", ["traffic", "meteor"], "not one of"),
    ("observed_at", "yesterday", "ISO 8601"),
    ("observed_at", "2026-03-01T08:00:00", "time zone"),
    ("observed_at", "2030-01-01T00:00:00Z", "future"),
    ("extent", "lots", "number"),
    ("extent", "-1", "number"),
    ("extent", "nan", "number"),
    ("details", "x" * 1001, "1000"),
    ("nature", ["help", "thanks"], "one value"),
]


def test_a_bad_answer_is_a_400_and_creates_nothing(
    client: TestClient, keys: Keys, db: Database
) -> None:
    for code, value, words in BAD_ANSWERS:
        [error] = errors_json(post(client, keys.client, **{f"attribute[{code}]": value}), 400)
        assert code in error["description"] and words in error["description"], error
    assert count(db) == 0


def test_idempotency_key_returns_the_same_request(client: TestClient, keys: Keys) -> None:
    data = {**form(), "api_key": keys.client}
    headers = {"Idempotency-Key": "fms-report-42"}
    first = client.post(f"{BASE}/requests.json", data=data, headers=headers).json()
    again = client.post(f"{BASE}/requests.json", data=data, headers=headers).json()
    assert first == again


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_validation_order(client: TestClient, keys: Keys, db: Database, fmt: str) -> None:
    def errors(status: int, key: str | None, **kw: Any) -> str:
        resp = post(client, key, fmt=fmt, **kw)
        if fmt == "json":
            return " ".join(e["description"] for e in errors_json(resp, status))
        return " ".join(errors_xml(resp, status))

    # Each step wins over every later one.
    assert "api_key" in errors(403, None, service_code=None, lat=None)
    assert "api_key" in errors(403, "og_notakey", service_code=None)
    assert "api_key" in errors(403, keys.other)
    assert "service_code" in errors(400, keys.client, service_code=None, lat=None)
    assert "X9999" in errors(404, keys.client, service_code="X9999", lat=None)
    assert "location" in errors(400, keys.client, lat=None, long=None, address_string=None)
    assert "lat and long" in errors(400, keys.client, long=None, description="x" * 5000)
    assert "lat and long" in errors(400, keys.client, lat=None, address_string="示范路")
    assert "decimal degrees" in errors(400, keys.client, lat="north")
    assert "nature" in errors(
        400, keys.client, description="x" * 5000, **{"attribute[nature]": "bribe"}
    )
    assert "4000" in errors(400, keys.client, description="x" * 4001)
    # Problems are named by Open311's fields, not the cases context's (long, not lon).
    assert errors(400, keys.client, lat=str(OUTSIDE[1]), long=str(OUTSIDE[0])).startswith(
        "long: the point"
    )
    assert errors(400, keys.client, phone="call me").startswith("phone:")
    assert "jurisdiction" in errors(404, keys.client, jurisdiction_id="sfgov.org")
    assert count(db) == 0  # nothing half-created


def test_a_component_class_requires_its_component(client: TestClient, keys: Keys) -> None:
    [error] = errors_json(post(client, keys.client, service_code="C0101"), 400)
    assert "component_id" in error["description"]
    [error] = errors_json(
        post(
            client,
            keys.client,
            service_code="C0101",
            **{"attribute[component_id]": "1101010101000001"},
        ),
        400,
    )
    assert "component" in error["description"]  # no such component in the inventory


def test_an_empty_description_takes_the_service_name(
    client: TestClient, keys: Keys, db: Database
) -> None:
    number = create(client, keys.client, description="")
    assert stored(db, number).description


MARKUP = [
    "<script>alert(1)</script>",
    "垃圾 <img src=x onerror=alert(1)> 堆积",
    "<b>bold</b> rubbish",
    "line one\n<a href='https://evil.example'>click</a>",
    "<!-- hidden --> rubbish",
    "<!DOCTYPE html>",
    "rubbish</p>",
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_html_in_the_description_is_refused(
    client: TestClient, keys: Keys, db: Database, fmt: str
) -> None:
    for markup in MARKUP:
        resp = post(client, keys.client, fmt=fmt, description=markup)
        if fmt == "json":
            [error] = errors_json(resp, 400)
            assert error["code"] == 400
            description = error["description"]
        else:
            [description] = errors_xml(resp, 400)
        assert description.startswith("description:") and "HTML" in description, markup
    assert count(db) == 0


PLAIN = ["温度 < 5 度", "温度<5度", "a < b > c", "<标题> 路灯不亮", "水深 <0.5 m, 宽 >2 m", "1<2"]


def test_a_less_than_sign_in_plain_text_is_kept(
    client: TestClient, keys: Keys, db: Database
) -> None:
    for text in PLAIN:
        number = create(client, keys.client, description=text)
        assert stored(db, number).description == text
        [request] = valid_json(client.get(f"{BASE}/requests/{number}.json"), "requests")
        assert request["description"] == text
    resp = post(client, keys.client, fmt="xml", description=PLAIN[0])
    assert resp.status_code == 200, resp.text
    number = xml_of(resp).findtext("request/service_request_id", "")
    root = xml_of(client.get(f"{BASE}/requests/{number}.xml"))
    assert root.findtext("request/description") == PLAIN[0]
