"""What every Open311 endpoint checks first: the format, the jurisdiction, the parameters.

Parameters are read raw (not as typed FastAPI parameters) so that a bad value is an Open311
error list, not a problem document, and an empty value counts as absent (OPEN311.md 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from onegrid.api.open311.errors import Open311Error, bad_request, not_found
from onegrid.api.open311.formats import FORMATS
from onegrid.core.settings import Settings


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt!r}: use .xml or .json")


def jurisdiction_of(settings: Settings) -> str:
    """The one jurisdiction this server serves: the city's administrative code."""
    return settings.city_code


def check_jurisdiction(params: Mapping[str, str], settings: Settings) -> None:
    """A single-jurisdiction server: absent is fine, anything but our city code is unknown."""
    given = (params.get("jurisdiction_id") or "").strip()
    if given and given != jurisdiction_of(settings):
        raise not_found(
            f"unknown jurisdiction_id {given!r}: this server serves {jurisdiction_of(settings)}"
        )


def text(params: Mapping[str, str], name: str) -> str | None:
    value = (params.get(name) or "").strip()
    return value or None


def comma_list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = text(params, name) or ""
    return tuple(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))


def when(params: Mapping[str, str], name: str) -> datetime | None:
    """A W3C datetime; the zone is required (``Z`` or ``±HH:MM``)."""
    raw = text(params, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise bad_request(f"{name}: {raw!r} is not a W3C datetime") from None
    if value.tzinfo is None:
        raise bad_request(f"{name}: {raw!r} needs a time zone (Z or ±HH:MM)")
    return value


def positive_int(params: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = text(params, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise bad_request(f"{name}: a whole number from 1 to {most}")
    return int(raw)
