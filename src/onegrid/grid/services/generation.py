"""Use case: give a city without official unit grids H3-based ones (see ``grid.unitgrids``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.grid.domain import AREA_LEVELS, MAX_GRIDS_PER_AREA, Level, padded_area_code
from onegrid.grid.importing.checks import Change, decide
from onegrid.grid.importing.unit_grids import OFFICIAL
from onegrid.grid.models import AreaRow
from onegrid.grid.models import UnitGridRow as Grid
from onegrid.grid.services.history import ImportSummary, VersionWrite, retire, write_versions
from onegrid.grid.services.unit_grids import grids_open_on, latest_grids
from onegrid.grid.storage import record_change, shape_columns, valid_on_clause
from onegrid.grid.unitgrids import (
    DEFAULT_RES,
    TooManyGridsError,
    estimated_grid_count,
    generate_for_area,
)

H3 = "h3"
Progress = Callable[[int, int, str], None]


@dataclass
class GenerationReport:
    level: Level
    res: int
    areas: int = 0
    grids: ImportSummary = field(default_factory=ImportSummary)
    skipped_official: list[str] = field(default_factory=list)

    def render(self) -> str:
        skipped = (
            f"; {len(self.skipped_official)} areas kept their official grids"
            if self.skipped_official
            else ""
        )
        return (
            f"{self.areas} {self.level} areas at H3 res {self.res}: "
            f"grids {self.grids.render()}{skipped}"
        )


def _finest_level(session: Session, on: date) -> Level:
    present = set(
        session.scalars(
            select(AreaRow.level)
            .where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
            .distinct()
        )
    )
    for level in reversed(AREA_LEVELS):
        if level in present:
            return level
    raise InvalidInput.one("level", "areas-exist", f"no areas are valid on {on}; import some first")


def _select_areas(session: Session, level: Level, within: Sequence[str], on: date) -> list[AreaRow]:
    rows = list(
        session.scalars(
            select(AreaRow)
            .where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
            .order_by(AreaRow.code)
        )
    )
    parent = {r.code: r.parent_code for r in rows}
    missing = sorted(set(within) - set(parent))
    if missing:
        raise InvalidInput.one(
            "within", "area-exists", f"no area {', '.join(missing)} is valid on {on}"
        )

    def inside(code: str | None) -> bool:
        seen: set[str] = set()
        while code is not None and code not in seen:
            if code in within:
                return True
            seen.add(code)
            code = parent.get(code)
        return False

    return [r for r in rows if r.level == level and (not within or inside(r.code))]


def _preflight(areas: list[AreaRow], res: int) -> None:
    problems: list[FieldProblem] = []
    padded: dict[str, str] = {}
    for a in areas:
        try:
            prefix = padded_area_code(a.code)
        except ValueError as exc:
            problems.append(FieldProblem("code", "area-code-digits", str(exc), f"area {a.code}"))
            continue
        if prefix in padded:
            problems.append(
                FieldProblem(
                    "code",
                    "code-collision",
                    f"areas {padded[prefix]} and {a.code} both lead to unit-grid codes {prefix}…",
                    f"area {a.code}",
                )
            )
        padded[prefix] = a.code
        estimate = estimated_grid_count([a.area_m2], res)
        if estimate > MAX_GRIDS_PER_AREA * 1.2:
            problems.append(
                FieldProblem(
                    "res",
                    "grids-per-area",
                    str(TooManyGridsError(a.code, estimate, res)),
                    f"area {a.code}",
                )
            )
    if problems:
        raise InvalidInput(problems)


@dataclass
class _Plan:
    writes: list[VersionWrite] = field(default_factory=list)
    stale: list[tuple[int, date]] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)


def _plan_area(
    session: Session, area: AreaRow, res: int, valid_from: date, mine: list[Grid], plan: _Plan
) -> None:
    """Add to ``plan`` what generating this area's grids changes in the stored history."""
    try:
        grids = generate_for_area(area.code, shapely.from_wkb(area.geometry), res)
    except TooManyGridsError as exc:
        plan.problems.append(FieldProblem("res", "grids-per-area", str(exc), f"area {area.code}"))
        return
    stored = latest_grids(session, [g.code for g in grids])
    new_codes = {g.code for g in grids}
    plan.stale += [(g.id, g.valid_from) for g in mine if g.code not in new_codes]
    columns = shape_columns([g.geometry for g in grids])
    for g, shape in zip(grids, columns, strict=True):
        old = stored.get(g.code)
        change = decide(old, g.geometry, (area.code, H3), (g.h3_cell,), valid_from)
        if not isinstance(change, Change):
            plan.problems.append(FieldProblem("valid_from", "valid-from-order", change, g.code))
            continue
        values = {
            "code": g.code,
            "community_code": area.code,
            "source": H3,
            "h3_cell": g.h3_cell,
            "land_use": None,
            "management_level": None,
            **shape,
        }
        plan.writes.append(VersionWrite(change, old, values))


def generate_unit_grids(
    session: Session,
    clock: Clock,
    *,
    valid_from: date,
    res: int = DEFAULT_RES,
    level: Level | None = None,
    within: Sequence[str] = (),
    progress: Progress | None = None,
) -> GenerationReport:
    """H3 unit grids for every area of ``level`` (default: the finest level present), or only
    those inside the areas ``within``. Areas with official grids keep them. All or nothing: if
    one area would need more than 999 grids, nothing is written."""
    if not 7 <= res <= 12:
        raise InvalidInput.one(
            "res", "h3-resolution", "use an H3 resolution from 7 to 12 (10 ≈ 10,000 m² a grid)"
        )
    level = level or _finest_level(session, valid_from)
    areas = _select_areas(session, level, within, valid_from)
    _preflight(areas, res)
    report = GenerationReport(level, res)
    by_area: dict[str, list[Grid]] = {}
    for g in grids_open_on(session, [a.code for a in areas], valid_from):
        by_area.setdefault(g.community_code, []).append(g)
    plan = _Plan()
    for n, area in enumerate(areas, start=1):
        if progress:
            progress(n, len(areas), area.code)
        mine = by_area.get(area.code, [])
        if any(g.source == OFFICIAL for g in mine):
            report.skipped_official.append(area.code)
            continue
        report.areas += 1
        _plan_area(session, area, res, valid_from, mine, plan)
    if plan.problems:
        raise InvalidInput(plan.problems)
    write_versions(session, Grid, plan.writes, valid_from, clock, report.grids)
    report.grids.retired = retire(session, Grid, plan.stale, valid_from)
    if report.grids.changed:
        record_change(session, f"generate unit grids: {report.render()}", clock)
    return report
