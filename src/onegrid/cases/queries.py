"""The read side: one case, lists with filters and cursors, and who is responsible where."""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import Status
from onegrid.cases.records import CASES, CaseRecord
from onegrid.cases.services.common import load_case, load_case_by_number
from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.grid.domain import Level, Location
from onegrid.grid.queries import get_area, get_unit_grid, inspectors_for, responsible_department
from onegrid.people.domain import Principal
from onegrid.people.policy import Reach

__all__ = [
    "MAX_PAGE",
    "SORTS",
    "CaseFilter",
    "CasePage",
    "CaseParties",
    "case_parties",
    "categories_in_use",
    "get_case",
    "get_case_by_number",
    "list_cases",
]

MAX_PAGE = 200
C = CASES.c
_NUMBER_MAX = 32  # the length of the number column
SORTS: dict[str, Any] = {"created_at": C.created_at, "updated_at": C.updated_at, "number": C.number}
_AREA_COLUMNS = {
    Level.CITY.value: C.city_code,
    Level.DISTRICT.value: C.district_code,
    Level.SUBDISTRICT.value: C.subdistrict_code,
    Level.COMMUNITY.value: C.community_code,
    Level.UNIT_GRID.value: C.unit_grid_code,
}


def get_case(session: Session, case_id: int) -> CaseRecord:
    return load_case(session, case_id)


def get_case_by_number(session: Session, number: str) -> CaseRecord:
    return load_case_by_number(session, number)


@dataclass(frozen=True)
class CaseFilter:
    status: tuple[str, ...] = ()
    category: str | None = None  # a code or a prefix (E01)
    channel: tuple[str, ...] = ()
    area: str | None = None  # an area or unit-grid code at any level
    department: str | None = None
    urgency: tuple[str, ...] = ()
    light: Light | None = None
    overdue: bool | None = None  # was any step late (or is the running one)
    hold_pending: bool | None = None  # a hold request waits for a shift leader
    extension_pending: bool | None = None  # an extension request waits for a shift leader
    returned: bool | None = None  # a department sent the case back at least once (回退)
    created_from: datetime | None = None
    created_to: datetime | None = None
    closed_from: datetime | None = None
    closed_to: datetime | None = None
    text: str | None = None
    split_parent_id: int | None = None
    merged_into_id: int | None = None
    # "Mine": the cases a user reported, as the reporter (a citizen) or as their creator (staff).
    mine: tuple[int | None, str] | None = None  # (user id, actor ref)


@dataclass(frozen=True)
class CasePage:
    items: list[CaseRecord]
    next_cursor: str | None


def light_clause(light: Light, now: datetime) -> ColumnElement[bool]:
    """The light as SQL: the same instants ``StepClock.light`` compares (held steps keep the
    light they had when held).

    Every term is guarded against NULL (no running step), so the clause is true or false,
    never unknown, and its negation (``overdue=false``) keeps the cases without a clock."""
    frozen = and_(C.step_frozen_light.is_not(None), C.step_frozen_light == light.value)
    if light is Light.RED:
        running = and_(C.step_frozen_light.is_(None), C.step_deadline.is_not(None))
        return or_(and_(running, C.step_deadline < now), frozen)
    # A green or yellow step is running and its deadline is still ahead: a range on the
    # deadline index that only open, on-time cases fall in (closed cases have no deadline);
    # a held step (the only kind with a kept light) is found by the status index. Looked up by
    # id, so the planner starts from those few rows instead of scanning every case in list
    # order and testing each (0.5 s over 200,000 cases when none matched; now 1 ms).
    t = CASES.alias("lit")
    ahead = and_(t.c.step_frozen_light.is_(None), t.c.step_deadline >= now)
    live = and_(ahead, t.c.step_warn_at < now if light is Light.YELLOW else t.c.step_warn_at >= now)
    held = and_(t.c.status == Status.ON_HOLD.value, t.c.step_frozen_light == light.value)
    return C.id.in_(union_all(select(t.c.id).where(live), select(t.c.id).where(held)))


def pending_clause(column: str, waiting: bool) -> ColumnElement[bool]:
    """Cases with (or without) a request waiting in ``column``.

    The waiting ones are looked up by id in the column's partial index (cases_0006), as in
    ``light_clause``: without statistics SQLite does not know that index is small and would
    walk every case in list order, testing each (10 waiting among 200,000 cases: 70 → 0.2 ms
    warm on SQLite)."""
    if not waiting:
        return C[column].is_(None)
    t = CASES.alias("waiting")
    return C.id.in_(select(t.c.id).where(t.c[column].is_not(None)))


