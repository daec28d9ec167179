"""An accepted forecast opens one proactive case for the responsible unit, once."""

from __future__ import annotations

from datetime import date

import pytest

from onegrid.analytics.proactive import AcceptedForecast, open_proactive_cases
from onegrid.cases.config import CaseRules
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from tests.integration.cases.city import CORE_SUB, SHIFT

pytestmark = pytest.mark.postgres


def test_accepting_a_forecast_opens_one_case(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    pick = AcceptedForecast("E0102", CORE_SUB, date(2026, 4, 1), 41.6)
    [first] = open_proactive_cases(city, SHIFT, [pick], clock=clock, rules=rules)
    case = first.case
    assert first.created and case.channel == "instruction" and case.status == "to_file"
    assert case.subdistrict_code == CORE_SUB and "proactive" in case.tags
    assert case.suggested_department_code is not None
    [again] = open_proactive_cases(city, SHIFT, [pick], clock=clock, rules=rules)
    assert (again.created, again.case.id) == (False, case.id)
    with pytest.raises(NotFound, match="110199001"):
        open_proactive_cases(
            city,
            SHIFT,
            [AcceptedForecast("E0102", "110199001", date(2026, 4, 1), 3)],
            clock=clock,
            rules=rules,
        )


def test_weeks_are_keyed_by_iso_week_and_a_bad_list_opens_nothing(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    def week(day: date) -> AcceptedForecast:
        return AcceptedForecast("E0102", CORE_SUB, day, 6, "week")

    # The week of 29 December 2025 is ISO 2026-W01; 30 December is a day of the same week.
    opened = open_proactive_cases(
        city,
        SHIFT,
        [week(date(2025, 12, 29)), week(date(2026, 1, 5)), week(date(2025, 12, 30))],
        clock=clock,
        rules=rules,
    )
    assert [(o.forecast.period, o.created) for o in opened] == [
        ("2026-W01", True),
        ("2026-W02", True),
        ("2026-W01", False),
    ]
    assert opened[0].case.id != opened[1].case.id
    assert opened[2].case.id == opened[0].case.id
    assert "forecast:2026-W02" in opened[1].case.tags
    # An unknown area at the end of the list: the week before it is not opened either.
    later = week(date(2026, 1, 12))
    with pytest.raises(NotFound):
        open_proactive_cases(
            city,
            SHIFT,
            [later, AcceptedForecast("E0102", "110199001", date(2026, 1, 12), 3, "week")],
            clock=clock,
            rules=rules,
        )
    [alone] = open_proactive_cases(city, SHIFT, [later], clock=clock, rules=rules)
    assert alone.created
    with pytest.raises(InvalidInput) as grain:
        AcceptedForecast("E0102", CORE_SUB, date(2026, 1, 12), 3, "day")
    assert [(p.field, p.rule) for p in grain.value.problems] == [("grain", "known_grain")]
