"""The hotline desk through its services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Nature, Status
from onegrid.cases.history import HistoryEntry, history_of
from onegrid.cases.models import CaseRow
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, PermissionDenied
from onegrid.db.session import Database
from onegrid.dispatch.classifier.queries import list_corrections
from onegrid.dispatch.hotline.domain import Outcome, Satisfaction
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.services import (
    CallbackResult,
    DeskRules,
    calls_about,
    record_call,
    record_callback,
)
from onegrid.dispatch.models import HotlineCallbackRow
from onegrid.dispatch.routing.services import case_route
from onegrid.people.domain import Role, Scope
from tests.integration.cases.city import (
    IN_SUBURB,
    INSPECTOR,
    SANITATION,
    SHIFT,
    SUBURB,
    principal,
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
    with city.reader() as s:
        [kept] = list_corrections(s, model="default")
    assert (kept.chosen_category, kept.suggested_category) == ("E0102", "E0103")
    assert (kept.call_id, kept.case_id) == (result.call.id, result.case.id)


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


def _to_close(city: Database, clock: FixedClock, rules: CaseRules, case_id: int) -> None:
    cases.check_case(city, INSPECTOR, case_id, clock=clock, rules=rules, passed=True)


def _closed(city: Database, clock: FixedClock, rules: CaseRules, case_id: int) -> None:
    _to_close(city, clock, rules, case_id)
    cases.close_case(city, SHIFT, case_id, clock=clock, rules=rules)


def _last_entry(city: Database, case_id: int) -> HistoryEntry:
    with city.reader() as s:
        return history_of(s, case_id)[-1]


def _not_resolved(
    city: Database, clock: FixedClock, rules: CaseRules, case_id: int, note: str = "还是脏"
) -> CallbackResult:
    return record_callback(
        city,
        OPERATOR,
        case_id,
        resolved=False,
        satisfaction=Satisfaction.DISSATISFIED,
        clock=clock,
        rules=rules,
        note=note,
    )


def _by_the_system_for_the_requester(entry: HistoryEntry, action: str, answer: str) -> None:
    assert (entry.action, entry.actor, entry.role) == (action, "system:requester", None)
    assert entry.details["on_behalf_of"] == "requester"
    assert entry.details["answer"] == answer


def test_a_callback_is_refused_before_the_unit_reported_back(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules
) -> None:
    fresh = record_call(city, DESK, _draft(), clock=clock, rules=desk)
    assert fresh.case is not None
    for resolved in (True, False):
        with pytest.raises(InvalidInput) as refused:
            record_callback(
                city,
                OPERATOR,
                fresh.case.id,
                resolved=resolved,
                satisfaction=Satisfaction.SATISFIED,
                clock=clock,
                rules=rules,
            )
        assert refused.value.problems[0].rule == "reported_back"
    with city.reader() as s:
        assert get_case(s, fresh.case.id).status == Status.DISPATCHED.value


def test_a_callback_not_resolved_reopens_the_closed_case(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    _closed(city, clock, rules, case_id)
    result = _not_resolved(city, clock, rules, case_id, note="垃圾又堆起来了")
    assert result.callback.reopened and result.case.status == Status.HANDLING.value
    assert result.callback.department_code == "sanitation"
    with city.reader() as s:
        assert get_case(s, case_id).reopens == 1
    entry = _last_entry(city, case_id)
    _by_the_system_for_the_requester(entry, "reopen", "callback")
    assert entry.details["recorded_by"] == OPERATOR.actor
    assert (entry.from_status, entry.to_status) == ("closed", "handling")
    assert "垃圾又堆起来了" in entry.reason


@pytest.mark.parametrize("stage", ["to_check", "to_close"])
def test_a_callback_not_resolved_before_the_close_sends_the_case_back_for_rework(
    city: Database,
    clock: FixedClock,
    desk: DeskRules,
    rules: CaseRules,
    tmp_path: Path,
    stage: str,
) -> None:
    """The operator holds no ``case.rework``; the requester's answer sends the case back all
    the same, and it cannot be closed as solved until the unit reports back again."""
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    if stage == "to_close":
        _to_close(city, clock, rules, case_id)
    result = _not_resolved(city, clock, rules, case_id)
    assert result.callback.reopened and not result.callback.resolved
    assert result.case.status == Status.HANDLING.value
    with city.reader() as s:
        rec = get_case(s, case_id)
    assert (rec.status, rec.reworks, rec.reopens, rec.department_code) == (
        "handling",
        1,
        0,
        "sanitation",
    )
    entry = _last_entry(city, case_id)
    _by_the_system_for_the_requester(entry, "rework", "callback")
    assert (entry.from_status, entry.details["recorded_by"]) == (stage, OPERATOR.actor)
    assert "还是脏" in entry.reason
    with pytest.raises(InvalidInput):
        cases.check_case(city, INSPECTOR, case_id, clock=clock, rules=rules, passed=True)
    with pytest.raises(InvalidInput):
        cases.close_case(city, SHIFT, case_id, clock=clock, rules=rules)
    cases.report_back_case(
        city,
        SANITATION,
        case_id,
        clock=clock,
        rules=rules,
        reason="重新清理",
        attachments=[photo(city, clock, case_id, tmp_path)],
    )
    _closed(city, clock, rules, case_id)
    with city.reader() as s:
        assert get_case(s, case_id).status == Status.CLOSED.value


def test_a_callback_outside_the_operators_area_changes_nothing(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    elsewhere = principal(Role.HOTLINE_OPERATOR, Scope.area(SUBURB), user_id=33)
    with pytest.raises(PermissionDenied):
        record_callback(
            city,
            elsewhere,
            case_id,
            resolved=False,
            satisfaction=Satisfaction.DISSATISFIED,
            clock=clock,
            rules=rules,
        )
    with city.reader() as s:
        assert get_case(s, case_id).status == Status.TO_CHECK.value
        assert s.execute(select(func.count()).select_from(HotlineCallbackRow)).scalar_one() == 0


def test_only_the_permission_an_answer_is_recorded_under_sends_a_case_back(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    """Not a bypass: a shift leader holds no ``hotline.callback``, and no other permission
    reaches this path."""
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    with city.unit_of_work() as s:
        with pytest.raises(PermissionDenied):
            cases.send_back_for_requester_in(
                s,
                SHIFT,
                case_id,
                answered_under="hotline.callback",
                reason="x",
                clock=clock,
                rules=rules,
            )
        with pytest.raises(ValueError, match="does not record"):
            cases.send_back_for_requester_in(
                s,
                SHIFT,
                case_id,
                answered_under="case.rework",
                reason="x",
                clock=clock,
                rules=rules,
            )
    with city.reader() as s:
        assert get_case(s, case_id).status == Status.TO_CHECK.value


def test_a_long_note_is_kept_whole_on_the_answer_and_cut_in_the_history(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    result = _not_resolved(city, clock, rules, case_id, note="脏" * 2000)
    assert result.callback.note == "脏" * 2000
    assert len(_last_entry(city, case_id).reason) == 2000


@pytest.mark.parametrize("stage", ["to_check", "to_close", "closed"])
def test_a_resolved_callback_changes_nothing(
    city: Database,
    clock: FixedClock,
    desk: DeskRules,
    rules: CaseRules,
    tmp_path: Path,
    stage: str,
) -> None:
    case_id = _reported_back(city, clock, desk, rules, tmp_path)
    if stage == "to_close":
        _to_close(city, clock, rules, case_id)
    if stage == "closed":
        _closed(city, clock, rules, case_id)
    before = _last_entry(city, case_id)
    for satisfaction in Satisfaction:
        result = record_callback(
            city,
            OPERATOR,
            case_id,
            resolved=True,
            satisfaction=satisfaction,
            clock=clock,
            rules=rules,
        )
        assert not result.callback.reopened and result.case.status == stage
    assert _last_entry(city, case_id) == before


def test_a_training_example_that_cannot_be_kept_does_not_fail_the_call(
    city: Database, clock: FixedClock, desk: DeskRules, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    rules = DeskRules(desk.cases, desk.hotline, desk.duplicates, blocked)
    result = record_call(city, OPERATOR, _draft(), clock=clock, rules=rules)
    assert result.case is not None and _cases(city) == 1
