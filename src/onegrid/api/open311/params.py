"""What every Open311 endpoint checks first: the format, the jurisdiction, the parameters.

Parameters are read raw (not as typed FastAPI parameters) so that a bad value is an Open311
error list, not a problem document, and an empty value counts as absent (OPEN311.md 1.1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from starlette.requests import Request

from onegrid.api.open311.errors import Open311Error, bad_request, forbidden, not_found
from onegrid.api.open311.formats import FORMATS
from onegrid.core.clock import Clock
from onegrid.core.settings import Settings
from onegrid.core.text import control_message, refused_character
from onegrid.people.credentials import principal_from_api_key
from onegrid.people.domain import Principal
from onegrid.people.policy import can_somewhere

WINDOW = timedelta(days=90)
# The years a date parameter may name (its UTC time): wider than any case's, and narrow enough
# that the 90-day window and the conversion to UTC stay inside Python's calendar.
YEARS = (1970, 9998)
# GET parameters that are comma lists (OPEN311.md 1.7, and Chicago's agency_responsible): sent
# more than once, their values make one list.
LISTS = frozenset({"service_request_id", "service_code", "status", "agency_responsible"})


class Parameters(Mapping[str, str]):
    """A query string's or a form's parameters, one value a name. A name sent more than once
    with different values is refused when read, naming it: clients differ on which one counts
    (an empty value counts as absent, OPEN311.md 1.1). The values of a ``lists`` name are
    joined into its comma list instead."""

    def __init__(self, pairs: Iterable[tuple[str, str]], lists: Collection[str] = ()) -> None:
        self._given: dict[str, list[str]] = {}
        for name, value in pairs:
            self._given.setdefault(name, []).append(value)
        self._lists = frozenset(lists)

    def __getitem__(self, name: str) -> str:
        values = self._given[name]
        if len(values) == 1:
            return values[0]
        sent = [v for v in values if v.strip()]
        if name in self._lists:
            return ",".join(sent)
        distinct = list(dict.fromkeys(v.strip() for v in sent))
        if len(distinct) > 1:
            shown = ", ".join(repr(v[:50]) for v in distinct[:3])
            raise bad_request(f"{name}: given more than once ({shown}): send it once")
        return sent[0] if sent else ""

    def __contains__(self, name: object) -> bool:
        return name in self._given

    def __iter__(self) -> Iterator[str]:
        return iter(self._given)

    def __len__(self) -> int:
        return len(self._given)


def query_parameters(request: Request) -> Parameters:
    """A GET's query string (its list parameters may be repeated)."""
    return Parameters(request.query_params.multi_items(), LISTS)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt!r}: use .xml or .json")


# A JSONP callback is written into a script: only a dotted JavaScript identifier
# (``cb``, ``jQuery1234_5678``, ``app.on311``) may be, never an expression.
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$", re.ASCII)
CALLBACK_MAX = 128
_RESERVED = frozenset((
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete",
    "do", "else", "export", "extends", "false", "finally", "for", "function", "if", "import",
    "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true",
    "try", "typeof", "var", "void", "while", "with", "yield", "let", "static", "enum", "await",
))  # fmt: skip


def jsonp_callback(params: Mapping[str, str], fmt: str) -> str | None:
    """The checked ``callback`` (Chicago's JSONP), or ``None`` when absent."""
    raw = text(params, "callback")
    if raw is None:
        return None
    if fmt != "json":
        raise bad_request("callback (JSONP) goes with .json only")
    if (
        len(raw) > CALLBACK_MAX
        or not _CALLBACK.match(raw)
        or any(part in _RESERVED for part in raw.split("."))
    ):
        raise bad_request(
            f"callback: a JavaScript function name such as cb or app.cb "
            f"(letters, digits, _ and $, dots between names, at most {CALLBACK_MAX} characters)"
        )
    return raw


def flag(params: Mapping[str, str], name: str) -> bool:
    """A boolean parameter: ``true``/``1`` or ``false``/``0`` (absent or empty is false)."""
    raw = (text(params, name) or "false").lower()
    if raw not in ("true", "1", "false", "0"):
        raise bad_request(f"{name}: true or false (or 1 or 0)")
    return raw in ("true", "1")


@dataclass(frozen=True)
class Jurisdiction:
    """One of the cities sharing this server: its ``jurisdiction_id`` and the area it owns
    (a city, district or smaller area of this database)."""

    id: str
    area_code: str


