"""The month's chosen topic: kept in one JSON file beside the lake, replaced with its history,
and tracked month on month from the month it was chosen."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from onegrid.analytics import tables as t
from onegrid.analytics.topics import TopicChoice, TopicChoices, tracked
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput

KNOWN = {"E0101", "E0405"}


def _choose(
    choices: TopicChoices, clock: FixedClock, month: str, code: str, **kw: Any
) -> TopicChoice:
    return choices.choose(
        month, code, known_category=KNOWN.__contains__, chosen_by="boss", clock=clock, **kw
    )


def test_choosing_again_replaces_the_month_and_keeps_the_history(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 1, tzinfo=UTC))
    choices = TopicChoices.under(tmp_path)
    assert choices.chosen() == []
    _choose(choices, clock, "2026-03", "e0405", note="heating")
    _choose(choices, clock, "2026-02", "E0101")
    clock.advance(timedelta(hours=5))
    again = _choose(choices, clock, "2026-03", "E0101", area_code="110101001")
    assert [(c.month, c.category_code, c.area_code) for c in choices.chosen()] == [
        ("2026-02", "E0101", None),
        ("2026-03", "E0101", "110101001"),
    ]
    assert again.chosen_at == clock.now() and again.chosen_by == "boss"
    [old] = choices.replaced()
    assert (old.category_code, old.note) == ("E0405", "heating")
    raw = json.loads((tmp_path / "lake" / "topics" / "chosen.json").read_text())
    assert raw["version"] == 3 and raw["replaced"][0]["replaced_at"] == clock.now().isoformat()
    # Written by rename: no temporary file is left beside it.
    assert sorted(p.name for p in (tmp_path / "lake" / "topics").iterdir()) == [
        ".lock",
        "chosen.json",
    ]


def test_bad_month_category_and_area_are_each_named(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 1, tzinfo=UTC))
    choices = TopicChoices.under(tmp_path)
    with pytest.raises(InvalidInput) as bad:
        _choose(choices, clock, "2026-13", "X9999", area_code="nowhere", known_area=lambda a: False)
    assert [(p.field, p.rule) for p in bad.value.problems] == [
        ("month", "year_month"),
        ("category_code", "known_category"),
        ("area_code", "known_area"),
    ]
    assert choices.chosen() == [] and not (tmp_path / "lake" / "topics" / "chosen.json").exists()


def test_a_choice_is_tracked_from_its_month_to_today_in_its_area(tmp_path: Path) -> None:
    rows = [
        {
            "id": i,
            "number": f"N{i}",
            "category_code": "E0101",
            "subdistrict_code": sub,
            "district_code": sub[:6],
            "created_at": datetime(2026, month, 10, 4, tzinfo=UTC) + timedelta(minutes=i),
        }
        for i, (month, sub) in enumerate(
            [(1, "110101001")] * 9  # before the choices: the area choice's baseline only
            + [(3, "110101001")] * 4
            + [(4, "110101001")] * 6
            + [(4, "110105001")] * 5  # another area
            + [(5, "110101001")] * 3  # after today
        )
    ]
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist(rows, schema=t.CASES.schema))
    clock = FixedClock(datetime(2026, 4, 20, 1, tzinfo=UTC))
    choices = TopicChoices.under(tmp_path)
    city = _choose(choices, clock, "2026-03", "E0101")
    area = _choose(choices, clock, "2026-02", "E0101", area_code="110101001")
    today = date(2026, 4, 20)
    # Each month's change is on the month just before it, the chosen month's on a February
    # without requests, not on January's, the last month with some.
    assert [
        (r["month"], r["n"], r["change"]) for r in tracked(con, city, today, "UTC").to_pylist()
    ] == [
        (date(2026, 3, 1), 4, 4),
        (date(2026, 4, 1), 11, 7),
    ]
    assert [(r["n"], r["change"]) for r in tracked(con, area, today, "UTC").to_pylist()] == [
        (0, -9),
        (4, 4),
        (6, 2),
    ]
    ahead = _choose(choices, clock, "2026-06", "E0101")
    assert tracked(con, ahead, today, "UTC").num_rows == 0


def test_a_month_without_requests_is_tracked_as_zero(tmp_path: Path) -> None:
    """January 3, February none, March 1: February is a fall of 3 and March a rise of 1 on
    February, not a fall of 2 on January. Months are the city's local ones."""
    at = [datetime(2026, 1, d, 4, tzinfo=UTC) for d in (10, 11, 12)] + [
        datetime(2026, 2, 28, 17, tzinfo=UTC),  # 1 March 01:00 in Beijing
        datetime(2025, 12, 31, 15, tzinfo=UTC),  # 31 December 23:00 in Beijing: the baseline
    ]
    rows = [
        {"id": i, "number": f"N{i}", "category_code": "E0405", "created_at": a}
        for i, a in enumerate(at)
    ]
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist(rows, schema=t.CASES.schema))
    clock = FixedClock(datetime(2026, 4, 20, 1, tzinfo=UTC))
    choice = _choose(TopicChoices.under(tmp_path), clock, "2026-01", "E0405")
    got = tracked(con, choice, date(2026, 4, 20), "Asia/Shanghai").to_pylist()
    assert [(r["month"], r["n"], r["change"], r["change_rate"]) for r in got] == [
        (date(2026, 1, 1), 3, 2, 2.0),
        (date(2026, 2, 1), 0, -3, -1.0),
        (date(2026, 3, 1), 1, 1, None),
        (date(2026, 4, 1), 0, -1, -1.0),
    ]
