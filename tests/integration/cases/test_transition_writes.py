"""A transition writes the columns of the case's state that change, and the version and time:
SQLite rewrites an index entry for every indexed column in the SET list, changed or not. What
it returns is what is stored, on both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import DISPATCHER, SANITATION, SHIFT
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres


def _set_columns(statement: str) -> set[str]:
    assignments = statement.removeprefix("UPDATE cases SET ").split(" WHERE ")[0]
    return {a.split("=")[0].strip() for a in assignments.split(",")}


def test_an_accept_writes_what_changes_and_returns_what_is_stored(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    clock.advance(timedelta(minutes=5))
    updates: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE cases SET "):
            updates.append(statement)

    event.listen(city.engine, "before_cursor_execute", seen)
    try:
        accepted = services.accept_case(city, SANITATION, rec.id, clock=clock, rules=rules)
    finally:
        event.remove(city.engine, "before_cursor_execute", seen)
    (statement,) = updates
    columns = _set_columns(statement)
    assert {"status", "version", "updated_at"} <= columns
    # Unchanged by an accept (the handling step's clock started at the dispatch): left alone.
    unchanged = {"step", "step_deadline", "department_code", "escalation_tier", "filed_at"}
    assert not columns & unchanged, columns
    with city.reader() as s:
        assert get_case(s, rec.id) == accepted
