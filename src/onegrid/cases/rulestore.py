"""Reads of the saved rule revisions (``case_rule_revisions``): the newest per kind, one
revision, the history. ``cases.services.rules`` is their only writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select

from onegrid.cases.domain.rule_changes import RuleKind
from onegrid.cases.models import CaseRuleRevisionRow

REVISIONS: Table = CaseRuleRevisionRow.__table__  # type: ignore[assignment]
_R = REVISIONS.c
# Read by every process at most once per refresh interval (cases.config): one small statement.
_NEWEST = select(_R.kind, func.max(_R.revision)).group_by(_R.kind)


@dataclass(frozen=True)
class SavedRevision:
    kind: RuleKind
    revision: int
    saved_by: str
    saved_by_name: str
    saved_at: datetime
    note: str
    document: dict[str, Any] | None = None  # left out of history listings


def newest_numbers(conn: Connection) -> dict[RuleKind, int]:
    """The newest revision number of each kind that has one."""
    return {RuleKind(kind): int(n) for kind, n in conn.execute(_NEWEST)}


def _saved(row: Any, with_document: bool) -> SavedRevision:
    return SavedRevision(
        RuleKind(row.kind),
        row.revision,
        row.saved_by,
        row.saved_by_name,
        row.saved_at,
        row.note,
        dict(row.document) if with_document else None,
    )


def newest(conn: Connection, kind: RuleKind) -> SavedRevision | None:
    row = conn.execute(
        select(REVISIONS).where(_R.kind == kind.value).order_by(_R.revision.desc()).limit(1)
    ).first()
    return _saved(row, True) if row is not None else None


def revision(conn: Connection, kind: RuleKind, number: int) -> SavedRevision | None:
    row = conn.execute(
        select(REVISIONS).where(_R.kind == kind.value, _R.revision == number)
    ).first()
    return _saved(row, True) if row is not None else None


def history(conn: Connection, kind: RuleKind) -> list[SavedRevision]:
    """Every revision of a kind, newest first, without their documents."""
    rows = conn.execute(
        select(_R.kind, _R.revision, _R.saved_by, _R.saved_by_name, _R.saved_at, _R.note)
        .where(_R.kind == kind.value)
        .order_by(_R.revision.desc())
    )
    return [_saved(r, False) for r in rows]
