"""The two wire formats of GeoReport v2: XML (mandatory) and JSON (the "Spark convention").

Both are rendered from the same plain data: a list becomes a container element holding one
item element per entry (a bare array in JSON), a dict becomes an element per key. Values are
strings, numbers, real booleans, ``None`` (an empty element; ``null`` in JSON) or aware
datetimes (W3C profile of ISO 8601, always with a zone).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import Response

FORMATS = ("xml", "json")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# The element that holds each entry of a nested list (OPEN311.md 1.10).
ITEM_OF: dict[str, str] = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "photos": "photo",
}


def w3c(when: datetime) -> str:
    """``2026-03-02T01:00:00Z``: UTC, seconds, the zone spelled out as the spec requires."""
    if when.tzinfo is None:
        raise ValueError("naive datetimes have no place on the wire")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return w3c(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        item = ITEM_OF.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(data: Any, root: str, item: str | None = None) -> bytes:
    """The document: ``root`` holding ``item`` per entry of a list, or the keys of a dict."""
    element = ET.Element(root)
    plain = _plain(data)
    if item is not None:
        for entry in plain:
            _fill(ET.SubElement(element, item), entry)
    else:
        _fill(element, plain)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return (XML_DECLARATION + body).encode("utf-8")


# orjson writes aware datetimes itself: whole seconds, ``Z`` for UTC (what the database gives),
# the offset otherwise (still a W3C datetime with its zone); a naive one is taken as UTC.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_NAIVE_UTC


def to_json(data: Any) -> bytes:
    """orjson (a list of 1,000 requests is a hot path); a non-finite float becomes null."""
    return orjson.dumps(data, option=_JSON_OPTIONS)


def render(
    fmt: str,
    data: Sequence[Any] | Mapping[str, Any],
    root: str,
    item: str | None = None,
    status: int = 200,
) -> Response:
    """``data`` as a reply in ``fmt`` (``xml`` or ``json``) with the exact UTF-8 content type."""
    if fmt == "json":
        return Response(to_json(data), status_code=status, media_type=JSON_TYPE)
    return Response(to_xml(data, root, item), status_code=status, media_type=XML_TYPE)
