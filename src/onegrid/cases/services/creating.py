"""CreateCase: validate, locate, number, set the first deadline, insert with history.

The create path runs for every report from every channel, so it reads nothing it can keep
(rules, calendar) and writes with single Core statements: the counter upsert, the case, its
first history entry (on PostgreSQL these three are one statement, so one round trip) and, when
a retry key is sent, the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.assets.domain import Category, Kind
from onegrid.assets.queries import find_category, find_component
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import NewCase, check_new_case
from onegrid.cases.domain.lights import StepClock
from onegrid.cases.domain.states import Channel, Status, Step, Urgency, initial_status
from onegrid.cases.history import Actor, entry_values
from onegrid.cases.models import CaseIdempotencyKeyRow
from onegrid.cases.records import CaseRecord, clock_values
from onegrid.cases.services.common import (
    acting_role,
    load_case,
    local_day,
    write_new_case,
)
from onegrid.core.clock import Clock
from onegrid.core.errors import Conflict, FieldProblem, InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.grid.addresses import StandardAddress
from onegrid.grid.domain import Location
from onegrid.grid.location import locate
from onegrid.grid.models import AreaRow
from onegrid.grid.queries import find_address_by_id, responsible_department
from onegrid.grid.storage import valid_on_clause
from onegrid.people.domain import Principal, Role
from onegrid.people.policy import can_somewhere, require

KEYS: Table = CaseIdempotencyKeyRow.__table__  # type: ignore[assignment]
KEY_MAX = 200
_ANYONE: frozenset[Role] = frozenset()
# Which roles may report through a channel (admins may use any). Anyone may use the public web
# and Open311: those reports are verified on site before they are filed.
CHANNEL_ROLES: dict[Channel, frozenset[Role]] = {
    Channel.INSPECTOR: frozenset({Role.INSPECTOR}),
    Channel.HOTLINE: frozenset({Role.HOTLINE_OPERATOR}),
    Channel.WEB_APP: _ANYONE,
    Channel.OPEN311: _ANYONE,
    Channel.SENSOR: frozenset({Role.SENSOR_GATEWAY}),
    Channel.VIDEO: frozenset({Role.SENSOR_GATEWAY}),
    Channel.INSTRUCTION: frozenset({Role.SHIFT_LEADER, Role.REGISTRAR}),
    Channel.MEDIA: frozenset({Role.REGISTRAR, Role.SHIFT_LEADER, Role.HOTLINE_OPERATOR}),
}
_ADMINS = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN})


@dataclass(frozen=True)
class Created:
    case: CaseRecord
    created: bool  # False when a retry with the same Idempotency-Key returned the earlier case


def body_fingerprint(new: NewCase) -> str:
    """What "the same request" means for an idempotency key: the same validated fields."""
    text = json.dumps(asdict(new), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _channel_problems(principal: Principal, new: NewCase) -> list[FieldProblem]:
    problems = []
    allowed = CHANNEL_ROLES[new.channel]
    if allowed and not (principal.roles & (allowed | _ADMINS)):
        roles = ", ".join(sorted(r.value for r in allowed))
        problems.append(
            FieldProblem(
                "channel",
                "channel_role",
                f"only {roles} may report through the {new.channel.value} channel",
            )
        )
    if new.verify_first is False and not can_somewhere(principal, "case.verify.request"):
        problems.append(
            FieldProblem(
                "verify_first",
                "skip_verification_role",
                "only a registrar or shift leader may file a report without on-site verification",
            )
        )
    return problems


@dataclass(frozen=True)
class _Checked:
    new: NewCase  # text trimmed
    category: Category
    location: Location


def _check(session: Session, principal: Principal, new: NewCase, today: date) -> _Checked:
    """Every rule a report must meet, answered together: who may use the channel, the
    category, each field, the component, the standard address named by ``address_id`` and the
    place (in the areas and register of ``today``, not a change scheduled for later); one
    ``InvalidInput`` lists them all, so the caller fixes everything in one go.

    The point places the case; a registered ``address_id`` is kept beside it as sent, even
    when it names a door plate away from the point (a phone's fix may be off, or the reporter
    stands across the street), and its registered text becomes the address when none was
    sent."""
    problems = _channel_problems(principal, new)
    category = find_category(session, new.category_code)
    if category is None:
        problems.append(
            FieldProblem(
                "category_code",
                "known_category",
                f"unknown category {new.category_code!r}: not in the taxonomy in use",
            )
        )
    elif not category.active:
        # Kept for the cases filed under it, offered for no new one.
        problems.append(
            FieldProblem(
                "category_code",
                "active_category",
                f"category {category.code} is deactivated in the taxonomy in use",
            )
        )
    component_case = None if category is None else category.kind is Kind.COMPONENT
    bad: set[str] = set()
    try:
        new = check_new_case(new, component_case=component_case)
    except InvalidInput as invalid:
        problems += invalid.problems
        bad = {p.field for p in invalid.problems}
    component = (new.component_id or "").strip()
    if component and "component_id" not in bad and find_component(session, component) is None:
        problems.append(
            FieldProblem(
                "component_id", "known_component", f"no component {component} in the inventory"
            )
        )
    if new.address_id and "address_id" not in bad:
        new = _registered(session, new, new.address_id, today, problems)
    location = None
    if not bad & {"lon", "lat"}:
        location = locate(session, new.lon, new.lat, today)
        if location is None:
            problems += _outside_problems(new.lon, new.lat, _city_box(session, today))
    if problems:
        raise InvalidInput(problems)
    assert category is not None and location is not None
    return _Checked(new, category, location)


Box = tuple[float, float, float, float]
_AXES = {"lon": ("longitude", 0, 2), "lat": ("latitude", 1, 3)}  # name, low and high in a Box


def _city_box(session: Session, today: date) -> Box | None:
    """The box (west, south, east, north) around every area valid on ``today``; None when
    there is none. Read only for a point already refused."""
    row = session.execute(
        select(
            func.min(AreaRow.min_lon),
            func.min(AreaRow.min_lat),
            func.max(AreaRow.max_lon),
            func.max(AreaRow.max_lat),
        ).where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, today))
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def outside_fields(lon: float, lat: float, box: Box | None) -> tuple[str, ...]:
    """The coordinates to blame for a point outside every area: the one outside the city's
    box when only one is; both when both are, or when the point is in the box, between the
    areas, where neither alone is wrong."""
    if box is None:
        return ("lon", "lat")
    point = {"lon": lon, "lat": lat}
    off = tuple(
        field
        for field, (_, low, high) in _AXES.items()
        if not box[low] <= point[field] <= box[high]
    )
    return off or ("lon", "lat")


def _outside_problems(lon: float, lat: float, box: Box | None) -> list[FieldProblem]:
    fields = outside_fields(lon, lat, box)
    where = f"the point ({lon}, {lat}) lies outside every area of the city"
    if len(fields) == 1 and box is not None:
        name, low, high = _AXES[fields[0]]
        where += f": its {name} is outside the city's {box[low]}..{box[high]}"
    return [FieldProblem(field, "inside_city", where) for field in fields]


def _registered(
    session: Session, new: NewCase, address_id: str, today: date, problems: list[FieldProblem]
) -> NewCase:
    """``new`` with the register's text as its address when it sent none; an id the register
    does not hold on ``today`` is added to ``problems``."""
    registered = find_address_by_id(session, address_id, today)
    if registered is None:
        problems.append(_unknown_address(address_id))
        return new
    return new if new.address else replace(new, address=registered.text)


def _unknown_address(address_id: str) -> FieldProblem:
    return FieldProblem(
        "address_id",
        "known_address",
        f"{address_id[:100]!r} is not an address id of the city's standard address "
        "register (标准地址库)",
    )


def registered_address(session: Session, address_id: str, today: date) -> StandardAddress:
    """The address the register holds under ``address_id`` on ``today``, for an intake that
    places a report there (the hotline desk); an id it does not hold is refused by the rule a
    report's ``address_id`` is checked by."""
    found = find_address_by_id(session, address_id, today)
    if found is None:
        raise InvalidInput([_unknown_address(address_id)])
    return found


