"""An accepted forecast opens one proactive case for the responsible unit, once."""

from __future__ import annotations

from datetime import date

import pytest

from onegrid.analytics.proactive import AcceptedForecast, open_proactive_cases
from onegrid.cases.config import CaseRules
from onegrid.core.clock import FixedClock
from onegrid.core.errors import NotFound
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
