"""A create's number, case and first history entry are written together (on PostgreSQL in one
statement that formats the number in SQL): the same numbers as ``format_number``, past 9,999
too, and the same rows on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.numbering import counter_key, format_number
from onegrid.cases.history import history_of
from onegrid.cases.models import CaseNumberCounterRow
from onegrid.cases.queries import get_case
from onegrid.cases.services.common import local_day
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import INSPECTOR
from tests.integration.cases.helpers import report

pytestmark = pytest.mark.postgres


def test_numbers_follow_the_domain_format_past_four_digits(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    first = services.create_case(city, INSPECTOR, report(), clock=clock, rules=rules).case
    day = local_day(rules.calendar, clock.now())
    assert first.number == format_number("E0102", day, 1)
    with city.unit_of_work() as s:  # a very busy day
        s.execute(
            update(CaseNumberCounterRow)
            .where(CaseNumberCounterRow.key == counter_key("E0102", day))
            .values(last=9_998)
        )
    numbers = [
        services.create_case(city, INSPECTOR, report(), clock=clock, rules=rules).case.number
        for _ in range(3)
    ]
    assert numbers == [format_number("E0102", day, n) for n in (9_999, 10_000, 10_001)]
    assert numbers[0].endswith("9999") and numbers[1].endswith("10000")


def test_the_created_case_and_its_history_are_what_was_returned(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    created = services.create_case(
        city, INSPECTOR, report(description="井盖缺失 a missing cover"), clock=clock, rules=rules
    ).case
    with city.reader() as s:
        stored = get_case(s, created.id)
        (entry,) = history_of(s, created.id)
    assert stored == created
    assert (entry.action, entry.from_status, entry.to_status, entry.version) == (
        "create",
        None,
        created.status,
        1,
    )
    assert entry.actor == INSPECTOR.actor and entry.at == clock.now()
    assert entry.details == {"channel": "inspector"} and entry.attachment_ids == []
