"""A screened report's proposals, as the intake returns them, are the rows recorded: each id
names the case it was proposed for, whatever order the database returns the new rows in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.cases.config import CaseRules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.config import duplicate_rules
from onegrid.dispatch.duplicates.services import (
    _pg_propose_and_index,
    list_proposals,
    screen_case_in,
)
from tests.integration.cases.city import IN_CORE
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres


def test_each_proposal_returned_is_the_row_recorded_for_its_case(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    lon, lat = IN_CORE
    dup_rules = duplicate_rules()
    # Three open reports 0, 20 and 40 m east of the point, in other words: three scores.
    for step, words in ((0.0, "路边垃圾堆积"), (0.000234, "路边垃圾"), (0.000468, "垃圾堆积")):
        rec = new_case(city, clock, rules, where=(lon + step, lat), description=words)
        with city.unit_of_work() as s:
            screen_case_in(s, rec, dup_rules, clock.now())
        clock.advance(timedelta(minutes=1))
    later = new_case(city, clock, rules, where=(lon + 0.0005, lat))
    with city.unit_of_work() as s:
        returned = screen_case_in(s, later, dup_rules, clock.now())
    assert len(returned) == 3
    assert [p.score for p in returned] == sorted((p.score for p in returned), reverse=True)
    with city.reader() as s:
        recorded = {p.id: p for p in list_proposals(s, case_id=later.id)}
    for p in returned:
        row = recorded[p.id]
        assert (row.existing_case_id, row.distance_m, row.score) == (
            p.existing_case_id,
            p.distance_m,
            p.score,
        )


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_postgresql_proposal_statement_is_compiled_once(count: int) -> None:
    # A statement SQLAlchemy cannot cache is compiled for every report screened (~0.3 ms).
    assert _pg_propose_and_index(count)._generate_cache_key() is not None
