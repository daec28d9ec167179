"""The statements the lake export sends through ADBC carry their values written in: with a bound
parameter the driver gives up COPY and holds the whole result in memory."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from onegrid.analytics.sources import _CASES, _HISTORY, _after, native_sql


def test_watermarks_and_json_keys_are_written_into_the_statement() -> None:
    h = _HISTORY.c
    history = select(h.id, h.details["department_code"].as_string()).where(h.id > 41)
    sql = native_sql(history)
    assert "$" not in sql and "%(" not in sql
    assert "case_history.id > 41" in sql and "'department_code'" in sql

    at = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)
    cases = select(_CASES.c.id).where(
        _after(_CASES.c.updated_at, _CASES.c.id, {"at": at.isoformat(), "id": 7})
    )
    sql = native_sql(cases)
    assert "$" not in sql and "%(" not in sql
    assert "'2026-03-02 01:02:03.456789+00:00'" in sql and "cases.id > 7" in sql


def test_a_quote_in_a_value_is_doubled() -> None:
    sql = native_sql(select(_CASES.c.id).where(_CASES.c.number == "E'; DROP TABLE cases; --"))
    assert "'E''; DROP TABLE cases; --'" in sql
