"""Posts (DOMAIN.md section 7): each person judged per role and per step, and an inspector's
missed-report rate from the grids they patrolled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa

from onegrid.analytics import tables as t
from onegrid.analytics.evaluation import post_indicators
from onegrid.analytics.period import Period

D = datetime(2026, 3, 10, 2, tzinfo=UTC)  # 10:00 in Beijing
GRID_A, GRID_B = "110101001001001", "110101001001002"


def _table(schema: pa.Schema, rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def _case(i: int, channel: str, grid: str, **kw: object) -> dict[str, object]:
    return {
        "id": i,
        "channel": channel,
        "unit_grid_code": grid,
        "status": "dispatched",
        "returns": 0,
        "created_at": D,
    } | kw


def _step(
    i: int, case_id: int, action: str, actor: str, role: str, late: bool = False
) -> dict[str, object]:
    return {
        "id": i,
        "case_id": case_id,
        "at": D + timedelta(hours=i),
        "action": action,
        "actor": actor,
        "role": role,
        "step_ended_late": late,
    }


def _lake(
    history: list[dict[str, object]], patrols: list[dict[str, object]]
) -> duckdb.DuckDBPyConnection:
    cases = [
        _case(1, "inspector", GRID_A),
        _case(2, "hotline", GRID_A),
        _case(3, "web_app", GRID_A, status="cancelled"),
        _case(4, "open311", GRID_B),
        _case(5, "inspector", GRID_B),
        # Reported in February, before user:9 took grid B over: not theirs to have seen.
        _case(6, "hotline", GRID_B, created_at=D - timedelta(days=20)),
    ]
    con = duckdb.connect()
    con.register("cases", _table(t.CASES.schema, cases))
    con.register("case_history", _table(t.CASE_HISTORY.schema, history))
    con.register("inspector_grids", _table(t.INSPECTOR_GRIDS.schema, patrols))
    return con


def _rows(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, object]]:
    out = post_indicators(con, Period.month("2026-03")).to_pylist()
    return {(r["actor"], r["role"]): r for r in out}


def test_each_step_has_its_own_on_time_rate_and_each_role_its_own_row() -> None:
    history = [
        _step(1, 1, "create", "user:9", "inspector"),
        _step(2, 2, "verify", "user:9", "inspector", late=True),
        _step(3, 3, "verify", "user:9", "inspector"),
        _step(4, 1, "check", "user:9", "inspector"),
        # user:9 also stands in as shift leader: judged there separately.
        _step(5, 1, "file", "user:9", "shift_leader", late=True),
        _step(6, 2, "file", "user:8", "shift_leader"),
        _step(7, 3, "file", "user:8", "shift_leader"),
        _step(8, 1, "dispatch", "user:7", "dispatcher", late=True),
        _step(9, 2, "dispatch", "user:7", "dispatcher"),
        _step(10, 2, "accept", "system:clock", "system"),
    ]
    rows = _rows(_lake(history, []))
    assert set(rows) == {
        ("user:9", "inspector"),
        ("user:9", "shift_leader"),
        ("user:8", "shift_leader"),
        ("user:7", "dispatcher"),
    }
    inspector = rows["user:9", "inspector"]
    assert (inspector["steps"], inspector["on_time_rate"]) == (4, 0.75)
    assert (inspector["verified"], inspector["on_time_verification_rate"]) == (2, 0.5)
    assert (inspector["checked"], inspector["on_time_check_rate"]) == (1, 1.0)
    assert (inspector["reports"], inspector["valid_report_rate"]) == (1, 1.0)
    assert inspector["filed"] == 0 and inspector["on_time_filing_rate"] is None
    standing_in = rows["user:9", "shift_leader"]
    assert (standing_in["filed"], standing_in["on_time_filing_rate"]) == (1, 0.0)
    leader = rows["user:8", "shift_leader"]
    assert (leader["on_time_filing_rate"], leader["accurate_filing_rate"]) == (1.0, 0.5)
    dispatcher = rows["user:7", "dispatcher"]
    assert (dispatcher["on_time_dispatch_rate"], dispatcher["accurate_dispatch_rate"]) == (
        0.5,
        1.0,
    )


def test_the_missed_report_rate_counts_the_public_s_first_reports_in_patrolled_grids() -> None:
    history = [_step(i, i, "file", "user:8", "shift_leader") for i in range(1, 7)]
    patrols = [
        {"id": 1, "user_id": 9, "unit_grid_code": GRID_A, "valid_from": date(2026, 1, 1)},
        {"id": 2, "user_id": 9, "unit_grid_code": GRID_B, "valid_from": date(2026, 3, 1)},
        # user:5 had grid A until February: none of March's cases were theirs.
        {
            "id": 3,
            "user_id": 5,
            "unit_grid_code": GRID_A,
            "valid_from": date(2025, 1, 1),
            "valid_to": date(2026, 2, 1),
        },
    ]
    rows = _rows(_lake(history, patrols))
    patrol = rows["user:9", "inspector"]
    # Grid A: 1 inspector's, 2 hotline, 3 web; grid B: 4 Open311, 5 inspector's (6 before).
    assert (patrol["filed_in_grids"], patrol["public_first"]) == (5, 3)
    assert patrol["missed_report_rate"] == 0.6
    assert patrol["steps"] == 0  # judged on their grids even without a step of their own
    assert ("user:5", "inspector") not in rows