def returned_clause(returned: bool) -> ColumnElement[bool]:
    """Cases a department sent back (or never did). ``returns`` counts every return and is
    never reset, and only a return brings a dispatched case back to ``to_dispatch``: with that
    status this is the returned queue.

    The partial index ``ix_cases_returned`` (status, created_at, id where returns > 0) finds
    them: without it a page took 15 ms warm on SQLite with a status (120,000 cases, 12,000 to
    dispatch, 260 returned) and 45 ms without, against about 5 ms. The 0 is written into the
    statement, not bound: a planner can use a partial index only for a term it can see implies
    the index's own condition."""
    if returned:
        return C.returns > literal_column("0")
    return C.returns == 0


def _area_clause(session: Session, code: str) -> ColumnElement[bool]:
    try:
        level = get_area(session, code).level
    except NotFound:
        try:
            get_unit_grid(session, code)
            level = Level.UNIT_GRID.value
        except NotFound:
            return or_(*(col == code for col in _AREA_COLUMNS.values()))
    return _AREA_COLUMNS[level] == code


def reach_clause(reach: Reach, principal: Principal) -> ColumnElement[bool]:
    """Only the cases a principal may read: its areas, its departments, its own reports."""
    if reach.everywhere:
        return true()
    terms: list[ColumnElement[bool]] = []
    if reach.area_codes:
        codes = sorted(reach.area_codes)
        terms += [col.in_(codes) for col in _AREA_COLUMNS.values()]
    if reach.department_codes:
        terms.append(C.department_code.in_(sorted(reach.department_codes)))
    if reach.own and principal.user_id is not None:
        terms.append(C.reporter_user_id == principal.user_id)
    return or_(*terms) if terms else false()


