"""The read side of GET requests: the GeoReport filters and their extensions as one query.

It reads the cases table through ``onegrid.cases.records.CASES`` (read only; every write goes
through the case services).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from onegrid.cases.records import CASES, CaseRecord

C = CASES.c


@dataclass(frozen=True)
class RequestQuery:
    numbers: tuple[str, ...] = ()  # service_request_id: overrides every other filter
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # internal statuses
    requested_from: datetime | None = None  # half-open [from, to)
    requested_to: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat
    offset: int = 0
    limit: int = 1000


def _clauses(q: RequestQuery) -> list[ColumnElement[bool]]:
    if q.numbers:
        return [C.number.in_(q.numbers)]
    out: list[ColumnElement[bool]] = []
    if q.categories:
        out.append(C.category_code.in_(q.categories))
    if q.statuses:
        out.append(C.status.in_(q.statuses))
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
    return out


def find_requests(session: Session, q: RequestQuery) -> list[CaseRecord]:
    """Newest first (by requested time, then id), ``limit`` from ``offset``."""
    stmt = (
        select(CASES)
        .where(*_clauses(q))
        .order_by(C.created_at.desc(), C.id.desc())
        .offset(q.offset)
        .limit(q.limit)
    )
    return [CaseRecord.of(r) for r in session.execute(stmt).mappings()]


def numbers_of(session: Session, case_ids: Iterable[int]) -> dict[int, str]:
    ids: Sequence[int] = sorted(set(case_ids))
    if not ids:
        return {}
    rows = session.execute(select(C.id, C.number).where(C.id.in_(ids)))
    return {int(r.id): str(r.number) for r in rows}
