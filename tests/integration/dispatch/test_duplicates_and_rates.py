"""Duplicates, direct dispatch by a dispatcher, contact and the three rates, on both backends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Status
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, PermissionDenied
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.services import (
    ProposalStatus,
    confirm_duplicate,
    list_proposals,
    undo_duplicate,
)
from onegrid.dispatch.hotline.domain import Satisfaction
from onegrid.dispatch.hotline.preview import preview_call
from onegrid.dispatch.hotline.queries import hotline_rates, month_period
from onegrid.dispatch.hotline.services import DeskRules, record_call, record_callback
from onegrid.dispatch.routing.services import dispatch_routed, record_contact
from onegrid.people.domain import Role, Scope
from tests.integration.cases.city import (
    DISPATCHER,
    IN_CORE,
    INSPECTOR,
    ROADS,
    SANITATION,
    SHIFT,
    SUBURB,
    principal,
)
from tests.integration.cases.helpers import photo
from tests.integration.dispatch.city import DESK, OPERATOR, call_draft

pytestmark = pytest.mark.postgres


def test_a_near_similar_report_is_proposed_and_confirmed_as_a_duplicate(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules
) -> None:
    first = record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    clock.advance(timedelta(hours=1))
    # Another caller, 30 m away, much the same words.
    second = record_call(
        city,
        DESK,
        call_draft(
            caller_phone="13600002222", lon=IN_CORE[0] + 0.0003, text="门口垃圾堆积无人清理"
        ),
        clock=clock,
        rules=desk,
    )
    assert first.case is not None and second.case is not None
    [proposal] = second.duplicates
    assert proposal.existing_case_id == first.case.id and 20 < proposal.distance_m < 40
    assert not second.dispatched and "duplicate" in second.waiting
    # Far away or another category: no proposal.
    far = record_call(
        city,
        OPERATOR,
        call_draft(caller_phone="13500003333", lon=IN_CORE[0] + 0.004),
        clock=clock,
        rules=desk,
    )
    other = record_call(
        city,
        OPERATOR,
        call_draft(caller_phone="13500004444", category_code="E0103"),
        clock=clock,
        rules=desk,
    )
    assert far.duplicates == [] and other.duplicates == []
    with pytest.raises(PermissionDenied):
        confirm_duplicate(city, SANITATION, proposal.id, clock=clock, rules=rules)
    done = confirm_duplicate(city, OPERATOR, proposal.id, clock=clock, rules=rules)
    assert done.status is ProposalStatus.CONFIRMED
    with city.reader() as s:
        merged = get_case(s, second.case.id)
        assert (merged.status, merged.merged_into_id) == ("merged", first.case.id)
    with pytest.raises(InvalidInput):
        undo_duplicate(city, OPERATOR, proposal.id, clock=clock)


def test_an_undone_proposal_leaves_the_report_its_own_case(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    second = record_call(
        city, OPERATOR, call_draft(caller_phone="13600002222"), clock=clock, rules=desk
    )
    [proposal] = second.duplicates
    undone = undo_duplicate(city, OPERATOR, proposal.id, clock=clock)
    assert undone.status is ProposalStatus.UNDONE
    with city.reader() as s:
        # Held back from dispatch while proposed; filed by the desk, so it waits to be sent.
        assert get_case(s, proposal.case_id).status == "to_file"
        assert list_proposals(s, status=ProposalStatus.PROPOSED) == []


def test_a_dispatcher_confirms_one_proposal_and_undoes_another(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules
) -> None:
    far = IN_CORE[0] + 0.004  # far enough from the first pair to propose nothing across
    record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    kept = record_call(
        city, OPERATOR, call_draft(caller_phone="13600001111", lon=far), clock=clock, rules=desk
    )
    a = record_call(city, OPERATOR, call_draft(caller_phone="13600002222"), clock=clock, rules=desk)
    b = record_call(
        city, OPERATOR, call_draft(caller_phone="13600003333", lon=far), clock=clock, rules=desk
    )
    [not_a_duplicate], [duplicate] = a.duplicates, b.duplicates
    assert kept.case is not None and duplicate.existing_case_id == kept.case.id
    elsewhere = principal(Role.DISPATCHER, Scope.area(SUBURB), user_id=41)
    with pytest.raises(PermissionDenied):
        undo_duplicate(city, elsewhere, not_a_duplicate.id, clock=clock)
    undone = undo_duplicate(city, DISPATCHER, not_a_duplicate.id, clock=clock)
    done = confirm_duplicate(city, DISPATCHER, duplicate.id, clock=clock, rules=rules)
    assert (undone.status, done.status) == (ProposalStatus.UNDONE, ProposalStatus.CONFIRMED)
    assert undone.decided_by == done.decided_by == DISPATCHER.actor
    with city.reader() as s:
        assert get_case(s, not_a_duplicate.case_id).status == "to_file"
        merged = get_case(s, duplicate.case_id)
        assert (merged.status, merged.merged_into_id) == ("merged", kept.case.id)
        assert list_proposals(s, status=ProposalStatus.PROPOSED) == []


def test_a_closed_case_is_no_longer_a_duplicate_target(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    first = record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    assert first.case is not None and first.dispatched
    _walk(city, clock, rules, first.case.id, tmp_path)
    cases.check_case(city, INSPECTOR, first.case.id, clock=clock, rules=rules, passed=True)
    closed = cases.close_case(city, SHIFT, first.case.id, clock=clock, rules=rules)
    assert closed.status == "closed"
    again = record_call(
        city, OPERATOR, call_draft(caller_phone="13600002222"), clock=clock, rules=desk
    )
    assert again.duplicates == []


def test_the_preview_shows_unit_limit_and_duplicates_before_dispatch(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    with city.reader() as s:
        seen = preview_call(s, OPERATOR, call_draft(), rules=desk, now=clock.now())
    assert not seen.suggestion.available and "no model" in seen.suggestion.reason
    assert seen.route is not None and seen.route.department_code == "sanitation"
    assert seen.limit_class is not None and seen.limit_class.name == "general"
    assert len(seen.duplicates) == 1 and len(seen.earlier_calls) == 1


def _walk(city: Database, clock: FixedClock, rules: CaseRules, case_id: int, tmp: Path) -> None:
    cases.accept_case(city, SANITATION, case_id, clock=clock, rules=rules)
    shot = photo(city, clock, case_id, tmp)
    cases.report_back_case(
        city, SANITATION, case_id, clock=clock, rules=rules, reason="完成", attachments=[shot]
    )


def test_the_three_rates_per_unit_and_month(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    ids = []
    for i in range(3):
        call = record_call(
            city,
            OPERATOR,
            call_draft(
                caller_phone=f"1380000000{i}", lon=IN_CORE[0] + 0.003 * i, text=f"垃圾{i}号点"
            ),
            clock=clock,
            rules=desk,
        )
        assert call.case is not None and call.dispatched  # 直派 by the operator
        assert call.case.status == Status.DISPATCHED.value
        ids.append(call.case.id)
    with pytest.raises(InvalidInput):  # already at the unit: nothing left to dispatch
        dispatch_routed(
            city, DISPATCHER, ids[0], clock=clock, rules=rules, response_limit=timedelta(hours=24)
        )
    record_contact(city, SANITATION, ids[0], clock=clock)  # in time
    with pytest.raises(PermissionDenied):
        record_contact(city, ROADS, ids[1], clock=clock)
    clock.advance(timedelta(hours=30))
    record_contact(city, SANITATION, ids[1], clock=clock)  # late
    answers = [
        (True, Satisfaction.SATISFIED),
        (True, Satisfaction.BASICALLY_SATISFIED),
        (False, Satisfaction.DISSATISFIED),
    ]
    for case_id, (resolved, satisfied) in zip(ids, answers, strict=True):
        _walk(city, clock, rules, case_id, tmp_path)
        record_callback(
            city,
            OPERATOR,
            case_id,
            resolved=resolved,
            satisfaction=satisfied,
            clock=clock,
            rules=rules,
        )
    with city.reader() as s:
        [sanitation] = hotline_rates(s, month_period("2026-03", "Asia/Shanghai"), desk.hotline)
        assert hotline_rates(s, month_period("2026-04", "Asia/Shanghai"), desk.hotline) == []
    assert sanitation.facts.unit == "sanitation"
    assert (sanitation.facts.dispatched, sanitation.facts.responded_in_time) == (3, 1)
    assert sanitation.response_rate == pytest.approx(1 / 3, abs=1e-5)
    assert sanitation.resolution_rate == pytest.approx(2 / 3, abs=1e-5)
    assert sanitation.satisfaction_rate == pytest.approx((1 + 0.8) / 3, abs=1e-5)


def test_cases_from_other_channels_are_found_once_indexed(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules
) -> None:
    from onegrid.dispatch.duplicates.services import rebuild_index
    from tests.integration.cases.helpers import new_case

    inspected = new_case(city, clock, rules, description="小区门口垃圾堆积三天无人清理")
    before = record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    assert before.duplicates == []  # not indexed yet: the inspector's channel does not screen
    assert rebuild_index(city, desk.duplicates, clock.now()) == 2
    after = record_call(
        city, OPERATOR, call_draft(caller_phone="13600002222"), clock=clock, rules=desk
    )
    assert before.case is not None
    assert {p.existing_case_id for p in after.duplicates} == {inspected.id, before.case.id}


def get_case_status(city: Database, case_id: int) -> str:
    with city.reader() as s:
        return get_case(s, case_id).status


def test_the_lake_credits_a_callback_where_the_desk_does(
    city: Database, clock: FixedClock, desk: DeskRules, rules: CaseRules, tmp_path: Path
) -> None:
    """A callback counts for the unit the desk recorded on it, in the desk's rates and in the
    lake's department ranking alike, even when the case moves on to another unit afterwards."""
    from onegrid.analytics.evaluation import ranking
    from onegrid.analytics.lake import Lake

    call = record_call(city, OPERATOR, call_draft(), clock=clock, rules=desk)
    assert call.case is not None and call.dispatched
    case_id = call.case.id
    _walk(city, clock, rules, case_id, tmp_path)
    clock.advance(timedelta(hours=2))
    record_callback(
        city,
        OPERATOR,
        case_id,
        resolved=False,
        satisfaction=Satisfaction.DISSATISFIED,
        clock=clock,
        rules=rules,
    )
    if get_case_status(city, case_id) == Status.TO_CHECK.value:  # the operator may not rework
        cases.rework_case(city, SHIFT, case_id, clock=clock, rules=rules, reason="回访未解决")
    clock.advance(timedelta(hours=2))
    cases.return_case(city, SANITATION, case_id, clock=clock, rules=rules, reason="不属本部门")
    cases.dispatch_case(
        city, DISPATCHER, case_id, clock=clock, rules=rules, department_code="roads"
    )
    with city.reader() as s:
        live = {
            r.facts.unit: (r.facts.callbacks, r.resolution_rate)
            for r in hotline_rates(s, month_period("2026-03", "Asia/Shanghai"), desk.hotline)
        }
    assert live["sanitation"] == (1, 0.0) and live.get("roads", (0, None))[0] == 0
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    rows = ranking(lake.connect(), "2026-03", "department", tz="Asia/Shanghai").table.to_pylist()
    in_lake = {r["unit"]: (r["callbacks"], r["resolution_rate"]) for r in rows}
    assert in_lake["sanitation"] == live["sanitation"]
    assert in_lake.get("roads", (0, None))[0] == 0
