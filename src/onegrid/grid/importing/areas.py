"""What an area import means: options, per-feature drafts, and the plan against stored history.

Pure functions: the service looks up parents and stored versions and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from onegrid.core.errors import FieldProblem
from onegrid.grid.domain import AREA_CODE_DIGITS, AREA_LEVELS, Level
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


@dataclass(frozen=True)
class AreaImportOptions:
    """How to read one file of areas, all of one level.

    The parent comes from at most one of: ``parent_code`` (the same for every feature),
    ``parent_field`` (a property), ``parent_from_code_prefix`` (the first N characters of the
    code, e.g. 6 for a Chinese subdistrict ``110101001`` → ``110101``; 1 for an NYC community
    district ``101`` → borough ``1``).
    """

    level: Level
    code_field: str
    valid_from: date
    name_field: str | None = None
    name_en_field: str | None = None
    parent_code: str | None = None
    parent_field: str | None = None
    parent_from_code_prefix: int | None = None
    population_field: str | None = None
    crs: str | None = None
    on_error: OnError = OnError.REFUSE
    repair: bool = False

    def problems(self) -> list[FieldProblem]:
        out: list[FieldProblem] = []
        if self.level not in AREA_LEVELS:
            levels = ", ".join(AREA_LEVELS)
            out.append(FieldProblem("level", "area-level", f"level must be one of {levels}"))
        given = [
            name
            for name, value in (
                ("parent_code", self.parent_code),
                ("parent_field", self.parent_field),
                ("parent_from_code_prefix", self.parent_from_code_prefix),
            )
            if value is not None
        ]
        if len(given) > 1:
            out.append(
                FieldProblem(given[1], "one-parent-source", f"give only one of {', '.join(given)}")
            )
        if self.parent_from_code_prefix is not None and self.parent_from_code_prefix < 1:
            out.append(
                FieldProblem(
                    "parent_from_code_prefix", "positive", "the prefix length must be at least 1"
                )
            )
        return out


@dataclass(frozen=True)
class AreaDraft:
    number: int
    code: str
    level: Level
    parent_code: str | None
    name_zh: str | None
    name_en: str | None
    population: int | None
    geometry: Any

    @property
    def record(self) -> str:
        return self.place.record

    @property
    def place(self) -> Place:
        return Place(self.number, self.code)


@dataclass(frozen=True)
class StoredArea:
    existing: Existing
    level: Level


@dataclass(frozen=True)
class PlannedArea:
    draft: AreaDraft
    change: Change
    existing: Existing | None


def _parent_of(code: str, props: Mapping[str, Any], options: AreaImportOptions) -> str | None:
    if options.parent_code is not None:
        return options.parent_code
    if options.parent_field is not None:
        return text_value(props.get(options.parent_field))
    if options.parent_from_code_prefix is not None:
        n = options.parent_from_code_prefix
        return code[:n] if len(code) > n else None
    return None


def _population(value: Any) -> int | str | None:
    text = text_value(value)
    if text is None:
        return None
    try:
        number = int(text)
    except ValueError:
        return f"population {text!r} is not a whole number"
    return number if number >= 0 else f"population {number} is negative"


def draft_areas(
    source: SourceFile, options: AreaImportOptions
) -> tuple[list[AreaDraft], list[FieldProblem], list[FieldProblem]]:
    """Drafts of the good features, the problems of the bad ones, and the repairs made."""
    crs = resolve_crs(options.crs, source.declared_crs)
    coded, problems = read_codes(source.features, options.code_field)
    checked = check_geometries(coded, crs, repair=options.repair)
    problems += checked.problems
    geometries = checked.geometries
    drafts: list[AreaDraft] = []
    for c in coded:
        if c.code not in geometries:
            continue
        props = c.feature.properties
        place = Place(c.feature.number, c.code)
        names = [
            text_value(props.get(f)) if f else None
            for f in (options.name_field, options.name_en_field)
        ]
        missing = [
            f
            for f, n in zip((options.name_field, options.name_en_field), names, strict=True)
            if f and n is None
        ]
        population = (
            _population(props.get(options.population_field)) if options.population_field else None
        )
        parent = _parent_of(c.code, props, options)
        if missing:
            problems.append(
                place.problem(missing[0], "name-required", f"property {missing[0]!r} is empty")
            )
        elif isinstance(population, str):
            problems.append(
                place.problem(str(options.population_field), "population-integer", population)
            )
        elif options.level is not Level.CITY and parent is None and _expects_parent(options):
            problems.append(
                place.problem(
                    "parent",
                    "parent-required",
                    f"no parent code for this {options.level}: give its parent (parent_code, "
                    "parent_field or parent_from_code_prefix)",
                )
            )
        else:
            drafts.append(
                AreaDraft(
                    c.feature.number,
                    c.code,
                    options.level,
                    parent,
                    names[0],
                    names[1],
                    population,
                    geometries[c.code],
                )
            )
    return drafts, problems, checked.repairs


def _expects_parent(options: AreaImportOptions) -> bool:
    """A district may head the areas a city loads (NYC's boroughs, Beijing's districts without
    the city); a subdistrict or a community always lies inside a loaded area, or its cases
    would roll up to nothing."""
    return (
        options.parent_field is not None
        or options.parent_from_code_prefix is not None
        or options.level in _NESTED_LEVELS
    )


_NESTED_LEVELS = (Level.SUBDISTRICT, Level.COMMUNITY)


def plan_areas(
    drafts: list[AreaDraft],
    valid_from: date,
    parents: Mapping[str, Level],
    stored: Mapping[str, StoredArea],
) -> tuple[list[PlannedArea], list[FieldProblem]]:
    """``parents``: level of every area valid on ``valid_from`` that a draft names as parent;
    ``stored``: the latest stored version of every draft's code."""
    planned: list[PlannedArea] = []
    problems: list[FieldProblem] = []
    for d in drafts:
        problem = _parent_problem(d, parents, valid_from) or _code_problem(d)
        old = stored.get(d.code)
        if problem is None and old is not None and old.level is not d.level:
            problem = d.place.problem(
                "level",
                "level-consistent",
                f"code {d.code} is stored as a {old.level}, not a {d.level}",
            )
        if problem is not None:
            problems.append(problem)
            continue
        change = decide(
            old.existing if old else None,
            d.geometry,
            (d.parent_code,),
            (d.name_zh, d.name_en, d.population),
            valid_from,
        )
        if not isinstance(change, Change):
            problems.append(d.place.problem("valid_from", "valid-from-order", change))
            continue
        planned.append(PlannedArea(d, change, old.existing if old else None))
    return planned, problems


