"""The case API's shapes: what a client sends and what it gets back (personal data masked)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onegrid.cases.attachments import Attachment
from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.intake import NewCase, Reporter
from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import Channel, Nature, Status, Step, Urgency
from onegrid.cases.domain.timelimits import MAX_EXTENSION_DAYS, Limit, LimitUnit
from onegrid.cases.domain.workflow import allowed_actions
from onegrid.cases.history import HistoryEntry
from onegrid.cases.queries import CaseParties
from onegrid.cases.records import CaseRecord
from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import InvalidInput
from onegrid.people.domain import Principal
from onegrid.people.policy import Reporter as PolicyReporter
from onegrid.people.policy import can_see_personal_data

_CREATE_EXAMPLE: dict[str, Any] = {
    "category_code": "E0102",
    "channel": "web_app",
    "nature": "complaint",
    "description": "小区东门外垃圾堆放三天无人清理 (rubbish piled outside the east gate)",
    "lon": 116.3051,
    "lat": 39.9102,
    "address": "示范路 12 号东门",
    "reporter": {"name": "张三", "phone": "13812345678"},
    "tags": ["rubbish"],
}


_CASE_EXAMPLE: dict[str, Any] = {
    "id": 1042,
    "number": "E0102202603020007",
    "category_code": "E0102",
    "component_id": None,
    "channel": "web_app",
    "nature": "complaint",
    "urgency": "normal",
    "description": "小区东门外垃圾堆放三天无人清理 (rubbish piled outside the east gate)",
    "address": "示范路 12 号东门",
    "address_id": None,
    "tags": ["rubbish"],
    "location": {
        "lon": 116.3051,
        "lat": 39.9102,
        "h3_10": "8a31aa5a1a67fff",
        "city": "110000",
        "district": "110101",
        "subdistrict": "110101001",
        "community": "110101001001",
        "unit_grid": "110101001001001",
    },
    "reporter": {"name": "张*", "phone": "138****5678", "email": None, "masked": True},
    "status": "handling",
    "version": 4,
    "department_code": "sanitation",
    "suggested_department_code": "sanitation",
    "merged_into_id": None,
    "split_parent_id": None,
    "limits_version": "2025.01",
    "region_class": "core",
    "clock": {
        "step": "handle",
        "deadline": "2026-03-02T06:30:00Z",
        "allowed_seconds": 14400.0,
        "used_seconds": 12600.0,
        "left_seconds": 1800.0,
        "ratio": 0.875,
        "light": "yellow",
        "paused": False,
        "natural_hours": False,
    },
    "overdue_steps": 0,
    "escalation_tier": 0,
    "escalated_to": None,
    "extensions_granted": 0,
    "extension_pending": None,
    "hold_pending": None,
    "hold_resume_on": None,
    "check_passed": None,
    "returns": 0,
    "reworks": 0,
    "reopens": 0,
    "created_at": "2026-03-02T01:00:00Z",
    "updated_at": "2026-03-02T01:20:00Z",
    "filed_at": "2026-03-02T01:10:00Z",
    "dispatched_at": "2026-03-02T01:15:00Z",
    "closed_at": None,
    "allowed_actions": [
        "return",
        "handle",
        "report_back",
        "extend_request",
        "extend_approve",
        "extend_refuse",
        "hold_request",
        "hold",
        "hold_refuse",
    ],
}


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class CaseCreate(BaseModel):
    """A problem reported through any channel."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    category_code: str = Field(min_length=1, max_length=8, description="A taxonomy class: E0102")
    channel: Channel
    nature: Nature = Nature.REPORT
    description: str = Field(max_length=4000)
    lon: float = Field(description="WGS84 longitude")
    lat: float = Field(description="WGS84 latitude")
    address: str = Field(default="", max_length=500)
    address_id: str | None = Field(
        default=None,
        max_length=64,
        description="The address's id in the city's standard address register (标准地址库); "
        "an id it does not hold is a 422. Kept beside the point (which places the case); its "
        "registered text is the address when none is sent",
    )
    urgency: Urgency | None = Field(default=None, description="Default: the category's")
    reporter: ReporterIn | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    component_id: str | None = Field(default=None, description="16 digits, for component classes")
    external_ref: str | None = Field(default=None, max_length=120)
    verify_first: bool | None = Field(
        default=None, description="Default: public channels are verified on site first"
    )

    def to_new_case(self) -> NewCase:
        r = self.reporter or ReporterIn()
        return NewCase(
            category_code=self.category_code.strip().upper(),
            channel=self.channel,
            description=self.description,
            lon=self.lon,
            lat=self.lat,
            nature=self.nature,
            urgency=self.urgency,
            address=self.address,
            reporter=Reporter(r.name, r.phone, r.email),
            tags=tuple(self.tags),
            component_id=self.component_id,
            external_ref=self.external_ref,
            verify_first=self.verify_first,
            address_id=self.address_id,
        )


