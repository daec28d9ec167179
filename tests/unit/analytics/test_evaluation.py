"""The declarative indicators and ranking over a hand-made lake whose answers are counted here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from onegrid.analytics import tables as t
from onegrid.analytics.composite import department_composite, load_composite_rules
from onegrid.analytics.evaluation import (
    area_indicators,
    department_indicators,
    on_time_close,
    post_indicators,
    ranking,
)
from onegrid.analytics.period import Period
from onegrid.analytics.ranking import load_ranking_rules
from onegrid.core.errors import InvalidInput, NotFound

D = datetime(2026, 3, 10, 2, tzinfo=UTC)  # 10:00 in Beijing


def _table(schema: pa.Schema, rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def _case(i: int, sub: str, dept: str, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": i,
        "channel": "hotline",
        "subdistrict_code": sub,
        "district_code": sub[:6],
        "department_code": dept,
        "status": "closed",
        "overdue_steps": 0,
        "returns": 0,
        "reworks": 0,
        "created_at": D,
        "dispatched_at": D + timedelta(minutes=5),
        "reporter_key": f"r{i}",
    }
    return base | kw


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    cases = [
        _case(1, "110101001", "roads"),
        _case(2, "110101001", "roads", overdue_steps=1, reporter_key="r1"),
        _case(3, "110101001", "roads", status="on_hold"),
        _case(4, "110102001", "gardens", returns=1),
        _case(5, "110102001", "gardens", channel="inspector"),
    ]
    accept = [  # case 1 in 1 h, case 2 after 30 h (late), case 4 in 2 h
        {"id": 1, "case_id": 1, "at": D + timedelta(hours=1), "action": "accept"},
        {"id": 2, "case_id": 2, "at": D + timedelta(hours=30), "action": "accept"},
        {"id": 3, "case_id": 4, "at": D + timedelta(hours=2), "action": "accept"},
        {"id": 4, "case_id": 1, "at": D + timedelta(hours=5), "action": "report_back"},
        {"id": 5, "case_id": 2, "at": D + timedelta(hours=50), "action": "report_back"},
        {"id": 6, "case_id": 4, "at": D + timedelta(hours=1), "action": "return"},
        # Case 1 returned after March settled: still dispatched directly for March.
        {"id": 7, "case_id": 1, "at": D + timedelta(days=45), "action": "return"},
    ]
    for row in accept:
        row["step_ended_late"] = row["id"] == 5
    callbacks = [
        {
            "id": 1,
            "case_id": 1,
            "at": D + timedelta(days=2),
            "resolved": True,
            "satisfaction": "satisfied",
        },
        {
            "id": 2,
            "case_id": 2,
            "at": D + timedelta(days=3),
            "resolved": False,
            "satisfaction": "basically_satisfied",
        },
        {
            "id": 3,
            "case_id": 4,
            "at": D + timedelta(days=2),
            "resolved": True,
            "satisfaction": "dissatisfied",
        },
        # Recorded long after the month settled: never counted for March.
        {
            "id": 4,
            "case_id": 3,
            "at": D + timedelta(days=60),
            "resolved": False,
            "satisfaction": "dissatisfied",
        },
    ]
    areas = [
        {
            "code": "110101001",
            "level": "subdistrict",
            "name_zh": "甲",
            "area_m2": 2e6,
            "population": 20_000,
        },
        {
            "code": "110102001",
            "level": "subdistrict",
            "name_zh": "乙",
            "area_m2": 1e6,
            "population": None,
        },
    ]
    c = duckdb.connect()
    c.register("cases", _table(t.CASES.schema, cases))
    c.register("case_history", _table(t.CASE_HISTORY.schema, accept))
    c.register("callbacks", _table(t.CALLBACKS.schema, callbacks))
    c.register("areas", _table(t.AREAS.schema, areas))
    c.register("case_routes", _table(t.CASE_ROUTES.schema, []))
    c.register("area_populations", _table(t.AREA_POPULATIONS.schema, []))
    c.register("inspector_grids", _table(t.INSPECTOR_GRIDS.schema, []))
    return c


def test_department_indicators_follow_the_definitions(con: duckdb.DuckDBPyConnection) -> None:
    rows = department_indicators(con, Period.month("2026-03")).to_pylist()
    roads = next(r for r in rows if r["department_code"] == "roads")
    assert (roads["dispatched"], roads["closed"], roads["held"], roads["closed_on_time"]) == (
        3,
        2,
        1,
        1,
    )
    assert roads["on_time_close_rate"] == pytest.approx(1 / 2)
    assert roads["on_time_handling_rate"] == pytest.approx(1 / 2)
    assert roads["period_start"] == date(2026, 3, 1)
    by_day = department_indicators(con, Period.month("2026-03"), "day").to_pylist()
    assert {r["period_start"] for r in by_day} == {date(2026, 3, 10)}


@pytest.mark.parametrize("grain", ["period", "day", "month"])
def test_the_on_time_close_rate_alone_agrees_with_the_department_indicators(
    con: duckdb.DuckDBPyConnection, grain: str
) -> None:
    period = Period.month("2026-03")
    keys = ("department_code", "period_start", "dispatched", "held", "closed_on_time")
    whole = [
        {k: r[k] for k in (*keys, "on_time_close_rate")}
        for r in department_indicators(con, period, grain).to_pylist()
    ]
    alone = on_time_close(con, period, grain).to_pylist()
    assert alone == whole
    roads = next(r for r in alone if r["department_code"] == "roads")
    assert roads["on_time_close_rate"] == pytest.approx(1 / 2)


def test_area_indicators_per_10k_residents_and_public_share(con: duckdb.DuckDBPyConnection) -> None:
    rows = {
        r["area_code"]: r
        for r in area_indicators(con, Period.month("2026-03"), "subdistrict").to_pylist()
    }
    assert rows["110101001"]["cases_per_10k_residents"] == pytest.approx(3 * 10000 / 20000)
    assert rows["110101001"]["cases_per_km2"] == pytest.approx(1.5)
    assert rows["110102001"]["public_report_rate"] == pytest.approx(0.5)
    assert rows["110102001"]["cases_per_10k_residents"] is None


def test_the_monthly_ranking_scores_with_the_configured_weights(
    con: duckdb.DuckDBPyConnection,
) -> None:
    r = ranking(con, "2026-03", "subdistrict")
    rows = {x["unit"]: x for x in r.table.to_pylist()}
    a = rows["110101001"]
    assert (a["dispatched"], a["responded"], a["callbacks"], a["repeat_callers"]) == (3, 1, 2, 1)
    assert a["resolution_rate"] == pytest.approx(0.5)
    assert a["satisfaction_rate"] == pytest.approx((1 + 0.8) / 2)
    w = r.rules.weights
    expected = 100 * (w["response"] / 3 + w["resolution"] * 0.5 + w["satisfaction"] * 0.9)
    assert a["score"] == pytest.approx(expected)
    b = rows["110102001"]
    assert b["score"] == pytest.approx(100 * (w["response"] + w["resolution"]))
    # Case 4 came back once; no case has a recorded route, so none is direct or relayed.
    assert (a["returned"], b["returned"]) == (0, 1)
    assert (a["direct"], a["relayed"], a["direct_share"]) == (0, 0, None)
    assert [x["rank"] for x in r.table.to_pylist()] == [1, 2]
    assert a["band"] == "D" and a["requests_per_10k_residents"] == pytest.approx(1.5)
    assert (a["population"], b["population"]) == (20_000, None)
    # Reproducible: the same month gives the same table.
    assert ranking(con, "2026-03", "subdistrict").table.equals(r.table)


def test_each_rate_is_set_against_its_target(con: duckdb.DuckDBPyConnection) -> None:
    """Targets between the two units' rates: 甲 responds 1/3, resolves 1/2, satisfies 0.9; 乙
    responds 1/1, resolves 1/1, satisfies 0. A rate equal to its target meets it."""
    rules = replace(
        load_ranking_rules()[0], targets={"response": 0.5, "resolution": 0.5, "satisfaction": 0.9}
    )
    rows = {x["unit"]: x for x in ranking(con, "2026-03", versions=[rules]).table.to_pylist()}
    met = ("response_met", "resolution_met", "satisfaction_met")
    assert [rows["110101001"][k] for k in met] == [False, True, True]
    assert [rows["110102001"][k] for k in met] == [True, True, False]
    no_targets = replace(rules, targets={})
    rows = {x["unit"]: x for x in ranking(con, "2026-03", versions=[no_targets]).table.to_pylist()}
    assert [rows["110101001"][k] for k in met] == [None, None, None]


def test_a_rate_without_data_meets_no_target(con: duckdb.DuckDBPyConnection) -> None:
    con.unregister("callbacks")
    con.register("callbacks", _table(t.CALLBACKS.schema, []))
    row = ranking(con, "2026-03").table.to_pylist()[0]
    assert row["resolution_rate"] is None and row["resolution_met"] is None
    assert row["satisfaction_met"] is None and row["response_met"] is not None


def test_each_month_is_scored_with_its_own_configuration_version(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """March's facts repeated 31 days later in April; version 2, valid from April, weighs
    response only. Ranked from one versions list, each month uses its own version's weights."""
    shift = "INTERVAL 31 DAY"
    moved = {
        "cases": f"id + 100 AS id, created_at + {shift} AS created_at, "
        f"dispatched_at + {shift} AS dispatched_at",
        "case_history": f'id + 100 AS id, case_id + 100 AS case_id, "at" + {shift} AS "at"',
        "callbacks": f'id + 100 AS id, case_id + 100 AS case_id, "at" + {shift} AS "at"',
    }
    for name, columns in moved.items():
        both = con.sql(f"SELECT * REPLACE ({columns}) FROM {name} UNION ALL SELECT * FROM {name}")
        table = both.to_arrow_table()
        con.unregister(name)
        con.register(name, table)
    v1 = replace(load_ranking_rules()[0], version="v1", valid_from=date(2024, 1, 1))
    v2 = replace(
        v1,
        version="v2",
        valid_from=date(2026, 4, 1),
        weights={"response": 1.0, "resolution": 0.0, "satisfaction": 0.0},
    )
    march = ranking(con, "2026-03", versions=[v2, v1])
    april = ranking(con, "2026-04", versions=[v2, v1])
    assert (march.rules.version, april.rules.version) == ("v1", "v2")
    m = {x["unit"]: x for x in march.table.to_pylist()}["110101001"]
    a = {x["unit"]: x for x in april.table.to_pylist()}["110101001"]
    rates = ("response_rate", "resolution_rate", "satisfaction_rate")
    assert [a[k] for k in rates] == pytest.approx([m[k] for k in rates])
    w = v1.weights
    assert m["score"] == pytest.approx(
        100 * (w["response"] / 3 + w["resolution"] * 0.5 + w["satisfaction"] * 0.9)
    )
    assert a["score"] == pytest.approx(100 / 3)


