"""Spikes, one topic a month, the seasonal forecast and its backtest, on synthetic lakes whose
planted signals the tests know."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from onegrid.analytics import tables as t
from onegrid.analytics.findings import (
    backtest,
    daily_spikes,
    forecast,
    spikes,
    topic_candidates,
    topic_tracking,
)
from onegrid.analytics.period import Period
from onegrid.core.errors import InvalidInput

START = datetime(2023, 1, 2, 4, tzinfo=UTC)  # a Monday, noon in Beijing


def _lake(rows: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist(rows, schema=t.CASES.schema))
    return con


def _seasonal_rows(seed: int = 3, spike_week: date | None = None) -> list[dict[str, object]]:
    """Three years of weekly heating complaints (high in winter) in two subdistricts."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for week in range(156):
        at = START + timedelta(weeks=week)
        winter = at.month in (11, 12, 1, 2, 3)
        for sub in ("110101001", "110101002"):
            n = int(rng.poisson(20 if winter else 4))
            if spike_week is not None and sub == "110101002" and at.date() == spike_week:
                n += 40
            rows += [
                {
                    "id": len(rows) + k,
                    "number": f"N{len(rows) + k}",
                    "category_code": "E0405",
                    "subdistrict_code": sub,
                    "district_code": sub[:6],
                    "department_code": "heat" if k % 2 else "power",
                    "reporter_key": f"r{k % 7}",
                    "created_at": at + timedelta(hours=k % 5),
                }
                for k in range(n)
            ]
    return rows


def test_a_planted_spike_is_found_with_its_expected_count_and_interval() -> None:
    target = (START + timedelta(weeks=140)).date()
    con = _lake(_seasonal_rows(spike_week=target))
    found = spikes(con, target + timedelta(days=2))
    assert [(s.category_code, s.area_code) for s in found] == [("E0405", "110101002")]
    s = found[0]
    assert s.low <= s.expected <= s.high < s.observed
    # The same week without the planted calls: nothing stands out.
    quiet = _lake(_seasonal_rows())
    assert spikes(quiet, target) == []


def test_the_forecast_beats_seasonal_naive_and_names_the_winter_rise() -> None:
    con = _lake(_seasonal_rows())
    result = backtest(con, 2025, "subdistrict")
    # The newest case is of late December 2025: that month is not scored, as it would be
    # compared part-filled. Two subdistricts, January to November.
    assert result.cells == 2 * 11
    assert result.mae_forecast < result.mae_seasonal_naive
    ahead = forecast(con, date(2025, 9, 1), 4, "subdistrict").to_pylist()
    rising = {(r["area_code"], r["month"]) for r in ahead if r["rising"]}
    assert ("110101001", date(2025, 12, 1)) in rising
    assert ("110101001", date(2025, 9, 1)) not in rising
    with pytest.raises(InvalidInput):
        forecast(con, date(2025, 9, 2))


def test_topic_candidates_and_tracking() -> None:
    rows = _seasonal_rows()
    rows += [
        {
            "id": 10_000_000 + k,
            "number": f"B{k}",
            "category_code": "E0101",
            "subdistrict_code": "110101001",
            "department_code": "roads",
            "reporter_key": "same",
            "created_at": datetime(2025, 6, 10, 4, tzinfo=UTC),
        }
        for k in range(3)
    ]
    con = _lake(rows)
    top = topic_candidates(con, "2025-06").to_pylist()
    heating = next(r for r in top if r["category_code"] == "E0405")
    assert heating["departments"] == 2 and heating["examples"][0].startswith("N")
    small = next(r for r in top if r["category_code"] == "E0101")
    assert (small["volume"], small["repeat_calls"], small["previous"]) == (3, 3, 0)
    track = topic_tracking(con, "E0405", Period(date(2025, 1, 1), date(2025, 4, 30))).to_pylist()
    assert [r["month"] for r in track] == [date(2025, m, 1) for m in (1, 2, 3, 4)]
    assert track[3]["change"] < 0  # heating falls in April


