"""The write path of the ingest: one transaction per batch for readings, dead letters, counters
and alert changes.

Readings go in with one ``executemany`` and ``ON CONFLICT DO NOTHING`` on their key (device,
quantity, time), so a message the broker delivers twice is stored once. On SQLite the times are
bound as the text SQLAlchemy's ``UtcDateTime`` itself stores (``YYYY-MM-DD HH:MM:SS.ffffff``,
UTC), which spares a Python type conversion per row on the hottest path. On PostgreSQL the
batch is copied (``COPY … FROM STDIN``, binary) into a temporary table emptied at each commit,
then inserted from there with ``ON CONFLICT DO NOTHING``: an ``executemany`` of the same rows
ran at a third of the speed and was the limit of the PostgreSQL ingest.

Alert changes arrive in order per alert; the many updates of an alert whose condition holds on
become one ``UPDATE`` per batch, and the alerts a batch raises go in with one ``INSERT``.

With several ingest processes (shards by device) an area rule cannot be counted in any one
process's memory: the store counts the rule's open device alerts in the area instead, in the
transaction that changed one of them. On PostgreSQL an advisory lock per area alert makes two
processes count one after the other (the second sees the first's alerts); on SQLite the
transaction holds the one write lock already. The unique ``open_key`` keeps it at one open
alert per rule and subject whatever happens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from onegrid.sensing.domain.engine import AlertEvent, Change, SubjectKind, alert_key
from onegrid.sensing.domain.rules import AREA_LEVELS, COMPONENT_CATEGORY, Rule
from onegrid.sensing.domain.units import QUANTITIES
from onegrid.sensing.models import (
    AlertRow,
    DeadLetterRow,
    DeviceRow,
    IngestCounterRow,
    ReadingRow,
)

READINGS: Table = ReadingRow.__table__  # type: ignore[assignment]
DEAD: Table = DeadLetterRow.__table__  # type: ignore[assignment]
COUNTERS: Table = IngestCounterRow.__table__  # type: ignore[assignment]
ALERTS: Table = AlertRow.__table__  # type: ignore[assignment]
DEVICES: Table = DeviceRow.__table__  # type: ignore[assignment]

_SQLITE_INSERT = (
    "INSERT INTO sensing_readings (device_id, quantity, observed_at, value) "
    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_PG_STAGE = "sensing_readings_in"
_PG_CREATE_STAGE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_PG_STAGE} (device_id varchar(64), "
    "quantity varchar(32), observed_at timestamptz, value float8) ON COMMIT DELETE ROWS"
)
_PG_COPY = f"COPY {_PG_STAGE} (device_id, quantity, observed_at, value) FROM STDIN (FORMAT BINARY)"
_PG_COPY_TYPES = ["varchar", "varchar", "timestamptz", "float8"]
_PG_FROM_STAGE = (
    "INSERT INTO sensing_readings (device_id, quantity, observed_at, value) "
    f"SELECT device_id, quantity, observed_at, value FROM {_PG_STAGE} ON CONFLICT DO NOTHING"
)

ACTIVE, CLEARED = "active", "cleared"
CASE_PENDING, CASE_NONE, CASE_OPENED, CASE_FAILED = "pending", "none", "opened", "failed"


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def sqlite_time(ts: float) -> str:
    """``ts`` as the text ``UtcDateTime`` stores on SQLite."""
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass
class Batch:
    """What one pass of the ingester writes together."""

    readings: list[tuple[str, str, float, float]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)
    events: list[AlertEvent] = field(default_factory=list)
    # Area rules by the rule they combine, counted in the database (``area_events``); empty
    # when the one engine counts them in memory.
    area_rules: Mapping[str, Sequence[Rule]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.readings or self.dead_letters or self.counters or self.events)


@dataclass
class Written:
    readings: int = 0
    raised: list[int] = field(default_factory=list)  # alert ids
    reopened: list[int] = field(default_factory=list)  # raised again soon after a clear
    cleared: list[int] = field(default_factory=list)


def insert_readings(conn: Connection, rows: Sequence[tuple[str, str, float, float]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        cache: dict[float, str] = {}
        params = []
        for device_id, quantity, ts, value in rows:
            text = cache.get(ts)
            if text is None:
                text = cache[ts] = sqlite_time(ts)
            params.append((device_id, quantity, text, value))
        conn.exec_driver_sql(_SQLITE_INSERT, params)
        return
    _copy_readings(conn, rows)


def _copy_readings(conn: Connection, rows: Sequence[tuple[str, str, float, float]]) -> None:
    info = conn.info  # lives with the database connection, as the temporary table does
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        if not info.get(_PG_STAGE):
            cur.execute(_PG_CREATE_STAGE)
            info[_PG_STAGE] = True
        times: dict[float, datetime] = {}
        with cur.copy(_PG_COPY) as copy:
            copy.set_types(_PG_COPY_TYPES)
            write = copy.write_row
            for device_id, quantity, ts, value in rows:
                when = times.get(ts)
                if when is None:
                    when = times[ts] = utc(ts)
                write((device_id, quantity, when, value))
        cur.execute(_PG_FROM_STAGE)


def add_counters(conn: Connection, counters: Counter[tuple[str, str]], now: datetime) -> None:
    if not counters:
        return
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(COUNTERS)
    stmt = ins.values(
        source=bindparam("s"), outcome=bindparam("o"), count=bindparam("n"), updated_at=now
    ).on_conflict_do_update(
        index_elements=[COUNTERS.c.source, COUNTERS.c.outcome],
        set_={"count": COUNTERS.c.count + ins.excluded.count, "updated_at": now},
    )
    conn.execute(stmt, [{"s": s, "o": o, "n": n} for (s, o), n in sorted(counters.items())])


def _case_category(rule: Rule, event: AlertEvent) -> tuple[str | None, str | None]:
    """The case class an alert opens, or None and why not."""
    if rule.category is None:
        return None, "the rule opens no case"
    if rule.category != COMPONENT_CATEGORY:
        return rule.category, None
    device = event.device
    if device is None or not device.component_id:
        return None, "the rule's case class is the component's, and the device is on none"
    return "C" + device.component_id[6:10], None


def _direction(rule: Rule) -> int:
    """+1 when a larger value is worse (the peak is the maximum), -1 when smaller is."""
    if rule.below is not None or (rule.change is not None and rule.change < 0):
        return -1
    return 1


def _new_alert(event: AlertEvent, now: datetime) -> dict[str, Any]:
    rule, device = event.rule, event.device
    category, why_not = _case_category(rule, event)
    unit = QUANTITIES[rule.quantity].unit if rule.quantity in QUANTITIES else None
    area = None
    if device is not None:
        areas = device.areas
        area = (
            areas.get("unit_grid")
            or areas.get("community")
            or areas.get("subdistrict")
            or areas.get("district")
        )
    elif event.subject_kind is SubjectKind.AREA:
        area = event.subject
    value = event.value
    return {
        "rule_code": rule.code,
        "subject_kind": event.subject_kind.value,
        "subject": event.subject,
        "open_key": event.key,
        "status": ACTIVE,
        "description": rule.describe(
            device=device.id if device else "", value=_fmt(value), unit=unit or "", area=area or ""
        ),
        "started_at": utc(event.started_at),
        "raised_at": now,
        "last_fired_at": utc(event.at),
        "cleared_at": None,
        "fire_count": 1,
        "episodes": 1,
        "first_value": value,
        "last_value": value,
        "peak_value": value,
        "unit": unit,
        "lon": device.lon if device else None,
        "lat": device.lat if device else None,
        "area_code": area,
        "component_id": device.component_id if device else None,
        "category_code": category,
        "urgency": rule.urgency,
        "department_code": None,
        "case_state": CASE_PENDING if category else CASE_NONE,
        "case_id": None,
        "case_number": None,
        "case_note": why_not,
        "clear_noted": False,
    }


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@dataclass
class _Pending:
    """Updates of one open alert not yet written."""

    count: int = 0
    at: float = 0.0
    value: float | None = None
    peak: float | None = None
    direction: int = 1

    def add(self, event: AlertEvent) -> None:
        self.count += 1
        self.at = max(self.at, event.at)
        self.value = event.value
        if event.value is not None and (
            self.peak is None or (event.value - self.peak) * self.direction > 0
        ):
            self.peak = event.value


def _p(name: str, column: str) -> Any:
    return bindparam(name, type_=ALERTS.c[column].type)


# Built once, values bound at execution: a statement per alert stays cheap (no per-call
# coercion of thirty literal values and no new cache key).
_INSERT_ALERTS = insert(ALERTS).returning(ALERTS.c.id, sort_by_parameter_order=True)
_CLEAR_ALERT = (
    update(ALERTS)
    .where(ALERTS.c.open_key == _p("key_", "open_key"))
    .values(
        status=CLEARED,
        open_key=None,
        cleared_at=_p("cleared_", "cleared_at"),
        last_value=_p("value_", "last_value"),
    )
    .returning(ALERTS.c.id)
)
_REOPEN_ALERT = (
    update(ALERTS)
    .where(ALERTS.c.id == _p("id_", "id"))
    .values(
        status=ACTIVE,
        open_key=_p("key_", "open_key"),
        cleared_at=None,
        last_fired_at=_p("at_", "last_fired_at"),
        last_value=_p("value_", "last_value"),
        fire_count=ALERTS.c.fire_count + 1,
        episodes=ALERTS.c.episodes + 1,
        clear_noted=False,
    )
)


def _update_statement(direction: int) -> Any:
    """The update of an alert that fired again; direction 0: no peak to compare."""
    values: dict[str, Any] = {
        "fire_count": ALERTS.c.fire_count + _p("count_", "fire_count"),
        "last_fired_at": _p("at_", "last_fired_at"),
        "last_value": _p("value_", "last_value"),
    }
    if direction:
        peak, new = ALERTS.c.peak_value, _p("peak_", "peak_value")
        worse = peak < new if direction > 0 else peak > new
        values["peak_value"] = case((or_(peak.is_(None), worse), new), else_=peak)
    return update(ALERTS).where(ALERTS.c.open_key == _p("key_", "open_key")).values(values)


_UPDATE_ALERT = {d: _update_statement(d) for d in (-1, 0, 1)}


class _NewAlert:
    """An alert raised in this batch: kept as its row until the batch's one ``INSERT``."""

    __slots__ = ("id", "row")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.id: int | None = None