def case_values(
    session: Session,
    rules: CaseRules,
    new: NewCase,
    category: Category,
    location: Location,
    created_by: str,
    now: Any,
    *,
    status: Status | None = None,
    route: bool = False,
) -> dict[str, Any]:
    """Every column of a new case (without its id)."""
    urgency = new.urgency or Urgency(category.urgency.value)
    book = rules.limits
    region = book.region_class(location.area_chain)
    today = local_day(rules.calendar, now)
    version = book.version_on(today).version
    limits = book.limits(version, category.code, urgency.value, region)
    clock = StepClock.start(rules.calendar, Step.DISPATCH, 1, limits.dispatch, now)
    # Routing belongs to dispatch; a caller that dispatches at once (直派) asks for it here.
    duty = responsible_department(session, category.code, location, on=today) if route else None
    return {
        "number": "",  # given last, inside the writing part of the transaction
        "category_code": category.code,
        "component_id": new.component_id,
        "channel": new.channel.value,
        "nature": new.nature.value,
        "urgency": urgency.value,
        "description": new.description,
        "address": new.address,
        "address_id": new.address_id,
        "tags": list(new.tags),
        "lon": new.lon,
        "lat": new.lat,
        "h3_10": location.h3_10,
        "city_code": location.city,
        "district_code": location.district,
        "subdistrict_code": location.subdistrict,
        "community_code": location.community,
        "unit_grid_code": location.unit_grid,
        "region_class": region,
        "reporter_name": new.reporter.name,
        "reporter_phone": new.reporter.phone,
        "reporter_email": new.reporter.email,
        "reporter_user_id": new.reporter.user_id,
        "created_by": created_by,
        "external_ref": new.external_ref,
        "source_type": None,
        "status": (status or initial_status(new.channel, verify_first=new.verify_first)).value,
        "version": 1,
        "department_code": None,
        "suggested_department_code": duty.department_code if duty else None,
        "merged_into_id": None,
        "split_parent_id": None,
        "limits_version": version,
        **clock_values(clock, 1),
        "overdue_steps": 0,
        "overdue_marked": False,
        "escalation_tier": 0,
        "escalated_to": None,
        "extensions_granted": 0,
        "extension_pending": None,
        "hold_requested_at": None,
        "hold_resume_on": None,
        "check_passed": None,
        "returns": 0,
        "reworks": 0,
        "reopens": 0,
        "created_at": now,
        "updated_at": now,
        "filed_at": None,
        "dispatched_at": None,
        "closed_at": None,
    }


