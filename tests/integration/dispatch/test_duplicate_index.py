"""The duplicate index at a hot spot: a check scores only the newest reports near it, and asks
the cases about the best few at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.index import find_candidates, index_case
from tests.integration.cases.city import IN_CORE

pytestmark = pytest.mark.postgres
TEXT = "小区东门垃圾堆积 rubbish at the east gate"


def test_a_hot_spot_check_reads_only_the_newest_reports(db: Database, clock: FixedClock) -> None:
    lon, lat = IN_CORE
    with db.unit_of_work() as s:
        for case_id in range(1, 11):  # ten open reports of one kind at one point, a minute apart
            at = clock.now() + timedelta(minutes=case_id)
            index_case(s, case_id, "E0102", lon, lat, at, TEXT)
    now = clock.now() + timedelta(hours=1)
    rules = DuplicateRules(max_scanned=4, max_candidates=3)
    with db.reader() as s:
        found = find_candidates(s, rules, "E0102", lon, lat, TEXT, now)
        assert {c.case_id for c in found} <= {7, 8, 9, 10} and len(found) == 3
        # the best few are confirmed a batch at a time: closed ones are dropped, the next used
        asked: list[list[int]] = []

        def still_open(ids: list[int]) -> set[int]:
            asked.append(sorted(ids))
            return {i for i in ids if i % 2 == 0}

        rules = DuplicateRules(max_scanned=10, max_candidates=3)
        found = find_candidates(s, rules, "E0102", lon, lat, TEXT, now, still_open=still_open)
        assert [c.case_id for c in found] == [2, 4, 6]  # same score and place: by case id
        assert asked == [[1, 2, 3], [4, 5, 6]]
