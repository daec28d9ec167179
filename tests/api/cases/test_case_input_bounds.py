"""Input a client can craft past what the case API hands out (a cursor, an If-Match, an
attachment id, a point off the city) is a 422 naming the field and the rule, never the
database's error (a 500), and nothing is written; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from onegrid.cases.services.creating import outside_fields
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, body, create, post
from tests.integration.cases.city import EAST, IN_CORE, NORTH, SOUTH, WEST

pytestmark = pytest.mark.postgres


def crafted(parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def problems(resp: Any) -> list[tuple[str, str]]:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    return [(e["field"], e["rule"]) for e in resp.json()["errors"]]


BAD_CURSORS = [
    ("number", ["number", [1], 5]),
    ("number", ["number", {"n": 1}, 5]),
    ("number", ["number", 12, 5]),
    ("number", ["number", "E0102\x00", 5]),  # PostgreSQL refuses NUL in text
    ("number", ["number", "\ud800", 5]),  # a lone surrogate cannot be sent as UTF-8
    ("number", ["number", "E" * 33, 5]),  # longer than any case number
    ("number", ["number", "x", -99999999999999999999]),
    ("number", ["number", "x", 2**31]),
    ("number", ["number", "x", 0]),
    ("number", ["number", "x", True]),
    ("number", ["number", "x", 5.0]),
    ("created_at", ["created_at", "2026-01-01T00:00:00", 5]),  # naive
    ("created_at", ["created_at", "0001-01-01T00:00:00+05:00", 5]),  # before year 1 in UTC
    ("updated_at", ["updated_at", "9999-12-31T23:59:59-01:00", 5]),  # after 9999 in UTC
    ("created_at", ["created_at", 20260101, 5]),
    ("created_at", ["created_at", ["2026-01-01T00:00:00+00:00"], 5]),
    ("created_at", ["created_at", "2026-01-01T00:00:00+00:00", 2**63]),
    ("created_at", ["created_at", "2026-01-01T00:00:00+00:00"]),
    ("created_at", {"created_at": 1, "v": 2, "id": 3}),
]


def test_a_crafted_cursor_is_a_422_naming_the_cursor(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    create(client, as_["insp"])
    for sort, parts in BAD_CURSORS:
        resp = client.get(
            BASE, params={"sort": sort, "cursor": crafted(parts)}, headers=as_["leader"]
        )
        assert problems(resp) == [("cursor", "valid_cursor")], parts
    nested = base64.urlsafe_b64encode(b"[" * 5000).decode()  # past the JSON parser's recursion
    resp = client.get(BASE, params={"cursor": nested}, headers=as_["leader"])
    assert problems(resp) == [("cursor", "valid_cursor")]


def test_a_cursor_in_range_pages_on(client: TestClient, as_: dict[str, Headers]) -> None:
    made = [create(client, as_["insp"])["id"] for _ in range(2)]
    leader = as_["leader"]
    for sort, parts in (
        ("created_at", ["created_at", "2000-01-01T08:00:00+08:00", 1]),
        ("-updated_at", ["-updated_at", "9999-12-31T23:59:59+00:00", 2**31 - 1]),
        ("number", ["number", "", 1]),
    ):
        resp = client.get(BASE, params={"sort": sort, "cursor": crafted(parts)}, headers=leader)
        assert resp.status_code == 200, (sort, resp.text)
        assert sorted(c["id"] for c in resp.json()["items"]) == made


def test_a_cursor_pages_only_the_way_it_was_made_for_and_a_sort_is_a_key_or_minus_a_key(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    for _ in range(3):
        create(client, as_["insp"])
    leader = as_["leader"]
    for made_for, used_with in (("-created_at", "created_at"), ("number", "-number"),
                                ("updated_at", "-updated_at")):  # fmt: skip
        first = client.get(BASE, params={"limit": 1, "sort": made_for}, headers=leader).json()
        cursor = first["next_cursor"]
        wrong_way = client.get(BASE, params={"sort": used_with, "cursor": cursor}, headers=leader)
        assert problems(wrong_way) == [("cursor", "valid_cursor")], made_for
        on = client.get(BASE, params={"limit": 1, "sort": made_for, "cursor": cursor},
                        headers=leader)  # fmt: skip
        assert on.status_code == 200 and on.json()["items"][0]["id"] != first["items"][0]["id"]
    for sort in ("--created_at", "+-number", "-+number", "+created_at", "-", " created_at",
                 "created_at-", "-Number"):  # fmt: skip
        resp = client.get(BASE, params={"sort": sort}, headers=leader)
        assert problems(resp) == [("sort", "known_sort")], sort


def raw_post(client: TestClient, url: str, headers: list[tuple[bytes, bytes]]) -> httpx.Response:
    """A POST with header bytes as given: the test client re-encodes a value as UTF-8, so only
    the ASGI transport can send the single byte 0xB2 a real client can."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post(url, json={}, headers=headers)

    return anyio.run(send)