_Ref = int | _NewAlert  # a stored alert's id, or one of this batch


class AlertWriter:
    """Applies alert changes in order; see the module docstring.

    What the raises of a batch must know of stored alerts (already open under the same key; a
    recent clear to reopen) is read up front in two queries, then kept current in memory as the
    batch's own raises and clears go in. An alert raised in the batch stays a row in memory:
    its updates, its clear and its reopening change the row, and every new row goes in with one
    ``INSERT`` at the end (a replay raises thousands of alerts that end within the same batch).
    A change of an alert stored before costs one ``UPDATE``."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.conn = session.connection()
        self.now = now
        self.written = Written()
        self._pending: dict[str, _Pending] = {}
        self._open: dict[str, _Ref] = {}  # open key → alert
        self._recent: dict[str, tuple[_Ref, datetime]] = {}  # key → (alert, cleared at), latest
        self._new: list[_NewAlert] = []
        self._raised: list[_Ref] = []
        self._reopened: list[_Ref] = []
        self._cleared: list[_Ref] = []

    def _preload(self, events: Sequence[AlertEvent]) -> None:
        raised = [e for e in events if e.change is Change.RAISED]
        if not raised:
            return
        keys = sorted({e.key for e in raised})
        for i in range(0, len(keys), 500):
            rows = self.conn.execute(
                select(ALERTS.c.open_key, ALERTS.c.id).where(
                    ALERTS.c.open_key.in_(keys[i : i + 500])
                )
            )
            self._open.update((k, int(n)) for k, n in rows)
        reopening = [e for e in raised if e.rule.reopen_within_s > 0]
        if not reopening:
            return
        since = min(
            min(self.now, utc(e.at)) - timedelta(seconds=e.rule.reopen_within_s) for e in reopening
        )
        subjects = sorted({e.subject for e in reopening})
        for i in range(0, len(subjects), 500):
            rows = self.conn.execute(
                select(ALERTS.c.id, ALERTS.c.rule_code, ALERTS.c.subject, ALERTS.c.cleared_at)
                .where(
                    and_(
                        ALERTS.c.subject.in_(subjects[i : i + 500]),
                        ALERTS.c.status == CLEARED,
                        ALERTS.c.cleared_at >= since,
                    )
                )
                .order_by(ALERTS.c.cleared_at)
            )
            for row in rows:
                self._recent[f"{row.rule_code}|{row.subject}"] = (int(row.id), row.cleared_at)

    def apply(self, events: Iterable[AlertEvent]) -> Written:
        events = list(events)
        self._preload(events)
        for event in events:
            if event.change is Change.UPDATED:
                pending = self._pending.get(event.key)
                if pending is None:
                    pending = self._pending[event.key] = _Pending(direction=_direction(event.rule))
                pending.add(event)
                continue
            self._flush(event.key)
            if event.change is Change.RAISED:
                self._raise(event)
            else:
                self._clear(event)
        for key in list(self._pending):
            self._flush(key)
        self._insert_new()
        ids = self._ids
        self.written.raised = ids(self._raised)
        self.written.reopened = ids(self._reopened)
        self.written.cleared = ids(self._cleared)
        return self.written

    def _insert_new(self) -> None:
        if not self._new:
            return
        result = self.conn.execute(_INSERT_ALERTS, [new.row for new in self._new])
        for new, (alert_id,) in zip(self._new, result, strict=True):
            new.id = int(alert_id)

    @staticmethod
    def _ids(refs: Sequence[_Ref]) -> list[int]:
        return [ref if isinstance(ref, int) else int(ref.id or 0) for ref in refs]

    def _flush(self, key: str) -> None:
        pending = self._pending.pop(key, None)
        if pending is None:
            return
        alert = self._open.get(key)
        if isinstance(alert, _NewAlert):
            row = alert.row
            row["fire_count"] += pending.count
            row["last_fired_at"] = utc(pending.at)
            row["last_value"] = pending.value
            peak = pending.peak
            if peak is not None and (
                row["peak_value"] is None or (peak - row["peak_value"]) * pending.direction > 0
            ):
                row["peak_value"] = peak
            return
        params: dict[str, Any] = {
            "key_": key,
            "count_": pending.count,
            "at_": utc(pending.at),
            "value_": pending.value,
        }
        direction = 0
        if pending.peak is not None:
            direction, params["peak_"] = pending.direction, pending.peak
        self.conn.execute(_UPDATE_ALERT[direction], params)

    def _raise(self, event: AlertEvent) -> None:
        rule = event.rule
        if event.key in self._open:
            # Already open (an ingester restarted without its state, or a second ingester):
            # the same alert goes on.
            pending = _Pending(direction=_direction(rule))
            pending.add(event)
            self._pending[event.key] = pending
            self._flush(event.key)
            return
        recent = self._recent.get(event.key)
        if recent is not None and rule.reopen_within_s > 0:
            since = min(self.now, utc(event.at)) - timedelta(seconds=rule.reopen_within_s)
            if recent[1] >= since:
                alert = recent[0]
                if isinstance(alert, _NewAlert):
                    row = alert.row
                    row.update(
                        status=ACTIVE,
                        open_key=event.key,
                        cleared_at=None,
                        last_fired_at=utc(event.at),
                        last_value=event.value,
                        fire_count=row["fire_count"] + 1,
                        episodes=row["episodes"] + 1,
                        clear_noted=False,
                    )
                else:
                    self.conn.execute(
                        _REOPEN_ALERT,
                        {
                            "id_": alert,
                            "key_": event.key,
                            "at_": utc(event.at),
                            "value_": event.value,
                        },
                    )
                del self._recent[event.key]
                self._open[event.key] = alert
                self._reopened.append(alert)
                return
        new = _NewAlert(_new_alert(event, self.now))
        self._new.append(new)
        self._open[event.key] = new
        self._raised.append(new)

    def _clear(self, event: AlertEvent) -> None:
        cleared_at = utc(event.at)
        alert = self._open.pop(event.key, None)
        if isinstance(alert, _NewAlert):
            alert.row.update(
                status=CLEARED, open_key=None, cleared_at=cleared_at, last_value=event.value
            )
            found: _Ref | None = alert
        else:
            stored = self.conn.execute(
                _CLEAR_ALERT,
                {"key_": event.key, "cleared_": cleared_at, "value_": event.value},
            ).scalar()
            found = None if stored is None else int(stored)
        if found is not None:
            self._recent[event.key] = (found, cleared_at)
            self._cleared.append(found)


def area_events(
    conn: Connection, events: Sequence[AlertEvent], area_rules: Mapping[str, Sequence[Rule]]
) -> list[AlertEvent]:
    """What the device alerts ``events`` changed (already written in this transaction) make of
    the area rules that combine them, counted over every process's alerts in the database."""
    touched: dict[tuple[str, str], tuple[Rule, float]] = {}
    for event in events:
        if event.change is Change.UPDATED or event.device is None:
            continue
        for rule in area_rules.get(event.rule.code, ()):
            area = event.device.areas.get(rule.level or "")
            if area:
                before = touched.get((rule.code, area))
                at = event.at if before is None else max(before[1], event.at)
                touched[(rule.code, area)] = (rule, at)
    out: list[AlertEvent] = []
    postgres = conn.dialect.name == "postgresql"
    for (code, area), (rule, at) in sorted(touched.items()):  # one lock order for everyone
        key = alert_key(code, area)
        if postgres:
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
        level = rule.level if rule.level in AREA_LEVELS else "district"
        count = conn.execute(
            select(func.count())
            .select_from(ALERTS.join(DEVICES, DEVICES.c.id == ALERTS.c.subject))
            .where(
                ALERTS.c.rule_code == rule.of,
                ALERTS.c.status == ACTIVE,
                ALERTS.c.subject_kind == SubjectKind.DEVICE.value,
                DEVICES.c[f"{level}_code"] == area,
            )
        ).scalar_one()
        started = conn.execute(select(ALERTS.c.started_at).where(ALERTS.c.open_key == key)).scalar()
        change: Change | None = None
        since = at
        if started is None:
            if count >= rule.min_devices:
                change = Change.RAISED
        else:
            since = started.timestamp()
            change = Change.CLEARED if count < rule.min_devices else Change.UPDATED
        if change is not None:
            out.append(AlertEvent(change, rule, area, SubjectKind.AREA, at, since, float(count)))
    return out


def write_batch(session: Session, batch: Batch, now: datetime) -> Written:
    """Everything of one batch, in the caller's transaction."""
    conn = session.connection()
    insert_readings(conn, batch.readings)
    if batch.dead_letters:
        conn.execute(insert(DEAD), batch.dead_letters)
    add_counters(conn, batch.counters, now)
    written = AlertWriter(session, now).apply(batch.events)
    if batch.area_rules and batch.events:
        combined = area_events(conn, batch.events, batch.area_rules)
        if combined:
            more = AlertWriter(session, now).apply(combined)
            written.raised += more.raised
            written.reopened += more.reopened
            written.cleared += more.cleared
    written.readings = len(batch.readings)
    return written


def open_alerts(session: Session) -> list[tuple[str, str, str, datetime]]:
    """(rule, subject, subject kind, started) of every open alert, to restore an engine."""
    rows = session.execute(
        select(
            ALERTS.c.rule_code, ALERTS.c.subject, ALERTS.c.subject_kind, ALERTS.c.started_at
        ).where(ALERTS.c.status == ACTIVE)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]
