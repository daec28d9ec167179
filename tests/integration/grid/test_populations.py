"""Loading dated populations: all rows or none, a stored figure kept unless corrected, and the
command line naming each bad row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import shapely
from sqlalchemy import func, select

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid.models import AreaPopulationRow
from onegrid.grid.services import load_populations
from tests.area_layout import import_layout
from tests.integration.grid.cli_city import cli_with_district

pytestmark = pytest.mark.postgres
HEADER = "area_code,valid_from,population"


@pytest.fixture
def areas(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        import_layout(
            s,
            clock,
            tmp_path / "city.geojson",
            "city",
            [("110000", None, shapely.box(116.30, 39.90, 116.31, 39.92))],
            date(2025, 1, 1),
        )
    return db


def _load(db: Database, clock: FixedClock, *rows: str, correct: bool = False) -> str:
    with db.unit_of_work() as s:
        return load_populations(
            s, [HEADER, *rows], clock, source="census", correct=correct
        ).render()


def _stored(db: Database) -> list[tuple[str, date, int, str]]:
    with db.reader() as s:
        rows = s.execute(
            select(
                AreaPopulationRow.area_code,
                AreaPopulationRow.valid_from,
                AreaPopulationRow.population,
                AreaPopulationRow.source,
            ).order_by(AreaPopulationRow.valid_from)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_one_bad_row_writes_nothing(areas: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as e:
        _load(areas, clock, "110000,2025-01-01,80000", "110099,2025-01-01,5", "110000,2026,1")
    assert [(p.record, p.field, p.rule) for p in e.value.problems] == [
        ("line 4 (area 110000)", "valid_from", "iso-date"),
        ("line 3 (area 110099)", "area_code", "known-area"),
    ]
    with areas.reader() as s:
        assert s.scalar(select(func.count()).select_from(AreaPopulationRow)) == 0


def test_a_stored_figure_is_kept_unless_corrected(areas: Database, clock: FixedClock) -> None:
    assert _load(areas, clock, "110000,2025-01-01,80000") == (
        "dated populations: 1 added, 0 corrected, 0 already stored"
    )
    # The same file again changes nothing; a later figure is a new row.
    assert _load(areas, clock, "110000,2025-01-01,80000", "110000,2026-01-01,82000") == (
        "dated populations: 1 added, 0 corrected, 1 already stored"
    )
    with pytest.raises(InvalidInput) as e:
        _load(areas, clock, "110000,2025-01-01,81000")
    assert (e.value.problems[0].field, e.value.problems[0].rule) == (
        "population",
        "dated-figure-kept",
    )
    assert _stored(areas)[0][2] == 80_000
    assert "1 corrected" in _load(areas, clock, "110000,2025-01-01,81000", correct=True)
    assert _stored(areas) == [
        ("110000", date(2025, 1, 1), 81_000, "census"),
        ("110000", date(2026, 1, 1), 82_000, "census"),
    ]


def test_the_command_loads_a_file_or_names_its_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = cli_with_district(tmp_path, monkeypatch)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n110101,2025-01-01,80000\n110101,2026-01-01,lots\n")
    done = runner.invoke(app, ["import", "populations", str(bad)])
    assert done.exit_code == 1
    assert "nothing was written" in done.output and "line 3" in done.output
    assert "whole-number" in done.output
    good = tmp_path / "good.csv"
    good.write_text(f"\ufeff{HEADER},source\n110101,2025-01-01,80000,2024 census\n")
    done = runner.invoke(app, ["import", "populations", str(good)])
    assert done.exit_code == 0, done.output
    assert "1 added" in done.output
