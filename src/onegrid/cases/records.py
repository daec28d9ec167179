"""A case as stored, and the translation between its row and the domain's state and clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, Table

from onegrid.cases.domain.aggregate import CaseState, HoldRequest
from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.lights import ClockReading, StepClock
from onegrid.cases.domain.states import Status, Step
from onegrid.cases.domain.timelimits import Limit, parse_limit
from onegrid.cases.models import CaseRow

CASES: Table = CaseRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class CaseRecord:
    """Every stored fact of one case (personal data included: mask it before showing it)."""

    id: int
    number: str
    category_code: str
    component_id: str | None
    channel: str
    nature: str
    urgency: str
    description: str
    address: str
    address_id: str | None
    tags: list[str]
    lon: float
    lat: float
    h3_10: str | None
    city_code: str | None
    district_code: str | None
    subdistrict_code: str | None
    community_code: str | None
    unit_grid_code: str | None
    region_class: str
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    reporter_user_id: int | None
    created_by: str
    external_ref: str | None
    source_type: str | None
    status: str
    version: int
    department_code: str | None
    suggested_department_code: str | None
    merged_into_id: int | None
    split_parent_id: int | None
    limits_version: str
    step: str | None
    step_round: int
    step_started_at: datetime | None
    step_natural: bool | None
    step_allowed_us: int | None
    step_held_us: int | None
    step_hold_started_at: datetime | None
    step_deadline: datetime | None
    step_warn_at: datetime | None
    step_frozen_light: str | None
    overdue_steps: int
    overdue_marked: bool
    escalation_tier: int
    escalated_to: str | None
    extensions_granted: int
    extension_pending: str | None
    hold_requested_at: datetime | None
    hold_resume_on: date | None
    check_passed: bool | None
    returns: int
    reworks: int
    reopens: int
    created_at: datetime
    updated_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, row: Mapping[str, Any] | RowMapping) -> CaseRecord:
        return cls(**{name: row[name] for name in _FIELDS})

    @property
    def area_chain(self) -> tuple[str, ...]:
        codes = (
            self.city_code,
            self.district_code,
            self.subdistrict_code,
            self.community_code,
            self.unit_grid_code,
        )
        return tuple(c for c in codes if c)

    @property
    def clock(self) -> StepClock | None:
        if (
            self.step is None
            or self.step_started_at is None
            or self.step_deadline is None
            or self.step_warn_at is None
        ):
            return None
        return StepClock(
            step=Step(self.step),
            round=self.step_round,
            started_at=self.step_started_at,
            natural=bool(self.step_natural),
            allowed=timedelta(microseconds=self.step_allowed_us or 0),
            held=timedelta(microseconds=self.step_held_us or 0),
            hold_started_at=self.step_hold_started_at,
            deadline=self.step_deadline,
            warn_at=self.step_warn_at,
        )

    def reading(self, calendar: WorkingCalendar, now: datetime) -> ClockReading | None:
        clock = self.clock
        return clock.read(calendar, now) if clock is not None else None

    @property
    def hold_pending(self) -> HoldRequest | None:
        if self.hold_requested_at is None:
            return None
        return HoldRequest(self.hold_requested_at, self.hold_resume_on)

    def state(self) -> CaseState:
        return CaseState(
            status=Status(self.status),
            version=self.version,
            department_code=self.department_code,
            clock=self.clock,
            step_round=self.step_round,
            overdue_steps=self.overdue_steps,
            overdue_marked=self.overdue_marked,
            escalation_tier=self.escalation_tier,
            extensions_granted=self.extensions_granted,
            extension_pending=_limit(self.extension_pending),
            hold_pending=self.hold_pending,
            hold_resume_on=self.hold_resume_on if self.status == Status.ON_HOLD.value else None,
            check_passed=self.check_passed,
            returns=self.returns,
            reworks=self.reworks,
            reopens=self.reopens,
            filed_at=self.filed_at,
            dispatched_at=self.dispatched_at,
            closed_at=self.closed_at,
        )


_FIELDS = tuple(f.name for f in fields(CaseRecord))
# The columns in the order of CaseRecord's fields: a row selected with them is a record's
# positional arguments, without a mapping of the row by name (a hot path selects this way).
RECORD_COLUMNS = tuple(CASES.c[name] for name in _FIELDS)


def _limit(text: str | None) -> Limit | None:
    if not text:
        return None
    return parse_limit(text, "extension_pending", [])


def _us(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def clock_values(clock: StepClock | None, step_round: int) -> dict[str, Any]:
    """The ``cases`` columns that hold a step clock."""
    if clock is None:
        return {
            "step": None,
            "step_round": step_round,
            "step_started_at": None,
            "step_natural": None,
            "step_allowed_us": None,
            "step_held_us": None,
            "step_hold_started_at": None,
            "step_deadline": None,
            "step_warn_at": None,
            "step_frozen_light": None,
        }
    frozen = clock.light(clock.hold_started_at) if clock.hold_started_at else None
    return {
        "step": clock.step.value,
        "step_round": step_round,
        "step_started_at": clock.started_at,
        "step_natural": clock.natural,
        "step_allowed_us": _us(clock.allowed),
        "step_held_us": _us(clock.held),
        "step_hold_started_at": clock.hold_started_at,
        "step_deadline": clock.deadline,
        "step_warn_at": clock.warn_at,
        "step_frozen_light": frozen.value if frozen else None,
    }


def state_values(state: CaseState) -> dict[str, Any]:
    """The columns a transition may change, from the state that follows it."""
    values = {
        "status": state.status.value,
        "version": state.version,
        "department_code": state.department_code,
        **clock_values(state.clock, state.step_round),
        "overdue_steps": state.overdue_steps,
        "overdue_marked": state.overdue_marked,
        "escalation_tier": state.escalation_tier,
        "extensions_granted": state.extensions_granted,
        "extension_pending": _limit_text(state.extension_pending),
        "hold_requested_at": state.hold_pending.requested_at if state.hold_pending else None,
        # One column: a request waits only while the case is handling, a hold's day only while
        # it is on hold.
        "hold_resume_on": (
            state.hold_pending.resume_on if state.hold_pending else state.hold_resume_on
        ),
        "check_passed": state.check_passed,
        "returns": state.returns,
        "reworks": state.reworks,
        "reopens": state.reopens,
        "filed_at": state.filed_at,
        "dispatched_at": state.dispatched_at,
        "closed_at": state.closed_at,
    }
    if state.escalation_tier == 0:
        values["escalated_to"] = None
    return values


def _limit_text(limit: Limit | None) -> str | None:
    return f"{limit.amount:g} {limit.unit.value}" if limit else None
