"""Saving a revision of the city's time limits or working calendar: the one write path of
``case_rule_revisions``. Optimistic like a case: the caller names the revision it edited, and a
newer one in the meantime is a conflict, never a silent overwrite."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from onegrid.cases.config import CasesSettings, document_in_force, rules_saved
from onegrid.cases.domain.rule_changes import (
    RuleKind,
    as_json_document,
    check_calendar_change,
    check_time_limit_change,
)
from onegrid.cases.rulestore import REVISIONS, SavedRevision, newest
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import Conflict, FieldProblem, InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.people.domain import Principal
from onegrid.people.policy import require

NOTE_MAX = 500


def check_change(kind: RuleKind, current: Any, proposed: Any, today: date, timezone: str) -> None:
    """Raise ``InvalidInput`` naming every broken rule of replacing ``current`` by ``proposed``."""
    if not isinstance(proposed, dict):
        raise InvalidInput.one("document", "mapping", "the document is a mapping (a JSON object)")
    if kind is RuleKind.TIME_LIMITS:
        check_time_limit_change(current, proposed, today)
    else:
        check_calendar_change(current, proposed, today, timezone)


def _note(note: str) -> str:
    text = note.strip()
    problems = []
    if not text:
        problems.append(FieldProblem("note", "required", "say what changed and why"))
    elif len(text) > NOTE_MAX:
        problems.append(FieldProblem("note", "max_length", f"at most {NOTE_MAX} characters"))
    if problems:
        raise InvalidInput(problems)
    return text


def _stale(kind: RuleKind, current: SavedRevision | None) -> Conflict:
    number = current.revision if current else 0
    return Conflict(
        f"the {kind.value.replace('_', ' ')} changed meanwhile: revision {number} is in force; "
        "reload it and apply your change again",
        current={
            "revision": number,
            "saved_by": current.saved_by_name if current else None,
            "saved_at": current.saved_at.isoformat() if current else None,
            "note": current.note if current else None,
        },
    )


def save_rules(
    db: Database,
    principal: Principal,
    kind: RuleKind,
    document: Any,
    *,
    note: str,
    base_revision: int,
    clock: Clock,
    timezone: str,
    settings: CasesSettings | None = None,
) -> SavedRevision:
    """Validate ``document`` against the rules in force and store it as the next revision.

    ``base_revision`` is the revision the admin edited (0: the configured file). The rules are
    city-wide, so only a city grant may change them (a district admin may read them)."""
    require(principal, "config.admin")
    text = _note(note)
    with one_writer(db.dialect), db.unit_of_work() as session:
        conn = session.connection()
        current, _, in_force = document_in_force(conn, kind, settings)
        if base_revision != (current.revision if current else 0):
            raise _stale(kind, current)
        check_change(kind, in_force, document, city_today(clock, timezone), timezone)
        saved = SavedRevision(
            kind,
            (current.revision if current else 0) + 1,
            principal.actor,
            principal.name[:100],
            clock.now(),
            text,
            as_json_document(document),
        )
        try:
            with session.begin_nested():
                conn.execute(
                    insert(REVISIONS).values(
                        kind=kind.value,
                        revision=saved.revision,
                        document=saved.document,
                        saved_by=saved.saved_by,
                        saved_by_name=saved.saved_by_name,
                        saved_at=saved.saved_at,
                        note=saved.note,
                    )
                )
        except IntegrityError:
            # Another process saved the same revision number first.
            raise _stale(kind, newest(conn, kind)) from None
    rules_saved(db)
    return saved
