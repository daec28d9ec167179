"""From alerts to cases: open one case per alert through the normal workflow (channel
``sensor``), and show on the case when the alert fires again or clears.

Routing: a department named when the alert was raised (a bike operator's), else the owner of the
component the device is mounted on, else the device's owner, else the department the grid's duty
rules name for the class and place (owner rule, or the territorial unit). The case's own dispatch
suggestion comes from the duty rules as for any case; the alert records the department it was
routed to, and the case description says why.

Each step is one transaction: the case and the alert's link to it land together. A retry after a
crash finds the same case (the alert id is the case's idempotency key and external reference).

When the condition ends, the case is told. A shared-bike case whose count fell back is closed by
the system itself (``auto_close``, recorded as done by ``system``, the clearing count as the
reason) as long as nobody has reported work back on it yet; past that, people close it after the
check as for any case, and the clear is only noted.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onegrid.assets.queries import find_component
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import CLOSED_STATUSES, Channel, Status, Urgency
from onegrid.cases.domain.workflow import Action, allowed_actions
from onegrid.cases.history import Actor, append, entry_values
from onegrid.cases.queries import get_case
from onegrid.cases.services import act_in, create_case_in
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import DomainError
from onegrid.core.logging import get_logger
from onegrid.db.session import Database
from onegrid.grid.domain import Location
from onegrid.grid.queries import get_area, locate, responsible_department
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.sensing.bikewatch import FLEET_RULE
from onegrid.sensing.bikewatch import RULE as BIKE_RULE
from onegrid.sensing.models import AlertRow, DeviceRow
from onegrid.sensing.store import CASE_FAILED, CASE_OPENED, CASE_PENDING, CLEARED, Written

log = get_logger("onegrid.sensing.alerting")
SENSING_ACTOR = Actor("system:sensing", "sensing", None)
SYSTEM_PRINCIPAL = Principal(
    None, "sensing ingester", PrincipalKind.SYSTEM, (Grant(Role.SENSOR_GATEWAY, Scope.city()),)
)
"""The server itself: opens the MQTT ingester's cases and closes the cases that clear."""
CLOSES_ON_CLEAR = frozenset({BIKE_RULE, FLEET_RULE})
"""Rules whose cases the system closes when the condition ends: bikes moved away (or a fleet
back within its quota, read from the same feed) need no one on site, while a cover that closed
again still wants an inspector to look."""


@dataclass(frozen=True)
class Routing:
    department: str | None
    why: str


def _route(session: Session, alert: AlertRow, location: Location, on: date) -> Routing:
    if alert.department_code:  # set when raised: the bike operator concerned
        if alert.rule_code == FLEET_RULE:
            return Routing(alert.department_code, "the operator whose fleet is over its quota")
        return Routing(alert.department_code, "the operator whose bikes are parked there")
    if alert.component_id:
        component = find_component(session, alert.component_id)
        if component is not None and component.owner:
            return Routing(component.owner, f"owner of component {component.id}")
    if alert.subject_kind == "device":
        device = session.get(DeviceRow, alert.subject)
        if device is not None and device.owner_department:
            return Routing(device.owner_department, f"owner of device {device.id}")
    if alert.category_code:
        duty = responsible_department(session, alert.category_code, location, on=on)
        if duty is not None:
            return Routing(duty.department_code, duty.explanation)
    return Routing(None, "no department is responsible for this class and place")


def _place(session: Session, alert: AlertRow, today: date) -> tuple[float, float] | None:
    if alert.lon is not None and alert.lat is not None:
        return alert.lon, alert.lat
    if alert.subject_kind == "area":
        point = get_area(session, alert.subject, today).geometry.representative_point()
        return float(point.x), float(point.y)
    return None


def _description(alert: AlertRow, routing: Routing) -> str:
    to = routing.department or "the command centre"
    return (
        f"{alert.description}\n\nSensor alert #{alert.id} (rule {alert.rule_code}), "
        f"condition since {alert.started_at:%Y-%m-%d %H:%M} UTC. Routed to {to}: {routing.why}."
    )


