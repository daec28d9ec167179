"""The duplicate check keeps the reports in the box around its radius inside the index: at a
hot spot it does not read the row of every report in the cells around the point."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.index import find_open_candidates, index_case
from tests.integration.cases.city import IN_CORE

TEXT = "小区东门垃圾堆积 rubbish at the east gate"


def test_the_check_drops_reports_outside_the_box_in_the_index(
    db: Database, clock: FixedClock
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the plan asked for is SQLite's (PostgreSQL plans by its statistics)")
    lon, lat = IN_CORE
    with db.unit_of_work() as s:
        for case_id in range(1, 201):  # a hot spot: reports all over the cells around it
            step = (case_id % 20 - 10) * 0.0004
            at = clock.now() + timedelta(minutes=case_id)
            index_case(s, case_id, "E0102", lon + step, lat - step, at, TEXT)
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "duplicate_index" in statement:
            seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.reader() as s:
            find_open_candidates(
                s, DuplicateRules(), "E0102", lon, lat, TEXT, clock.now() + timedelta(days=1)
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    (statement, params), *_ = seen
    with db.engine.connect() as conn:
        plan = " | ".join(
            str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "USING INDEX ix_duplicate_index_box (category_code=? AND cell=? AND lon>?" in plan, plan
