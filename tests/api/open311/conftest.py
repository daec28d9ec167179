"""A small located city with the shipped taxonomy, and Open311 helpers: keys, schemas, XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Role, Scope
from tests.integration.cases.city import IN_CORE, build_city

SCHEMAS = Path(__file__).resolve().parents[2] / "interop" / "open311_schemas"
BASE = "/open311/v2"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
EVENT = "E0102"  # an event class routed to sanitation in the test city


@dataclass(frozen=True)
class Keys:
    client: str  # an open311_client key
    other: str  # a valid key of a role that may not post through Open311


@pytest.fixture
def keys(db: Database, clock: FixedClock, tmp_path: Path) -> Keys:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        _, client = create_api_key(s, "fixmystreet", Role.OPEN311_CLIENT, Scope.city(), clock)
        _, other = create_api_key(s, "sensors", Role.SENSOR_GATEWAY, Scope.city(), clock)
    return Keys(client, other)


@cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def valid_json(resp: Any, name: str) -> Any:
    """The JSON body, after checking the content type and the contract schema ``name``."""
    assert resp.headers["content-type"] == "application/json; charset=utf-8", resp.headers
    body = resp.json()
    jsonschema.validate(
        body, schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return body


def xml_of(resp: Any) -> ET.Element:
    """The XML root, after checking the content type and the UTF-8 declaration."""
    assert resp.headers["content-type"] == "text/xml; charset=utf-8", resp.headers
    assert resp.text.startswith(XML_DECLARATION), resp.text[:80]
    return ET.fromstring(resp.content)


def errors_json(resp: Any, status: int) -> list[dict[str, Any]]:
    assert resp.status_code == status, resp.text
    body: list[dict[str, Any]] = valid_json(resp, "errors")
    return body


def errors_xml(resp: Any, status: int) -> list[str]:
    assert resp.status_code == status, resp.text
    root = xml_of(resp)
    assert root.tag == "errors"
    assert [e.tag for e in root] == ["error"] * len(root) and len(root) >= 1
    return [e.findtext("description") or "" for e in root]


def form(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "service_code": EVENT,
        "lat": str(IN_CORE[1]),
        "long": str(IN_CORE[0]),
        "description": "垃圾堆积 rubbish piled up",
        "address_string": "示范路 1 号",
        "email": "zhang@example.org",
        "first_name": "San",
        "last_name": "Zhang",
        "phone": "13812345678",
    }
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}


def post(client: TestClient, key: str | None, fmt: str = "json", **kw: Any) -> Any:
    data = form(**kw)
    if key is not None:
        data["api_key"] = key
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def create(client: TestClient, key: str, **kw: Any) -> str:
    resp = post(client, key, **kw)
    assert resp.status_code == 200, resp.text
    body = valid_json(resp, "post_result")
    number: str = body[0]["service_request_id"]
    return number
