"""The read side of GET requests: the GeoReport filters and their extensions as one query.

It reads the cases table through ``onegrid.cases.records.CASES`` (read only; every write goes
through the case services).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FunctionElement,
    Select,
    String,
    bindparam,
    case,
    false,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from onegrid.api.open311.mapping import CLOSED, OPEN, Extras, statuses_for
from onegrid.api.open311.media import EXTENSION_OF
from onegrid.api.open311.recording import SUBMIT
from onegrid.cases.attachments import ATTACHMENTS
from onegrid.cases.history import HISTORY, HistoryEntry
from onegrid.cases.records import CASES, CaseRecord

C = CASES.c
A = ATTACHMENTS.c
H = HISTORY.c
# Bound at execution: coercing a 1,000-element list into the statement costs milliseconds.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)


@dataclass(frozen=True)
class RequestQuery:
    numbers: tuple[str, ...] = ()  # service_request_id: overrides every other filter
    # The area of the jurisdiction asked for on a shared server: not a filter but the scope,
    # so it holds with ``numbers`` too (None: every request).
    area: str | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # internal statuses
    requested_from: datetime | None = None  # half-open [from, to)
    requested_to: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    departments: tuple[str, ...] = ()  # agency_responsible: department codes
    near: tuple[float, float, float] | None = None  # lon, lat, radius in metres
    # group_filter: only cases dispatched to these departments (None: no such limit; an empty
    # set: the caller belongs to no department, so nothing)
    groups: frozenset[str] | None = None
    sort: str = "created"  # a key of SORTS
    descending: bool = True
    offset: int = 0
    limit: int = 1000


_AREA_COLUMNS = (C.city_code, C.district_code, C.subdistrict_code, C.community_code)


def in_area(code: str) -> ColumnElement[bool]:
    """Cases located in the area ``code`` (of any tier: area codes are unique across tiers)."""
    return or_(*(col == code for col in _AREA_COLUMNS))


def _clauses(q: RequestQuery) -> list[ColumnElement[bool]]:
    scope = [] if q.area is None else [in_area(q.area)]
    return scope + _filters(q)


def _filters(q: RequestQuery) -> list[ColumnElement[bool]]:
    if q.numbers:
        return [C.number.in_(q.numbers)]
    lists = (
        (C.category_code, q.categories),
        (C.status, q.statuses),
        (C.department_code, q.departments),
    )
    out: list[ColumnElement[bool]] = [col.in_(values) for col, values in lists if values]
    if q.groups is not None:
        out.append(C.department_code.in_(sorted(q.groups)) if q.groups else false())
    if q.requested_from is not None:
        out.append(C.created_at >= q.requested_from)
    if q.requested_to is not None:
        out.append(C.created_at < q.requested_to)
    if q.updated_after is not None:
        out.append(C.updated_at > q.updated_after)
    if q.updated_before is not None:
        out.append(C.updated_at < q.updated_before)
    if q.text:
        needle = "%" + q.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        out.append(
            or_(
                C.number == q.text,
                C.description.ilike(needle, escape="\\"),
                C.address.ilike(needle, escape="\\"),
            )
        )
    if q.bbox is not None:
        west, south, east, north = q.bbox
        out += [C.lon >= west, C.lon <= east, C.lat >= south, C.lat <= north]
    if q.near is not None:
        out += _near(*q.near)
    return out


METRES_PER_DEGREE = 111_320.0


def _near(lon: float, lat: float, radius: float) -> list[ColumnElement[bool]]:
    """Within ``radius`` metres: the bounding box (indexable), then the equirectangular
    distance, plain arithmetic that SQLite and PostgreSQL both do (exact to well under 1 %
    at the few kilometres allowed)."""
    k = math.cos(math.radians(lat))
    dlat = radius / METRES_PER_DEGREE
    dlon = dlat / max(k, 1e-6)
    dx, dy = (C.lon - lon) * k, C.lat - lat
    return [
        C.lon.between(lon - dlon, lon + dlon),
        C.lat.between(lat - dlat, lat + dlat),
        dx * dx + dy * dy <= dlat * dlat,
    ]


class w3c_text(FunctionElement[str]):  # noqa: N801 (an SQL function, named as one)
    """A stored UTC time as W3C text, ``2026-03-02T01:00:00Z``, made by the database: done in
    Python, parsing and zoning the four times of 1,000 requests cost more than the query."""

    type = String()
    inherit_cache = True


@compiles(w3c_text, "sqlite")
def _w3c_sqlite(element: w3c_text, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC as naive text (db.base.UtcDateTime).
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {compiler.process(element.clauses, **kw)})"


@compiles(w3c_text)
def _w3c_default(element: w3c_text, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: timestamptz at UTC.
    value = compiler.process(element.clauses, **kw)
    return f"""to_char(({value}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _wire(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return w3c_text(col).label(col.key)


class PlainRequest(NamedTuple):
    """A row of ``PLAIN``: a tuple, because reading a SQLAlchemy row by attribute costs ~0.3 µs
    a field, which for the ~15 fields of 1,000 requests was more than the query."""

    id: int
    number: str
    status: str
    category_code: str
    description: str | None
    department_code: str | None
    created_at: str  # w3c_text
    updated_at: str
    closed_at: str | None
    step_deadline: str | None
    address: str | None
    address_id: str | None
    lat: float
    lon: float
    channel: str
    merged_into_id: int | None


# What a plain request shows: reading only these keeps a page of 1,000 cheap.
PLAIN = (
    C.id, C.number, C.status, C.category_code, C.description, C.department_code,
    _wire(C.created_at), _wire(C.updated_at), _wire(C.closed_at), _wire(C.step_deadline),
    C.address, C.address_id, C.lat, C.lon, C.channel, C.merged_into_id,
)  # fmt: skip


_CLOSED_STATUSES = tuple(statuses_for(CLOSED))
# Mark-a-Spot's ``sort`` keys. ``status`` orders by what the client sees (closed before open),
# not by our internal statuses.
SORTS: dict[str, ColumnElement[Any]] = {
    "created": C.created_at,
    "updated": C.updated_at,
    "status": case((C.status.in_(_CLOSED_STATUSES), CLOSED), else_=OPEN),
    "service_code": C.category_code,
    "request_id": C.number,
}


def _order(q: RequestQuery) -> list[ColumnElement[Any]]:
    """The sort key, then newest first (ids break ties), so pages never overlap."""
    key = SORTS[q.sort]
    first = key.desc() if q.descending else key.asc()
    if q.sort in ("created", "updated"):
        last = C.id.desc() if q.descending else C.id.asc()
        return [first, last]
    if q.sort == "request_id":
        return [first]
    return [first, C.created_at.desc(), C.id.desc()]


def statement(q: RequestQuery, *, full: bool = False) -> Select[Any]:
    """In ``q.sort`` order (newest first by default), ``limit`` from ``offset``."""
    return (
        select(*((CASES,) if full else PLAIN))
        .where(*_clauses(q))
        .order_by(*_order(q))
        .offset(q.offset)
        .limit(q.limit)
    )


def find_requests(session: Session, q: RequestQuery, *, full: bool = False) -> list[Any]:
    """The requests of ``statement``: case records when ``full``, else ``PlainRequest``s (both
    read by attribute)."""
    stmt = statement(q, full=full)
    if full:
        return [CaseRecord.of(r) for r in session.execute(stmt).mappings()]
    return list(map(PlainRequest._make, session.execute(stmt).all()))


def numbers_of(session: Session, case_ids: Iterable[int | None]) -> dict[int, str]:
    ids: Sequence[int] = sorted({i for i in case_ids if i})
    if not ids:
        return {}
    rows = session.execute(select(C.id, C.number).where(C.id.in_(ids)))
    return {int(r.id): str(r.number) for r in rows}


def media_name(attachment_id: int, sha256: str, media_type: str) -> str:
    """The file name a photo is served under: its id and enough of its hash not to be guessed."""
    return f"{attachment_id}-{sha256[:16]}{EXTENSION_OF.get(media_type, '')}"


def extras_of(
    session: Session,
    case_ids: Sequence[int],
    base: str,
    *,
    with_answers: bool,
    open311_ids: Sequence[int] | None = None,
) -> dict[int, Extras]:
    """Photos, posted media addresses and (for extensions) answers of many cases, in two reads
    (the second only over ``open311_ids``, the cases that came in through Open311, if given)."""
    if not case_ids:
        return {}
    posted = list(case_ids if open311_ids is None else open311_ids)
    photos: dict[int, list[dict[str, Any]]] = {}
    rows = session.execute(
        select(A.id, A.case_id, A.sha256, A.media_type, A.filename, A.uploaded_at)
        .where(A.case_id.in_(_IDS), A.media_type.in_(tuple(EXTENSION_OF)))
        .order_by(A.id),
        {"ids": list(case_ids)},
    )
    for r in rows:
        url = f"{base}/media/{media_name(r.id, r.sha256, r.media_type)}"
        photos.setdefault(int(r.case_id), []).append(
            {"media_url": url, "title": r.filename, "created_at": r.uploaded_at}
        )
    answers: dict[int, dict[str, str]] = {}
    urls: dict[int, list[str]] = {}
    submitted = (
        session.execute(
            select(H.case_id, H.details).where(H.case_id.in_(_IDS), H.action == SUBMIT),
            {"ids": posted},
        )
        if posted
        else ()
    )
    for sub in submitted:
        details = sub.details or {}
        answers[int(sub.case_id)] = dict(details.get("attributes") or {})
        urls[int(sub.case_id)] = list(details.get("media_urls") or [])
    return {
        cid: Extras(
            answers=answers.get(cid, {}) if with_answers else {},
            media_urls=urls.get(cid, []),
            photos=photos.get(cid, []),
        )
        for cid in set(photos) | set(urls)
    }


def histories_of(session: Session, case_ids: Sequence[int]) -> dict[int, list[HistoryEntry]]:
    """The history of many cases in one read (``extensions=true`` shows it as notes)."""
    out: dict[int, list[HistoryEntry]] = {cid: [] for cid in case_ids}
    if case_ids:
        rows = session.execute(
            select(HISTORY).where(H.case_id.in_(_IDS)).order_by(H.id), {"ids": list(case_ids)}
        ).mappings()
        for r in rows:
            out[int(r["case_id"])].append(HistoryEntry(**dict(r)))
    return out