def test_if_match_is_an_ascii_version_in_the_columns_range(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    url = f"{BASE}/{case['id']}/file"
    auth = [(k.encode(), v.encode()) for k, v in as_["leader"].items()]
    for if_match in (b"\xb2", b'"\xb9"', b'W/"\xb3"', "①".encode(), b'"0"', b'W/"2147483648"',
                     b"99999999999999999999", b"+1", b" 1 2"):  # fmt: skip
        resp = raw_post(client, url, [*auth, (b"if-match", if_match)])
        assert problems(resp) == [("If-Match", "version_etag")], if_match
    again = client.get(f"{BASE}/{case['id']}", headers=as_["leader"]).json()
    assert (again["status"], again["version"]) == (case["status"], case["version"])
    done = client.post(url, json={}, headers={**as_["leader"], "If-Match": 'W/"1"'})
    assert done.status_code == 200, done.text


def test_an_attachment_id_out_of_the_id_range_is_a_422_naming_it(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    for attachment_id in (2**63, 2**31, 0, -1):
        resp = post(client, case, "file", as_["leader"], attachments=[attachment_id])
        assert {field for field, _rule in problems(resp)} == {"attachments.0"}, attachment_id
        held = post(client, case, "cancel", as_["leader"], reason="x",
                    attachments=[1, attachment_id])  # fmt: skip
        assert {field for field, _rule in problems(held)} == {"attachments.1"}, attachment_id
    again = client.get(f"{BASE}/{case['id']}", headers=as_["leader"]).json()
    assert (again["status"], again["version"]) == (case["status"], case["version"])


def test_a_point_outside_the_city_names_the_coordinate_that_is_off(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    for (lon, lat), named in (
        ((IN_CORE[0], 0.0), ["lat"]),
        ((IN_CORE[0], NORTH + 0.01), ["lat"]),
        ((0.0, IN_CORE[1]), ["lon"]),
        ((WEST - 0.01, IN_CORE[1]), ["lon"]),
        ((EAST + 0.01, SOUTH - 0.01), ["lon", "lat"]),
    ):
        resp = client.post(BASE, json=body(lon=lon, lat=lat), headers=as_["insp"])
        assert problems(resp) == [(field, "inside_city") for field in named], (lon, lat)
    assert client.get(BASE, headers=as_["leader"]).json()["items"] == []


def test_a_point_inside_the_box_but_outside_every_area_names_both() -> None:
    box = (WEST, SOUTH, EAST, NORTH)
    assert outside_fields(IN_CORE[0], IN_CORE[1], box) == ("lon", "lat")
    assert outside_fields(IN_CORE[0], 0.0, box) == ("lat",)
    assert outside_fields(180.0, IN_CORE[1], box) == ("lon",)
    assert outside_fields(180.0, 0.0, box) == ("lon", "lat")
    assert outside_fields(IN_CORE[0], IN_CORE[1], None) == ("lon", "lat")  # a city with no area
