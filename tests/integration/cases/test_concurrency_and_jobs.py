"""Numbers under concurrent creation, concurrent transitions, and the overdue job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.numbering import parse_number
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.cases.scheduler import run_overdue_job
from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict
from onegrid.db.session import Database
from tests.integration.cases.city import CITY, CORE, INSPECTOR, SHIFT
from tests.integration.cases.helpers import new_case, report, to_handling

pytestmark = pytest.mark.postgres


def test_concurrent_creation_gives_unique_gapless_numbers(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    def create(n: int) -> list[str]:
        return [
            services.create_case(
                city, INSPECTOR, report(), clock=clock, rules=rules, idempotency_key=f"t{n}-{i}"
            ).case.number
            for i in range(10)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [n for batch in pool.map(create, range(8)) for n in batch]
    parsed = [parse_number(n) for n in numbers]
    assert sorted(p.sequence for p in parsed if p) == list(range(1, 81))


def test_concurrent_transitions_one_wins_the_other_gets_a_conflict(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules)

    def file_it(_: int) -> str:
        try:
            services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules, expected_version=1)
        except Conflict:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = sorted(pool.map(file_it, range(4)))
    assert results == ["conflict", "conflict", "conflict", "ok"]
    with city.reader() as s:
        assert [e.action for e in history_of(s, rec.id)] == ["create", "file"]


def test_the_overdue_job_escalates_once_then_a_tier_more_and_is_idempotent(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)  # handle: 4 working hours from Monday 09:00 → 14:30
    unfiled = new_case(city, clock, rules)  # dispatch: 2 working hours → 11:00
    clock.set(datetime(2026, 3, 2, 6, 29, tzinfo=UTC))  # 14:29: 3.5 h used of 2
    assert run_overdue_job(city, clock, rules).escalated == 1  # only the unfiled one
    clock.set(datetime(2026, 3, 2, 6, 31, tzinfo=UTC))  # 14:31: the handling one is late too,
    first = run_overdue_job(city, clock, rules)  # and the unfiled one over twice its allowance
    again = run_overdue_job(city, clock, rules)
    assert (first.escalated, again.escalated) == (2, 0)
    with city.reader() as s:
        case = get_case(s, rec.id)
        assert (case.escalation_tier, case.escalated_to, case.overdue_steps) == (1, CORE, 1)
        assert case.version == rec.version + 1
        entries = history_of(s, rec.id)
    assert entries[-1].action == "escalate" and entries[-1].actor == "system:scheduler"
    with city.reader() as s:
        assert get_case(s, unfiled.id).escalated_to == CITY
    clock.set(datetime(2026, 3, 3, 2, tzinfo=UTC))  # Tuesday 10:00: 8.5 h used of 4
    assert run_overdue_job(city, clock, rules).escalated == 1
    with city.reader() as s:
        assert get_case(s, rec.id).escalated_to == CITY
    clock.advance(timedelta(days=30))
    assert run_overdue_job(city, clock, rules).checked == 0  # nothing above the city
