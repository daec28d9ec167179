"""An operator whose feed shows more bikes than its fleet quota: one alert (rule
``bikes.fleet_over_quota``), a case for the operator's department, updated each round it stays
over, cleared (and its case closed by the system) when the fleet is back within the quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.cases.config import CaseRules
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.sensing import alerting, bikewatch
from onegrid.sensing.alerting import SYSTEM_PRINCIPAL
from onegrid.sensing.domain.bikes import BikeChange, ParkedGroup
from onegrid.sensing.models import AlertRow
from tests.integration.sensing.city import CITY, City

ROUND = timedelta(minutes=1)


@pytest.fixture
def operators(db: Database, city: City, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        for code in ("bikeco-ops", "ridego-ops"):
            people.create_department(s, code, f"运营{code}", clock, kind="operator")
        bikewatch.set_operator(s, "bikeco", "BikeCo", "bikeco-ops", clock, fleet_quota=10)
        bikewatch.set_operator(s, "ridego", "RideGo", "ridego-ops", clock)  # no quota


def fleet(op: str, bikes: int) -> bikewatch.FeedReading:
    """``bikes`` spread one to a spot across the west district (no area over capacity)."""
    spots = [ParkedGroup(op, 116.3005 + 0.0003 * i, 39.905 + 0.0001 * i, 1) for i in range(bikes)]
    return bikewatch.FeedReading(op, spots)


def watch(db: Database, clock: FixedClock, rules: CaseRules, **bikes: int) -> bikewatch.WatchReport:
    readings = [fleet(op, n) for op, n in bikes.items()]
    report = bikewatch.watch_once(
        db, clock, cell_capacity=40, grace_s=600, readings=readings, timezone="Asia/Shanghai"
    )
    for alert_id in report.written.raised:
        alerting.after_raise(db, alert_id, SYSTEM_PRINCIPAL, clock, rules)
    for alert_id in report.written.cleared:
        alerting.after_clear(db, alert_id, clock, rules)
    clock.advance(ROUND)
    return report


def fleet_alerts(db: Database) -> list[AlertRow]:
    with db.reader() as s:
        rows = list(
            s.query(AlertRow)
            .filter(AlertRow.rule_code == bikewatch.FLEET_RULE)
            .order_by(AlertRow.id)
        )
        for r in rows:
            s.expunge(r)
    return rows


def test_a_fleet_over_quota_raises_one_alert_and_case_until_it_falls_back(
    db: Database, clock: FixedClock, rules: CaseRules, operators: None
) -> None:
    within = watch(db, clock, rules, bikeco=10, ridego=25)
    assert within.over_quota == [] and within.written.raised == []
    raised_at = clock.now()
    first = watch(db, clock, rules, bikeco=12, ridego=25)
    assert first.over == 0  # no parking area or cell is over capacity: only the fleet
    assert first.over_quota == [("bikeco", 12, 10)]
    assert [(e.change, e.operator, e.fleet) for e in first.fleet_events] == [
        (BikeChange.RAISED, "bikeco", 12)
    ]
    (alert,) = fleet_alerts(db)
    assert first.written.raised == [alert.id]
    assert (alert.subject_kind, alert.subject, alert.status) == (
        "bike_operator",
        "bikeco",
        "active",
    )
    assert (alert.category_code, alert.area_code, alert.raised_at) == ("E0506", CITY, raised_at)
    assert alert.description.startswith("BikeCo's feed shows 12 shared bikes in the city")
    assert (alert.department_code, alert.case_state) == ("bikeco-ops", "opened")
    assert alert.case_note == "the operator whose fleet is over its quota"
    with db.reader() as s:
        case = get_case(s, alert.case_id or 0)
    assert (case.channel, case.category_code, case.status) == ("sensor", "E0506", "to_file")
    assert "Routed to bikeco-ops: the operator whose fleet is over its quota" in case.description

    # Still over, more of them: the same alert, its count and peak follow; no new case.
    again = watch(db, clock, rules, bikeco=15, ridego=25)
    assert again.written.raised == [] and again.written.cleared == []
    (same,) = fleet_alerts(db)
    assert (same.id, same.fire_count, same.last_value, same.peak_value) == (alert.id, 2, 15, 15)
    watch(db, clock, rules, bikeco=11, ridego=25)
    (same,) = fleet_alerts(db)
    assert (same.fire_count, same.last_value, same.peak_value) == (3, 11, 15)

    closing = clock.now()
    back = watch(db, clock, rules, bikeco=10, ridego=25)
    assert back.over_quota == [] and back.written.cleared == [alert.id]
    (done,) = fleet_alerts(db)
    assert (done.status, done.open_key, done.cleared_at) == ("cleared", None, closing)
    with db.reader() as s:
        case = get_case(s, alert.case_id or 0)
        last = history_of(s, case.id)[-1]
    assert (case.status, last.action, last.actor) == ("closed", "auto_close", "system")
    assert "the fleet fell back to 10 (peak 15)" in last.reason

    # Over again later: a new episode, a new alert and case.
    watch(db, clock, rules, bikeco=13, ridego=25)
    assert [a.status for a in fleet_alerts(db)] == ["cleared", "active"]


def test_a_round_without_the_operators_feed_leaves_its_alert_alone(
    db: Database, clock: FixedClock, rules: CaseRules, operators: None
) -> None:
    watch(db, clock, rules, bikeco=12)
    report = bikewatch.watch_once(db, clock, cell_capacity=40, grace_s=600, readings=[])
    assert report.fleet_events == [] and report.fleets == {}
    (alert,) = fleet_alerts(db)
    assert (alert.status, alert.fire_count) == ("active", 1)
    # The quota is lifted: the alert clears at the next round, whatever the feed says.
    with db.unit_of_work() as s:
        bikewatch.set_operator(s, "bikeco", "BikeCo", "bikeco-ops", clock)
    cleared = watch(db, clock, rules, bikeco=30)
    assert cleared.written.cleared == [alert.id]
    assert fleet_alerts(db)[0].status == "cleared"
