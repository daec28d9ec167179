"""The case workflow through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import Channel, Status
from onegrid.cases.domain.timelimits import Limit, LimitUnit
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import HISTORY, history_of
from onegrid.cases.models import CaseRow
from onegrid.cases.records import CaseRecord
from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict, InvalidInput, PermissionDenied
from onegrid.db.session import Database
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.integration.cases.city import (
    CITIZEN,
    CORE,
    CORE_SUB,
    DISPATCHER,
    IN_SUBURB,
    INSPECTOR,
    OUTSIDE,
    REGISTRAR,
    ROADS,
    SANITATION,
    SHIFT,
    principal,
)
from tests.integration.cases.helpers import new_case, photo, report, to_handling

pytestmark = pytest.mark.postgres
DEPARTMENT_UPDATE = "open311.department_update"


def _count(db: Database, table: object = CaseRow) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_an_inspector_report_is_located_numbered_and_timed(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules)
    assert rec.number == "E0102202603020001"
    assert rec.status == Status.TO_FILE.value and rec.version == 1
    assert (rec.district_code, rec.subdistrict_code) == (CORE, CORE_SUB)
    assert rec.unit_grid_code and rec.unit_grid_code.startswith(CORE_SUB)
    assert rec.suggested_department_code is None  # routing waits for dispatch…
    routed = services.create_case(
        city, INSPECTOR, report(), clock=clock, rules=rules, route=True
    ).case
    assert routed.suggested_department_code == "sanitation"  # …unless asked: E01 → sanitation
    assert (rec.region_class, rec.limits_version, rec.urgency) == ("core", "2025.01", "normal")
    # Reported Monday 09:00 Beijing; dispatch limit 2 working hours → 11:00 (03:00 UTC).
    assert rec.step == "dispatch" and rec.step_deadline == datetime(2026, 3, 2, 3, tzinfo=UTC)
    second = new_case(city, clock, rules)
    assert second.number == "E0102202603020003"
    with city.reader() as s:
        [entry] = history_of(s, rec.id)
    assert (entry.action, entry.from_status, entry.to_status, entry.role) == (
        "create",
        None,
        "to_file",
        "inspector",
    )


def test_the_whole_lifecycle_leaves_a_complete_history(
    city: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    rec = new_case(city, clock, rules, channel=Channel.WEB_APP, by=CITIZEN)
    assert rec.status == "to_verify" and rec.reporter_user_id == CITIZEN.user_id
    steps = [
        (services.verify_case, INSPECTOR, {}),
        (services.file_case, SHIFT, {}),
        (services.dispatch_case, DISPATCHER, {}),
        (services.accept_case, SANITATION, {}),
        (services.handle_case, SANITATION, {"reason": "crew on the way"}),
    ]
    for step, who, kw in steps:
        clock.advance(timedelta(minutes=10))
        rec = step(city, who, rec.id, clock=clock, rules=rules, **kw)
    assert rec.status == "handling" and rec.department_code == "sanitation"
    pic = photo(city, clock, rec.id, tmp_path)
    rec = services.report_back_case(
        city, SANITATION, rec.id, clock=clock, rules=rules, reason="cleared", attachments=[pic]
    )
    rec = services.check_case(city, INSPECTOR, rec.id, clock=clock, rules=rules, passed=True)
    rec = services.close_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.status == "closed" and rec.closed_at == clock.now() and rec.version == 9
    with city.reader() as s:
        entries = history_of(s, rec.id)
    assert [e.action for e in entries] == [
        "create",
        "verify",
        "file",
        "dispatch",
        "accept",
        "handle",
        "report_back",
        "check",
        "close",
    ]
    assert [e.version for e in entries] == list(range(1, 10))
    assert entries[6].attachment_ids == [pic] and entries[6].reason == "cleared"
    assert entries[3].details == {"department_code": "sanitation"}
    assert {e.role for e in entries[1:]} == {
        "inspector",
        "shift_leader",
        "dispatcher",
        "department_handler",
    }


def test_roles_and_areas_are_enforced(city: Database, clock: FixedClock, rules: CaseRules) -> None:
    rec = new_case(city, clock, rules)
    with pytest.raises(PermissionDenied, match=r"case\.file"):
        services.file_case(city, INSPECTOR, rec.id, clock=clock, rules=rules)
    other_area = principal(Role.SHIFT_LEADER, Scope.area("110112"))
    with pytest.raises(PermissionDenied, match="do not cover"):
        services.file_case(city, other_area, rec.id, clock=clock, rules=rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    with pytest.raises(PermissionDenied):
        services.accept_case(city, ROADS, rec.id, clock=clock, rules=rules)
    assert len(_history(city, rec.id)) == 3


def test_a_delegated_permission_takes_only_its_steps_on_its_departments_cases(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    """``act_in(permission=…)``: a department system's key takes the department's steps under
    ``open311.department_update`` (it holds no ``case.*`` permission), on its own department's
    cases only, named in the history; no other step and no other permission goes this way."""
    key = Principal(
        9,
        "sanitation-system",
        PrincipalKind.API_KEY,
        (Grant(Role.OPEN311_CLIENT, Scope.department("sanitation")),),
    )
    roads = replace(key, grants=(Grant(Role.OPEN311_CLIENT, Scope.department("roads")),))
    rec = new_case(city, clock, rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    accept = Command(Action.ACCEPT)

    def act(who: Principal, cmd: Command, permission: str | None) -> CaseRecord:
        with city.unit_of_work() as s:
            return services.act_in(
                s, who, rec.id, cmd, clock=clock, rules=rules, permission=permission
            )

    with pytest.raises(PermissionDenied, match=r"case\.accept"):
        act(key, accept, None)  # the step's own permission: not the key's
    with pytest.raises(PermissionDenied, match="department sanitation"):
        act(roads, accept, DEPARTMENT_UPDATE)
    with pytest.raises(ValueError, match="does not authorize"):
        act(key, accept, "hotline.callback")
    assert _history(city, rec.id) == ["create", "file", "dispatch"]
    assert act(key, accept, DEPARTMENT_UPDATE).status == Status.HANDLING.value
    with city.reader() as s:
        last = history_of(s, rec.id)[-1]
    assert (last.action, last.actor, last.role) == ("accept", "api_key:9", "open311_client")
    with pytest.raises(ValueError, match="does not authorize hold_request"):
        act(key, Command(Action.HOLD_REQUEST, reason="雨季"), DEPARTMENT_UPDATE)


def _history(db: Database, case_id: int) -> list[str]:
    with db.reader() as s:
        return [e.action for e in history_of(s, case_id)]


def test_a_stale_version_is_a_conflict_and_nothing_is_written(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules, expected_version=1)
    with pytest.raises(Conflict) as caught:
        services.cancel_case(
            city, SHIFT, rec.id, clock=clock, rules=rules, expected_version=1, reason="dup"
        )
    assert caught.value.current["status"] == "to_dispatch"
    assert caught.value.current["version"] == 2
    assert _history(city, rec.id) == ["create", "file"]


def test_bad_input_is_refused_with_its_rule_and_no_partial_write(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    cases = [
        (report(category="E9999"), "known_category"),
        (report(where=OUTSIDE), "inside_city"),
        (report(description=" "), "required"),
        (report(category="C0101"), "component_required"),
        (report(channel=Channel.HOTLINE), "channel_role"),
    ]
    for new, rule in cases:
        with pytest.raises(InvalidInput) as caught:
            services.create_case(city, INSPECTOR, new, clock=clock, rules=rules)
        assert caught.value.problems[0].rule == rule
    assert _count(city) == 0 and _count(city, HISTORY) == 0
    rec = new_case(city, clock, rules)
    with pytest.raises(InvalidInput) as caught:
        services.cancel_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert caught.value.problems[0].rule == "reason_required"
    with pytest.raises(InvalidInput) as caught:
        services.close_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert caught.value.problems[0].rule == "allowed_transition"
    assert _history(city, rec.id) == ["create"]


def test_an_idempotency_key_returns_the_same_case(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    first = services.create_case(
        city, INSPECTOR, report(), clock=clock, rules=rules, idempotency_key="k-1"
    )
    again = services.create_case(
        city, INSPECTOR, report(), clock=clock, rules=rules, idempotency_key="k-1"
    )
    assert first.created and not again.created and again.case.id == first.case.id
    with pytest.raises(InvalidInput) as caught:
        services.create_case(
            city,
            INSPECTOR,
            report(description="other"),
            clock=clock,
            rules=rules,
            idempotency_key="k-1",
        )
    assert caught.value.problems[0].rule == "idempotency_key_reuse"
    other_actor = services.create_case(
        city,
        SHIFT.__class__(99, "x", INSPECTOR.kind, INSPECTOR.grants),
        report(),
        clock=clock,
        rules=rules,
        idempotency_key="k-1",
    )
    assert other_actor.created
    assert _count(city) == 2


def test_a_suburban_report_runs_on_suburban_limits(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules, where=IN_SUBURB, category="E0501")
    assert rec.region_class == "suburban"
    rec = services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    dispatched = services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    assert dispatched.department_code == "suburb-office"  # the territorial unit (属地兜底)
    # Dispatch limit: 4 working hours from Monday 09:00: 13:30+1 h = 14:30 Beijing.
    assert rec.step_deadline == datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def test_a_case_keeps_the_limits_of_the_day_it_was_filed(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    clock.set(datetime(2026, 10, 30, 1, tzinfo=UTC))  # Friday 09:00 Beijing
    old = new_case(city, clock, rules)
    late = new_case(city, clock, rules)  # reported on Friday, filed on Monday
    services.file_case(city, SHIFT, old.id, clock=clock, rules=rules)
    clock.set(datetime(2026, 11, 2, 1, tzinfo=UTC))  # Monday 09:00, version 2026.11 in force
    new = new_case(city, clock, rules)
    assert (old.limits_version, late.limits_version, new.limits_version) == (
        "2025.01",
        "2025.01",
        "2026.11",
    )
    filed = services.file_case(city, SHIFT, late.id, clock=clock, rules=rules)
    assert filed.limits_version == "2026.11"
    services.file_case(city, SHIFT, new.id, clock=clock, rules=rules)
    for rec in (old, late, new):
        services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    with city.reader() as s:
        rows = {r.id: (r.limits_version, r.step_deadline) for r in s.scalars(select(CaseRow))}
    # Exposed rubbish: 4 working hours under 2025.01, 3 under 2026.11 (from Monday 09:00).
    assert rows[old.id] == ("2025.01", datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    assert rows[late.id] == ("2026.11", datetime(2026, 11, 2, 4, tzinfo=UTC))
    assert rows[new.id] == ("2026.11", datetime(2026, 11, 2, 4, tzinfo=UTC))


def test_hold_stops_the_clock_and_extensions_add_time(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    deadline = rec.step_deadline
    assert deadline is not None
    rec = services.hold_case(city, SHIFT, rec.id, clock=clock, rules=rules, reason="season")
    clock.advance(timedelta(days=7))
    rec = services.resume_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.step_deadline == deadline + timedelta(days=7)  # a week of working days added
    rec = services.request_extension(
        city,
        SANITATION,
        rec.id,
        clock=clock,
        rules=rules,
        extension=Limit(1, LimitUnit.WORKING_DAYS),
        reason="parts",
    )
    assert rec.extension_pending == "1 working_days"
    rec = services.approve_extension(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.step_deadline == deadline + timedelta(days=8) and rec.extensions_granted == 1


def test_a_return_lets_the_pending_extension_lapse_for_the_next_department(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    three_days = Limit(3, LimitUnit.WORKING_DAYS)
    services.request_extension(
        city, SANITATION, rec.id, clock=clock, rules=rules, extension=three_days, reason="parts"
    )
    rec = services.return_case(city, SANITATION, rec.id, clock=clock, rules=rules, reason="roads")
    assert rec.extension_pending is None
    with city.reader() as s:
        assert history_of(s, rec.id)[-1].details["extension_lapsed"] == "3 working days"
    services.dispatch_case(
        city, DISPATCHER, rec.id, clock=clock, rules=rules, department_code="roads"
    )
    rec = services.accept_case(city, ROADS, rec.id, clock=clock, rules=rules)
    deadline = rec.step_deadline
    # Sanitation's request is gone: nothing to grant to roads, and roads may ask for itself.
    with pytest.raises(InvalidInput) as caught:
        services.approve_extension(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert caught.value.problems[0].rule == "pending_extension"
    rec = services.request_extension(
        city,
        ROADS,
        rec.id,
        clock=clock,
        rules=rules,
        extension=Limit(1, LimitUnit.WORKING_DAYS),
        reason="resurfacing",
    )
    assert rec.extension_pending == "1 working_days"
    rec = services.approve_extension(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.extensions_granted == 1 and rec.step_deadline == deadline + timedelta(days=1)


def test_merge_folds_a_duplicate_and_notes_it_on_the_survivor(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    keep = new_case(city, clock, rules)
    dup = new_case(city, clock, rules, channel=Channel.WEB_APP, by=CITIZEN)
    with pytest.raises(InvalidInput, match="itself"):
        services.merge_case(city, REGISTRAR, dup.id, into_case_id=dup.id, clock=clock, rules=rules)
    merged = services.merge_case(
        city,
        REGISTRAR,
        dup.id,
        into_case_id=keep.id,
        clock=clock,
        rules=rules,
        reason="same rubbish",
    )
    assert merged.status == "merged" and merged.merged_into_id == keep.id and merged.step is None
    assert _history(city, keep.id) == ["create", "duplicate_merged"]
    with pytest.raises(InvalidInput, match="merged"):
        services.merge_case(city, REGISTRAR, keep.id, into_case_id=dup.id, clock=clock, rules=rules)


def test_merge_needs_the_right_on_both_cases_and_an_open_target(
    city: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    core = new_case(city, clock, rules)
    suburb = new_case(city, clock, rules, where=IN_SUBURB)
    core_registrar = principal(Role.REGISTRAR, Scope.area(CORE), user_id=41)
    with pytest.raises(PermissionDenied, match=r"case\.merge.*110112"):
        services.merge_case(
            city, core_registrar, core.id, into_case_id=suburb.id, clock=clock, rules=rules
        )
    assert _history(city, core.id) == _history(city, suburb.id) == ["create"]
    closed = to_handling(city, clock, rules)
    shot = photo(city, clock, closed.id, tmp_path)
    services.report_back_case(
        city, SANITATION, closed.id, clock=clock, rules=rules, reason="done", attachments=[shot]
    )
    services.check_case(city, INSPECTOR, closed.id, clock=clock, rules=rules, passed=True)
    services.close_case(city, SHIFT, closed.id, clock=clock, rules=rules)
    with pytest.raises(InvalidInput) as caught:
        services.merge_case(
            city, REGISTRAR, core.id, into_case_id=closed.id, clock=clock, rules=rules
        )
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == (
        "into_case_id",
        "merge_target_open",
    )
    assert _history(city, core.id) == ["create"]
    assert _history(city, closed.id)[-1] == "close"


def test_split_dispatches_children_and_the_parent_closes_after_them(
    city: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    rec = new_case(city, clock, rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    with pytest.raises(InvalidInput) as caught:
        services.split_case(
            city,
            SHIFT,
            rec.id,
            parts=[services.SplitPart("roads")],
            lead_department_code="gardens",
            clock=clock,
            rules=rules,
        )
    assert {p.rule for p in caught.value.problems} == {"split_parts", "lead_among_parts"}
    result = services.split_case(
        city,
        SHIFT,
        rec.id,
        clock=clock,
        rules=rules,
        lead_department_code="sanitation",
        parts=[services.SplitPart("sanitation", "rubbish"), services.SplitPart("roads", "kerb")],
    )
    assert result.parent.status == "split" and result.parent.department_code == "sanitation"
    kids = result.children
    assert [c.status for c in kids] == ["dispatched", "dispatched"]
    assert [c.number for c in kids] == ["E0102202603020002", "E0102202603020003"]
    assert all(c.split_parent_id == rec.id and c.step == "handle" for c in kids)
    with pytest.raises(InvalidInput, match="still open"):
        services.close_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    for child, who in zip(kids, (SANITATION, ROADS), strict=True):
        services.accept_case(city, who, child.id, clock=clock, rules=rules)
        pic = photo(city, clock, child.id, tmp_path, by=who)
        services.report_back_case(
            city, who, child.id, clock=clock, rules=rules, reason="done", attachments=[pic]
        )
        services.check_case(city, INSPECTOR, child.id, clock=clock, rules=rules, passed=True)
        services.close_case(city, SHIFT, child.id, clock=clock, rules=rules)
    parent = services.close_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert parent.status == "closed"
    reopened = services.reopen_case(
        city, SHIFT, rec.id, clock=clock, rules=rules, reason="requester: still blocked"
    )
    assert reopened.status == "handling" and reopened.department_code == "sanitation"


def test_report_back_needs_a_photo_of_this_case(
    city: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    rec = to_handling(city, clock, rules)
    other = to_handling(city, clock, rules)
    foreign = photo(city, clock, other.id, tmp_path)
    with pytest.raises(InvalidInput) as caught:
        services.report_back_case(
            city, SANITATION, rec.id, clock=clock, rules=rules, reason="done", attachments=[foreign]
        )
    assert caught.value.problems[0].rule == "attachment_of_case"
    with pytest.raises(InvalidInput) as caught:
        services.report_back_case(city, SANITATION, rec.id, clock=clock, rules=rules, reason="done")
    assert caught.value.problems[0].rule == "attachments_required"


def test_history_rows_cannot_be_updated(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    new_case(city, clock, rules)
    with pytest.raises(Exception, match="append-only"), city.unit_of_work() as s:
        s.execute(text("UPDATE case_history SET reason = 'rewritten'"))
    with city.reader() as s:
        assert s.execute(text("SELECT reason FROM case_history")).scalar_one() == ""


def test_history_rows_cannot_be_deleted(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = new_case(city, clock, rules)
    with pytest.raises(Exception, match="append-only"), city.unit_of_work() as s:
        s.execute(text("DELETE FROM case_history"))
    with pytest.raises(Exception, match="append-only"), city.unit_of_work() as s:
        s.execute(HISTORY.delete().where(HISTORY.c.case_id == rec.id))
    with city.reader() as s:
        assert [e.action for e in history_of(s, rec.id)] == ["create"]


def test_lights_from_green_to_red(city: Database, clock: FixedClock, rules: CaseRules) -> None:
    rec = new_case(city, clock, rules)  # dispatch step: 2 working hours from 09:00
    reading = rec.reading(rules.calendar, clock.now())
    assert reading is not None and reading.light is Light.GREEN
    later = rec.reading(rules.calendar, clock.now() + timedelta(hours=1, minutes=45))
    assert later is not None and later.light is Light.YELLOW
    late = rec.reading(rules.calendar, clock.now() + timedelta(hours=3))
    assert late is not None and late.light is Light.RED and late.left < timedelta()
