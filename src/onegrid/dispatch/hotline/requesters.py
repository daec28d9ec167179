"""Who must be kept informed about a case: its first caller, repeat callers, and the reporters of
the duplicates merged into it (DOMAIN.md section 4: every reporter is kept informed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.cases.queries import MAX_PAGE, CaseFilter, get_case, list_cases
from onegrid.dispatch.models import HotlineCallRow


@dataclass(frozen=True)
class Requester:
    source: str  # call | repeat_call | case | merged_case
    case_id: int
    call_id: int | None
    name: str | None
    phone: str | None


def requesters_of(session: Session, case_id: int, now: datetime) -> list[Requester]:
    rec = get_case(session, case_id)
    out = [Requester("case", rec.id, None, rec.reporter_name, rec.reporter_phone)]
    calls = session.scalars(
        select(HotlineCallRow).where(HotlineCallRow.case_id == case_id).order_by(HotlineCallRow.id)
    )
    for call in calls:
        source = "repeat_call" if call.outcome == "repeat" else "call"
        out.append(Requester(source, case_id, call.id, call.caller_name, call.caller_phone))
    merged = list_cases(session, CaseFilter(merged_into_id=case_id), now=now, limit=MAX_PAGE)
    for dup in merged.items:
        out.append(Requester("merged_case", dup.id, None, dup.reporter_name, dup.reporter_phone))
    seen: set[tuple[str | None, str | None]] = set()
    unique = []
    for r in out:
        key = (r.name, r.phone)
        if (r.name or r.phone) and key not in seen:
            seen.add(key)
            unique.append(r)
    return unique
