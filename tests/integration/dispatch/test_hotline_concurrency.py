"""Operators at the desk at the same time: every call is recorded, none fails on a lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from onegrid.cases import services as cases
from onegrid.cases.domain.states import Nature
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.dispatch.hotline.domain import Outcome, Satisfaction
from onegrid.dispatch.hotline.services import CallResult, DeskRules, record_call, record_callback
from onegrid.dispatch.models import HotlineCallbackRow, HotlineCallRow
from tests.integration.cases.city import IN_CORE, IN_SUBURB, SANITATION
from tests.integration.cases.helpers import photo
from tests.integration.dispatch.city import DESK, call_draft

pytestmark = pytest.mark.postgres
OPERATORS = 8


@pytest.fixture
def impatient(city: Database) -> Iterator[Database]:
    """The same database, but a connection waits at most 20 ms for SQLite's write lock (the
    server waits 30 s): a desk write that does not queue on the process's one writer then fails
    at once with "database is locked" instead of sleeping its way through."""
    if city.dialect != "sqlite":
        yield city
        return
    engine = make_engine(city.engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=20")

    yield Database(engine)
    engine.dispose()


def _at_once(count: int, work: object) -> list[object]:
    """Run ``work(i)`` in ``count`` threads released together; every result or error."""
    start = threading.Barrier(count)

    def run(i: int) -> object:
        start.wait()
        try:
            return work(i)  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 - the test reports what each thread got
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_simultaneous_calls_are_all_recorded(
    impatient: Database, clock: FixedClock, desk: DeskRules
) -> None:
    city = impatient

    # Each call reads first (the knowledge base, the caller's earlier calls) and then writes:
    # on SQLite two transactions that read and then both try to write collide ("database is
    # locked") unless the desk queues on the process's one writer as case creation does.
    def call(i: int) -> CallResult:
        lon = IN_CORE[0] if i % 2 else IN_SUBURB[0]
        lat = IN_CORE[1] if i % 2 else IN_SUBURB[1]
        draft = call_draft(
            text=f"第 {i} 号楼门口垃圾堆积 (operator {i})",
            caller_phone=f"1390000{i:04d}",
            lon=lon + i * 1e-4,
            lat=lat,
        )
        return record_call(city, DESK, draft, clock=clock, rules=desk)

    results = _at_once(OPERATORS, call)
    errors = [r for r in results if not isinstance(r, CallResult)]
    assert errors == []
    numbers = {r.case.number for r in results if isinstance(r, CallResult) and r.case}
    assert len(numbers) == OPERATORS
    with city.reader() as s:
        assert s.execute(select(func.count()).select_from(CaseRow)).scalar_one() == OPERATORS
        calls = s.execute(select(func.count()).select_from(HotlineCallRow)).scalar_one()
        assert calls == OPERATORS


def _reported_back(city: Database, clock: FixedClock, desk: DeskRules, tmp: Path) -> int:
    first = record_call(city, DESK, call_draft(), clock=clock, rules=desk)
    assert first.case is not None and first.outcome is Outcome.CASE
    case_id = first.case.id
    cases.accept_case(city, SANITATION, case_id, clock=clock, rules=desk.cases)
    cases.report_back_case(
        city,
        SANITATION,
        case_id,
        clock=clock,
        rules=desk.cases,
        reason="清理完毕",
        attachments=[photo(city, clock, case_id, tmp)],
    )
    return case_id


def test_simultaneous_callbacks_and_calls_are_all_recorded(
    impatient: Database, clock: FixedClock, desk: DeskRules, tmp_path: Path
) -> None:
    city = impatient
    case_id = _reported_back(city, clock, desk, tmp_path)

    def work(i: int) -> object:
        if i % 2:
            return record_callback(
                city,
                DESK,
                case_id,
                resolved=True,
                satisfaction=Satisfaction.SATISFIED,
                clock=clock,
                rules=desk.cases,
                note=f"回访 {i}",
            )
        draft = call_draft(
            nature=Nature.CONSULTATION,
            text=f"请问今年供暖什么时候开始？({i})",
            category_code=None,
            caller_phone=f"1380000{i:04d}",
        )
        return record_call(city, DESK, draft, clock=clock, rules=desk)

    results = _at_once(OPERATORS, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    with city.reader() as s:
        callbacks = s.execute(select(func.count()).select_from(HotlineCallbackRow)).scalar_one()
        assert callbacks == OPERATORS // 2
