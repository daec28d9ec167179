"""The hotline API's shapes (callers' personal data masked for roles that may not see it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from onegrid.cases.domain.states import Nature
from onegrid.cases.records import CaseRecord
from onegrid.core.masking import mask_name, mask_phone
from onegrid.dispatch.duplicates.index import Candidate
from onegrid.dispatch.duplicates.services import Proposal
from onegrid.dispatch.hotline.domain import LimitClass, Medium, Satisfaction
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.knowledge import Answer
from onegrid.dispatch.hotline.preview import Preview
from onegrid.dispatch.hotline.rates import UnitRates
from onegrid.dispatch.hotline.requesters import Requester
from onegrid.dispatch.hotline.services import CallResult
from onegrid.dispatch.models import CaseRouteRow, HotlineCallRow
from onegrid.dispatch.routing.domain import Route
from onegrid.dispatch.routing.services import ExplainedRoute
from onegrid.people.domain import Principal
from onegrid.people.policy import can_see_personal_data

_Out = TypeVar("_Out", bound=BaseModel)


def _from_row(model: type[_Out], row: object, **computed: object) -> _Out:
    """``model`` filled from ``row``'s attributes of the same names, but for ``computed``."""
    fields = {name: getattr(row, name) for name in model.model_fields if name not in computed}
    return model.model_validate(fields | computed)


_CALL_EXAMPLE: dict[str, Any] = {
    "nature": "complaint",
    "text": "小区门口垃圾堆积三天无人清理 (rubbish piled at the gate for three days)",
    "caller_name": "李四",
    "caller_phone": "13900001111",
    "lon": 116.3051,
    "lat": 39.9102,
    "category_code": "E0102",
    "suggested_category": "E0102",
    "suggested_confidence": 0.82,
    "model_version": "2026.11.30-1",
}
# The same call placed by the standard address register instead of a point.
_CALL_AT_ADDRESS_EXAMPLE: dict[str, Any] = {
    key: value for key, value in _CALL_EXAMPLE.items() if key not in ("lon", "lat")
} | {"address_id": "110101001001-0001"}


