"""The XML writer: well-formed, escaped, the item names of OPEN311.md 1.10, empty as ``<x />``;
JSONP wrapping."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

from onegrid.api.open311.formats import to_jsonp, to_xml


def test_xml_is_escaped_well_formed_and_keeps_its_text() -> None:
    data = [
        {
            "description": '井盖 & <drain> "open"\nsecond line\x00\x0b',
            "lat": 39.9,
            "metadata": False,
            "count": 0,
            "gone": float("nan"),
            "empty": "",
            "none": None,
            "at": datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8))),
            "attributes": [{"values": [{"key": "a"}, {"key": "b"}]}],
            "notes": [],
        }
    ]
    raw = to_xml(data, "service_requests", "request")
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<service_requests><request>')
    request = ET.fromstring(raw).find("request")
    assert request is not None
    assert request.findtext("description") == '井盖 & <drain> "open"\nsecond line'
    assert (request.findtext("lat"), request.findtext("metadata")) == ("39.9", "false")
    assert request.findtext("count") == "0" and request.findtext("at") == "2026-03-02T01:00:00Z"
    for empty in ("gone", "empty", "none", "notes"):
        assert f"<{empty} />".encode() in raw
    values = request.findall("attributes/attribute/values/value/key")
    assert [v.text for v in values] == ["a", "b"]


def test_an_empty_list_and_a_document() -> None:
    assert to_xml([], "services", "service").endswith(b"<services />")
    doc = ET.fromstring(to_xml({"service_code": "E0102", "attributes": []}, "service_definition"))
    assert doc.tag == "service_definition" and doc.findtext("service_code") == "E0102"


def test_jsonp_is_the_json_inside_a_call() -> None:
    raw = to_jsonp([{"at": datetime(2026, 3, 2, 1, 0, tzinfo=UTC)}], "app.cb")
    assert raw.startswith(b"/**/app.cb(") and raw.endswith(b");")
    assert json.loads(raw[len(b"/**/app.cb(") : -2]) == [{"at": "2026-03-02T01:00:00Z"}]