def _open(
    session: Session, alert: AlertRow, principal: Principal, clock: Clock, rules: CaseRules
) -> None:
    today = city_today(clock, rules.timezone)
    place = _place(session, alert, today)
    if place is None or alert.category_code is None:
        raise DomainError("the alert has no place or no case class")
    location = locate(session, place[0], place[1], today)
    if location is None:
        raise DomainError(f"the point {place} lies outside the city")
    routing = _route(session, alert, location, today)
    component = alert.component_id if alert.category_code.startswith("C") else None
    new = NewCase(
        category_code=alert.category_code,
        channel=Channel.SENSOR,
        description=_description(alert, routing),
        lon=place[0],
        lat=place[1],
        urgency=Urgency(alert.urgency) if alert.urgency else None,
        component_id=component,
        external_ref=f"sensing-alert:{alert.id}:{alert.episodes}",
        tags=("sensor", f"rule:{alert.rule_code}"[:32]),
    )
    created = create_case_in(
        session,
        principal,
        new,
        clock=clock,
        rules=rules,
        idempotency_key=f"sensing-alert-{alert.id}-{alert.episodes}",
    )
    alert.lon, alert.lat = place
    alert.case_id = created.case.id
    alert.case_number = created.case.number
    alert.department_code = routing.department
    alert.case_state = CASE_OPENED
    alert.case_note = routing.why[:500]


def _note(session: Session, alert: AlertRow, action: str, reason: str, now: datetime) -> bool:
    """Append a line to the case's history without changing its state; False when the case is
    closed already (nothing to add to)."""
    assert alert.case_id is not None
    case = get_case(session, alert.case_id)
    if Status(case.status) in CLOSED_STATUSES:
        return False
    append(
        session,
        **entry_values(
            case.id,
            now,
            SENSING_ACTOR,
            action,
            case.status,
            case.status,
            case.version,
            reason,
            details={"alert_id": alert.id, "rule": alert.rule_code, "value": alert.last_value},
        ),
    )
    return True


def _mark_failed(db: Database, alert_id: int, exc: DomainError) -> None:
    log.warning("sensing.case_failed", alert=alert_id, reason=exc.message)
    with db.unit_of_work() as session:
        alert = session.get(AlertRow, alert_id, with_for_update=True)
        if alert is not None and alert.case_state == CASE_PENDING:
            alert.case_state = CASE_FAILED
            alert.case_note = exc.message[:500]


def after_raise(
    db: Database, alert_id: int, principal: Principal, clock: Clock, rules: CaseRules
) -> None:
    """An alert was raised: open its case (once; a condition that ended within one batch still
    happened, and its case is told at once that it ended)."""
    try:
        with db.unit_of_work() as session:
            alert = session.get(AlertRow, alert_id, with_for_update=True)
            if alert is not None and alert.case_state == CASE_PENDING:
                _open(session, alert, principal, clock, rules)
    except DomainError as exc:
        _mark_failed(db, alert_id, exc)


def after_reopen(
    db: Database, alert_id: int, principal: Principal, clock: Clock, rules: CaseRules
) -> None:
    """An alert fired again soon after it cleared: tell its case, or open a new case if that
    one was closed meanwhile."""
    try:
        with db.unit_of_work() as session:
            alert = session.get(AlertRow, alert_id, with_for_update=True)
            if alert is None:
                return
            if alert.case_state == CASE_OPENED and alert.case_id is not None:
                reason = f"sensor alert #{alert.id} fired again: {alert.description}"
                if _note(session, alert, "sensor_refired", reason, clock.now()):
                    return
                alert.case_note = f"previous case {alert.case_number} was closed"
                alert.case_id = alert.case_number = None
                alert.case_state = CASE_PENDING
            if alert.case_state in (CASE_PENDING, CASE_FAILED) and alert.category_code:
                alert.case_state = CASE_PENDING
                _open(session, alert, principal, clock, rules)
    except DomainError as exc:
        _mark_failed(db, alert_id, exc)


def _auto_close(
    session: Session, alert: AlertRow, reason: str, clock: Clock, rules: CaseRules
) -> bool:
    """Close the alert's case through the workflow if its rule says so and the case is a sensor
    case still before the check; False when it stays open for people to close."""
    assert alert.case_id is not None
    if alert.rule_code not in CLOSES_ON_CLEAR:
        return False
    case = get_case(session, alert.case_id)
    if case.channel != Channel.SENSOR.value:
        return False
    if Action.AUTO_CLOSE not in allowed_actions(Status(case.status)):
        return False
    act_in(
        session,
        SYSTEM_PRINCIPAL,
        case.id,
        Command(Action.AUTO_CLOSE, reason=reason),
        clock=clock,
        rules=rules,
        expected_version=case.version,
    )
    return True


