"""Input the fuzzing found read too loosely: each is a 400 error list naming the parameter,
never a 500, and a refused post writes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onegrid.cases.history import HISTORY
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
    valid_json,
)

pytestmark = pytest.mark.postgres
OTHER = "E0101"
FORM = "application/x-www-form-urlencoded"


def cases(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.execute(select(func.count()).select_from(CASES)).scalar_one())


def history(db: Database) -> int:
    with db.unit_of_work() as s:
        return int(s.execute(select(func.count()).select_from(HISTORY)).scalar_one())


def refused(client: TestClient, path: str, query: str, words: str) -> None:
    """Both formats answer 400 with one error holding ``words``."""
    [error] = errors_json(client.get(f"{BASE}/{path}.json?{query}"), 400)
    assert words in error["description"], (query, error)
    [text] = errors_xml(client.get(f"{BASE}/{path}.xml?{query}"), 400)
    assert words in text, (query, text)


# ²  and ① pass str.isdigit(), then int() refused them: a 500.
PAGING = [
    ("page=%C2%B2", "page: a whole number"),
    ("page_size=%E2%91%A0", "page_size: a whole number"),
    ("page=" + "1" * 5000, "page: a whole number"),  # int() refuses over 4300 digits
    ("limit=5&offset=%C2%B2", "offset: a whole number"),
    ("limit=%C2%B9", "limit: a whole number"),
]


@pytest.mark.parametrize(("query", "words"), PAGING)
def test_paging_takes_ascii_digits_only(client: TestClient, query: str, words: str) -> None:
    refused(client, "requests", query, words)


def test_update_paging_takes_ascii_digits_only(client: TestClient) -> None:
    refused(client, "servicerequestupdates", "page=%C2%B2", "page: a whole number")
    refused(client, "servicerequestupdates", "page_size=%E2%91%A0", "page_size: a whole number")
    [error] = errors_json(client.get("/georeport/v2/requests.json?page=%E2%91%A0"), 400)
    assert error["description"].startswith("page:")


# The 90-day window from the calendar's first or last day, and a UTC time before year 1 or
# after 9999, overflowed: 500s.
EDGE_DATES = [
    ("end_date", "0001-01-02T00:00:00Z"),
    ("start_date", "9999-12-31T00:00:00Z"),
    ("start_date", "0001-01-01T00:00:00+14:00"),
    ("end_date", "9999-12-31T23:59:59-01:00"),
    ("updated_after", "0001-01-01T00:00:00+01:00"),
    ("updated_before", "9999-12-31T23:59:59-01:00"),
    ("start_date", "1970-01-01T00:30:00+01:00"),  # 1969 in UTC
]


@pytest.mark.parametrize(("name", "value"), EDGE_DATES)
def test_dates_outside_the_sane_years_are_refused(
    client: TestClient, name: str, value: str
) -> None:
    query = urlencode({name: value})
    refused(client, "requests", query, f"{name}: ")
    refused(client, "requests", query, "out of range")


@pytest.mark.parametrize(("name", "value"), EDGE_DATES[:4])
def test_update_windows_outside_the_sane_years_are_refused(
    client: TestClient, name: str, value: str
) -> None:
    refused(client, "servicerequestupdates", urlencode({name: value}), f"{name}: ")


def test_dates_inside_the_sane_years_still_answer(client: TestClient) -> None:
    for query in ("start_date=1970-01-01T00:00:00Z", "end_date=9998-12-31T00:00:00Z"):
        valid_json(client.get(f"{BASE}/requests.json?{query}"), "requests")
        valid_json(client.get(f"{BASE}/servicerequestupdates.json?{query}"), "updates")


def test_a_list_parameter_given_twice_is_one_list(client: TestClient, keys: Keys) -> None:
    first = create(client, keys.client)
    second = create(client, keys.client, service_code=OTHER)
    listed = valid_json(
        client.get(f"{BASE}/requests.json?service_code={EVENT}&service_code={OTHER}"), "requests"
    )
    assert {r["service_request_id"] for r in listed} == {first, second}
    one = client.get(f"{BASE}/requests.json?service_request_id={first}&service_request_id=")
    assert [r["service_request_id"] for r in valid_json(one, "requests")] == [first]


def test_a_single_parameter_given_twice_is_refused(client: TestClient, keys: Keys) -> None:
    create(client, keys.client)
    refused(client, "requests", "page=1&page=2", "page: given more than once")
    refused(client, "requests", "q=a&q=b", "q: given more than once")
    refused(client, "servicerequestupdates", "page_size=5&page_size=6", "page_size: given more")
    # The same value twice, or beside an empty one, says one thing.
    assert len(valid_json(client.get(f"{BASE}/requests.json?page=1&page=1"), "requests")) == 1
    assert len(valid_json(client.get(f"{BASE}/requests.json?page=&page=1"), "requests")) == 1


NOT_DECIMAL = ["1_16.96567", "１１６.９６５６７", "116.9e", "0x74", "inf"]


@pytest.mark.parametrize("value", NOT_DECIMAL)
def test_coordinates_are_plain_decimals_on_get(client: TestClient, value: str) -> None:
    refused(client, "requests", urlencode({"lat": "39.9", "long": value}), "decimal")
    bbox = urlencode({"bbox": f"{value},39,117,40"})
    refused(client, "requests", bbox, "bbox")


# POST


def post_raw(
    client: TestClient, body: bytes, content_type: str, fmt: str = "json", path: str = "requests"
) -> Any:
    return client.post(f"{BASE}/{path}.{fmt}", content=body, headers={"content-type": content_type})


def urlencoded(key: str, **kw: Any) -> bytes:
    return urlencode({**form(**kw), "api_key": key}).encode()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_json_body_is_told_to_send_a_form(
    client: TestClient, keys: Keys, db: Database, fmt: str
) -> None:
    before = cases(db)
    body = b'{"api_key": "%s", "service_code": "E0102", "lat": 39.9, "long": 116.4}'
    resp = post_raw(client, body % keys.client.encode(), "application/json", fmt)
    [words] = (
        [e["description"] for e in errors_json(resp, 400)]
        if fmt == "json"
        else errors_xml(resp, 400)
    )
    assert "application/x-www-form-urlencoded" in words and "application/json" in words
    assert cases(db) == before


def test_a_json_update_is_told_to_send_a_form(client: TestClient, keys: Keys) -> None:
    body = b'{"api_key": "k", "update_id": "1"}'
    resp = post_raw(client, body, "application/json", path="servicerequestupdates")
    [error] = errors_json(resp, 400)
    assert "multipart/form-data" in error["description"]


def test_a_post_without_a_body_reads_the_query(client: TestClient, keys: Keys) -> None:
    resp = client.post(f"{BASE}/requests.json", params={**form(), "api_key": keys.client})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    "description", [b"%FF%FEbad", b"\xff\xfe raw", b"ok%E4%B8"], ids=["escaped", "raw", "cut"]
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_form_that_is_not_utf8_is_refused(
    client: TestClient, keys: Keys, db: Database, description: bytes, fmt: str
) -> None:
    before = cases(db)
    body = urlencoded(keys.client, description=None) + b"&description=" + description
    resp = post_raw(client, body, FORM, fmt)
    texts = (
        [e["description"] for e in errors_json(resp, 400)]
        if fmt == "json"
        else errors_xml(resp, 400)
    )
    assert texts == ["description: not UTF-8 (send the form's text in UTF-8)"]
    assert cases(db) == before


def test_raw_utf8_in_a_form_is_read_as_utf8(client: TestClient, keys: Keys, db: Database) -> None:
    # curl -d "description=路灯坏了" sends the bytes unescaped: they were stored as Latin-1.
    body = urlencoded(keys.client, description=None) + "&description=路灯坏了".encode()
    resp = post_raw(client, body, FORM)
    assert resp.status_code == 200, resp.text
    number = resp.json()[0]["service_request_id"]
    with db.unit_of_work() as s:
        stmt = select(CASES.c.description).where(CASES.c.number == number)
        assert s.execute(stmt).scalar_one() == "路灯坏了"


def multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "xYzZY311"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def test_a_multipart_field_that_is_not_utf8_is_refused(
    client: TestClient, keys: Keys, db: Database
) -> None:
    before = cases(db)
    fields = {k: str(v).encode() for k, v in {**form(), "api_key": keys.client}.items()}
    body, boundary = multipart({**fields, "description": b"\xff\xfe raw"})
    resp = post_raw(client, body, f"multipart/form-data; boundary={boundary}")
    [error] = errors_json(resp, 400)
    assert error["description"].startswith("description: not UTF-8")
    assert cases(db) == before
    body, boundary = multipart({**fields, "description": "路灯坏了".encode()})
    ok = post_raw(client, body, f"multipart/form-data; boundary={boundary}")
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("value", NOT_DECIMAL)
def test_coordinates_are_plain_decimals_on_post(
    client: TestClient, keys: Keys, db: Database, value: str
) -> None:
    before = cases(db)
    resp = post_raw(client, urlencoded(keys.client, long=value), FORM)
    [error] = errors_json(resp, 400)
    assert "lat and long are decimal degrees" in error["description"]
    assert cases(db) == before


def test_a_number_attribute_is_a_plain_decimal(client: TestClient, keys: Keys) -> None:
    body = urlencoded(keys.client, **{"attribute[extent]": "1_0"})
    [error] = errors_json(post_raw(client, body, FORM), 400)
    assert error["description"].startswith("attribute[extent]")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_field_posted_twice_is_refused(
    client: TestClient, keys: Keys, db: Database, fmt: str
) -> None:
    before = cases(db)
    body = urlencoded(keys.client) + b"&service_code=ZZZZ"
    resp = post_raw(client, body, FORM, fmt)
    texts = (
        [e["description"] for e in errors_json(resp, 400)]
        if fmt == "json"
        else errors_xml(resp, 400)
    )
    assert texts == ["service_code: given more than once ('E0102', 'ZZZZ'): send it once"]
    # In the query string and the form, too.
    resp = client.post(
        f"{BASE}/requests.{fmt}", params={"lat": "40.1"}, data={**form(), "api_key": keys.client}
    )
    assert resp.status_code == 400 and "lat: given more than once" in resp.text
    assert cases(db) == before


def test_a_field_posted_twice_alike_is_one(client: TestClient, keys: Keys) -> None:
    resp = client.post(
        f"{BASE}/requests.json",
        params={"api_key": keys.client},
        data={**form(), "api_key": keys.client},
    )
    assert resp.status_code == 200, resp.text


def test_an_update_is_refused_for_a_repeat_a_bad_date_or_bad_bytes(
    client: TestClient, keys: Keys, db: Database
) -> None:
    number = create(client, keys.client)
    before = history(db)
    fields = {
        "api_key": keys.client,
        "service_request_id": number,
        "update_id": "fms-9",
        "updated_datetime": "2026-03-02T09:30:00+08:00",
        "status": "OPEN",
        "description": "still there",
    }
    base = urlencode(fields).encode()
    for extra, words in [
        (b"&status=CLOSED", "status: given more than once"),
        (b"&description=%FF", "description: not UTF-8"),
    ]:
        body = base.replace(b"&description=still+there", b"") if b"description" in extra else base
        resp = post_raw(client, body + extra, FORM, path="servicerequestupdates")
        [error] = errors_json(resp, 400)
        assert error["description"].startswith(words), error
    early = urlencode({**fields, "updated_datetime": "0001-01-01T00:00:00+14:00"}).encode()
    resp = post_raw(client, early, FORM, path="servicerequestupdates")
    [error] = errors_json(resp, 400)
    assert error["description"].startswith("updated_datetime: ") and "out of range" in str(error)
    assert history(db) == before


def test_a_form_that_cannot_be_read_is_an_error_list(client: TestClient, keys: Keys) -> None:
    big = urlencoded(keys.client, description="a" * 2_000_000)
    [too_big] = errors_xml(post_raw(client, big, FORM, "xml"), 400)
    assert "the form is over 1024 KB" in too_big
    [no_boundary] = errors_json(post_raw(client, b"x", "multipart/form-data"), 400)
    assert "multipart form cannot be read" in no_boundary["description"]
