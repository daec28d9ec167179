"""Writing versioned rows: a changed shape closes the old row and opens a new one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, ImportReport
from onegrid.grid.importing.checks import Change, Existing
from onegrid.grid.models import AreaRow, UnitGridRow
from onegrid.grid.storage import chunks

Versioned = type[AreaRow] | type[UnitGridRow]


@dataclass
class ImportSummary(ImportReport):
    """``accepted`` features split by what they did to the stored history."""

    created: int = 0
    versioned: int = 0
    corrected: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    repaired: list[FieldProblem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created or self.versioned or self.corrected or self.updated or self.retired
        )

    def render(self) -> str:
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.created, "new"),
                (self.versioned, "new versions"),
                (self.corrected, "corrected"),
                (self.updated, "renamed/updated"),
                (self.unchanged, "unchanged"),
                (self.retired, "retired"),
            )
            if n
        ]
        head = f"{self.accepted} accepted ({', '.join(parts) or 'nothing to do'})"
        if self.repaired:
            head += f", {len(self.repaired)} repaired"
        return head + (f", {len(self.rejected)} rejected" if self.rejected else "")


@dataclass(frozen=True)
class VersionWrite:
    change: Change
    existing: Existing | None
    values: dict[str, Any]
    """Every column of the new row except id, validity and created_at."""


def write_versions(
    session: Session,
    model: Versioned,
    writes: Sequence[VersionWrite],
    valid_from: date,
    clock: Clock,
    summary: ImportSummary,
) -> None:
    now = clock.now()
    inserts: list[dict[str, Any]] = []
    for w in writes:
        summary.accepted += 1
        if w.change is Change.UNCHANGED:
            summary.unchanged += 1
        elif w.change is Change.CREATE or w.existing is None:
            summary.created += 1
            inserts.append({**w.values, "valid_from": valid_from, "valid_to": None})
        elif w.change is Change.VERSION:
            summary.versioned += 1
            session.execute(
                update(model).where(model.id == w.existing.id).values(valid_to=valid_from)
            )
            inserts.append({**w.values, "valid_from": valid_from, "valid_to": w.existing.valid_to})
        else:
            if w.change is Change.CORRECT:
                summary.corrected += 1
            else:
                summary.updated += 1
            session.execute(update(model).where(model.id == w.existing.id).values(**w.values))
    if inserts:
        session.execute(insert(model), [{**row, "created_at": now} for row in inserts])


def retire(session: Session, model: Versioned, rows: Sequence[tuple[int, date]], on: date) -> int:
    """End rows on ``on``; a row that would end the day it starts was never valid: drop it."""
    drop = [row_id for row_id, start in rows if start >= on]
    close = [row_id for row_id, start in rows if start < on]
    for part in chunks(drop):
        session.execute(delete(model).where(model.id.in_(part)))
    for part in chunks(close):
        session.execute(update(model).where(model.id.in_(part)).values(valid_to=on))
    return len(rows)
