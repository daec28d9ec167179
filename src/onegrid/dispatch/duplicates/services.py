"""Proposing duplicates and what a dispatcher decides: confirm (merge the cases) or undo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import CLOSED_STATUSES, OPEN_STATUSES
from onegrid.cases.queries import MAX_PAGE, CaseFilter, get_case, list_cases
from onegrid.cases.records import CASES, CaseRecord
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.index import (
    Candidate,
    find_open_candidates,
    index_case,
    index_values,
    pg_index_cte,
    unindex_case,
)
from onegrid.dispatch.models import DuplicateProposalRow
from onegrid.people.domain import Principal
from onegrid.people.policy import require

_CLOSED = frozenset(s.value for s in CLOSED_STATUSES)
C = CASES.c
PROPOSALS: Table = DuplicateProposalRow.__table__  # type: ignore[assignment]
# One statement (Core, not the ORM's unit of work): most new reports propose nothing, the rest
# a few rows, and every intake pays for this inside its creating transaction. Each id comes
# back with the case its row names: asking for them in the order sent made SQLAlchemy insert
# the rows one statement each on SQLite (whose RETURNING promises no order).
_PROPOSE = insert(PROPOSALS).returning(PROPOSALS.c.id, PROPOSALS.c.existing_case_id)


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"  # merged into the existing case
    UNDONE = "undone"  # not a duplicate: the report stays a case of its own


@dataclass(frozen=True)
class Proposal:
    id: int
    case_id: int
    existing_case_id: int
    distance_m: float
    similarity: float
    score: float
    status: ProposalStatus
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    existing_number: str | None = None  # when known (a new screening reads it with the rest)


def _proposal(row: DuplicateProposalRow) -> Proposal:
    return Proposal(
        row.id,
        row.case_id,
        row.existing_case_id,
        row.distance_m,
        row.similarity,
        row.score,
        ProposalStatus(row.status),
        row.proposed_at,
        row.decided_by,
        row.decided_at,
    )


def check_report(
    session: Session,
    rules: DuplicateRules,
    category_code: str,
    lon: float,
    lat: float,
    text: str,
    now: datetime,
    exclude: int | None = None,
) -> list[Candidate]:
    """Open cases a report may duplicate (for the operator before dispatch)."""
    found = find_open_candidates(
        session, rules, category_code, lon, lat, text, now, exclude=exclude
    )
    return [c for c, _ in found]


_PROPOSAL_COLUMNS = (
    "case_id",
    "existing_case_id",
    "distance_m",
    "similarity",
    "score",
    "status",
    "proposed_at",
)


def _proposal_values(case_id: int, c: Candidate, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "existing_case_id": c.case_id,
        "distance_m": c.distance_m,
        "similarity": c.similarity,
        "score": c.score,
        "status": ProposalStatus.PROPOSED.value,
        "proposed_at": now,
    }


def propose_in(
    session: Session,
    case_id: int,
    candidates: list[Candidate],
    now: datetime,
    numbers: Sequence[str | None] = (),
) -> list[Proposal]:
    """Record the candidates as proposals for a dispatcher to confirm or undo."""
    if not candidates:
        return []
    rows = [_proposal_values(case_id, c, now) for c in candidates]
    # Matched by the case each names (the candidates are distinct cases), not by row order.
    ids = {int(existing): int(i) for i, existing in session.connection().execute(_PROPOSE, rows)}
    known = list(numbers) or [None] * len(candidates)
    return [
        Proposal(
            id=ids[c.case_id], case_id=case_id, existing_case_id=c.case_id,
            distance_m=c.distance_m, similarity=c.similarity, score=c.score,
            status=ProposalStatus.PROPOSED, proposed_at=now, decided_by=None, decided_at=None,
            existing_number=n,
        )
        for c, n in zip(candidates, known, strict=True)
    ]  # fmt: skip


def screen_case_in(
    session: Session, rec: CaseRecord, rules: DuplicateRules, now: datetime
) -> list[Proposal]:
    """Check a new case against the open ones, record what it may duplicate, and index it.

    Any channel's intake may call it inside its creating transaction (the hotline desk does).
    """
    found = find_open_candidates(
        session, rules, rec.category_code, rec.lon, rec.lat, rec.description, now, exclude=rec.id
    )
    candidates, numbers = [c for c, _ in found], [n for _, n in found]
    if candidates and session.get_bind().dialect.name == "postgresql":
        return _propose_and_index_pg(session, rec, candidates, numbers, now)
    proposals = propose_in(session, rec.id, candidates, now, numbers)
    index_case(
        session, rec.id, rec.category_code, rec.lon, rec.lat, rec.created_at, rec.description
    )
    return proposals


@lru_cache(maxsize=8)
def _pg_propose_and_index(count: int) -> Any:
    """``count`` proposals and the new case's index entry in one PostgreSQL statement (one
    round trip instead of two); each proposal comes back with the case it names.

    One single-row INSERT per proposal, each its own CTE: SQLAlchemy cannot cache a multi-row
    VALUES, which it compiled anew for every report it screened (~0.3 ms each)."""
    columns = [PROPOSALS.c[k] for k in _PROPOSAL_COLUMNS]
    proposed = [
        select(cte.c.id, cte.c.existing_case_id)
        for cte in (
            postgresql.insert(PROPOSALS)
            .values({c.key: bindparam(f"p{i}_{c.key}", type_=c.type) for c in columns})
            .returning(PROPOSALS.c.id, PROPOSALS.c.existing_case_id)
            .cte(f"proposed{i}")
            for i in range(count)
        )
    ]
    both = proposed[0] if count == 1 else select(union_all(*proposed).subquery("proposed"))
    return both.add_cte(pg_index_cte("i_"))


def _propose_and_index_pg(
    session: Session,
    rec: CaseRecord,
    candidates: list[Candidate],
    numbers: list[str],
    now: datetime,
) -> list[Proposal]:
    params: dict[str, Any] = {}
    for i, c in enumerate(candidates):
        row = _proposal_values(rec.id, c, now)
        params.update({f"p{i}_{k}": v for k, v in row.items()})
    entry = index_values(
        rec.id, rec.category_code, rec.lon, rec.lat, rec.created_at, rec.description
    )
    params.update({"i_" + k: v for k, v in entry.items()})
    rows = session.connection().execute(_pg_propose_and_index(len(candidates)), params).all()
    # Matched by the case each names (the candidates are distinct cases), not by row order.
    ids = {int(existing): int(i) for i, existing in rows}
    return [
        Proposal(
            id=ids[c.case_id], case_id=rec.id, existing_case_id=c.case_id,
            distance_m=c.distance_m, similarity=c.similarity, score=c.score,
            status=ProposalStatus.PROPOSED, proposed_at=now, decided_by=None, decided_at=None,
            existing_number=n,
        )
        for c, n in zip(candidates, numbers, strict=True)
    ]  # fmt: skip


def screened_in(session: Session, case_id: int) -> list[Proposal]:
    """What a report was proposed to duplicate and not undone (pending or confirmed), best
    first: a replayed intake answers with the same notice as the first time."""
    rows = session.scalars(
        select(DuplicateProposalRow)
        .where(
            DuplicateProposalRow.case_id == case_id,
            DuplicateProposalRow.status != ProposalStatus.UNDONE.value,
        )
        .order_by(DuplicateProposalRow.score.desc(), DuplicateProposalRow.id)
    )
    return [_proposal(r) for r in rows]


def existing_numbers(session: Session, proposals: list[Proposal]) -> list[str]:
    """The case numbers a report may duplicate, best first (what its reporter is told)."""
    if not proposals:
        return []
    if all(p.existing_number is not None for p in proposals):
        return [str(p.existing_number) for p in proposals]  # a number never changes
    wanted = [p.existing_case_id for p in proposals]
    rows = session.execute(select(C.id, C.number).where(C.id.in_(wanted)))
    found = {int(case_id): str(number) for case_id, number in rows}
    return [found[i] for i in wanted if i in found]


def rebuild_index(db: Database, rules: DuplicateRules, now: datetime) -> int:
    """Index every case still open reported within the window (for cases created before the
    index existed, or by channels that do not screen); returns how many were indexed."""
    wanted = CaseFilter(
        status=tuple(s.value for s in OPEN_STATUSES),
        created_from=now - timedelta(hours=rules.window_hours),
    )
    count, cursor = 0, None
    while True:
        with db.unit_of_work() as session:
            page = list_cases(
                session, wanted, now=now, sort="created_at", limit=MAX_PAGE, cursor=cursor
            )
            for rec in page.items:
                index_case(
                    session,
                    rec.id,
                    rec.category_code,
                    rec.lon,
                    rec.lat,
                    rec.created_at,
                    rec.description,
                )
            count += len(page.items)
        if page.next_cursor is None:
            return count
        cursor = page.next_cursor


def _pending(session: Session, proposal_id: int) -> DuplicateProposalRow:
    row = session.get(DuplicateProposalRow, proposal_id)
    if row is None:
        raise NotFound(f"no duplicate proposal {proposal_id}")
    if row.status != ProposalStatus.PROPOSED.value:
        raise InvalidInput.one(
            "status", "proposal_pending", f"proposal {proposal_id} is already {row.status}"
        )
    return row


def confirm_duplicate(
    db: Database,
    principal: Principal,
    proposal_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    reason: str = "",
) -> Proposal:
    """Merge the new report into the existing case (its reporter is then kept informed of it);
    other proposals for the same report are undone."""
    with db.unit_of_work() as session:
        row = _pending(session, proposal_id)
        cases.merge_case_in(
            session,
            principal,
            row.case_id,
            into_case_id=row.existing_case_id,
            clock=clock,
            rules=rules,
            reason=reason or f"duplicate (score {row.score:.2f}, {row.distance_m:.0f} m)",
        )
        now = clock.now()
        row.status, row.decided_by, row.decided_at = "confirmed", principal.actor, now
        others = session.scalars(
            select(DuplicateProposalRow).where(
                DuplicateProposalRow.case_id == row.case_id,
                DuplicateProposalRow.id != row.id,
                DuplicateProposalRow.status == ProposalStatus.PROPOSED.value,
            )
        )
        for other in others:
            other.status, other.decided_by, other.decided_at = "undone", principal.actor, now
        unindex_case(session, row.case_id)
        session.flush()
        return _proposal(row)


def undo_duplicate(
    db: Database, principal: Principal, proposal_id: int, *, clock: Clock
) -> Proposal:
    """Not a duplicate: the proposal is dropped and the report goes on as a case of its own."""
    with db.unit_of_work() as session:
        row = _pending(session, proposal_id)
        rec = get_case(session, row.case_id)
        require(
            principal,
            "case.merge",
            area_chain=rec.area_chain,
            department_code=rec.department_code,
        )
        row.status, row.decided_by, row.decided_at = "undone", principal.actor, clock.now()
        session.flush()
        return _proposal(row)


def list_proposals(
    session: Session, *, status: ProposalStatus | None = None, case_id: int | None = None
) -> list[Proposal]:
    query = select(DuplicateProposalRow).order_by(DuplicateProposalRow.id)
    if status is not None:
        query = query.where(DuplicateProposalRow.status == status.value)
    if case_id is not None:
        query = query.where(
            (DuplicateProposalRow.case_id == case_id)
            | (DuplicateProposalRow.existing_case_id == case_id)
        )
    return [_proposal(r) for r in session.scalars(query)]
