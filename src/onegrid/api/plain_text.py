"""Every text a client sends the v1 API is plain text: a control character is a 422 naming where.

PostgreSQL refuses NUL in a text value, so a NUL in any string a request carries (a reason, a
filter, a path segment) would fail at the first query or insert as a 500, and SQLite would store
it. The intake paths check their own fields (``onegrid.core.text``); this guard covers every
other body, query and path the same way before a route runs, so no endpoint can forget it.
Open311's routes are left to their form reader, which answers in Open311's error lists.

A pure ASGI middleware: a body without a JSON control escape (all but a few requests) costs one
regular-expression scan of its bytes; only a hit is parsed to name the field.

It also bounds a JSON body (1 MiB), which the app parses whole before any rule of the route is
read: a 10 MB report was parsed for seconds before its description's 4,000 characters were
counted. The routes that take a file as JSON (area and grid imports) keep their own limit; a
sensor gateway's batch and a batch of points to locate may be larger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse

from onegrid.api.open311.errors import OWN_PATHS
from onegrid.core.text import CONTROL_RULE, control_message, refused_character

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# JSON can carry a control character only as a \u escape (raw ones are not valid JSON); tab,
# line feed and carriage return are allowed.
_BODY_HINT = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")
_QUERY_HINT = re.compile(rb"%(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])")
JSON_MAX_BYTES = 1024 * 1024
_JSON_LIMITS: dict[str, int | None] = {
    "/api/v1/areas/import": None,  # the route's own limit (a GeoJSON file)
    "/api/v1/unit-grids/import": None,
    "/api/v1/sensing/readings": 16 * JSON_MAX_BYTES,
    "/api/v1/locate/batch": 8 * JSON_MAX_BYTES,  # 100,000 points of ~30 bytes, and its own rule
}


class _TooLarge(Exception):
    pass


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(field, character) for every string (or key) in ``value`` holding a refused character."""
    if isinstance(value, str):
        found = refused_character(value)
        if found is not None:
            yield ".".join(path) or "body", found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = refused_character(key)
            if found is not None:
                yield ".".join((*path, key[:100])), found
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, str(i)))


def _body_problems(body: bytes) -> list[tuple[str, str]]:
    if not _BODY_HINT.search(body):
        return []
    try:
        data = json.loads(body)
    except ValueError:
        return []  # not JSON: the route's own validation answers
    return list(_walk(data, ()))


def _query_problems(query: bytes) -> list[tuple[str, str]]:
    if not _QUERY_HINT.search(query):
        return []
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    out = []
    for name, value in pairs:
        found = refused_character(name) or refused_character(value)
        if found is not None:
            out.append((name[:100] if refused_character(name) is None else "query", found))
    return out


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return b"json" in value.lower()
    return False


def _left(message: Message) -> Receive:
    async def gone() -> Message:
        return message

    return gone


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _read_body(receive: Receive, limit: int | None) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it to the app as one message; past
    ``limit`` bytes, ``_TooLarge`` (a chunked body declares no length)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", _left(message)  # the client left: the app sees it as it would have
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _refusal(path: str, problems: list[tuple[str, str]]) -> JSONResponse:
    errors = [
        {"field": field, "rule": CONTROL_RULE, "message": control_message(character)}
        for field, character in problems
    ]
    first = errors[0]
    return JSONResponse(
        {
            "type": "https://onegrid.dev/problems/invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": f"{first['field']}: {first['message']}",
            "instance": path,
            "errors": errors,
        },
        status_code=422,
        media_type="application/problem+json",
    )


def _too_large(path: str, limit: int) -> JSONResponse:
    message = f"a JSON body is at most {limit:,} bytes"
    return JSONResponse(
        {
            "type": "https://onegrid.dev/problems/too-large",
            "title": "Request too large",
            "status": 413,
            "detail": f"body: {message}",
            "instance": path,
            "errors": [{"field": "body", "rule": "max_size", "message": message}],
        },
        status_code=413,
        media_type="application/problem+json",
    )


class PlainTextInput:
    """Refuses a request whose path, query or JSON body holds a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(OWN_PATHS):
            await self.app(scope, receive, send)
            return
        found = refused_character(path)
        problems = [("path", found)] if found is not None else []
        problems += _query_problems(scope.get("query_string", b""))
        if not problems and _is_json(scope):
            limit = _JSON_LIMITS.get(path, JSON_MAX_BYTES)
            declared = _declared_length(scope)
            try:
                if limit is not None and declared is not None and declared > limit:
                    raise _TooLarge
                body, receive = await _read_body(receive, limit)
            except _TooLarge:
                await _too_large(path, limit or 0)(scope, receive, send)
                return
            problems = _body_problems(body)
        if problems:
            await _refusal(path, problems)(scope, receive, send)
            return
        await self.app(scope, receive, send)
