"""Use case: load dated populations of areas (a census, a yearly estimate) from a CSV file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.grid.importing.populations import (
    StoredPopulation,
    plan_populations,
    read_populations,
)
from onegrid.grid.models import AreaPopulationRow, AreaRow
from onegrid.grid.storage import chunks


@dataclass(frozen=True)
class PopulationLoad:
    added: int
    corrected: int
    unchanged: int

    def render(self) -> str:
        return (
            f"dated populations: {self.added:,} added, {self.corrected:,} corrected, "
            f"{self.unchanged:,} already stored"
        )


def _known_areas(session: Session, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(codes):
        found.update(session.scalars(select(AreaRow.code).where(AreaRow.code.in_(part))))
    return found


def _stored(session: Session, codes: list[str]) -> dict[tuple[str, date], StoredPopulation]:
    out: dict[tuple[str, date], StoredPopulation] = {}
    for part in chunks(codes):
        for row in session.scalars(
            select(AreaPopulationRow).where(AreaPopulationRow.area_code.in_(part))
        ):
            out[(row.area_code, row.valid_from)] = StoredPopulation(
                row.id, row.population, row.source
            )
    return out


def load_populations(
    session: Session,
    lines: Iterable[str],
    clock: Clock,
    *,
    source: str,
    correct: bool = False,
) -> PopulationLoad:
    """Check every row, then write all of them, or nothing at all if any is bad. An area's
    figure holds from its ``valid_from`` until its next one; ``areas.population`` is left as it
    is (it answers for days before an area's first dated figure)."""
    drafts, problems = read_populations(lines, source)
    codes = sorted({d.area_code for d in drafts})
    plan = plan_populations(
        drafts, _known_areas(session, codes), _stored(session, codes), correct=correct
    )
    problems += plan.problems
    if problems:
        raise InvalidInput(problems)
    now = clock.now()
    session.add_all(
        AreaPopulationRow(
            area_code=d.area_code,
            valid_from=d.valid_from,
            population=d.population,
            source=d.source,
            recorded_at=now,
        )
        for d in plan.added
    )
    for row_id, d in plan.corrected:
        session.execute(
            update(AreaPopulationRow)
            .where(AreaPopulationRow.id == row_id)
            .values(population=d.population, source=d.source, recorded_at=now)
        )
    session.flush()
    return PopulationLoad(len(plan.added), len(plan.corrected), plan.unchanged)