def test_a_recorded_contact_time_replaces_the_accept_proxy(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Case 1 was accepted within the hour but its unit never contacted the requester; case 2
    was accepted late but contacted in time; case 3's contact came after the route's deadline."""
    due = D + timedelta(minutes=5, hours=24)
    routes = [
        _route(1, 1, None, due),
        _route(2, 2, D + timedelta(hours=3), due),
        _route(3, 3, due + timedelta(minutes=1), due),
    ]
    con.unregister("case_routes")
    con.register("case_routes", _table(t.CASE_ROUTES.schema, routes))
    rows = {x["unit"]: x for x in ranking(con, "2026-03", "subdistrict").table.to_pylist()}
    a = rows["110101001"]
    assert (a["dispatched"], a["contacts_recorded"], a["responded"]) == (3, 3, 1)
    b = rows["110102001"]  # no route recorded: its first accept still counts
    assert (b["contacts_recorded"], b["responded"]) == (0, 1)


def _route(
    i: int, case_id: int, contacted: datetime | None, due: datetime, **kw: object
) -> dict[str, object]:
    at = D + timedelta(minutes=5)
    return {
        "id": i,
        "case_id": case_id,
        "department_code": "roads",
        "rule": "duty_owner",
        "decided_at": at,
        "dispatched_at": at,
        "response_due_at": due,
        "contacted_at": contacted,
    } | kw


def test_a_re_dispatch_not_yet_contacted_is_not_answered_by_the_first_route_s_contact(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Case 1's first unit contacted the requester in time; it was sent on the next day to
    another unit, which never did: the latest dispatch has no contact, so case 1 is late."""
    again = D + timedelta(days=1)
    routes = [
        _route(1, 1, D + timedelta(hours=1), D + timedelta(hours=24)),
        _route(2, 1, None, again + timedelta(hours=24), decided_at=again, dispatched_at=again),
    ]
    _replace(con, "case_routes", _table(t.CASE_ROUTES.schema, routes))
    rows = {x["unit"]: x for x in ranking(con, "2026-03", "subdistrict").table.to_pylist()}
    # Cases 2 and 3 fall back to their first accept: case 2 late, case 3 never accepted.
    assert (rows["110101001"]["contacts_recorded"], rows["110101001"]["responded"]) == (1, 0)


def test_a_case_the_district_government_took_as_fallback_is_relayed_not_direct(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """甲: case 1 sent to roads by an operator's choice (direct; a fallback route dispatched
    after March settled is not known to March), case 2 by the district fallback (relayed), case
    3 without a route (neither). 乙: case 4 sent by an operator to its district government
    (relayed too) and returned."""
    due = D + timedelta(hours=24)
    after_cutoff = D + timedelta(days=40)
    routes = [
        _route(1, 1, None, due, rule="chosen"),
        _route(2, 2, None, due, rule="district_fallback", department_code="110101ZF"),
        _route(3, 4, None, due, rule="chosen", department_code="110102ZF"),
        _route(
            4,
            1,
            None,
            due,
            rule="district_fallback",
            department_code="110101ZF",
            decided_at=after_cutoff,
            dispatched_at=after_cutoff,
        ),
    ]
    _replace(con, "case_routes", _table(t.CASE_ROUTES.schema, routes))
    rows = {x["unit"]: x for x in ranking(con, "2026-03", "subdistrict").table.to_pylist()}
    a, b = rows["110101001"], rows["110102001"]
    counts = ("dispatched", "direct", "relayed", "returned", "direct_share")
    assert [a[k] for k in counts] == [3, 1, 1, 0, 0.5]
    assert [b[k] for k in counts] == [1, 0, 1, 1, 0.0]
    # Ranked by district, the same cases: 甲's district and 乙's are separate units.
    by_district = {x["unit"]: x for x in ranking(con, "2026-03", "district").table.to_pylist()}
    assert [by_district["110101"][k] for k in counts] == [3, 1, 1, 0, 0.5]


def test_department_composite_scores_points_and_bands(con: duckdb.DuckDBPyConnection) -> None:
    result = department_composite(con, "2026-03")
    rows = {r["department_code"]: r for r in result.table.to_pylist()}
    roads = rows["roads"]  # close 2/3, on time 1/2, rework 0/2 handled, no urgent case
    assert roads["on_time_close_rate_points"] == pytest.approx(50 - (70 - 50))
    assert roads["close_rate_points"] == 0.0  # 23.3 points short of 90 %: all 20 lost
    assert roads["rework_rate_points"] == pytest.approx(15)
    assert roads["urgent_on_time_close_rate_points"] is None
    assert roads["points_possible"] == pytest.approx(85)
    assert roads["score"] == pytest.approx(100 * (30 + 0 + 15) / 85)
    assert roads["band"] == "D" and result.rules.version == "2025.1"
    assert [r["rank"] for r in result.table.to_pylist()] == [1, 2]


def test_a_composite_file_whose_points_do_not_add_up_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(
        "versions:\n  - version: x\n    valid_from: 2024-01-01\n    bands: {A: 0}\n"
        "    items:\n      - {indicator: close_rate, points: 60, threshold: 0.9}\n"
        "      - {indicator: on_time_close_rate, points: 30, threshold: 0.7}\n"
    )
    with pytest.raises(InvalidInput) as e:
        load_composite_rules(bad)
    assert e.value.problems[0].rule == "points_sum_to_100" and "90" in e.value.message
    bad.write_text(
        "versions:\n  - version: x\n    valid_from: 2024-01-01\n    bands: {A: 0}\n"
        "    items:\n      - {indicator: happiness, points: 100, threshold: 0.9}\n"
    )
    with pytest.raises(InvalidInput, match="indicator must be one of"):
        load_composite_rules(bad)


def test_bad_input_is_named(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as e:
        Period(date(2026, 3, 5), date(2026, 3, 1))
    assert e.value.problems[0].rule == "end_not_before_start"
    with pytest.raises(NotFound, match="110199001"):
        ranking(con, "2026-03", "subdistrict", area="110199001")
    bad = tmp_path / "w.yaml"
    bad.write_text(
        "versions:\n  - version: x\n    valid_from: 2024-01-01\n"
        "    weights: {response: 0.5, resolution: 0.4, satisfaction: 0.4}\n"
    )
    with pytest.raises(InvalidInput) as e:
        load_ranking_rules(bad)
    assert (e.value.problems[0].field, e.value.problems[0].rule) == ("weights", "sum_to_one")
    assert "1.3" in e.value.problems[0].message
    with pytest.raises(InvalidInput) as e:
        ranking(con, "2026-13")
    assert e.value.problems[0].rule == "year_month"


@pytest.mark.parametrize(
    ("level", "codes"),
    [
        ("community", {"110101001001": 3, "110102001001": 2}),
        ("unit_grid", {"110101001001001": 2, "110101001001002": 1, "110102001001001": 2}),
    ],
)
def test_area_indicators_at_the_finest_levels(
    con: duckdb.DuckDBPyConnection, level: str, codes: dict[str, int]
) -> None:
    """Five cases placed in three unit grids of two communities, counted at each level."""
    grids = ["110101001001001", "110101001001001", "110101001001002"] + ["110102001001001"] * 2
    cases = con.sql("SELECT * FROM cases ORDER BY id").to_arrow_table()
    placed = cases.set_column(
        cases.schema.get_field_index("community_code"),
        "community_code",
        pa.array([g[:12] for g in grids]),
    ).set_column(cases.schema.get_field_index("unit_grid_code"), "unit_grid_code", pa.array(grids))
    con.register("cases", placed)
    rows = area_indicators(con, Period.month("2026-03"), level).to_pylist()
    assert {r["area_code"]: r["cases"] for r in rows} == codes


def test_area_indicators_at_district_level_by_week(con: duckdb.DuckDBPyConnection) -> None:
    rows = area_indicators(con, Period.month("2026-03"), "district", "week").to_pylist()
    got = {(r["area_code"], r["period_start"]): (r["cases"], r["public_reports"]) for r in rows}
    # 10 March 2026 is a Tuesday: its week starts on Monday the 9th. Case 5 is an inspector's.
    assert got == {("110101", date(2026, 3, 9)): (3, 3), ("110102", date(2026, 3, 9)): (2, 1)}


@pytest.mark.parametrize(
    ("unit", "first", "second"),
    [("district", "110101", "110102"), ("department", "roads", "gardens")],
)
def test_the_ranking_by_district_and_by_department_counts_the_same_cases(
    con: duckdb.DuckDBPyConnection, unit: str, first: str, second: str
) -> None:
    """One subdistrict per district and per department here: every rate equals the
    subdistrict ranking's for the same cases."""
    by_sub = {x["unit"]: x for x in ranking(con, "2026-03").table.to_pylist()}
    rows = {x["unit"]: x for x in ranking(con, "2026-03", unit).table.to_pylist()}
    assert set(rows) == {first, second}
    for code, sub in ((first, "110101001"), (second, "110102001")):
        keys = ("rank", "dispatched", "responded", "callbacks", "response_rate", "score")
        assert [rows[code][k] for k in keys] == [by_sub[sub][k] for k in keys], code
    assert rows[first]["rank"] == 1 and rows[second]["rank"] == 2


def test_post_indicators_count_each_person_s_steps(con: duckdb.DuckDBPyConnection) -> None:
    def step(
        i: int, case_id: int, action: str, actor: str, role: str, late: bool
    ) -> dict[str, object]:
        return {
            "id": i,
            "case_id": case_id,
            "at": D + timedelta(minutes=i),
            "action": action,
            "actor": actor,
            "role": role,
            "step_ended_late": late,
        }

    history = [
        step(1, 1, "file", "user:8", "shift_leader", False),
        step(2, 3, "file", "user:8", "shift_leader", True),
        step(3, 1, "dispatch", "user:7", "dispatcher", False),
        step(4, 4, "dispatch", "user:7", "dispatcher", False),  # case 4 came back (returns 1)
        step(5, 5, "create", "user:9", "inspector", False),
        step(6, 2, "accept", "system:clock", "system", False),  # not a person's step
    ]
    con.register("case_history", _table(t.CASE_HISTORY.schema, history))
    rows = {r["actor"]: r for r in post_indicators(con, Period.month("2026-03")).to_pylist()}
    assert set(rows) == {"user:7", "user:8", "user:9"}
    assert (rows["user:8"]["filed"], rows["user:8"]["on_time_rate"]) == (2, 0.5)
    assert rows["user:8"]["accurate_filing_rate"] == 1.0  # case 3 is held, not cancelled
    assert (rows["user:7"]["dispatched"], rows["user:7"]["accurate_dispatch_rate"]) == (2, 0.5)
    assert (rows["user:9"]["reports"], rows["user:9"]["valid_report_rate"]) == (1, 1.0)
    assert rows["user:7"]["role"] == "dispatcher"


def _replace(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.unregister(name)
    con.register(name, table)


def _population(i: int, code: str, valid_from: date, people: int) -> dict[str, object]:
    return {
        "id": i,
        "area_code": code,
        "valid_from": valid_from,
        "population": people,
        "source": "census",
    }


def test_the_rate_per_10k_divides_by_the_population_in_force_on_the_month_s_first_day(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """甲 has 3 requests in March. Its dated figure from 1 March holds for March; one from the
    2nd does not (a month takes the figure of its first day), nor one from April; 乙 has no
    dated figure and keeps its area's undated one."""
    dated = [_population(1, "110101001", date(2026, 3, 1), 30_000)]
    _replace(con, "area_populations", _table(t.AREA_POPULATIONS.schema, dated))
    march = ranking(con, "2026-03").table
    rows = {x["unit"]: x for x in march.to_pylist()}
    a, b = rows["110101001"], rows["110102001"]
    assert (a["population"], a["population_valid_from"]) == (30_000, date(2026, 3, 1))
    assert a["requests_per_10k_residents"] == pytest.approx(3 * 10000 / 30_000)
    assert (b["population"], b["population_valid_from"]) == (None, None)
    later = [
        *dated,
        _population(2, "110101001", date(2026, 3, 2), 45_000),
        _population(3, "110101001", date(2026, 4, 1), 60_000),
    ]
    _replace(con, "area_populations", _table(t.AREA_POPULATIONS.schema, later))
    assert ranking(con, "2026-03").table.equals(march)
    # Without any dated figure, the area's own (undated) population is the divisor.
    _replace(con, "area_populations", _table(t.AREA_POPULATIONS.schema, []))
    a = {x["unit"]: x for x in ranking(con, "2026-03").table.to_pylist()}["110101001"]
    assert (a["population"], a["population_valid_from"]) == (20_000, None)


def test_the_month_on_and_after_a_figure_s_valid_from_divides_by_it(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """March's cases again in April (created 31 days later): April divides by the figure that
    holds from 1 April, March by the one before it."""
    shift = "INTERVAL 31 DAY"
    moved = con.sql(
        f"SELECT * REPLACE (id + 100 AS id, created_at + {shift} AS created_at, "
        f"dispatched_at + {shift} AS dispatched_at) FROM cases UNION ALL SELECT * FROM cases"
    ).to_arrow_table()
    _replace(con, "cases", moved)
    dated = [
        _population(1, "110101001", date(2025, 1, 1), 20_000),
        _population(2, "110101001", date(2026, 4, 1), 25_000),
    ]
    _replace(con, "area_populations", _table(t.AREA_POPULATIONS.schema, dated))
    march = {x["unit"]: x for x in ranking(con, "2026-03").table.to_pylist()}["110101001"]
    april = {x["unit"]: x for x in ranking(con, "2026-04").table.to_pylist()}["110101001"]
    assert (march["population"], april["population"]) == (20_000, 25_000)
    assert april["population_valid_from"] == date(2026, 4, 1)
    assert march["requests"] == april["requests"] == 3
    assert april["requests_per_10k_residents"] == pytest.approx(3 * 10000 / 25_000)


def _step(i: int, case_id: int, at: datetime, action: str, dept: str | None) -> dict[str, object]:
    return {
        "id": i,
        "case_id": case_id,
        "at": at,
        "action": action,
        "department_code": dept,
        "step_ended_late": False,
    }


@pytest.mark.parametrize("unit", ["department", "subdistrict", "district"])
def test_a_return_and_re_dispatch_after_the_cutoff_leave_the_month_as_published(
    con: duckdb.DuckDBPyConnection, unit: str
) -> None:
    """Cases 1–4 dispatched in March as the fixture says. On 25 April (after March settled on
    10 April) cases 1 (called back in March) and 2 come back from roads and go to gardens: their
    rows now name gardens and an April dispatch, but March is ranked as it was published."""
    at = D + timedelta(minutes=5)
    history = con.sql("SELECT * FROM case_history").to_arrow_table().to_pylist()
    dispatches = [
        _step(20 + i, i, at, "dispatch", dept)
        for i, dept in ((1, "roads"), (2, "roads"), (3, "roads"), (4, "gardens"))
    ]
    _replace(con, "case_history", _table(t.CASE_HISTORY.schema, history + dispatches))
    published = ranking(con, "2026-03", unit).table
    if unit == "department":
        rows = {x["unit"]: x for x in published.to_pylist()}
        assert (rows["roads"]["dispatched"], rows["roads"]["callbacks"]) == (3, 2)

    back, again = D + timedelta(days=46), D + timedelta(days=46, hours=1)
    later = [
        _step(30, 2, back, "return", None),
        _step(31, 2, again, "dispatch", "gardens"),
        _step(32, 1, again, "dispatch", "gardens"),
    ]
    _replace(con, "case_history", _table(t.CASE_HISTORY.schema, history + dispatches + later))
    cases = con.sql(
        "SELECT * REPLACE (CASE WHEN id IN (1, 2) THEN 'gardens' ELSE department_code END "
        "AS department_code, CASE WHEN id IN (1, 2) THEN $again ELSE dispatched_at END "
        "AS dispatched_at) FROM cases",
        params={"again": again},
    ).to_arrow_table()
    _replace(con, "cases", cases)
    assert ranking(con, "2026-03", unit).table.equals(published)
    if unit == "department":
        # April, whose settle cutoff is after the re-dispatch, sees both cases at gardens.
        (april,) = ranking(con, "2026-04", unit).table.to_pylist()
        # Both came back before: case 1 also on day 45 (the fixture's return). No route is
        # recorded for either, so the direct share has nothing to count.
        assert (april["unit"], april["dispatched"], april["returned"]) == ("gardens", 2, 2)
        assert april["direct_share"] is None


CITY_RANKING = """\
versions:
  - version: city
    valid_from: 2024-01-01
    weights: {response: 1.0, resolution: 0, satisfaction: 0}
    bands: {A: 50, B: 0}
"""


def test_a_city_s_own_ranking_file_is_used_when_configured(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "ranking.yaml"
    own.write_text(CITY_RANKING, encoding="utf-8")
    monkeypatch.setenv("ONEGRID_ANALYTICS_RANKING_FILE", str(own))
    r = ranking(con, "2026-03", "subdistrict")
    rows = {x["unit"]: x for x in r.table.to_pylist()}
    assert r.rules.version == "city"
    # Response only: 甲 responded to 1 case of 3, 乙 to its one.
    assert rows["110101001"]["score"] == pytest.approx(100 / 3)
    assert (rows["110101001"]["band"], rows["110102001"]["band"]) == ("B", "A")


@pytest.mark.parametrize(
    ("text", "field", "rule"),
    [
        (CITY_RANKING.replace("response: 1.0", "response: 0.9"), "weights", "sum_to_one"),
        (CITY_RANKING.replace("resolution: 0,", ""), "weights", "three_rates"),
        (CITY_RANKING.replace("2024-01-01", "soon"), "valid_from", "date"),
        ("versions: [", "ranking_file", "yaml"),
    ],
)
def test_a_configured_ranking_file_that_breaks_a_rule_is_refused_naming_it(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    field: str,
    rule: str,
) -> None:
    own = tmp_path / "city-ranking.yaml"
    own.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ONEGRID_ANALYTICS_RANKING_FILE", str(own))
    with pytest.raises(InvalidInput) as e:
        ranking(con, "2026-03")
    problem = e.value.problems[0]
    assert (problem.field, problem.rule) == (field, rule)
    assert str(own) in problem.message


def test_a_city_s_own_composite_file_is_used_and_checked(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "composite.yaml"
    own.write_text(
        "versions:\n  - version: city\n    valid_from: 2024-01-01\n    bands: {A: 50, B: 0}\n"
        "    items:\n      - {indicator: close_rate, points: 100, threshold: 1.0}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEGRID_ANALYTICS_COMPOSITE_FILE", str(own))
    result = department_composite(con, "2026-03")
    rows = {r["department_code"]: r for r in result.table.to_pylist()}
    assert result.rules.version == "city"
    assert rows["roads"]["score"] == pytest.approx(200 / 3)  # closed 2 of 3: 33.3 points short
    own.write_text(own.read_text().replace("points: 100", "points: 90"), encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        department_composite(con, "2026-03")
    assert e.value.problems[0].rule == "points_sum_to_100" and str(own) in e.value.message
