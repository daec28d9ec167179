"""The two wire formats of GeoReport v2: XML (mandatory) and JSON (the "Spark convention").

Both are rendered from the same plain data: a list becomes a container element holding one
item element per entry (a bare array in JSON), a dict becomes an element per key. Values are
strings, numbers, real booleans, ``None`` (an empty element; ``null`` in JSON) or aware
datetimes (W3C profile of ISO 8601, always with a zone).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import Response

FORMATS = ("xml", "json")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
# JSONP is a script: RFC 9239 names text/javascript its one media type.
JSONP_TYPE = "text/javascript; charset=utf-8"
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


# Characters XML 1.0 does not allow in a document (the C0 controls but tab, newline and
# carriage return, and two non-characters): dropped, so a stray one cannot break a reply.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return w3c(value)
    return str(value)


def _escape(text: str) -> str:
    if not text.isprintable():  # cheap test first: most values are plain
        text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SCALARS = frozenset({bool, int, float})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@functools.lru_cache(maxsize=4096)
def _tag(key: str) -> str:
    """A key used as an element name. Keys are ours (field names, attribute codes from the
    service definitions), but one that slipped through from input must not write markup."""
    if not _NAME.fullmatch(key) or key.lower().startswith("xml"):
        raise ValueError(f"not an XML element name: {key!r}")
    return key


def _write(out: list[str], tag: str, value: Any) -> None:
    """``value`` as the element ``tag``, appended to ``out`` as text. Written by hand rather
    than through ElementTree, which took ~100 ms for a page of 1,000 requests; the common
    types are told apart by class first, as the abstract-class tests cost more."""
    kind = value.__class__
    if kind is str:
        out.append(f"<{tag}>{_escape(value)}</{tag}>" if value else f"<{tag} />")
    elif value is None:
        out.append(f"<{tag} />")
    elif kind in _SCALARS or not isinstance(value, Mapping | list | tuple):
        text = _text(value)
        out.append(f"<{tag}>{_escape(text)}</{tag}>" if text else f"<{tag} />")
    elif not value:
        out.append(f"<{tag} />")
    else:
        out.append(f"<{tag}>")
        if isinstance(value, Mapping):
            for key, child in value.items():
                _write(out, _tag(key), child)
        else:
            item = ITEM_OF.get(tag, "item")
            for child in value:
                _write(out, item, child)
        out.append(f"</{tag}>")


def to_xml(data: Any, root: str, item: str | None = None) -> bytes:
    """The document: ``root`` holding ``item`` per entry of a list, or the keys of a dict.
    Tags are ours (never from input); text is escaped."""
    out = [XML_DECLARATION]
    if item is None:
        _write(out, root, data)
    elif not data:
        out.append(f"<{root} />")
    else:
        out.append(f"<{root}>")
        for entry in data:
            _write(out, item, entry)
        out.append(f"</{root}>")
    return "".join(out).encode("utf-8")


# orjson writes aware datetimes itself: whole seconds, ``Z`` for UTC (what the database gives),
# the offset otherwise (still a W3C datetime with its zone); a naive one is taken as UTC.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_NAIVE_UTC


def to_json(data: Any) -> bytes:
    """orjson (a list of 1,000 requests is a hot path); a non-finite float becomes null."""
    return orjson.dumps(data, option=_JSON_OPTIONS)


def to_jsonp(data: Any, callback: str) -> bytes:
    """``/**/callback([...]);``: the leading comment keeps the first bytes from being read as
    anything but script (the Rosetta Flash trick needs the callback name first)."""
    return b"/**/" + callback.encode("ascii") + b"(" + to_json(data) + b");"


def render(
    fmt: str,
    data: Sequence[Any] | Mapping[str, Any],
    root: str,
    item: str | None = None,
    status: int = 200,
    callback: str | None = None,
) -> Response:
    """``data`` as a reply in ``fmt`` (``xml`` or ``json``) with the exact UTF-8 content type;
    JSON wrapped in ``callback(...)`` when a (checked) JSONP callback is given."""
    if fmt == "json":
        if callback is not None:
            return Response(
                to_jsonp(data, callback),
                status_code=status,
                media_type=JSONP_TYPE,
                headers={"X-Content-Type-Options": "nosniff"},
            )
        return Response(to_json(data), status_code=status, media_type=JSON_TYPE)
    return Response(to_xml(data, root, item), status_code=status, media_type=XML_TYPE)