def _daily_rows(spike_day: date | None = None, seed: int = 5) -> list[dict[str, object]]:
    """Three years of daily pothole calls in two subdistricts: many on Mondays (the weekend's
    damage reported), few on other days."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for offset in range(3 * 364):
        at = START + timedelta(days=offset)
        for sub in ("110101001", "110101002"):
            n = int(rng.poisson(25 if at.weekday() == 0 else 4))
            if spike_day is not None and sub == "110101001" and at.date() == spike_day:
                n += 20
            rows += [
                {
                    "id": len(rows) + k,
                    "number": f"D{len(rows) + k}",
                    "category_code": "E0101",
                    "subdistrict_code": sub,
                    "district_code": sub[:6],
                    "created_at": at + timedelta(minutes=k),
                }
                for k in range(n)
            ]
    return rows


def test_a_planted_day_stands_out_against_the_same_weekday_of_earlier_years() -> None:
    tuesday = date(2025, 9, 16)
    con = _lake(_daily_rows(spike_day=tuesday))
    found = daily_spikes(con, tuesday)
    assert [(s.category_code, s.area_code) for s in found] == [("E0101", "110101001")]
    s = found[0]
    assert 2 <= s.expected <= 7  # a Tuesday's mean, not the week's
    assert s.low <= s.expected <= s.high < s.observed
    # Its neighbours do not stand out, nor does the week as a whole against its Mondays.
    assert daily_spikes(con, tuesday - timedelta(days=1)) == []
    assert daily_spikes(con, tuesday + timedelta(days=1)) == []
    # A Monday is busy every week: compared with Mondays, not with the days around it.
    monday = daily_spikes(_lake(_daily_rows()), date(2025, 9, 15))
    assert monday == []
    with pytest.raises(InvalidInput):
        daily_spikes(con, tuesday, "street")


def test_a_backtest_needs_a_year_before_it_and_scores_only_what_the_data_reached() -> None:
    con = _lake(_seasonal_rows())  # weekly from 2 January 2023 to 22 December 2025
    for grain in ("month", "week"):
        with pytest.raises(InvalidInput, match="2023") as first_year:
            backtest(con, 2023, grain=grain)
        assert [(p.field, p.rule) for p in first_year.value.problems] == [
            ("year", "year_of_history")
        ]
        with pytest.raises(InvalidInput, match="2025-12-22") as future:
            backtest(con, 2026, grain=grain)
        assert [(p.field, p.rule) for p in future.value.problems] == [("year", "complete_buckets")]
    assert backtest(con, 2024, "subdistrict").cells == 2 * 12


def _stepped_rows() -> list[dict[str, object]]:
    """Three years of one category, flat, in three subdistricts: the last thirteen weeks double
    in a busy (10 a week) and a quiet (1 a week) one; a third (200 a week) holds steady."""
    rows: list[dict[str, object]] = []
    for week in range(156):
        at = START + timedelta(weeks=week)
        for sub, n in (("110101001", 10), ("110101002", 1), ("110101003", 200)):
            n *= 2 if week >= 143 and sub != "110101003" else 1
            rows += [
                {
                    "id": len(rows) + k,
                    "number": f"N{len(rows) + k}",
                    "category_code": "E0102",
                    "subdistrict_code": sub,
                    "district_code": sub[:6],
                    "created_at": at + timedelta(hours=k % 5),
                }
                for k in range(n)
            ]
    return rows


def test_the_forecast_follows_a_recent_rise_as_far_as_its_evidence_goes() -> None:
    con = _lake(_stepped_rows())
    ahead = forecast(con, date(2025, 12, 29), 1, "subdistrict", grain="week").to_pylist()
    fc = {r["area_code"]: r["forecast"] for r in ahead}
    assert 18 <= fc["110101001"] <= 20  # 130 recent cases: nearly all the way from 10 to 20
    assert 1.3 <= fc["110101002"] <= 1.8  # 13 recent cases: a part of the way from 1 to 2
    assert 195 <= fc["110101003"] <= 200


def test_the_weekly_forecast_names_the_weeks_of_the_rise() -> None:
    con = _lake(_seasonal_rows())
    # Heating complaints rise in November: forecast eight weeks from a Monday in October.
    ahead = forecast(con, date(2025, 10, 13), 8, "subdistrict", grain="week").to_pylist()
    assert {r["week"] for r in ahead} == {date(2025, 10, 13) + timedelta(weeks=k) for k in range(8)}
    rising = {r["week"] for r in ahead if r["rising"] and r["area_code"] == "110101001"}
    assert date(2025, 11, 10) in rising and date(2025, 10, 13) not in rising
    november = next(
        r for r in ahead if r["week"] == date(2025, 11, 17) and r["area_code"] == "110101001"
    )
    assert 12 <= november["forecast"] <= 30 and november["actual"] is not None
    result = backtest(con, 2025, "subdistrict", grain="week")
    assert result.cells == 2 * 51  # not the week of the newest case (22 December)
    assert result.mae_forecast < result.mae_seasonal_naive
    with pytest.raises(InvalidInput) as tuesday:
        forecast(con, date(2025, 10, 14), grain="week")
    assert [(p.field, p.rule) for p in tuesday.value.problems] == [("origin", "monday")]
    with pytest.raises(InvalidInput) as daily:
        forecast(con, date(2025, 10, 13), grain="day")
    assert [(p.field, p.rule) for p in daily.value.problems] == [("grain", "known_grain")]
