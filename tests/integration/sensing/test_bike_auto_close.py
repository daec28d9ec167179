"""A shared-bike case closes by itself when the count falls back: the system's ``auto_close``
through the workflow, recorded as done by ``system`` with the clearing count as the reason. No
person (not even an admin) and no API key may use that transition."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.core.errors import PermissionDenied
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.sensing import alerting, bikewatch
from onegrid.sensing.alerting import SYSTEM_PRINCIPAL
from onegrid.sensing.domain.bikes import ParkedGroup
from onegrid.sensing.models import AlertRow
from tests.integration.sensing.city import City

GRACE = 600
SPOT = (116.305, 39.91)  # in the west district
DEPARTMENT = "bikeco-ops"


def _user(role: Role, scope: Scope, subject_id: int = 1) -> Principal:
    return Principal(subject_id, role.value, PrincipalKind.USER, (Grant(role, scope),))


LEADER = _user(Role.SHIFT_LEADER, Scope.city())
DISPATCHER = _user(Role.DISPATCHER, Scope.city(), 2)
HANDLER = _user(Role.DEPARTMENT_HANDLER, Scope.department(DEPARTMENT), 3)
ADMIN = _user(Role.CITY_ADMIN, Scope.city(), 4)
GATEWAY_KEY = Principal(
    5, "gateway", PrincipalKind.API_KEY, (Grant(Role.SENSOR_GATEWAY, Scope.city()),)
)


@pytest.fixture
def parking(db: Database, city: City, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        people.create_department(s, DEPARTMENT, "共享单车运营", clock, kind="operator")
        bikewatch.set_operator(s, "bikeco", "BikeCo", DEPARTMENT, clock)
        bikewatch.set_area(s, "P-1", "Metro exit A", bikewatch.buffer(*SPOT, 25.0), 5, clock)


def _round(db: Database, clock: FixedClock, rules: CaseRules, bikes: int) -> bikewatch.WatchReport:
    reading = bikewatch.FeedReading("bikeco", [ParkedGroup("bikeco", *SPOT, bikes)])
    report = bikewatch.watch_once(db, clock, cell_capacity=40, grace_s=GRACE, readings=[reading])
    for alert_id in report.written.raised:
        alerting.after_raise(db, alert_id, SYSTEM_PRINCIPAL, clock, rules)
    for alert_id in report.written.cleared:
        alerting.after_clear(db, alert_id, clock, rules)
    clock.advance(timedelta(seconds=GRACE))
    return report


def _raise(db: Database, clock: FixedClock, rules: CaseRules) -> AlertRow:
    assert _round(db, clock, rules, 9).written.raised == []  # over, within the grace period
    (alert_id,) = _round(db, clock, rules, 9).written.raised
    with db.reader() as s:
        alert = s.get(AlertRow, alert_id)
        assert alert is not None and alert.case_id is not None, alert
        s.expunge(alert)
    return alert


@pytest.mark.parametrize("worked_on", [False, True], ids=["to_file", "handling"])
def test_the_case_closes_itself_when_the_bikes_are_gone(
    db: Database, clock: FixedClock, rules: CaseRules, parking: None, worked_on: bool
) -> None:
    alert = _raise(db, clock, rules)
    case_id = alert.case_id or 0
    if worked_on:
        common = {"clock": clock, "rules": rules}
        cases.file_case(db, LEADER, case_id, **common)
        cases.dispatch_case(db, DISPATCHER, case_id, department_code=DEPARTMENT, **common)
        cases.accept_case(db, HANDLER, case_id, **common)
    assert _round(db, clock, rules, 9).written.cleared == []  # still over: the same alert
    closing = clock.now()
    assert _round(db, clock, rules, 3).written.cleared == [alert.id]
    with db.reader() as s:
        case = get_case(s, case_id)
        last = history_of(s, case_id)[-1]
        stored = s.get(AlertRow, alert.id)
        assert stored is not None and stored.clear_noted and stored.status == "cleared"
    assert (case.status, case.closed_at) == ("closed", closing)
    assert case.step is None  # the running step (dispatch, or handling) stopped
    assert (last.action, last.actor, last.actor_name, last.to_status) == (
        "auto_close",
        "system",
        "sensing ingester",
        "closed",
    )
    assert last.from_status == ("handling" if worked_on else "to_file")
    assert last.reason.startswith(f"cleared by the sensor: alert #{alert.id} cleared at")
    assert "fell back to 3 (peak 9)" in last.reason
    # A second clear of the same alert (a redelivery, a settle after a crash) changes nothing.
    alerting.after_clear(db, alert.id, clock, rules)
    with db.reader() as s:
        assert history_of(s, case_id)[-1].id == last.id


def test_a_case_people_closed_first_is_left_alone(
    db: Database, clock: FixedClock, rules: CaseRules, parking: None
) -> None:
    alert = _raise(db, clock, rules)
    case_id = alert.case_id or 0
    cases.cancel_case(db, LEADER, case_id, clock=clock, rules=rules, reason="seen: not ours")
    assert _round(db, clock, rules, 0).written.cleared == [alert.id]
    with db.reader() as s:
        assert get_case(s, case_id).status == "cancelled"
        assert [h.action for h in history_of(s, case_id)] == ["create", "cancel"]


@pytest.mark.parametrize("who", [LEADER, ADMIN, GATEWAY_KEY], ids=["leader", "admin", "key"])
def test_no_person_and_no_key_may_auto_close(
    db: Database, clock: FixedClock, rules: CaseRules, parking: None, who: Principal
) -> None:
    alert = _raise(db, clock, rules)
    cmd = Command(Action.AUTO_CLOSE, reason="cleared by the sensor")
    with pytest.raises(PermissionDenied, match="only the system"):
        cases.act(db, who, alert.case_id or 0, cmd, clock=clock, rules=rules)
    with db.reader() as s:
        assert get_case(s, alert.case_id or 0).status == "to_file"
