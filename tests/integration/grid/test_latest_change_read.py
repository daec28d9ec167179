"""The grid's latest change is read once per transaction, and a change made in it is seen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid.storage import current_token, record_change

pytestmark = pytest.mark.postgres


def test_the_latest_change_is_read_once_a_transaction(db: Database, clock: FixedClock) -> None:
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "grid_versions" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    with db.unit_of_work() as s:
        first = record_change(s, "areas", clock)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.unit_of_work() as s:
            assert current_token(s) == first
            assert current_token(s) == first
            assert len(reads) == 1
            mine = record_change(s, "grids", clock)
            assert current_token(s) == mine  # this transaction's own change
        with db.unit_of_work() as s:
            assert current_token(s) == mine
        assert len(reads) == 3  # once more after the change, once in the next transaction
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
