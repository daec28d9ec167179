"""Use case: import a city's official unit grids (单元网格) from a boundary file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.grid.importing.checks import Existing, OnError
from onegrid.grid.importing.reading import SourceFile
from onegrid.grid.importing.unit_grids import (
    OFFICIAL,
    PlannedGrid,
    UnitGridImportOptions,
    draft_unit_grids,
    plan_unit_grids,
)
from onegrid.grid.models import UnitGridRow
from onegrid.grid.services.areas import levels_on
from onegrid.grid.services.history import ImportSummary, VersionWrite, retire, write_versions
from onegrid.grid.storage import chunks, record_change, shape_columns


def latest_grids(session: Session, codes: Iterable[str]) -> dict[str, Existing]:
    latest: dict[str, UnitGridRow] = {}
    for part in chunks(sorted(set(codes))):
        for row in session.scalars(select(UnitGridRow).where(UnitGridRow.code.in_(part))):
            if row.code not in latest or row.valid_from > latest[row.code].valid_from:
                latest[row.code] = row
    return {
        code: Existing(
            row.id,
            row.valid_from,
            row.valid_to,
            shapely.from_wkb(row.geometry),
            (row.community_code, row.source),
            (row.land_use, row.management_level) if row.source == OFFICIAL else (row.h3_cell,),
        )
        for code, row in latest.items()
    }


def grids_open_on(session: Session, community_codes: Iterable[str], on: date) -> list[UnitGridRow]:
    """Grids of these communities still valid on ``on`` or starting later."""
    rows: list[UnitGridRow] = []
    for part in chunks(sorted(set(community_codes))):
        rows += session.scalars(
            select(UnitGridRow).where(
                UnitGridRow.community_code.in_(part),
                (UnitGridRow.valid_to.is_(None)) | (UnitGridRow.valid_to > on),
            )
        )
    return rows


@dataclass(frozen=True)
class RetiredGrid:
    id: int
    code: str
    community_code: str
    valid_from: date


@dataclass(frozen=True)
class UnitGridImportPlan:
    """What importing a file of official grids would do, worked out without writing."""

    source: str
    options: UnitGridImportOptions
    planned: list[PlannedGrid]
    retired: list[RetiredGrid]
    problems: list[FieldProblem]
    repairs: list[FieldProblem]


def plan_unit_grid_import(
    session: Session, source: SourceFile, options: UnitGridImportOptions
) -> UnitGridImportPlan:
    """Check every feature against the file's rules and the stored grids; reads only. The file
    is its communities' full list, so their stored grids it does not name are to be retired."""
    drafts, problems, repairs = draft_unit_grids(source, options)
    communities = levels_on(session, (d.community_code for d in drafts), options.valid_from)
    stored = latest_grids(session, (d.code for d in drafts))
    planned, plan_problems = plan_unit_grids(drafts, options.valid_from, communities, stored)
    listed = {p.draft.code for p in planned}
    retired = [
        RetiredGrid(row.id, row.code, row.community_code, row.valid_from)
        for row in grids_open_on(
            session, {p.draft.community_code for p in planned}, options.valid_from
        )
        if row.code not in listed
    ]
    return UnitGridImportPlan(
        source.path, options, planned, retired, problems + plan_problems, repairs
    )


def apply_unit_grid_import(
    session: Session, plan: UnitGridImportPlan, clock: Clock
) -> ImportSummary:
    """Write a plan: all of it, or (``on_error=refuse``) nothing at all if any feature is bad."""
    options = plan.options
    if plan.problems and options.on_error is OnError.REFUSE:
        raise InvalidInput(plan.problems)
    planned = plan.planned
    columns = shape_columns([p.draft.geometry for p in planned])
    writes = [
        VersionWrite(
            p.change,
            p.existing,
            {
                "code": p.draft.code,
                "community_code": p.draft.community_code,
                "source": OFFICIAL,
                "h3_cell": None,
                "land_use": p.draft.land_use,
                "management_level": p.draft.management_level,
                **shape,
            },
        )
        for p, shape in zip(planned, columns, strict=True)
    ]
    summary = ImportSummary(rejected=list(plan.problems), repaired=list(plan.repairs))
    write_versions(session, UnitGridRow, writes, options.valid_from, clock, summary)
    stale = [(r.id, r.valid_from) for r in plan.retired]
    summary.retired = retire(session, UnitGridRow, stale, options.valid_from)
    if summary.changed:
        record_change(session, f"import unit grids from {plan.source}: {summary.render()}", clock)
    return summary


def import_unit_grids(
    session: Session, source: SourceFile, options: UnitGridImportOptions, clock: Clock
) -> ImportSummary:
    """Official grids replace generated ones for each community the file covers, and the file is
    that community's full list: stored grids it no longer names are retired."""
    return apply_unit_grid_import(session, plan_unit_grid_import(session, source, options), clock)
