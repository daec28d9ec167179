"""The demo's cases: one cut off before its first step is loaded as dispatched on arrival, so
it must name the department it goes to, or nobody can accept it."""

from __future__ import annotations

from datetime import UTC, datetime

from onegrid.demo.history import synthetic_history
from onegrid.demo.live import live_cases

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def test_work_in_progress_cut_before_its_first_step_still_names_its_department() -> None:
    cases = list(live_cases(11, NOW))
    unstarted = [c for c in cases if not c.steps]
    assert unstarted, "the seed no longer cuts any case before its first step"
    assert all(c.department_code for c in unstarted)


def test_history_cases_caught_by_the_end_of_the_history_name_their_department() -> None:
    # The history stops where the work in progress begins, midway through its last day.
    until = datetime(2026, 11, 29, 10, tzinfo=UTC)
    cases = list(synthetic_history(11, NOW, days=3, per_day=80, until=until))
    unstarted = [c for c in cases if not c.steps]
    assert unstarted, "no case of the last hours is left without a step"
    assert all(c.department_code for c in unstarted)
