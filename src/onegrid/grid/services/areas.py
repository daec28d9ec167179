"""Use case: import a file of areas (one level) as new areas or new versions of stored ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import (
    AreaImportOptions,
    StoredArea,
    draft_areas,
    plan_areas,
)
from onegrid.grid.importing.checks import Existing, OnError
from onegrid.grid.importing.reading import SourceFile
from onegrid.grid.models import AreaRow
from onegrid.grid.services.history import ImportSummary, VersionWrite, write_versions
from onegrid.grid.storage import chunks, record_change, shape_columns, valid_on_clause


def levels_on(session: Session, codes: Iterable[str], on: date) -> dict[str, Level]:
    """The level of each of ``codes`` that names an area valid on ``on``."""
    wanted = sorted(set(codes))
    out: dict[str, Level] = {}
    for part in chunks(wanted):
        rows = session.execute(
            select(AreaRow.code, AreaRow.level).where(
                AreaRow.code.in_(part), valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on)
            )
        )
        out.update({code: Level(level) for code, level in rows})
    return out


def _latest(session: Session, codes: Iterable[str]) -> dict[str, StoredArea]:
    latest: dict[str, AreaRow] = {}
    for part in chunks(sorted(set(codes))):
        for row in session.scalars(select(AreaRow).where(AreaRow.code.in_(part))):
            if row.code not in latest or row.valid_from > latest[row.code].valid_from:
                latest[row.code] = row
    return {
        code: StoredArea(
            Existing(
                row.id,
                row.valid_from,
                row.valid_to,
                shapely.from_wkb(row.geometry),
                (row.parent_code,),
                (row.name_zh, row.name_en, row.population),
            ),
            Level(row.level),
        )
        for code, row in latest.items()
    }


def import_areas(
    session: Session, source: SourceFile, options: AreaImportOptions, clock: Clock
) -> ImportSummary:
    """Check every feature, then write all good ones, or (``on_error=refuse``) nothing at all if
    any is bad. A code already stored gets a new version only if its shape or parent changed."""
    option_problems = options.problems()
    if option_problems:
        raise InvalidInput(option_problems)
    drafts, problems, repairs = draft_areas(source, options)
    parents = levels_on(
        session, (d.parent_code for d in drafts if d.parent_code), options.valid_from
    )
    stored = _latest(session, (d.code for d in drafts))
    planned, plan_problems = plan_areas(drafts, options.valid_from, parents, stored)
    problems += plan_problems
    if problems and options.on_error is OnError.REFUSE:
        raise InvalidInput(problems)
    columns = shape_columns([p.draft.geometry for p in planned])
    writes = [
        VersionWrite(
            p.change,
            p.existing,
            {
                "code": p.draft.code,
                "level": str(p.draft.level),
                "parent_code": p.draft.parent_code,
                "name_zh": p.draft.name_zh,
                "name_en": p.draft.name_en,
                "population": p.draft.population,
                **shape,
            },
        )
        for p, shape in zip(planned, columns, strict=True)
    ]
    summary = ImportSummary(rejected=problems, repaired=repairs)
    write_versions(session, AreaRow, writes, options.valid_from, clock, summary)
    if summary.changed:
        record_change(
            session,
            f"import {options.level} areas from {source.path}: {summary.render()}",
            clock,
        )
    return summary
