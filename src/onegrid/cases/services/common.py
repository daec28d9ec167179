"""What every case command shares: loading a case, who acts in which role, and conflicts.

The case statements are Core and run on the session's connection (``session.connection()``),
not through ``Session.execute``: no case code uses ORM objects, and the session's per-statement
work was about a fifth of a statement's CPU (37 against 29 µs). The session still owns the
transaction, so a use case that records more with the case commits it all at once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.numbering import SEQUENCE_WIDTH, counter_key, format_number
from onegrid.cases.history import HISTORY, Actor, append
from onegrid.cases.models import CaseNumberCounterRow
from onegrid.cases.records import CASES, RECORD_COLUMNS, CaseRecord
from onegrid.core.errors import Conflict, NotFound
from onegrid.people.domain import Principal
from onegrid.people.policy import require, roles_for

COUNTERS: Table = CaseNumberCounterRow.__table__  # type: ignore[assignment]

# Built once, the id a parameter: every transition loads its case, and building and keying a
# select of all the case's columns (then adapting the cached result map to the new statement)
# cost about as much as running it.
_LOAD = select(*RECORD_COLUMNS).where(CASES.c.id == bindparam("case_id"))
_LOAD_LOCKED = _LOAD.with_for_update()


def load_case(session: Session, case_id: int, *, lock: bool = False) -> CaseRecord:
    query = _LOAD_LOCKED if lock and session.get_bind().dialect.name == "postgresql" else _LOAD
    row = session.connection().execute(query, {"case_id": case_id}).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return CaseRecord(*row)


def load_case_by_number(session: Session, number: str) -> CaseRecord:
    row = session.execute(select(CASES).where(CASES.c.number == number)).mappings().first()
    if row is None:
        raise NotFound(f"no case numbered {number!r}")
    return CaseRecord.of(row)


def current_of(rec: CaseRecord) -> dict[str, Any]:
    """What a 409 carries, so the client can refresh and retry without losing its input."""
    return {
        "id": rec.id,
        "number": rec.number,
        "status": rec.status,
        "version": rec.version,
        "department_code": rec.department_code,
        "updated_at": rec.updated_at.isoformat(),
    }


def stale(rec: CaseRecord, expected: int) -> Conflict:
    return Conflict(
        f"case {rec.number} is at version {rec.version}, not {expected}: someone changed it "
        "since you read it; reload and try again",
        current=current_of(rec),
    )


def acting_role(principal: Principal, permission: str) -> str | None:
    """The role a principal acts in for the record: the first of its roles that allows it."""
    allowed = roles_for(permission)
    held = sorted(r.value for r in principal.roles if r in allowed)
    return held[0] if held else None


def actor_of(principal: Principal, permission: str) -> Actor:
    return Actor(principal.actor, principal.name, acting_role(principal, permission))


def authorize(principal: Principal, permission: str, rec: CaseRecord) -> Actor:
    require(
        principal,
        permission,
        area_chain=rec.area_chain,
        department_code=rec.department_code,
        owner_id=rec.reporter_user_id,
    )
    return actor_of(principal, permission)


def local_day(calendar: WorkingCalendar, when: datetime) -> date:
    return when.astimezone(calendar.tz).date()


def _upsert(dialect: str) -> Any:
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(COUNTERS)
    return (
        ins.values(key=bindparam("k"), last=bindparam("n"))
        .on_conflict_do_update(
            index_elements=[COUNTERS.c.key], set_={"last": COUNTERS.c.last + bindparam("n")}
        )
        .returning(COUNTERS.c.last)
    )


_UPSERTS = {d: _upsert(d) for d in ("postgresql", "sqlite")}


def _bump(session: Session, key: str, count: int) -> int:
    stmt = _UPSERTS[session.get_bind().dialect.name]
    return int(session.connection().execute(stmt, {"k": key, "n": count}).scalar_one())


def next_number(session: Session, category_code: str, day: date) -> str:
    """The next case number for the category and day, unique under concurrency.

    One upsert bumps the day's counter row and returns its value; the row stays locked until the
    creating transaction ends, so two transactions never get the same sequence (PostgreSQL locks
    the row, SQLite has one writer at a time).
    """
    last = _bump(session, counter_key(category_code, day), 1)
    return format_number(category_code, day, last)


def reserve_numbers(session: Session, category_code: str, day: date, count: int) -> list[str]:
    """``count`` consecutive numbers at once, for bulk loads."""
    last = _bump(session, counter_key(category_code, day), count)
    return [format_number(category_code, day, n) for n in range(last - count + 1, last + 1)]


# Built once: values go in as parameters, so the compiled statement is reused from the cache.
_INSERT_CASE = insert(CASES).returning(CASES.c.id)


def insert_case(session: Session, values: dict[str, Any]) -> int:
    return int(session.connection().execute(_INSERT_CASE, values).scalar_one())


def _typed(name: str, column: Column[Any]) -> Any:
    # A parameter in a SELECT list has no column to take its type from; the psycopg dialect
    # renders the type's cast (``::INTEGER``), unbounded, so an over-long value still fails;
    # it renders none for floats and booleans, whose None would otherwise be taken for text.
    param = bindparam(name, type_=column.type)
    return cast(param, column.type) if isinstance(column.type, Float | Boolean) else param


def _pg_new_case() -> Any:
    """The counter bump, the case with its number and its first history entry as one
    PostgreSQL statement (data-modifying CTEs): one round trip instead of three. The number is
    formatted in SQL exactly as ``format_number`` does: the sequence padded to its width,
    wider past it."""
    bumped = (
        postgresql.insert(COUNTERS)
        .values(key=bindparam("k"), last=1)
        .on_conflict_do_update(index_elements=[COUNTERS.c.key], set_={"last": COUNTERS.c.last + 1})
        .returning(COUNTERS.c.last)
        .cte("bumped")
    )
    digits = cast(bumped.c.last, Text)
    padded = case(
        (bumped.c.last < 10**SEQUENCE_WIDTH, func.lpad(digits, SEQUENCE_WIDTH, "0")), else_=digits
    )
    number = bindparam("prefix", type_=Text()) + padded
    columns = [c for c in CASES.c if c.key not in ("id", "number")]
    new_case = (
        insert(CASES)
        .from_select(
            ["number", *(c.key for c in columns)],
            select(number, *(_typed(c.key, c) for c in columns)).select_from(bumped),
        )
        .returning(CASES.c.id, CASES.c.number)
        .cte("new_case")
    )
    entry_columns = [c for c in HISTORY.c if c.key not in ("id", "case_id")]
    entry = (
        insert(HISTORY)
        .from_select(
            ["case_id", *(c.key for c in entry_columns)],
            select(new_case.c.id, *(_typed("h_" + c.key, c) for c in entry_columns)).select_from(
                new_case
            ),
        )
        .cte("entry")
    )
    return select(new_case.c.id, new_case.c.number).add_cte(entry)


_PG_NEW_CASE = _pg_new_case()


def write_new_case(
    session: Session, values: dict[str, Any], entry: dict[str, Any], day: date
) -> tuple[int, str]:
    """Number and insert a new case (``values``, every column but id and number) with its first
    history entry (``entry``, every column but id and case_id); returns its id and number.

    The counter row stays locked until the creating transaction ends, so two transactions
    never get the same sequence (PostgreSQL locks the row, SQLite has one writer at a time)."""
    code = values["category_code"]
    if session.get_bind().dialect.name == "postgresql":
        params = {
            "k": counter_key(code, day),
            "prefix": format_number(code, day, 1)[:-SEQUENCE_WIDTH],
        }
        params.update(values)
        params.update({"h_" + k: v for k, v in entry.items() if k != "case_id"})
        row = session.connection().execute(_PG_NEW_CASE, params).one()
        return int(row[0]), str(row[1])
    number = next_number(session, code, day)
    case_id = insert_case(session, {**values, "number": number})
    append(session, **{**entry, "case_id": case_id})
    return case_id, number