def _parent_problem(
    d: AreaDraft, parents: Mapping[str, Level], valid_from: date
) -> FieldProblem | None:
    if d.parent_code is None:
        return None
    level = parents.get(d.parent_code)
    if level is None:
        return d.place.problem(
            "parent",
            "parent-exists",
            f"parent area {d.parent_code} does not exist on {valid_from}; "
            "import the coarser level first",
        )
    if level.depth >= d.level.depth:
        return d.place.problem(
            "parent",
            "parent-level",
            f"parent {d.parent_code} is a {level}; a {d.level}'s parent must be a coarser level",
        )
    return None


def _code_problem(d: AreaDraft) -> FieldProblem | None:
    """Digit codes are positional (GB/T 2260 and its 9/12-digit extensions, NYC's ``101`` in
    borough ``1``), so a digit parent's children extend its significant digits (``110000``
    stands for Beijing as ``11``); and no code is longer than the unit-grid codes it leads
    leave room for. Codes of other forms are a city's own and are not checked."""
    if _digits(d.code) and len(d.code) > AREA_CODE_DIGITS:
        return d.place.problem(
            "code",
            "area-code-digits",
            f"code {d.code} has {len(d.code)} digits; an area code has at most "
            f"{AREA_CODE_DIGITS} (it leads the 15-digit codes of the unit grids inside it)",
        )
    parent = d.parent_code
    if parent is None or not _digits(parent):
        return None
    stem = parent.rstrip("0")
    if _digits(d.code) and d.code.startswith(stem) and len(d.code) > len(stem):
        return None
    return d.place.problem(
        "code",
        "code-under-parent",
        f"code {d.code} does not fit inside its parent {parent}: the code of a {d.level} "
        f"inside it is digits, beginning with {stem or 'any digit'}",
    )


def _digits(code: str) -> bool:
    return code.isascii() and code.isdigit()
