"""What the operator sees before dispatch: suggested category and unit, the limit, answers,
possible duplicates and the caller's earlier calls. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.assets.queries import find_category
from onegrid.cases.domain.states import Nature
from onegrid.cases.services.common import local_day
from onegrid.core.errors import InvalidInput
from onegrid.dispatch.duplicates.index import Candidate
from onegrid.dispatch.duplicates.services import check_report
from onegrid.dispatch.hotline.domain import LimitClass, caller_key
from onegrid.dispatch.hotline.intake import CallDraft, check_draft
from onegrid.dispatch.hotline.knowledge import Answer, search_answers
from onegrid.dispatch.hotline.services import DeskRules, place_call
from onegrid.dispatch.hotline.suggest import CategorySuggestion, suggest_category
from onegrid.dispatch.models import HotlineCallRow
from onegrid.dispatch.routing.domain import Route
from onegrid.dispatch.routing.queries import route_for
from onegrid.grid.location import locate
from onegrid.people.domain import Principal
from onegrid.people.policy import require_somewhere


@dataclass
class Preview:
    suggestion: CategorySuggestion
    category_code: str | None  # the operator's choice, else the suggestion if it is a class
    route: Route | None = None
    limit_class: LimitClass | None = None
    answers: list[Answer] = field(default_factory=list)
    duplicates: list[Candidate] = field(default_factory=list)
    earlier_calls: list[HotlineCallRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _earlier(session: Session, phone: str | None) -> list[HotlineCallRow]:
    key = caller_key(phone)
    if key is None:
        return []
    return list(
        session.scalars(
            select(HotlineCallRow)
            .where(HotlineCallRow.caller_key == key)
            .order_by(HotlineCallRow.id.desc())
            .limit(10)
        )
    )


def preview_call(
    session: Session, principal: Principal, draft: CallDraft, *, rules: DeskRules, now: datetime
) -> Preview:
    require_somewhere(principal, "hotline.intake")
    draft = place_call(session, check_draft(draft), rules.cases.calendar, now)
    suggestion = suggest_category(rules.data_dir, rules.classifier_name, draft.text)
    category = draft.category_code
    if category is None and suggestion.best is not None:
        category = suggestion.best.label.strip().upper()
    out = Preview(suggestion, category, earlier_calls=_earlier(session, draft.caller_phone))
    if not suggestion.available:
        out.notes.append(suggestion.reason)
    if draft.nature is Nature.CONSULTATION:
        out.answers = search_answers(session, draft.text, limit=3)
    if category is None or draft.lon is None or draft.lat is None:
        out.notes.append("give a category and a point to see the unit and possible duplicates")
        return out
    found = find_category(session, category)
    if found is None:
        out.notes.append(f"{category} is not a category of the taxonomy in use")
        return out
    today = local_day(rules.cases.calendar, now)
    location = locate(session, draft.lon, draft.lat, today)
    if location is None:
        raise InvalidInput.one(
            "lon", "inside_city", f"({draft.lon}, {draft.lat}) lies outside every area of the city"
        )
    out.route = route_for(session, category, location, draft.component_id, on=today)
    if out.route is None:
        out.notes.append("no rule names a unit here: the operator names one")
    out.limit_class = rules.hotline.limit_class(
        found.urgency.value, category, draft.nature.value, complex_=draft.complex_
    )
    out.duplicates = check_report(
        session, rules.duplicates, category, draft.lon, draft.lat, draft.text, now
    )
    return out
