"""A report retried at once from several connections with one idempotency key: one case."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.history import HISTORY
from onegrid.cases.records import CASES
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import INSPECTOR
from tests.integration.cases.helpers import report

pytestmark = pytest.mark.postgres


def test_simultaneous_retries_with_one_key_make_one_case(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    start = threading.Barrier(6)

    def send(_: int) -> tuple[int, bool]:
        start.wait()  # all six in flight together, as a phone retrying on a bad network
        made = services.create_case(
            city, INSPECTOR, report(), clock=clock, rules=rules, idempotency_key="retry-7"
        )
        return made.case.id, made.created

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(send, range(6)))
    assert len({case_id for case_id, _ in results}) == 1, results
    assert sum(created for _, created in results) == 1
    with city.reader() as s:
        assert s.execute(select(func.count()).select_from(CASES)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(HISTORY)).scalar_one() == 1
