"""Opaque page cursors: a list's last key, base64url without padding, refused with one clear
problem when it is not one a list gave out."""

from __future__ import annotations

import base64
import binascii

from onegrid.core.errors import InvalidInput

# The id columns are 32-bit integers: PostgreSQL refuses a larger value bound to a comparison
# with them as out of range (a 500) instead of finding no row.
ID_MAX = 2**31 - 1


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, max_length: int) -> str:
    """The key ``cursor`` holds, at most ``max_length`` ASCII characters."""
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not value or len(value) > max_length:
        raise bad_cursor()
    return value


def decode_id_cursor(cursor: str) -> int:
    """The id ``cursor`` holds, within the id columns' range."""
    value = decode_cursor(cursor, max_length=10)
    if not value.isdigit() or int(value) > ID_MAX:
        raise bad_cursor()
    return int(value)


def bad_cursor() -> InvalidInput:
    return InvalidInput.one("cursor", "cursor_format", "cursor is not one this API gave out")