class LocationOut(BaseModel):
    lon: float
    lat: float
    h3_10: str | None
    city: str | None
    district: str | None
    subdistrict: str | None
    community: str | None
    unit_grid: str | None


class ReporterOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    masked: bool = Field(description="True when the caller may not see personal data")


class ClockOut(BaseModel):
    """The running step's clock: deadline, time used and left, and the light."""

    step: Step
    deadline: datetime
    allowed_seconds: float
    used_seconds: float
    left_seconds: float
    ratio: float
    light: Light
    paused: bool
    natural_hours: bool


class HoldPendingOut(BaseModel):
    """A department's hold request (挂账申请) waiting for a shift leader's decision."""

    requested_at: datetime
    resume_on: date | None = Field(description="The day the department expects to resume")


class CaseOut(BaseModel):
    """A case as the caller may see it, with its running step's clock and light."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})

    id: int
    number: str
    category_code: str
    component_id: str | None
    channel: Channel
    nature: Nature
    urgency: Urgency
    description: str
    address: str
    address_id: str | None = Field(
        description="The address's id in the standard address register (标准地址库), when the "
        "report named one it held"
    )
    tags: list[str]
    location: LocationOut
    reporter: ReporterOut
    status: Status
    version: int
    department_code: str | None
    suggested_department_code: str | None
    merged_into_id: int | None
    split_parent_id: int | None
    limits_version: str
    region_class: str
    clock: ClockOut | None
    overdue_steps: int
    escalation_tier: int
    escalated_to: str | None
    extensions_granted: int
    extension_pending: str | None
    hold_pending: HoldPendingOut | None
    hold_resume_on: date | None = Field(
        description="While on hold: the day work is expected to resume, from the approved "
        "request (none for a direct hold or a request that named no day)"
    )
    check_passed: bool | None
    returns: int
    reworks: int
    reopens: int
    created_at: datetime
    updated_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str] = Field(description="Transitions the table allows from here")


def _reporter(rec: CaseRecord, principal: Principal) -> ReporterOut:
    full = PolicyReporter(rec.reporter_name, rec.reporter_phone, rec.reporter_email)
    if can_see_personal_data(
        principal, rec.area_chain, rec.department_code, owner_id=rec.reporter_user_id
    ):
        return ReporterOut(name=full.name, phone=full.phone, email=full.email, masked=False)
    m = full.masked()
    return ReporterOut(name=m.name, phone=m.phone, email=m.email, masked=True)


def _clock(rec: CaseRecord, calendar: WorkingCalendar, now: datetime) -> ClockOut | None:
    reading = rec.reading(calendar, now)
    if reading is None:
        return None
    return ClockOut(
        step=reading.step,
        deadline=reading.deadline,
        allowed_seconds=reading.allowed.total_seconds(),
        used_seconds=reading.used.total_seconds(),
        left_seconds=reading.left.total_seconds(),
        ratio=round(reading.ratio, 4),
        light=reading.light,
        paused=reading.paused,
        natural_hours=bool(rec.step_natural),
    )


def _hold_pending(rec: CaseRecord) -> HoldPendingOut | None:
    pending = rec.hold_pending
    if pending is None:
        return None
    return HoldPendingOut(requested_at=pending.requested_at, resume_on=pending.resume_on)


def case_out(
    rec: CaseRecord, principal: Principal, calendar: WorkingCalendar, now: datetime
) -> CaseOut:
    """The case as ``principal`` may see it: personal data masked unless it may see it."""
    status = Status(rec.status)
    return CaseOut(
        id=rec.id,
        number=rec.number,
        category_code=rec.category_code,
        component_id=rec.component_id,
        channel=Channel(rec.channel),
        nature=Nature(rec.nature),
        urgency=Urgency(rec.urgency),
        description=rec.description,
        address=rec.address,
        address_id=rec.address_id,
        tags=list(rec.tags),
        location=LocationOut(
            lon=rec.lon,
            lat=rec.lat,
            h3_10=rec.h3_10,
            city=rec.city_code,
            district=rec.district_code,
            subdistrict=rec.subdistrict_code,
            community=rec.community_code,
            unit_grid=rec.unit_grid_code,
        ),
        reporter=_reporter(rec, principal),
        status=status,
        version=rec.version,
        department_code=rec.department_code,
        suggested_department_code=rec.suggested_department_code,
        merged_into_id=rec.merged_into_id,
        split_parent_id=rec.split_parent_id,
        limits_version=rec.limits_version,
        region_class=rec.region_class,
        clock=_clock(rec, calendar, now),
        overdue_steps=rec.overdue_steps,
        escalation_tier=rec.escalation_tier,
        escalated_to=rec.escalated_to,
        extensions_granted=rec.extensions_granted,
        extension_pending=rec.extension_pending,
        hold_pending=_hold_pending(rec),
        hold_resume_on=rec.hold_resume_on if status is Status.ON_HOLD else None,
        check_passed=rec.check_passed,
        returns=rec.returns,
        reworks=rec.reworks,
        reopens=rec.reopens,
        created_at=rec.created_at,
        updated_at=rec.updated_at,
        filed_at=rec.filed_at,
        dispatched_at=rec.dispatched_at,
        closed_at=rec.closed_at,
        allowed_actions=[a.value for a in allowed_actions(status)],
    )


class CasePageOut(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class HistoryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_name: str
    role: str | None
    action: str
    from_status: str | None
    to_status: str
    version: int
    reason: str
    attachment_ids: list[int]
    details: dict[str, Any]

    @classmethod
    def of(cls, e: HistoryEntry) -> HistoryOut:
        return cls(
            id=e.id,
            at=e.at,
            actor=e.actor,
            actor_name=e.actor_name,
            role=e.role,
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            version=e.version,
            reason=e.reason,
            attachment_ids=list(e.attachment_ids),
            details=dict(e.details),
        )


class AttachmentOut(BaseModel):
    id: int
    case_id: int
    sha256: str
    media_type: str
    size: int
    filename: str
    uploaded_at: datetime
    uploaded_by: str

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls(
            id=a.id,
            case_id=a.case_id,
            sha256=a.sha256,
            media_type=a.media_type,
            size=a.size,
            filename=a.filename,
            uploaded_at=a.uploaded_at,
            uploaded_by=a.uploaded_by,
        )


class PartiesOut(BaseModel):
    """Where the case lies and who answers for it there."""

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

    @classmethod
    def of(cls, p: CaseParties) -> PartiesOut:
        return cls(**p.__dict__)


class TransitionIn(BaseModel):
    """What every transition may carry. ``expected_version`` (or an ``If-Match`` header) makes
    a stale write a 409 instead of overwriting someone else's change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"expected_version": 3, "reason": "", "attachments": []}]},
    )

    expected_version: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", max_length=2000)
    # No attachment has an id outside the column's range, and SQLite cannot bind one past
    # int64 (a 500): refused here, naming the item.
    attachments: list[Annotated[int, Field(ge=1, le=ID_MAX)]] = Field(
        default_factory=list,
        max_length=50,
        description="Ids of files already attached to this case (upload them first): the "
        "step's history entry keeps them, on every step",
    )


class DispatchIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"department_code": "sanitation", "expected_version": 2, "reason": ""}]
        }
    )

    department_code: str | None = Field(
        default=None, max_length=32, description="Default: the department the duty rules suggest"
    )


class CheckIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"passed": True, "expected_version": 6, "attachments": [12]},
                {"passed": False, "reason": "垃圾仍未清理 (still there)", "expected_version": 6},
            ]
        }
    )

    passed: bool = Field(description="Was the problem solved, as seen on site?")


# The bound depends on the unit (and a working day's length on the calendar): the domain holds
# the rule and refuses a longer extension with a 422 on ``amount``, rule max_extension_length.
_EXTENSION_AMOUNT = (
    f"At most {MAX_EXTENSION_DAYS} days counted in the unit: {MAX_EXTENSION_DAYS} working_days, "
    f"as many working_hours as {MAX_EXTENSION_DAYS} working days hold, or "
    f"{MAX_EXTENSION_DAYS * 24} natural_hours"
)


class ExtensionRequestIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": 2,
                    "unit": "working_days",
                    "reason": "parts on order",
                    "expected_version": 4,
                }
            ]
        }
    )

    amount: float = Field(gt=0, description=_EXTENSION_AMOUNT)
    unit: LimitUnit

    def limit(self) -> Limit:
        return Limit(self.amount, self.unit)


class ExtensionApproveIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"expected_version": 5}, {"amount": 1, "unit": "working_days"}]
        }
    )

    amount: float | None = Field(
        default=None, gt=0, description=f"Default: as asked. {_EXTENSION_AMOUNT}"
    )
    unit: LimitUnit | None = None

    def limit(self) -> Limit | None:
        if self.amount is None:
            return None
        if self.unit is None:
            # A bare number is ambiguous: "2" on a request for 2 working days granted 2 hours.
            raise InvalidInput.one(
                "unit",
                "required",
                "name the unit of the amount granted: working_days, working_hours or natural_hours",
            )
        return Limit(self.amount, self.unit)


class HoldRequestIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "冬季停工, 开春补种 (planting waits for spring)",
                    "resume_on": "2027-03-15",
                    "expected_version": 4,
                }
            ]
        }
    )

    resume_on: date | None = Field(
        default=None, description="The day work is expected to resume (after today), if known"
    )


class MergeIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"into_case_id": 1041, "reason": "同一地点重复上报", "expected_version": 1}
            ]
        }
    )

    into_case_id: int = Field(description="The case this duplicate is folded into")


# The answers of a callback (the hotline's ``Satisfaction``, a context above this one; a test
# keeps the two lists equal): 满意, 基本满意, 不满意.
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class RatingIn(BaseModel):
    """The reporter's rating of a closed case: counted with the hotline's callback answers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"satisfaction": "satisfied", "resolved": True, "note": "处理及时"}]
        },
    )

    satisfaction: Rating
    resolved: bool = Field(description="Is the problem solved? Counted in the resolution rate")
    note: str = Field(default="", max_length=2000)


class RatingOut(BaseModel):
    id: int
    case_id: int
    satisfaction: Rating
    resolved: bool
    note: str
    at: datetime
    reopened: bool = Field(description="not resolved: the case went back to its department")


class SplitPartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department_code: str = Field(max_length=32)
    description: str = Field(default="", max_length=4000)


class SplitIn(TransitionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_department_code": "roads",
                    "parts": [
                        {"department_code": "roads", "description": "修复破损路面"},
                        {"department_code": "sanitation", "description": "清运建筑垃圾"},
                    ],
                    "reason": "涉及两个部门",
                    "expected_version": 2,
                }
            ]
        }
    )

    parts: list[SplitPartIn] = Field(min_length=2, max_length=20)
    lead_department_code: str = Field(max_length=32, description="The lead unit (首接负责)")


class SplitOut(BaseModel):
    parent: CaseOut
    children: list[CaseOut]


class JobOut(BaseModel):
    checked: int
    escalated: int
    skipped: int
