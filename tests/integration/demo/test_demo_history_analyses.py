"""The demo city's history is there for the analyses to show something: on a few months of it,
the ranking scores units from callbacks, the hot places come out as significant hot cells, the
month has topic candidates and the slow departments close fewer cases on time; over a year and
more of it, only some hot cells are emerging."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from onegrid.analytics.evaluation import on_time_close, ranking
from onegrid.analytics.findings import topic_candidates
from onegrid.analytics.hotspots import MIN_COUNT, clearly_above, emerging_hotspots, hotspots
from onegrid.analytics.lake import Lake
from onegrid.analytics.period import Period
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.demo import build_demo_city
from onegrid.demo.city import ESTIMATE_FROM, VALID_FROM
from onegrid.demo.history import SLOW, load_demo_history

MONTH = "2026-02"  # the last whole month before the test clock's 2 March 2026


@pytest.fixture
def lake(db: Database, clock: FixedClock, tmp_path: Path) -> Lake:
    build_demo_city(db, seed=11, clock=clock, components_per_grid=1)
    report = load_demo_history(db, 11, clock, days=75)
    assert report.accepted > 500, report.render()
    lake = Lake.under(tmp_path)
    lake.refresh(db)
    return lake


def test_every_analysis_finds_something_in_the_demo_history(lake: Lake) -> None:
    con = lake.connect()
    ranked = ranking(con, MONTH).table.to_pylist()
    scored = [r for r in ranked if r["score"] is not None]
    assert scored and all(r["callbacks"] > 0 for r in scored), ranked[:3]
    assert len({round(r["score"], 6) for r in scored}) > 1  # the units differ
    # The demo's dated populations: this year's estimate for February, the census for December.
    december = {r["unit"]: r for r in ranking(con, "2025-12").table.to_pylist()}
    assert {r["population_valid_from"] for r in ranked} == {ESTIMATE_FROM}
    assert {r["population_valid_from"] for r in december.values()} == {VALID_FROM}
    assert any(r["population"] != december[r["unit"]]["population"] for r in ranked)

    hot = hotspots(con, "E0102", Period.month(MONTH))  # rubbish gathers at a few hot places
    assert hot and all(h.q < 0.05 and h.count >= MIN_COUNT for h in hot)

    topics = topic_candidates(con, MONTH).to_pylist()
    assert topics and topics[0]["volume"] > 0

    rates = {
        r["department_code"]: r["on_time_close_rate"]
        for r in on_time_close(con, Period.month(MONTH)).to_pylist()
        if r["on_time_close_rate"] is not None
    }
    slow = [rates[d] for d in SLOW if d in rates]
    others = [v for d, v in rates.items() if d not in SLOW]
    assert slow and others and max(slow) < sum(others) / len(others), rates


def test_only_some_hot_cells_of_the_demo_are_emerging(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """The whole history (from January 2025, when the first time limits hold, to the clock's
    March 2026): this winter's hot cells against the same months a year before. Hot places
    that were hot then too, at about the same count, are not emerging."""
    build_demo_city(db, seed=11, clock=clock, components_per_grid=1)
    load_demo_history(db, 11, clock)
    lake = Lake.under(tmp_path)
    lake.refresh(db)
    con = lake.connect()
    first = con.execute("SELECT min(created_at) FROM cases").fetchone()
    assert first is not None and first[0].date() < date(2025, 1, 8)
    hot = emerging = 0
    for month in ("2026-01", "2026-02"):
        for category in ("E0102", "E0504"):
            period = Period.month(month)
            cells = {h.cell: h for h in hotspots(con, category, period)}
            found = emerging_hotspots(con, category, period)
            assert all(cells[e.hotspot.cell] == e.hotspot for e in found), (month, category)
            assert all(
                e.rising or (e.new and clearly_above(e.hotspot.count, e.count_year_before))
                for e in found
            )
            hot += len(cells)
            emerging += len(found)
    assert 0 < emerging < hot, (emerging, hot)
