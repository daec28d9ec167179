"""What a file of dated populations means: CSV rows ``area_code,valid_from,population`` (and an
optional ``source``), each checked before anything is written.

Pure functions: the service looks up the area codes and the stored figures and passes them in.
Every problem names the line of the file, the area and the field, so the file can be fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from onegrid.core.errors import FieldProblem
from onegrid.grid.importing.checks import csv_rows

COLUMNS = ("area_code", "valid_from", "population")
SOURCE_MAX = 200


@dataclass(frozen=True)
class PopulationDraft:
    line: int
    area_code: str
    valid_from: date
    population: int
    source: str

    @property
    def record(self) -> str:
        return _record(self.line, self.area_code)


@dataclass(frozen=True)
class StoredPopulation:
    id: int
    population: int
    source: str


@dataclass(frozen=True)
class PopulationPlan:
    """What loading the file does: figures added, figures corrected, figures already stored."""

    added: list[PopulationDraft]
    corrected: list[tuple[int, PopulationDraft]]
    unchanged: int
    problems: list[FieldProblem]


def _record(line: int, code: str | None) -> str:
    return f"line {line}" + (f" (area {code})" if code else "")


def _population(text: str) -> int | tuple[str, str]:
    """The number of residents, or the rule it breaks and why."""
    try:
        number = int(text)
    except ValueError:
        return "whole-number", f"population {text!r} is not a whole number"
    return number if number >= 0 else ("not-negative", f"population {number} is negative")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _row(
    line: int, raw: Mapping[str, str | None], source: str
) -> PopulationDraft | list[FieldProblem]:
    code = (raw.get("area_code") or "").strip()
    record = _record(line, code or None)
    problems: list[FieldProblem] = []
    if not code:
        problems.append(FieldProblem("area_code", "required", "area_code is empty", record))
    day_text = (raw.get("valid_from") or "").strip()
    day = _day(day_text)
    if day is None:
        problems.append(
            FieldProblem(
                "valid_from",
                "iso-date",
                f"valid_from {day_text!r} is not a date YYYY-MM-DD",
                record,
            )
        )
    people = _population((raw.get("population") or "").strip())
    if isinstance(people, tuple):
        problems.append(FieldProblem("population", *people, record))
    own_source = (raw.get("source") or "").strip() or source
    if len(own_source) > SOURCE_MAX:
        problems.append(
            FieldProblem(
                "source", "max-length", f"source is at most {SOURCE_MAX} characters", record
            )
        )
    if problems:
        return problems
    assert day is not None and isinstance(people, int)
    return PopulationDraft(line, code, day, people, own_source)


def read_populations(
    lines: Iterable[str], source: str
) -> tuple[list[PopulationDraft], list[FieldProblem]]:
    """The good rows of a CSV text and the problems of the bad ones. ``source`` is where a row
    without its own ``source`` says its figure comes from."""
    reader, missing = csv_rows(lines, COLUMNS)
    if missing:
        return [], missing
    drafts: list[PopulationDraft] = []
    problems: list[FieldProblem] = []
    first: dict[tuple[str, date], int] = {}
    for raw in reader:
        line = reader.line_num
        got = _row(line, raw, source)
        if isinstance(got, list):
            problems += got
            continue
        key = (got.area_code, got.valid_from)
        if key in first:
            problems.append(
                FieldProblem(
                    "valid_from",
                    "one-per-date",
                    f"area {got.area_code} already has a figure from {got.valid_from} "
                    f"on line {first[key]}",
                    got.record,
                )
            )
            continue
        first[key] = line
        drafts.append(got)
    if not drafts and not problems:
        problems.append(FieldProblem("file", "rows-required", "the file has no rows"))
    return drafts, problems


def plan_populations(
    drafts: list[PopulationDraft],
    known_areas: set[str],
    stored: Mapping[tuple[str, date], StoredPopulation],
    *,
    correct: bool,
) -> PopulationPlan:
    """Each row against the stored areas and figures. A figure for a date already stored is a
    correction: refused unless ``correct`` (it changes every ranking divided by it)."""
    added: list[PopulationDraft] = []
    corrected: list[tuple[int, PopulationDraft]] = []
    unchanged = 0
    problems: list[FieldProblem] = []
    for d in drafts:
        if d.area_code not in known_areas:
            problems.append(
                FieldProblem("area_code", "known-area", f"no area {d.area_code}", d.record)
            )
            continue
        old = stored.get((d.area_code, d.valid_from))
        if old is None:
            added.append(d)
        elif (old.population, old.source) == (d.population, d.source):
            unchanged += 1
        elif correct:
            corrected.append((old.id, d))
        else:
            problems.append(
                FieldProblem(
                    "population",
                    "dated-figure-kept",
                    f"area {d.area_code} already has {old.population:,} residents from "
                    f"{d.valid_from} ({old.source}); a new figure takes a later valid_from, "
                    "or load with --correct to replace this one",
                    d.record,
                )
            )
    return PopulationPlan(added, corrected, unchanged, problems)