def _existing(session: Session, actor: str, key: str, fingerprint: str) -> Created | None:
    row = (
        session.connection()
        .execute(
            select(KEYS.c.body_sha256, KEYS.c.case_id).where(
                KEYS.c.actor == actor, KEYS.c.key == key
            )
        )
        .first()
    )
    if row is None:
        return None
    if row.body_sha256 != fingerprint:
        raise InvalidInput.one(
            "Idempotency-Key",
            "idempotency_key_reuse",
            "this Idempotency-Key was already used for a different request; use a new key",
        )
    if row.case_id is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry")
    return Created(load_case(session, row.case_id), created=False)


def _claim_key(session: Session, actor: str, key: str, fingerprint: str, now: datetime) -> bool:
    """Claim the key for this request; False if another request holds it (its transaction has
    then ended, so its case can be read)."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(KEYS)
    stmt = (
        ins.values(actor=actor, key=key, body_sha256=fingerprint, case_id=None, created_at=now)
        .on_conflict_do_nothing()
        .returning(KEYS.c.key)
    )
    # RETURNING, not rowcount: psycopg reports -1 for this statement, which read as "claimed"
    # and let simultaneous retries with one key each create a case.
    return session.connection().execute(stmt).first() is not None


def create_case_in(
    session: Session,
    principal: Principal,
    new: NewCase,
    *,
    clock: Clock,
    rules: CaseRules,
    idempotency_key: str | None = None,
    route: bool = False,
) -> Created:
    """Create a case inside the caller's transaction (for a use case that records more with
    it, such as a hotline call); ``create_case`` owns its transaction. ``route`` stores the
    department the duty rules name now (otherwise dispatch asks them)."""
    require(principal, "case.create")
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > KEY_MAX:
        raise InvalidInput.one("Idempotency-Key", "max_length", f"at most {KEY_MAX} characters")
    fingerprint = body_fingerprint(new) if key else ""
    now = clock.now()
    # Every read first: on SQLite the write lock is taken at the first write and held to the
    # commit, so the writing part is kept to four short statements.
    checked = _check(session, principal, new, local_day(rules.calendar, now))
    new = checked.new
    if Role.CITIZEN in principal.roles and new.reporter.user_id is None:
        new = replace(new, reporter=replace(new.reporter, user_id=principal.user_id))
    if key is not None:
        earlier = _existing(session, principal.actor, key, fingerprint)
        if earlier is not None:
            return earlier
    values = case_values(
        session, rules, new, checked.category, checked.location, principal.actor, now, route=route
    )
    if key is not None and not _claim_key(session, principal.actor, key, fingerprint, now):
        found = _existing(session, principal.actor, key, fingerprint)
        assert found is not None
        return found
    actor = Actor(principal.actor, principal.name, acting_role(principal, "case.create"))
    entry = entry_values(
        0,  # the writer sets the new case's id
        now,
        actor,
        "create",
        None,
        values["status"],
        1,
        details={"channel": new.channel.value},
    )
    del values["number"]
    case_id, values["number"] = write_new_case(
        session, values, entry, local_day(rules.calendar, now)
    )
    if key is not None:
        session.connection().execute(
            update(KEYS)
            .where(KEYS.c.actor == principal.actor, KEYS.c.key == key)
            .values(case_id=case_id)
        )
    return Created(CaseRecord.of({"id": case_id, **values}), created=True)


def create_case(
    db: Database,
    principal: Principal,
    new: NewCase,
    *,
    clock: Clock,
    rules: CaseRules,
    idempotency_key: str | None = None,
    route: bool = False,
) -> Created:
    """Report a problem: the case is committed (with its history) when this returns."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        return create_case_in(
            session,
            principal,
            new,
            clock=clock,
            rules=rules,
            idempotency_key=idempotency_key,
            route=route,
        )