def jurisdictions(settings: Settings) -> tuple[Jurisdiction, ...]:
    """The jurisdictions served: those configured, else the one city (``city_code``)."""
    pairs = settings.open311_jurisdictions or ((settings.city_code, settings.city_code),)
    return tuple(Jurisdiction(j, area) for j, area in pairs)


def check_jurisdiction(
    params: Mapping[str, str], settings: Settings, *, required: bool = True
) -> Jurisdiction | None:
    """The jurisdiction a call is scoped to, or ``None`` for no scope: a one-jurisdiction
    server owns every request, so there ``jurisdiction_id`` may be left out (OPEN311.md 1.1).
    Unknown is a 404; on a shared server a missing one is a 400 (OPEN311.md 1.3)."""
    served = jurisdictions(settings)
    given = (params.get("jurisdiction_id") or "").strip()
    names = ", ".join(j.id for j in served)
    found = next((j for j in served if j.id == given), None)
    if given and found is None:
        raise not_found(f"unknown jurisdiction_id {given!r}: this server serves {names}")
    if len(served) == 1:
        return None
    if found is None and required:
        raise bad_request(f"jurisdiction_id is required: this server serves {names}")
    return found


def area_of(scope: Jurisdiction | None) -> str | None:
    return None if scope is None else scope.area_code


def text(params: Mapping[str, str], name: str) -> str | None:
    """The parameter, or None; a control character in it is a 400 naming it (PostgreSQL
    refuses NUL in text, so it would fail at the query instead)."""
    value = (params.get(name) or "").strip()
    character = refused_character(value)
    if character is not None:
        raise bad_request(f"{name}: {control_message(character)}")
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
    if not _in_years(value):
        raise bad_request(
            f"{name}: {raw!r} is out of range: a time in the years {YEARS[0]} to {YEARS[1]} (UTC)"
        )
    return value


def _in_years(value: datetime) -> bool:
    # The local year first: converting year 1 or 9999 to UTC may leave the calendar.
    first, last = YEARS
    return first <= value.year <= last and first <= value.astimezone(UTC).year <= last


_WHOLE = re.compile(r"[0-9]{1,18}")
# Plain decimal notation (116.96567, -3, .5, 1e-3): Python's float also reads 1_16.9, inf,
# nan and other scripts' digits, which no client means.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")


def whole(raw: str) -> int | None:
    """``raw`` as a whole number written in ASCII digits, or None (``str.isdigit`` also
    passes ``²`` and ``①``, which ``int`` then refuses)."""
    return int(raw) if _WHOLE.fullmatch(raw) else None


def decimal(raw: str) -> float | None:
    """``raw`` as a finite number in plain decimal notation, or None."""
    if len(raw) > 64 or not _DECIMAL.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def positive_int(params: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = text(params, name)
    if raw is None:
        return default
    value = whole(raw)
    if value is None or not 1 <= value <= most:
        raise bad_request(f"{name}: a whole number from 1 to {most}")
    return value


_RESOURCE = re.compile(
    r"^(.*?)/(?:requests|services|tokens|discovery|servicerequestupdates|media)\b"
)


def public_base(request: Request) -> str:
    """The GeoReport base URL this request came in under (``…/open311/v2``)."""
    path = request.url.path
    match = _RESOURCE.match(path)
    prefix = match.group(1) if match else path.rsplit("/", 1)[0]
    return str(request.base_url).rstrip("/") + prefix


def window(params: Mapping[str, str], now: datetime) -> tuple[datetime, datetime | None]:
    start, end = when(params, "start_date"), when(params, "end_date")
    if start is None:
        return (now - WINDOW, None) if end is None else (end - WINDOW, end)
    if end is None:
        return start, start + WINDOW
    if end <= start:
        raise bad_request("end_date must come after start_date")
    if end - start > WINDOW:
        raise bad_request("start_date to end_date spans at most 90 days")
    return start, end


def client_of(session: Session, raw_key: str, clock: Clock) -> Principal:
    """The Open311 client behind an api_key, or 403 (OPEN311.md 1.1)."""
    principal = principal_from_api_key(session, raw_key, clock)
    if principal is None or not can_somewhere(principal, "open311.post"):
        raise forbidden("invalid api_key: it is unknown, revoked or not an Open311 key")
    return principal
