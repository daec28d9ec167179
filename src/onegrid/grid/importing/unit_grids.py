"""What an import of official unit grids means: options, drafts and the plan against history.

The file is taken as the complete set of grids for every community it mentions: a stored grid
of such a community that the file no longer lists is retired, and so are grids generated from
H3 for it, since official grids replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from onegrid.core.errors import FieldProblem
from onegrid.grid.domain import Level, unit_grid_code_problem
from onegrid.grid.importing.checks import (
    Change,
    Existing,
    OnError,
    Place,
    check_geometries,
    decide,
    read_codes,
    resolve_crs,
    text_value,
)
from onegrid.grid.importing.reading import SourceFile

OFFICIAL = "official"


@dataclass(frozen=True)
class UnitGridImportOptions:
    code_field: str
    community_field: str
    valid_from: date
    land_use_field: str | None = None
    management_level_field: str | None = None
    crs: str | None = None
    on_error: OnError = OnError.REFUSE
    repair: bool = False


@dataclass(frozen=True)
class UnitGridDraft:
    number: int
    code: str
    community_code: str
    land_use: str | None
    management_level: str | None
    geometry: Any

    @property
    def record(self) -> str:
        return self.place.record

    @property
    def place(self) -> Place:
        return Place(self.number, self.code)


@dataclass(frozen=True)
class PlannedGrid:
    draft: UnitGridDraft
    change: Change
    existing: Existing | None


def draft_unit_grids(
    source: SourceFile, options: UnitGridImportOptions
) -> tuple[list[UnitGridDraft], list[FieldProblem], list[FieldProblem]]:
    """Drafts of the good features, the problems of the bad ones, and the repairs made."""
    crs = resolve_crs(options.crs, source.declared_crs)
    coded, problems = read_codes(source.features, options.code_field)
    checked = check_geometries(coded, crs, repair=options.repair)
    problems += checked.problems
    geometries = checked.geometries
    drafts: list[UnitGridDraft] = []
    for c in coded:
        if c.code not in geometries:
            continue
        props = c.feature.properties
        place = Place(c.feature.number, c.code)
        community = text_value(props.get(options.community_field))
        if community is None:
            problems.append(
                place.problem(
                    options.community_field,
                    "community-required",
                    f"property {options.community_field!r} is missing or empty",
                )
            )
            continue
        code_problem = unit_grid_code_problem(c.code, community)
        if code_problem:
            problems.append(place.problem(options.code_field, "unit-grid-code", code_problem))
            continue
        drafts.append(
            UnitGridDraft(
                c.feature.number,
                c.code,
                community,
                text_value(props.get(options.land_use_field)) if options.land_use_field else None,
                text_value(props.get(options.management_level_field))
                if options.management_level_field
                else None,
                geometries[c.code],
            )
        )
    return drafts, problems, checked.repairs


def plan_unit_grids(
    drafts: list[UnitGridDraft],
    valid_from: date,
    communities: Mapping[str, Level],
    stored: Mapping[str, Existing],
) -> tuple[list[PlannedGrid], list[FieldProblem]]:
    """``communities``: level of each named community valid on ``valid_from``; ``stored``: the
    latest stored version of each draft's code."""
    planned: list[PlannedGrid] = []
    problems: list[FieldProblem] = []
    for d in drafts:
        level = communities.get(d.community_code)
        if level is None or level is Level.CITY:
            problems.append(
                d.place.problem(
                    "community",
                    "community-exists",
                    f"area {d.community_code} does not exist on {valid_from} below city level",
                )
            )
            continue
        old = stored.get(d.code)
        change = decide(
            old,
            d.geometry,
            (d.community_code, OFFICIAL),
            (d.land_use, d.management_level),
            valid_from,
        )
        if not isinstance(change, Change):
            problems.append(d.place.problem("valid_from", "valid-from-order", change))
            continue
        planned.append(PlannedGrid(d, change, old))
    return planned, problems