def after_clear(db: Database, alert_id: int, clock: Clock, rules: CaseRules) -> None:
    """The condition ended: close the case if its rule lets the system do it, else say so on
    the case (once per clear)."""
    with db.unit_of_work() as session:
        alert = session.get(AlertRow, alert_id, with_for_update=True)
        if alert is None or alert.status != CLEARED or alert.clear_noted:
            return
        if alert.case_state == CASE_PENDING:
            return  # its case is not open yet; ``settle`` comes back to it
        if alert.case_id is not None and alert.case_state == CASE_OPENED:
            when = alert.cleared_at or clock.now()
            if alert.rule_code in (BIKE_RULE, FLEET_RULE):
                what = "fleet" if alert.rule_code == FLEET_RULE else "count"
                ended = (
                    f"the {what} fell back to {alert.last_value:.0f} (peak {alert.peak_value:.0f})"
                )
            else:
                ended = f"the condition ended (last value {alert.last_value})"
            reason = (
                f"cleared by the sensor: alert #{alert.id} cleared at {when:%Y-%m-%d %H:%M} UTC, "
                f"{ended}"
            )
            if not _auto_close(session, alert, reason, clock, rules):
                _note(session, alert, "sensor_cleared", reason, clock.now())
        alert.clear_noted = True


def settle(
    db: Database, principal: Principal, clock: Clock, rules: CaseRules, limit: int = 1000
) -> int:
    """Open the cases still pending and note the clears not yet noted (after a restart)."""
    with db.reader() as session:
        ids = list(
            session.execute(
                select(AlertRow.id, AlertRow.status)
                .where(
                    or_(
                        AlertRow.case_state == CASE_PENDING,
                        (AlertRow.status == CLEARED) & AlertRow.clear_noted.is_(False),
                    )
                )
                .order_by(AlertRow.id)
                .limit(limit)
            ).all()
        )
    for alert_id, status in ids:
        after_raise(db, alert_id, principal, clock, rules)
        if status == CLEARED:
            after_clear(db, alert_id, clock, rules)
    return len(ids)


class CaseWorker:
    """Opens and annotates cases off the ingest path, in the order alerts changed.

    Listens to the pipeline (``pipeline.alert_listeners``: told as soon as a batch's alerts are
    stored, before its readings; ``pipeline.listeners`` works too, after both); at start, and
    every ``settle_s``, it also settles what a crash may have left (alerts still waiting for a
    case, clears not yet noted).
    """

    def __init__(
        self,
        db: Database,
        principal: Principal,
        clock: Clock,
        rules: CaseRules,
        settle_s: float = 60.0,
    ) -> None:
        self.db, self.principal, self.clock, self.rules = db, principal, clock, rules
        self.settle_s = settle_s
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, written: Written, _messages: Sequence[object] = ()) -> None:
        for alert_id in written.raised:
            self._queue.put(("raised", alert_id))
        for alert_id in written.reopened:
            self._queue.put(("reopened", alert_id))
        for alert_id in written.cleared:
            self._queue.put(("cleared", alert_id))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sensing-cases", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def _step(self, kind: str, alert_id: int) -> None:
        if kind == "raised":
            after_raise(self.db, alert_id, self.principal, self.clock, self.rules)
        elif kind == "reopened":
            after_reopen(self.db, alert_id, self.principal, self.clock, self.rules)
        else:
            after_clear(self.db, alert_id, self.clock, self.rules)

    def _run(self) -> None:
        next_settle = 0.0
        while True:
            if time.monotonic() >= next_settle:
                next_settle = time.monotonic() + self.settle_s
                try:
                    settle(self.db, self.principal, self.clock, self.rules)
                except Exception as exc:  # noqa: BLE001 - retried at the next settle
                    log.error("sensing.settle_failed", error=repr(exc)[:300])
            try:
                item = self._queue.get(timeout=self.settle_s)
            except queue.Empty:
                continue
            try:
                if item is None:
                    return
                try:
                    self._step(*item)
                except Exception as exc:  # noqa: BLE001 - settle() picks it up again
                    log.error("sensing.case_step_failed", alert=item[1], error=repr(exc)[:300])
            finally:
                self._queue.task_done()