class CallIn(BaseModel):
    """A call as the operator records it. Say where with ``lon`` and ``lat``, or with the
    ``address_id`` of the city's standard address register (标准地址库), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_CALL_EXAMPLE, _CALL_AT_ADDRESS_EXAMPLE]},
    )

    nature: Nature
    text: str = Field(max_length=20_000, description="What the caller said")
    medium: Medium = Medium.CALL
    caller_name: str | None = Field(default=None, max_length=1000)
    caller_phone: str | None = Field(default=None, max_length=1000)
    address: str = Field(default="", max_length=5000)
    lon: float | None = Field(default=None, description="WGS84 longitude")
    lat: float | None = Field(default=None, description="WGS84 latitude")
    address_id: str | None = Field(
        default=None,
        max_length=64,
        description="Instead of lon and lat: the address's id in the city's standard address "
        "register (标准地址库). The call and its case are placed at the register's point, and "
        "the case keeps the id; the register's text is the address unless one is sent. An id the "
        "register does not hold, or one sent with lon and lat, is a 422 naming address_id",
    )
    category_code: str | None = Field(default=None, max_length=16)
    department_code: str | None = Field(default=None, max_length=32)
    answer_id: int | None = None
    complex: bool = False
    component_id: str | None = Field(default=None, max_length=32)
    about_case_id: int | None = None
    dispatch_now: bool = True
    suggested_category: str | None = Field(default=None, max_length=64)
    suggested_confidence: float | None = None
    model_version: str | None = Field(default=None, max_length=64)

    def to_draft(self) -> CallDraft:
        data = self.model_dump()
        data["complex_"] = data.pop("complex")
        return CallDraft(**data)


class RouteOut(BaseModel):
    department_code: str
    rule: str
    rule_id: int | None
    explanation: str


def route_out(route: Route | None) -> RouteOut | None:
    if route is None:
        return None
    return RouteOut(
        department_code=route.department_code,
        rule=route.rule.value,
        rule_id=route.rule_id,
        explanation=route.explanation,
    )


class CaseRouteOut(RouteOut):
    case_id: int
    suggested_department_code: str | None
    decided_by: str | None = Field(
        description="who chose the unit; null while the rules' suggestion waits for dispatch"
    )
    decided_at: datetime | None
    dispatched_at: datetime | None
    response_due_at: datetime | None
    contacted_at: datetime | None
    recorded: bool = Field(
        description="true for a route the hotline desk stored; false for one worked out from "
        "the case's history (a dispatch by the command centre) or the rules in force"
    )


def case_route_out(row: CaseRouteRow | ExplainedRoute) -> CaseRouteOut:
    if isinstance(row, ExplainedRoute):
        return _from_row(CaseRouteOut, row)
    return _from_row(CaseRouteOut, row, recorded=True)


class LimitOut(BaseModel):
    name: str
    feedback_hours: float
    response_hours: float


def limit_out(limit: LimitClass | None) -> LimitOut | None:
    if limit is None:
        return None
    return LimitOut(
        name=limit.name,
        feedback_hours=limit.feedback.total_seconds() / 3600,
        response_hours=limit.response.total_seconds() / 3600,
    )


class AnswerOut(BaseModel):
    id: int
    code: str
    question: str
    answer: str
    keywords: list[str]
    score: float


def answer_out(a: Answer) -> AnswerOut:
    return AnswerOut(
        id=a.id,
        code=a.code,
        question=a.question,
        answer=a.answer,
        keywords=list(a.keywords),
        score=a.score,
    )


class CandidateOut(BaseModel):
    case_id: int
    distance_m: float
    similarity: float
    score: float


def candidate_out(c: Candidate) -> CandidateOut:
    return CandidateOut(
        case_id=c.case_id, distance_m=c.distance_m, similarity=c.similarity, score=c.score
    )


class ProposalOut(CandidateOut):
    id: int
    existing_case_id: int
    status: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None


def proposal_out(p: Proposal) -> ProposalOut:
    return ProposalOut(
        id=p.id,
        case_id=p.case_id,
        existing_case_id=p.existing_case_id,
        distance_m=p.distance_m,
        similarity=p.similarity,
        score=p.score,
        status=p.status.value,
        proposed_at=p.proposed_at,
        decided_by=p.decided_by,
        decided_at=p.decided_at,
    )


class CallOut(BaseModel):
    id: int
    received_at: datetime
    medium: str
    operator: str
    caller_name: str | None
    caller_phone: str | None
    masked: bool
    nature: str
    text: str
    address: str
    lon: float | None
    lat: float | None
    category_code: str | None
    outcome: str
    answer_id: int | None
    case_id: int | None
    repeat_of_call_id: int | None
    feedback_class: str | None
    feedback_due_at: datetime | None
    response_due_at: datetime | None


def call_out(row: HotlineCallRow, principal: Principal, case: CaseRecord | None = None) -> CallOut:
    """The call as ``principal`` may see it: the caller masked unless it may call them back."""
    if case is None:
        visible = can_see_personal_data(principal)
    else:
        visible = can_see_personal_data(principal, case.area_chain, case.department_code)
    return _from_row(
        CallOut,
        row,
        caller_name=row.caller_name if visible else mask_name(row.caller_name),
        caller_phone=row.caller_phone if visible else mask_phone(row.caller_phone),
        masked=not visible,
    )


class CallResultOut(BaseModel):
    call: CallOut
    outcome: str
    case_id: int | None
    case_number: str | None
    case_status: str | None
    route: RouteOut | None
    limit: LimitOut | None
    answer: AnswerOut | None
    dispatched: bool
    waiting: str
    duplicates: list[ProposalOut]


def call_result_out(r: CallResult, principal: Principal) -> CallResultOut:
    return CallResultOut(
        call=call_out(r.call, principal, r.case),
        outcome=r.outcome.value,
        case_id=r.case.id if r.case else None,
        case_number=r.case.number if r.case else None,
        case_status=r.case.status if r.case else None,
        route=route_out(r.route),
        limit=limit_out(r.limit_class),
        answer=answer_out(r.answer) if r.answer else None,
        dispatched=r.dispatched,
        waiting=r.waiting,
        duplicates=[proposal_out(p) for p in r.duplicates],
    )


class SuggestionOut(BaseModel):
    label: str
    confidence: float


class PreviewOut(BaseModel):
    model_available: bool
    model: str | None
    model_version: str | None
    suggestions: list[SuggestionOut]
    category_code: str | None
    route: RouteOut | None
    limit: LimitOut | None
    answers: list[AnswerOut]
    duplicates: list[CandidateOut]
    earlier_calls: list[int] = Field(description="Ids of the caller's earlier calls, newest first")
    notes: list[str]


def preview_out(p: Preview) -> PreviewOut:
    s = p.suggestion
    return PreviewOut(
        model_available=s.available,
        model=s.model,
        model_version=s.model_version,
        suggestions=[SuggestionOut(label=x.label, confidence=x.confidence) for x in s.suggestions],
        category_code=p.category_code,
        route=route_out(p.route),
        limit=limit_out(p.limit_class),
        answers=[answer_out(a) for a in p.answers],
        duplicates=[candidate_out(c) for c in p.duplicates],
        earlier_calls=[c.id for c in p.earlier_calls],
        notes=p.notes,
    )


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department_code: str | None = Field(default=None, max_length=32)


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolved: bool
    satisfaction: Satisfaction
    note: str = Field(default="", max_length=2000)


class CallbackOut(BaseModel):
    id: int
    case_id: int
    department_code: str | None
    at: datetime
    resolved: bool
    satisfaction: str
    reopened: bool
    case_status: str


class RatesOut(BaseModel):
    unit: str
    dispatched: int
    responded_in_time: int
    callbacks: int
    resolved: int
    satisfied: int
    basically_satisfied: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None


def rates_out(r: UnitRates) -> RatesOut:
    f = r.facts
    return RatesOut(
        unit=f.unit,
        dispatched=f.dispatched,
        responded_in_time=f.responded_in_time,
        callbacks=f.callbacks,
        resolved=f.resolved,
        satisfied=f.satisfied,
        basically_satisfied=f.basically_satisfied,
        response_rate=r.response_rate,
        resolution_rate=r.resolution_rate,
        satisfaction_rate=r.satisfaction_rate,
    )


class PeriodRatesOut(BaseModel):
    period: str
    basically_satisfied_weight: float
    units: list[RatesOut]


class RequesterOut(BaseModel):
    source: str = Field(description="case, call, repeat_call or merged_case")
    case_id: int
    call_id: int | None
    name: str | None
    phone: str | None
    masked: bool


def requester_out(r: Requester, visible: bool) -> RequesterOut:
    return RequesterOut(
        source=r.source,
        case_id=r.case_id,
        call_id=r.call_id,
        name=r.name if visible else mask_name(r.name),
        phone=r.phone if visible else mask_phone(r.phone),
        masked=not visible,
    )
