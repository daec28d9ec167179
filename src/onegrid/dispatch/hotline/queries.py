"""The read side of the desk: the three rates per unit for a period (formulas in ``rates``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, and_, case, func, select
from sqlalchemy.orm import Session

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.hotline.domain import HotlineRules, Satisfaction
from onegrid.dispatch.hotline.rates import UnitFacts, UnitRates, rates_of
from onegrid.dispatch.models import CaseRouteRow, HotlineCallbackRow

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC


def month_period(month: str, timezone: str) -> Period:
    """A calendar month in the city's time zone, e.g. ``2026-03``."""
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput.one("month", "month_format", f"{month!r} is not a month like 2026-03")
    year, mon = int(match.group(1)), int(match.group(2))
    tz = ZoneInfo(timezone)
    first = date(year, mon, 1)
    after = date(year + mon // 12, mon % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(after.year, after.month, 1, tzinfo=tz).astimezone(UTC)
    return Period(f"{year:04d}-{mon:02d}", start, end)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


def unit_facts(session: Session, period: Period) -> list[UnitFacts]:
    """The counts behind the rates, for every unit with a dispatch or a callback in the period."""
    routes = CaseRouteRow
    dispatched = session.execute(
        select(
            routes.department_code,
            func.count(routes.case_id.distinct()),
            func.count(
                case(
                    (
                        and_(
                            routes.contacted_at.is_not(None),
                            routes.contacted_at <= routes.response_due_at,
                        ),
                        routes.case_id,
                    )
                ).distinct()
            ),
        )
        .where(routes.dispatched_at >= period.start, routes.dispatched_at < period.end)
        .group_by(routes.department_code)
    ).all()
    cb = HotlineCallbackRow
    callbacks = session.execute(
        select(
            cb.department_code,
            func.count(),
            _count_if(cb.resolved.is_(True)),
            _count_if(cb.satisfaction == Satisfaction.SATISFIED.value),
            _count_if(cb.satisfaction == Satisfaction.BASICALLY_SATISFIED.value),
        )
        .where(cb.at >= period.start, cb.at < period.end, cb.department_code.is_not(None))
        .group_by(cb.department_code)
    ).all()
    facts: dict[str, dict[str, int]] = {}
    for unit, sent, responded in dispatched:
        facts.setdefault(unit, {}).update(dispatched=sent, responded_in_time=responded)
    for code, count, resolved, satisfied, basically in callbacks:
        facts.setdefault(code or "", {}).update(
            callbacks=count,
            resolved=resolved or 0,
            satisfied=satisfied or 0,
            basically_satisfied=basically or 0,
        )
    return [UnitFacts(code, **counts) for code, counts in sorted(facts.items())]


def hotline_rates(session: Session, period: Period, rules: HotlineRules) -> list[UnitRates]:
    """Response, resolution and satisfaction rates of every unit for the period."""
    weight = rules.basically_satisfied_weight
    return [rates_of(f, weight) for f in unit_facts(session, period)]
