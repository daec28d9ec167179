"""A POST's body read as the form Open311 clients send (OPEN311.md 1.1), strictly UTF-8.

Starlette reads a urlencoded body as Latin-1 and replaces percent-escapes that are not UTF-8,
and falls back to Latin-1 for a multipart field that is not: either way a report would be
stored as mojibake. Here such a field is refused, naming it. Any other body (JSON, plain
text) is refused with the types to send: read as an empty form, it was answered with a
misleading "api_key is required".

A refusal is kept with the body, not raised, so that the endpoint answers it as an Open311
error list in its own format, after the format check.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from onegrid.api.open311.errors import Open311Error, bad_request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FIELDS_MAX = 1000  # as Starlette's form parsers
PART_MAX = 1024 * 1024  # a multipart field's bytes, as Starlette's
URLENCODED_MAX = 1024 * 1024  # the whole urlencoded body: files come as multipart
NOT_A_FORM = (
    "the body must be a form: send it as application/x-www-form-urlencoded or "
    "multipart/form-data (UTF-8), not {given}"
)


@dataclass(frozen=True)
class PostedBody:
    """The form a POST sent, or why it cannot be read."""

    form: FormData
    refusal: Open311Error | None = None

    async def close(self) -> None:
        await self.form.close()


def not_utf8(name: str) -> Open311Error:
    return bad_request(f"{name}: not UTF-8 (send the form's text in UTF-8)")


async def read_body(request: Request) -> PostedBody:
    """The body's form; a body of another type is refused, but none at all is an empty form
    (every field may come in the query string)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type == "multipart/form-data":
            return PostedBody(await _multipart(request))
        if media_type == "application/x-www-form-urlencoded":
            fields: list[tuple[str, str | UploadFile]] = [*await _urlencoded(request)]
            return PostedBody(FormData(fields))
        if await _has_body(request):
            given = media_type or "a body without a Content-Type"
            return PostedBody(FormData(), bad_request(NOT_A_FORM.format(given=given)))
        return PostedBody(FormData())
    except Open311Error as exc:
        return PostedBody(FormData(), exc)


async def _has_body(request: Request) -> bool:
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            if chunk:
                return True
    return False


async def _urlencoded(request: Request) -> list[tuple[str, str]]:
    body = bytearray()
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            body += chunk
            if len(body) > URLENCODED_MAX:
                raise bad_request(
                    f"the form is over {URLENCODED_MAX // 1024} KB: "
                    "send photos as multipart/form-data"
                )
    return parse_urlencoded(bytes(body))


def parse_urlencoded(body: bytes) -> list[tuple[str, str]]:
    """The fields of a urlencoded body, each name and value decoded as UTF-8 (a client's raw
    UTF-8 bytes too, which Starlette read as Latin-1); one that is not UTF-8 is a 400."""
    pieces = [p for p in body.split(b"&") if p]
    if len(pieces) > FIELDS_MAX:
        raise bad_request(f"the form has more than {FIELDS_MAX} fields")
    return [_field(piece) for piece in pieces]


def _field(piece: bytes) -> tuple[str, str]:
    raw_name, _, raw_value = piece.partition(b"=")
    name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
    try:
        name = name_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8(repr(name_bytes.decode("utf-8", "replace")[:100])) from None
    try:
        value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8(name[:100]) from None
    return name, value


class _Utf8Parts(MultiPartParser):
    """Starlette's multipart parser, noting the text fields that are not UTF-8 (Starlette
    reads them as Latin-1)."""

    def __init__(self, request: Request, stream: AsyncGenerator[bytes]) -> None:
        super().__init__(
            request.headers,
            stream,
            max_files=FIELDS_MAX,
            max_fields=FIELDS_MAX,
            max_part_size=PART_MAX,
        )
        self.not_utf8: list[str] = []

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            try:
                bytes(part.data).decode("utf-8")
            except UnicodeDecodeError:
                self.not_utf8.append(part.field_name)
        super().on_part_end()


async def _multipart(request: Request) -> FormData:
    try:
        async with aclosing(request.stream()) as stream:
            parser = _Utf8Parts(request, stream)
            form = await parser.parse()
    except MultiPartException as exc:
        raise bad_request(f"the multipart form cannot be read: {exc.message}") from None
    if parser.not_utf8:
        await form.close()
        raise not_utf8(parser.not_utf8[0][:100])
    return form
