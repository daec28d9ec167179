"""Use case: import a file of areas (one level) as new areas or new versions of stored ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import (
    AreaImportOptions,
    PlannedArea,
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


@dataclass(frozen=True)
class AreaImportPlan:
    """What importing a file would do, worked out without writing: every good feature with its
    change against the stored history, and every problem found."""

    source: str
    options: AreaImportOptions
    planned: list[PlannedArea]
    problems: list[FieldProblem]
    repairs: list[FieldProblem]


def plan_area_import(
    session: Session, source: SourceFile, options: AreaImportOptions
) -> AreaImportPlan:
    """Check every feature against the file's rules and the stored areas; reads only."""
    option_problems = options.problems()
    if option_problems:
        raise InvalidInput(option_problems)
    drafts, problems, repairs = draft_areas(source, options)
    parents = levels_on(
        session, (d.parent_code for d in drafts if d.parent_code), options.valid_from
    )
    stored = _latest(session, (d.code for d in drafts))
    planned, plan_problems = plan_areas(drafts, options.valid_from, parents, stored)
    return AreaImportPlan(source.path, options, planned, problems + plan_problems, repairs)


def apply_area_import(session: Session, plan: AreaImportPlan, clock: Clock) -> ImportSummary:
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
    summary = ImportSummary(rejected=list(plan.problems), repaired=list(plan.repairs))
    write_versions(session, AreaRow, writes, options.valid_from, clock, summary)
    if summary.changed:
        record_change(
            session,
            f"import {options.level} areas from {plan.source}: {summary.render()}",
            clock,
        )
    return summary


def import_areas(
    session: Session, source: SourceFile, options: AreaImportOptions, clock: Clock
) -> ImportSummary:
    """Check every feature, then write all good ones, or (``on_error=refuse``) nothing at all if
    any is bad. A code already stored gets a new version only if its shape or parent changed."""
    return apply_area_import(session, plan_area_import(session, source, options), clock)


_MAX_NAME = 200


def _name(
    field: str, value: str | None, *, required: bool
) -> tuple[str | None, FieldProblem | None]:
    text = value.strip() if value is not None else None
    if not text:
        if required:
            return None, FieldProblem(field, "name-required", f"{field} must not be empty")
        return None, None
    if len(text) > _MAX_NAME:
        return None, FieldProblem(
            field, "name-length", f"{field} is at most {_MAX_NAME} characters"
        )
    return text, None


def rename_area(
    session: Session,
    clock: Clock,
    *,
    code: str,
    names: dict[str, str | None],
) -> None:
    """Correct an area's names (``name_zh``, ``name_en``; keys absent are left alone) on its
    latest version, in place.

    In place, not as a new version, because that is how the grid versions areas: a new version
    is opened only when what locates a place changes (the shape or the parent, see
    ``importing.checks.decide``); names, like population, are attributes of the area that a
    re-import corrects in place. A renamed street office keeps its code, its cases and its
    history; a version opened only for a name would split that history without changing where
    any case lies. The change is recorded in the grid change log (``grid_changes``).
    """
    row = session.scalars(
        select(AreaRow)
        .where(AreaRow.code == code, AreaRow.valid_to.is_(None))
        .order_by(AreaRow.valid_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"no current area {code}")
    problems: list[FieldProblem] = []
    if not names:
        problems.append(
            FieldProblem("name_zh", "name-given", "give name_zh, name_en or both to change")
        )
    values: dict[str, str | None] = {}
    for field, value in names.items():
        text, problem = _name(field, value, required=field == "name_zh")
        if problem:
            problems.append(problem)
        else:
            values[field] = text
    if problems:
        raise InvalidInput(problems)
    before = (row.name_zh, row.name_en)
    for field, text in values.items():
        setattr(row, field, text)
    if (row.name_zh, row.name_en) != before:
        session.flush()
        record_change(
            session,
            f"rename area {code}: {before[0]}/{before[1]} → {row.name_zh}/{row.name_en}",
            clock,
        )
