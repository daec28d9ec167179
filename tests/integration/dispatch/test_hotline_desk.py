"""The hotline desk through its services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Nature, Status
from onegrid.cases.models import CaseRow
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, PermissionDenied
from onegrid.db.session import Database
from onegrid.dispatch.classifier import classifier_home, read_corrections
from onegrid.dispatch.hotline.domain import Outcome, Satisfaction
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.services import DeskRules, calls_about, record_call, record_callback
from onegrid.dispatch.routing.services import case_route
from tests.integration.cases.city import (
    IN_SUBURB,
    INSPECTOR,
    SANITATION,
    SHIFT,
)
from tests.integration.cases.helpers import photo
from tests.integration.dispatch.city import DESK, OPERATOR, SUBURB_GOVERNMENT, call_draft

pytestmark = pytest.mark.postgres


def _draft(**kw: object) -> CallDraft:
    return call_draft(**{"caller_name": "李四", "address": "示范路 8 号", **kw})


def _cases(db: Database) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(CaseRow)).scalar_one())


def test_a_consultation_is_answered_from_the_knowledge_base_without_a_case(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    result = record_call(
        city,
        OPERATOR,
        _draft(nature=Nature.CONSULTATION, text="请问今年供暖什么时候开始？", category_code=None),
        clock=clock,
        rules=desk,
    )
    assert result.outcome is Outcome.ANSWERED
    assert result.answer is not None and result.answer.code == "KB-HEAT-001"
    assert result.case is None and _cases(city) == 0


def test_a_complaint_becomes_a_routed_case_with_a_feedback_limit(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    result = record_call(city, OPERATOR, _draft(), clock=clock, rules=desk)
    assert result.outcome is Outcome.CASE and result.case is not None
    rec = result.case
    # 直派: the operator alone sends it to the unit, with no on-site verification first.
    assert (rec.channel, rec.nature, rec.status) == ("hotline", "complaint", "dispatched")
    assert result.route is not None and result.route.department_code == "sanitation"
    assert result.route.rule == "duty_owner" and "E01" in result.route.explanation
    assert result.dispatched and rec.department_code == "sanitation"
    assert result.limit_class is not None and result.limit_class.name == "general"
    assert result.call.feedback_due_at == clock.now() + timedelta(days=7)
    with city.reader() as s:
        route = case_route(s, rec.id)
        assert route is not None and route.department_code == "sanitation"


def test_the_desk_dispatches_directly_to_the_routed_unit(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    result = record_call(city, DESK, _draft(), clock=clock, rules=desk)
    assert result.dispatched and result.case is not None
    assert (result.case.status, result.case.department_code) == ("dispatched", "sanitation")
    assert result.call.response_due_at == clock.now() + timedelta(hours=24)


def test_with_no_duty_rule_the_district_government_takes_it(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    # E05 (street order) has no owner rule, and the suburb's subdistrict no territorial one.
    result = record_call(
        city,
        DESK,
        _draft(
            text="路口有流动摊贩占道", category_code="E0501", lon=IN_SUBURB[0], lat=IN_SUBURB[1]
        ),
        clock=clock,
        rules=desk,
    )
    assert result.route is not None and result.route.rule == "district_fallback"
    assert result.route.department_code == SUBURB_GOVERNMENT and "兜底" in result.route.explanation
    assert result.case is not None and result.case.department_code == SUBURB_GOVERNMENT


def test_an_operator_correction_of_the_unit_is_explained_and_kept_as_training_data(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    result = record_call(
        city,
        DESK,
        _draft(department_code="roads", suggested_category="E0103", suggested_confidence=0.4),
        clock=clock,
        rules=desk,
    )
    assert result.route is not None and result.route.rule == "chosen"
    assert "sanitation" in result.route.explanation  # what the rules said, kept beside it
    assert result.case is not None and result.case.department_code == "roads"
    [kept] = read_corrections(classifier_home(desk.data_dir) / "default" / "corrections.jsonl")
    assert (kept.label, kept.suggested, kept.confirmed) == ("E0102", "E0103", False)


def test_emergencies_and_utilities_get_their_limits(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    burst = record_call(
        city, OPERATOR, _draft(text="路面水管爆裂", category_code="E0402"), clock=clock, rules=desk
    )
    assert burst.limit_class is not None and burst.limit_class.name == "emergency"
    assert burst.call.feedback_due_at == clock.now() + timedelta(hours=2)
    heating = record_call(
        city, OPERATOR, _draft(text="家里暖气不热", category_code="E0601"), clock=clock, rules=desk
    )
    assert heating.limit_class is not None and heating.limit_class.name == "utilities"
    complex_ = record_call(
        city,
        OPERATOR,
        _draft(text="小区多年违建", category_code="E0101", complex_=True),
        clock=clock,
        rules=desk,
    )
    assert complex_.limit_class is not None and complex_.limit_class.name == "complex"
    assert complex_.call.feedback_due_at == clock.now() + timedelta(days=15)


def test_a_repeat_caller_is_linked_to_the_open_case(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    first = record_call(city, OPERATOR, _draft(), clock=clock, rules=desk)
    clock.advance(timedelta(hours=5))
    again = record_call(
        city,
        OPERATOR,
        _draft(text="还是没人清理垃圾", caller_phone="139 0000 1111"),
        clock=clock,
        rules=desk,
    )
    assert again.outcome is Outcome.REPEAT and again.case is not None
    assert first.case is not None and again.case.id == first.case.id
    assert again.call.repeat_of_call_id == first.call.id
    with city.reader() as s:
        assert [c.id for c in calls_about(s, first.case.id)] == [first.call.id, again.call.id]
    assert _cases(city) == 1


def test_bad_calls_are_refused_whole(city: Database, clock: FixedClock, desk: DeskRules) -> None:
    with pytest.raises(InvalidInput) as caught:
        record_call(
            city, OPERATOR, _draft(text=" ", lat=None, caller_phone="abc"), clock=clock, rules=desk
        )
    rules = {(p.field, p.rule) for p in caught.value.problems}
    assert {("text", "required"), ("lat", "point_pair"), ("caller_phone", "phone_format")} <= rules
    with pytest.raises(InvalidInput) as caught:
        record_call(city, OPERATOR, _draft(text="x" * 4001), clock=clock, rules=desk)
    with pytest.raises(InvalidInput):
        record_call(city, OPERATOR, _draft(category_code=None), clock=clock, rules=desk)
    with pytest.raises(PermissionDenied):
        record_call(city, INSPECTOR, _draft(), clock=clock, rules=desk)
    assert _cases(city) == 0


def _reported_back(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp: Path
) -> int:
    result = record_call(city, DESK, _draft(), clock=clock, rules=desk)
    assert result.case is not None
    case_id = result.case.id
    cases.accept_case(city, SANITATION, case_id, clock=clock, rules=rules)
    cases.report_back_case(
        city,
        SANITATION,
        case_id,
        clock=clock,
        rules=rules,
        reason="清理完毕",
        attachments=[photo(city, clock, case_id, tmp)],
    )
    return case_id


def test_a_callback_not_resolved_reopens_the_closed_case(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    with pytest.raises(InvalidInput):  # not before the unit reported back
        fresh = record_call(
            city,
            DESK,
            _draft(text="另一处垃圾", caller_phone="13700000000", lon=116.301, lat=39.905),
            clock=clock,
            rules=desk,
        )
        assert fresh.case is not None
        record_callback(
            city,
            OPERATOR,
            fresh.case.id,
            resolved=True,
            satisfaction=Satisfaction.SATISFIED,
            clock=clock,
            rules=rules,
        )
    cases.check_case(city, INSPECTOR, case_id, clock=clock, rules=rules, passed=True)
    cases.close_case(city, SHIFT, case_id, clock=clock, rules=rules)
    result = record_callback(
        city,
        OPERATOR,
        case_id,
        resolved=False,
        satisfaction=Satisfaction.DISSATISFIED,
        clock=clock,
        rules=rules,
        note="垃圾又堆起来了",
    )
    assert result.callback.reopened and result.case.status == Status.HANDLING.value
    assert result.callback.department_code == "sanitation"
    with city.reader() as s:
        assert get_case(s, case_id).reopens == 1


def test_a_satisfied_callback_changes_nothing(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    result = record_callback(
        city,
        OPERATOR,
        case_id,
        resolved=True,
        satisfaction=Satisfaction.SATISFIED,
        clock=clock,
        rules=rules,
    )
    assert not result.callback.reopened and result.case.status == Status.TO_CHECK.value


def test_a_training_example_that_cannot_be_kept_does_not_fail_the_call(
    city: Database, clock: FixedClock, desk: DeskRules, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    rules = DeskRules(desk.cases, desk.hotline, desk.duplicates, blocked)
    result = record_call(city, OPERATOR, _draft(), clock=clock, rules=rules)
    assert result.case is not None and _cases(city) == 1