def _filters(session: Session, f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:  # noqa: C901
    out: list[ColumnElement[bool]] = []
    if f.status:
        out.append(C.status.in_(f.status))
    if f.category:
        code = f.category.strip().upper()
        out.append(C.category_code == code if len(code) == 5 else C.category_code.like(code + "%"))
    if f.channel:
        out.append(C.channel.in_(f.channel))
    if f.area:
        out.append(_area_clause(session, f.area.strip()))
    if f.department:
        out.append(C.department_code == f.department)
    if f.urgency:
        out.append(C.urgency.in_(f.urgency))
    if f.light is not None:
        out.append(light_clause(f.light, now))
    if f.overdue is not None:
        late = or_(C.overdue_steps > 0, light_clause(Light.RED, now))
        out.append(late if f.overdue else ~late)
    for column, waiting in (
        ("hold_requested_at", f.hold_pending),
        ("extension_pending", f.extension_pending),
    ):
        if waiting is not None:
            out.append(pending_clause(column, waiting))
    if f.returned is not None:
        out.append(returned_clause(f.returned))
    for col, low, high in (
        (C.created_at, f.created_from, f.created_to),
        (C.closed_at, f.closed_from, f.closed_to),
    ):
        if low is not None:
            out.append(col >= low)
        if high is not None:
            out.append(col < high)
    if f.text:
        needle = "%" + f.text.strip().replace("%", r"\%").replace("_", r"\_") + "%"
        out.append(
            or_(
                C.number == f.text.strip(),
                C.description.ilike(needle, escape="\\"),
                C.address.ilike(needle, escape="\\"),
            )
        )
    if f.split_parent_id is not None:
        out.append(C.split_parent_id == f.split_parent_id)
    if f.merged_into_id is not None:
        out.append(C.merged_into_id == f.merged_into_id)
    if f.mine is not None:
        user_id, actor = f.mine
        out.append(or_(C.reporter_user_id == user_id, C.created_by == actor))
    return out


def _parse_sort(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        raise InvalidInput.one(
            "sort", "known_sort", f"sort by one of {', '.join(SORTS)} (prefix '-' for descending)"
        )
    return key, descending


def encode_cursor(sort: str, value: Any, case_id: int) -> str:
    """``sort`` as the list was asked for ("-created_at"): a cursor pages one way only."""
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, case_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    """The (value, id) a cursor made for ``sort`` holds. Its value is bound to SQL, so one
    crafted out of the column's type or range is refused here: the database's error is a 500.
    Cursors given out before they held the direction hold the bare key: an ascending list's
    still pages on, a descending list's is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, value, case_id = _cursor_parts(json.loads(base64.urlsafe_b64decode(padded)))
        if made_for != sort or not _an_id(case_id):
            raise ValueError
        return _sort_value(sort.removeprefix("-"), value), case_id
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise InvalidInput.one(
            "cursor",
            "valid_cursor",
            "the cursor is not one this list gave out (or the sort changed)",
        ) from None


def _cursor_parts(parts: Any) -> tuple[Any, Any, Any]:
    if not isinstance(parts, list) or len(parts) != 3:
        raise ValueError
    return parts[0], parts[1], parts[2]


def _an_id(case_id: Any) -> bool:
    return type(case_id) is int and 1 <= case_id <= ID_MAX


def _sort_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise TypeError
    if key == "number":
        # As a case number is: PostgreSQL refuses NUL in text, and no driver encodes a lone
        # surrogate.
        if len(value) > _NUMBER_MAX or not (value.isascii() and value.isprintable()):
            raise ValueError
        return value
    when = datetime.fromisoformat(value)
    if when.utcoffset() is None:
        raise ValueError  # the columns hold UTC: a naive time would be refused when bound
    return when.astimezone(UTC)  # OverflowError past year 1..9999 in UTC


def list_cases(
    session: Session,
    f: CaseFilter,
    *,
    now: datetime,
    reach: ColumnElement[bool] | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> CasePage:
    """A page of cases, newest first by default; ``next_cursor`` continues after its last."""
    key, descending = _parse_sort(sort)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput.one("limit", "page_size", f"limit is 1..{MAX_PAGE}")
    col = SORTS[key]
    query = select(CASES).where(*_filters(session, f, now))
    if reach is not None:
        query = query.where(reach)
    if cursor:
        value, after_id = _decode_cursor(cursor, sort)
        here = tuple_(col, C.id)
        query = query.where(here < (value, after_id) if descending else here > (value, after_id))
    order = (col.desc(), C.id.desc()) if descending else (col.asc(), C.id.asc())
    # The page is chosen by id first, then its rows are read: when a filter (a light, an area)
    # leaves thousands of candidates to sort, the sort carries (key, id) pairs instead of whole
    # rows with their descriptions (area + light=green over 300,000 cases, 2,200 of them
    # green: 11 → 7 ms warm on SQLite).
    page_ids = query.with_only_columns(C.id).order_by(*order).limit(limit + 1)
    page = select(CASES).where(C.id.in_(page_ids)).order_by(*order)
    rows = session.execute(page).mappings().all()
    items = [CaseRecord.of(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if items and more else None
    next_cursor = encode_cursor(sort, getattr(last, key), last.id) if last else None
    return CasePage(items, next_cursor)


@dataclass(frozen=True)
class CaseParties:
    """Where a case lies and who answers for it there."""

    unit_grid_code: str | None
    community_code: str | None
    subdistrict_code: str | None
    district_code: str | None
    city_code: str | None
    h3_10: str | None
    inspector_user_ids: list[int]
    department_code: str | None
    suggested_department_code: str | None
    duty_explanation: str | None
    escalated_to: str | None


def case_parties(session: Session, rec: CaseRecord, *, on: date) -> CaseParties:
    """Where the case lies and who answers for it there under the duty rules of the day ``on``."""
    inspectors = inspectors_for(session, rec.unit_grid_code, on) if rec.unit_grid_code else []
    explanation = None
    suggested = rec.suggested_department_code
    if rec.h3_10 is not None:
        location = Location(
            rec.lon,
            rec.lat,
            rec.unit_grid_code,
            rec.community_code,
            rec.subdistrict_code,
            rec.district_code,
            rec.city_code,
            "",
            rec.h3_10,
            "",
        )
        duty = responsible_department(session, rec.category_code, location, on=on)
        if duty is not None:
            explanation, suggested = duty.explanation, duty.department_code
    return CaseParties(
        rec.unit_grid_code,
        rec.community_code,
        rec.subdistrict_code,
        rec.district_code,
        rec.city_code,
        rec.h3_10,
        inspectors,
        rec.department_code,
        suggested,
        explanation,
        rec.escalated_to,
    )


def categories_in_use(session: Session, codes: Collection[str]) -> set[str]:
    """Which of ``codes`` some case was filed under (what a taxonomy may not drop)."""
    wanted = sorted(set(codes))
    if not wanted:
        return set()
    found = session.execute(
        select(C.category_code).where(C.category_code.in_(wanted)).distinct()
    ).scalars()
    return set(found)
