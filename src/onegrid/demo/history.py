"""Two years of the demo city's case history, replayed through the case workflow.

Seasons (heating in winter, waterlogging and blocked sewers in the rainy summer, snow and ice in
deep winter), quieter weekends, a few hot places for rubbish and parking, two departments that
are slower than the others, checks that fail and send work back, and hotline reporters who call
again. Cases are made as ``HistoricalCase`` records with their steps and loaded in bulk by
``onegrid.cases.importing.load_historical``, which replays every transition through the domain.

The history ends where the demo's work in progress begins, and a load cut short (a server
stopped while it loaded in the background) is finished by loading again: cases are known by
their ``external_ref`` and skipped once there, and a case called back is not called again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point
from sqlalchemy import ColumnElement, and_, exists, func, select

from onegrid.cases.config import case_rules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.intake import Reporter
from onegrid.cases.domain.states import Channel
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import Actor
from onegrid.cases.importing import HistoricalCase, HistoricalStep, LoadReport, load_historical
from onegrid.cases.models import CaseRow
from onegrid.core.clock import Clock, FixedClock, SystemClock
from onegrid.db.session import Database
from onegrid.demo.catalogue import BUREAUS, subdistrict_office_code
from onegrid.demo.geometry import SynthArea, synth_city
from onegrid.demo.words import describe
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope

DAYS = 730
PER_DAY = 16  # mean new cases a day before seasons and weekdays
REF_PREFIX = "demo-history:"
# Cases a transaction when loading beside a server: measured at 30-60 ms of SQLite's one writer
# on a shared two-core machine, so a request that writes waits that long at most.
BATCH = 25
CALLBACK_WITHIN = timedelta(hours=48)  # a closed case is called back within two days
INSPECTOR = Actor("demo:inspector", "巡查员", "inspector")
LEADER = Actor("demo:leader", "值班长", "shift_leader")
DISPATCHER = Actor("demo:dispatcher", "派遣员", "dispatcher")
SLOW = ("SZJ", "RLGS")
DONE = "已处理 (handled)"
NOT_DONE = "整改不到位 (not put right)"  # the roads office and the heating company take longer


@dataclass(frozen=True)
class Profile:
    code: str
    share: float  # of the daily base volume
    months: dict[int, float]  # month -> multiplier (missing months: 1)
    weekend: float = 0.7
    hot: bool = False  # concentrated around a few hot places


def _months(months: tuple[int, ...], high: float, low: float = 1.0) -> dict[int, float]:
    return {m: (high if m in months else low) for m in range(1, 13)}


PROFILES = (
    Profile("E0102", 0.22, {}, 0.8, hot=True),  # exposed rubbish
    Profile("E0504", 0.16, {}, 0.5, hot=True),  # illegal car parking
    Profile("E0601", 0.10, _months((11, 12, 1, 2, 3), 4.0, 0.2)),  # heating
    Profile("E0406", 0.05, _months((6, 7, 8), 6.0, 0.05)),  # waterlogging
    Profile("E0405", 0.07, _months((7, 8), 3.0)),  # blocked sewer
    Profile("E0407", 0.03, _months((12, 1, 2), 5.0, 0.0)),  # snow and ice
    Profile("E0508", 0.08, _months((5, 6, 7, 8, 9), 2.0, 0.6), 1.3),  # commercial noise
    Profile("E0501", 0.10, _months((4, 5, 6, 7, 8, 9, 10), 1.5, 0.6)),  # street vendors
    Profile("E0108", 0.07, _months((3, 4), 2.0)),  # damaged road after the thaw
    Profile("E0201", 0.12, {}, 0.6),  # illegal small ads
)


def _department(category: str, subdistrict: str) -> str:
    owners = [(len(p), d.code) for d in BUREAUS for p in d.owns if category.startswith(p)]
    return max(owners)[1] if owners else subdistrict_office_code(subdistrict)


def _point_in(rng: np.random.Generator, shape: shapely.Polygon) -> tuple[float, float]:
    minx, miny, maxx, maxy = shape.bounds
    for _ in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(Point(x, y)):
            return float(x), float(y)
    c = shape.representative_point()
    return float(c.x), float(c.y)


@dataclass
class _Place:
    community: SynthArea
    subdistrict: str


def _steps(
    rng: np.random.Generator, at: datetime, channel: Channel, dept: str, until: datetime
) -> tuple[HistoricalStep, ...]:
    slow = 3.0 if dept in SLOW else 1.0
    handler = Actor(f"demo:{dept}", dept, "department_handler")
    plan: list[tuple[float, Command, Actor]] = []
    if channel is not Channel.INSPECTOR:
        plan.append((rng.uniform(0.3, 3), Command(Action.VERIFY), INSPECTOR))
    plan += [
        (rng.uniform(0.1, 1), Command(Action.FILE), LEADER),
        (rng.uniform(0.05, 0.5), Command(Action.DISPATCH, department_code=dept), DISPATCHER),
        (rng.exponential(2 * slow) + 0.2, Command(Action.ACCEPT), handler),
        (
            rng.exponential(8 * slow) + 0.5,
            Command(Action.REPORT_BACK, reason=DONE),
            handler,
        ),
    ]
    if rng.random() < 0.08 * slow:
        plan += [
            (rng.uniform(1, 6), Command(Action.CHECK, passed=False, reason=NOT_DONE), INSPECTOR),
            (rng.uniform(0.1, 1), Command(Action.REWORK, reason=NOT_DONE), LEADER),
            (
                rng.exponential(6 * slow) + 0.5,
                Command(Action.REPORT_BACK, reason=DONE),
                handler,
            ),
        ]
    plan += [
        (rng.uniform(1, 6), Command(Action.CHECK, passed=True), INSPECTOR),
        (rng.uniform(0.2, 2), Command(Action.CLOSE), LEADER),
    ]
    steps, t = [], at
    for hours, command, actor in plan:
        t = t + timedelta(hours=float(hours))
        if t >= until:
            break
        steps.append(HistoricalStep(command, t, actor))
    return tuple(steps)


def synthetic_history(
    seed: int,
    now: datetime,
    days: int = DAYS,
    per_day: float = PER_DAY,
    *,
    stream: int = 1,
    until: datetime | None = None,
) -> Iterator[HistoricalCase]:
    """The demo city's ``days`` days of cases before ``now``, oldest first (the same for the
    same seed and day of ``now``), worked on until ``until`` (``now`` if not given).
    ``stream`` picks another sequence of cases in the same city."""
    until = until or now
    rng = np.random.default_rng(seed + stream)
    areas = synth_city(seed)
    parent = {a.code: a.parent_code for a in areas}
    places = [_Place(a, a.parent_code or "") for a in areas if a.level == "community"]
    for place in places:
        shapely.prepare(place.community.geometry)  # millions of point-in-polygon tests
    hot = [places[int(i)] for i in rng.choice(len(places), 3, replace=False)]
    hot_points = [_point_in(rng, p.community.geometry) for p in hot]
    phones = [f"1390000{i:04d}" for i in range(3000)]
    # The texts draw from a generator of their own: the cases, their places and their steps
    # stay what they were for the same seed whatever is said about them.
    said = np.random.default_rng([seed, stream, 5])
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    for d in range(days):
        day = start + timedelta(days=d)
        weekend = day.weekday() >= 5
        for p in PROFILES:
            rate = per_day * p.share * p.months.get(day.month, 1.0) * (p.weekend if weekend else 1)
            for _ in range(int(rng.poisson(rate))):
                text = describe(said, p.code)
                yield _case(rng, day, p, places, hot, hot_points, phones, parent, until, text)


def _case(
    rng: np.random.Generator,
    day: datetime,
    p: Profile,
    places: list[_Place],
    hot: list[_Place],
    hot_points: list[tuple[float, float]],
    phones: list[str],
    parent: dict[str, str | None],
    until: datetime,
    text: str,
) -> HistoricalCase:
    # Local daytime (08:00-22:00 Beijing) as UTC.
    at = day + timedelta(hours=float(rng.uniform(0, 14)))
    if p.hot and rng.random() < 0.35:
        k = int(rng.integers(0, len(hot)))
        place = hot[k]
        lon, lat = hot_points[k]
        lon += float(rng.normal(0, 0.0006))
        lat += float(rng.normal(0, 0.0006))
        if not place.community.geometry.contains(Point(lon, lat)):
            lon, lat = hot_points[k]
    else:
        place = places[int(rng.integers(0, len(places)))]
        lon, lat = _point_in(rng, place.community.geometry)
    channel = Channel.HOTLINE if rng.random() < 0.6 else Channel.INSPECTOR
    phone = None
    if channel is Channel.HOTLINE:
        # A few callers call again and again.
        k = int(rng.integers(0, 60)) if rng.random() < 0.1 else int(rng.integers(0, len(phones)))
        phone = phones[k]
    dept = _department(p.code, place.subdistrict)
    return HistoricalCase(
        p.code,
        at,
        lon,
        lat,
        text,
        channel=channel,
        reporter=Reporter(phone=phone),
        external_ref=f"{REF_PREFIX}{at:%Y%m%d%H%M%S}:{p.code}:{lon:.6f}:{lat:.6f}",
        steps=_steps(rng, at, channel, dept, until),
        # A case cut off before its first step is loaded as a record dispatched on arrival;
        # without its department nobody could accept it.
        department_code=dept,
    )


def refs_from(prefix: str) -> ColumnElement[bool]:
    """Cases whose ``external_ref`` starts with ``prefix``, as a range its unique index answers
    (a ``LIKE`` reads every case, which on a real city's database is millions)."""
    ref = CaseRow.external_ref
    return and_(ref >= prefix, ref < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def has_history(db: Database) -> bool:
    """Whether any of the demo's history is in the database."""
    with db.reader() as s:
        return s.scalar(select(CaseRow.id).where(refs_from(REF_PREFIX)).limit(1)) is not None


def history_end(db: Database, now: datetime) -> datetime:
    """Where the history stops: midnight (UTC) of the day the demo's work in progress begins,
    or ``now`` without it. The work in progress is made once, so a load resumed on another
    day makes the very same cases, and the two do not overlap."""
    from onegrid.demo.live import REF_PREFIX as LIVE_PREFIX

    with db.reader() as s:
        first = s.scalar(select(func.min(CaseRow.created_at)).where(refs_from(LIVE_PREFIX)))
    if first is None:
        return now
    return first.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def history_days(db: Database, now: datetime, days: int = DAYS) -> int:
    """The days of history to load: ``days``, but none before the first time limits in force
    (cases need their limits)."""
    first = case_rules().limits.versions[0].valid_from
    return min(days, (history_end(db, now).date() - first).days - 1)


Progress = Callable[[int, int], None]  # (cases gone through, cases in all)


def load_demo_history(
    db: Database,
    seed: int,
    clock: Clock | None = None,
    *,
    days: int = DAYS,
    batch_size: int = BATCH,
    on_progress: Progress | None = None,
    data_dir: Path | None = None,
) -> LoadReport:
    """The history and its callbacks. Loading it again loads what is missing and nothing else.
    ``data_dir`` keeps the photos of cases handled again (default: the settings' own)."""
    now = (clock or SystemClock()).now()
    rules = case_rules()
    end = history_end(db, now)
    cases = list(synthetic_history(seed, end, history_days(db, now, days), until=now))
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            on_progress(done, len(cases))

    report = load_historical(
        db, cases, rules=rules, use_grid=True, batch_size=batch_size, on_batch=progress
    )
    report_callbacks(db, seed, now, data_dir)
    return report


def history_unfinished(db: Database, now: datetime) -> bool:
    """A load of the history began here and did not finish: some of its cases are there, but
    the callbacks (made once every case is loaded) did not start, or a closed hotline case of
    it, closed long enough ago to have been called back, has not been. A database with no
    history at all (``onegrid demo --no-history``) is not unfinished."""
    from onegrid.dispatch.models import HotlineCallbackRow as Callback

    mine = refs_from(REF_PREFIX)
    called = exists().where(Callback.case_id == CaseRow.id, Callback.operator == OPERATOR.actor)
    with db.reader() as s:
        if s.scalar(select(CaseRow.id).where(mine).limit(1)) is None:
            return False
        if s.scalar(select(CaseRow.id).where(mine, called).limit(1)) is None:
            return True
        waiting = s.scalar(
            select(CaseRow.id)
            .where(
                mine,
                CaseRow.channel == Channel.HOTLINE.value,
                CaseRow.status == "closed",
                CaseRow.closed_at < now - CALLBACK_WITHIN,
                ~exists().where(Callback.case_id == CaseRow.id),
            )
            .limit(1)
        )
        return waiting is not None


OPERATOR = Principal(
    0,
    "demo:operator",
    PrincipalKind.USER,
    (Grant(Role.HOTLINE_OPERATOR, Scope.city()),),
)


def report_callbacks(db: Database, seed: int, now: datetime, data_dir: Path | None = None) -> int:
    """Call back the requesters of closed hotline cases, through the hotline desk's own service
    at the historical time: the slow departments leave more of them unresolved and unhappy.
    A case called back already is left alone, and each case's answer comes from its own
    random stream, so callbacks cut short and made again are the ones made at one go."""
    from onegrid.dispatch.hotline.domain import Satisfaction
    from onegrid.dispatch.hotline.services import record_callback
    from onegrid.dispatch.models import HotlineCallbackRow as Callback

    rules = case_rules()
    with db.reader() as s:
        rows = s.execute(
            select(CaseRow.id, CaseRow.closed_at, CaseRow.department_code)
            .where(
                refs_from(REF_PREFIX),
                CaseRow.channel == Channel.HOTLINE.value,
                CaseRow.status == "closed",
                ~exists().where(Callback.case_id == CaseRow.id),
            )
            .order_by(CaseRow.id)
        ).all()
    made = 0
    for case_id, closed_at, dept in rows:
        if closed_at is None:
            continue
        rng = np.random.default_rng((seed + 2, int(case_id)))
        at = closed_at + timedelta(
            hours=float(rng.uniform(2, CALLBACK_WITHIN.total_seconds() / 3600))
        )
        if at >= now:
            continue
        slow = dept in SLOW
        resolved = bool(rng.random() < (0.72 if slow else 0.95))
        p = (0.35, 0.35, 0.30) if not resolved else ((0.7, 0.2, 0.1) if slow else (0.9, 0.08, 0.02))
        answer = rng.choice(
            [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED],
            p=p,
        )
        record_callback(
            db,
            OPERATOR,
            int(case_id),
            resolved=resolved,
            satisfaction=Satisfaction(answer),
            clock=FixedClock(at),
            rules=rules,
        )
        made += 1
    # "Not resolved" reopened those cases; their departments take them up again, once the day
    # for it has come (so a load finished later handles the ones still waiting).
    with db.reader() as s:
        reopened = s.execute(
            select(CaseRow.id, CaseRow.department_code, Callback.at)
            .join(Callback, Callback.case_id == CaseRow.id)
            .where(
                refs_from(REF_PREFIX),
                CaseRow.status == "handling",
                Callback.operator == OPERATOR.actor,
                Callback.resolved.is_(False),
            )
            .order_by(CaseRow.id)
        ).all()
    for case_id, dept, called_at in reopened:
        handle_again(db, int(case_id), dept, _redo_at(seed, int(case_id), called_at), now, data_dir)
    return made


def _redo_at(seed: int, case_id: int, called_at: datetime) -> datetime:
    """When the department reports a reopened case back: one to six days after the call."""
    rng = np.random.default_rng((seed + 3, case_id))
    return called_at + timedelta(days=float(rng.uniform(1, 6)), hours=float(rng.uniform(0, 8)))


@cache
def _photo() -> bytes:
    """The department's photo of the work done again: one small PNG, made once."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 90)).save(out, format="PNG")
    return out.getvalue()


def handle_again(
    db: Database,
    case_id: int,
    dept: str | None,
    at: datetime,
    now: datetime,
    data_dir: Path | None = None,
) -> bool:
    """A case a requester's "not resolved" reopened, handled again as a city does: its
    department reports back with a photo at ``at``, an inspector checks it on site and the shift
    leader closes it, through the case services. A reopening too recent for that (``at`` not
    yet come) stays open, as it would be in the city now."""
    from onegrid.cases.attachments import AttachmentStore, add_attachment_in
    from onegrid.cases.config import cases_settings
    from onegrid.cases.services import act_in
    from onegrid.core.settings import get_settings
    from onegrid.db.writer import one_writer

    checked, closed = at + timedelta(hours=20), at + timedelta(hours=26)
    if dept is None or closed >= now:
        return False
    rules = case_rules()
    handler = _demo_staff("demo:handler", Grant(Role.DEPARTMENT_HANDLER, Scope.department(dept)))
    store = AttachmentStore((data_dir or get_settings().data_dir) / "attachments")
    with one_writer(db.dialect), db.unit_of_work() as s:
        photo = add_attachment_in(
            s,
            handler,
            case_id,
            filename="after.png",
            data=_photo(),
            clock=FixedClock(at),
            store=store,
            max_bytes=cases_settings().attachment_max_bytes,
        )
        steps = (
            (
                handler,
                at,
                Command(Action.REPORT_BACK, reason="再次处理完毕", attachments=(photo.id,)),
            ),
            (DEMO_CHECKER, checked, Command(Action.CHECK, passed=True)),
            (DEMO_LEADER, closed, Command(Action.CLOSE)),
        )
        for who, when, cmd in steps:
            act_in(s, who, case_id, cmd, clock=FixedClock(when), rules=rules)
    return True


REDONE = "再次处理完毕"


def _demo_staff(name: str, grant: Grant) -> Principal:
    return Principal(0, name, PrincipalKind.USER, (grant,))


DEMO_CHECKER = _demo_staff("demo:inspector", Grant(Role.INSPECTOR, Scope.city()))
DEMO_LEADER = _demo_staff("demo:leader", Grant(Role.SHIFT_LEADER, Scope.city()))


def expected_daily(month: int, weekend: bool) -> float:
    """The mean cases a day the generator aims at in a month (for tests and docs)."""
    return sum(
        PER_DAY * p.share * p.months.get(month, 1.0) * (p.weekend if weekend else 1)
        for p in PROFILES
    )
