"""Finding problems in the data: spikes against the seasonal baseline (in a week or on a day),
one topic a month and its tracking, and the seasonal forecast (未诉先办, by month or ISO week)
with its backtest.

Aggregates and models are SQL in ``sql/`` (a spike's expected count, the floor on its observed
count and the order included); Python computes the Poisson interval (scipy) on the few rows that
come back, and the calendar arithmetic of the baseline weeks. The chosen topics are kept by
``topics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from onegrid.analytics.evaluation import AREA_LEVELS, column_for, registered, sql
from onegrid.analytics.period import Period
from onegrid.core.errors import FieldProblem, InvalidInput

LEVEL = 0.99  # the interval shown beside the expected count
# The forecast's recent-trend ratio is shrunk toward 1 by this many cases: a trend seen over 20
# expected cases gets half its weight, since a count of 20 is itself uncertain by about 22%.
TREND_PRIOR = 20.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # a forecast learns from all the history before it
# The years a backtest can be worked out for: the bucket a year before the first (which
# seasonal-naive needs) and the day after the last must both be dates.
BACKTEST_YEARS = range(MINYEAR + 1, MAXYEAR)


def _area_sql(name: str, level: str) -> str:
    return sql(name).replace("{area}", column_for(AREA_LEVELS, level))


@dataclass(frozen=True)
class Spike:
    category_code: str
    area_code: str
    observed: int
    expected: float
    low: int
    high: int


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _baseline(bucket: date, years: int, data_start: date) -> list[date]:
    """The seasonal baseline of a week or a day: the same bucket and the buckets a week either
    side, 52 weeks back per year, in the years the data covers. 52 weeks keeps the weekday, so
    a day is compared with the same weekday (calls follow the working week more than the
    date) in the same weeks of the season; the weeks either side steady a small mean."""
    return [
        bucket - timedelta(weeks=52 * y + d)
        for y in range(1, years + 1)
        for d in (-1, 0, 1)
        if bucket - timedelta(weeks=52 * y + 1) >= data_start
    ]


def spikes(
    con: duckdb.DuckDBPyConnection,
    week_of: date,
    level: str = "subdistrict",
    *,
    tz: str = "Asia/Shanghai",
    years: int = 3,
    min_observed: int = 5,
) -> list[Spike]:
    """Categories in areas whose count in the week of ``week_of`` lies above the upper bound
    of the Poisson interval around their seasonal baseline (same week ± 1, earlier years)."""
    week = _monday(week_of)
    return _spikes(
        con,
        "weekly_counts",
        week,
        week + timedelta(days=6),
        level,
        tz=tz,
        years=years,
        min_observed=min_observed,
    )


def daily_spikes(
    con: duckdb.DuckDBPyConnection,
    day: date,
    level: str = "subdistrict",
    *,
    tz: str = "Asia/Shanghai",
    years: int = 3,
    min_observed: int = 5,
) -> list[Spike]:
    """Categories in areas whose count on ``day`` lies above the upper bound of the Poisson
    interval around their seasonal baseline (the same weekday, same week ± 1, earlier years)."""
    return _spikes(
        con, "daily_counts", day, day, level, tz=tz, years=years, min_observed=min_observed
    )


def _spikes(
    con: duckdb.DuckDBPyConnection,
    counts_sql: str,
    bucket: date,
    last_day: date,
    level: str,
    *,
    tz: str,
    years: int,
    min_observed: int,
) -> list[Spike]:
    (first,) = con.execute("SELECT min(created_at) FROM cases").fetchall()[0]
    if first is None:
        return []
    baseline = _baseline(bucket, years, first.date())
    if not baseline:
        return []
    span = Period(min(baseline), last_day, tz)
    counts = con.sql(
        _area_sql(counts_sql, level),
        params={"start": span.start, "end": span.end, "tz": tz},
    ).to_arrow_table()
    with registered(con, counts=counts):
        table = con.sql(
            sql("spikes"),
            params={
                "bucket": bucket,
                "baseline": baseline,
                "baseline_buckets": len(baseline),
                "min_observed": min_observed,
            },
        ).to_arrow_table()
    expected = table["expected"].to_numpy(zero_copy_only=False)
    observed = table["observed"].to_numpy(zero_copy_only=False)
    low = stats.poisson.ppf((1 - LEVEL) / 2, expected)
    high = stats.poisson.ppf(1 - (1 - LEVEL) / 2, expected)
    hits = np.flatnonzero(observed > high)  # in the SQL's order: the largest excess first
    cats, areas = table["category_code"].to_pylist(), table["area_code"].to_pylist()
    return [
        Spike(cats[i], areas[i], int(observed[i]), float(expected[i]), int(low[i]), int(high[i]))
        for i in hits
    ]


def topic_candidates(
    con: duckdb.DuckDBPyConnection, month: str, *, tz: str = "Asia/Shanghai", min_volume: int = 1
) -> pa.Table:
    period = Period.month(month, tz)
    prev = Period.month((period.first - timedelta(days=1)).strftime("%Y-%m"), tz)
    params = {
        "start": period.start,
        "end": period.end,
        "prev_start": prev.start,
        "min_volume": min_volume,
    }
    return con.sql(sql("topics"), params=params).to_arrow_table()


def topic_tracking(
    con: duckdb.DuckDBPyConnection, category: str, period: Period, area: str | None = None
) -> pa.Table:
    """A topic's requests in each month of the period, a month without any as 0, with the change
    on the month just before (the first month's on the whole month before the period)."""
    params = {
        "category": category,
        "first": period.first,
        "last": period.last,
        "start": period.start,
        "end": period.end,
        "tz": period.tz,
        "area": area,
    }
    return con.sql(sql("topic_tracking"), params=params).to_arrow_table()


GRAINS = ("month", "week")


@dataclass(frozen=True)
class _Calendar:
    """How one forecast grain steps through time; the SQL placeholders of sql/forecast.sql."""

    counts: str
    step: str
    recent: str
    season: str
    year: str
    weekly: bool = False

    def bucket_of(self, day: date) -> date:
        return _monday(day) if self.weekly else day.replace(day=1)

    def year_before(self, bucket: date) -> date:
        """The bucket seasonal-naive compares ``bucket`` with (``{year}`` back)."""
        return bucket - timedelta(weeks=52) if self.weekly else bucket.replace(year=bucket.year - 1)


_CALENDARS = {
    "month": _Calendar(
        "monthly_counts", "INTERVAL 1 MONTH", "INTERVAL 3 MONTH", "month", "INTERVAL 12 MONTH"
    ),
    # Thirteen weeks: the three months of the monthly recent window. ISO week of year is the season.
    "week": _Calendar(
        "weekly_counts",
        "INTERVAL 1 WEEK",
        "INTERVAL 13 WEEK",
        "weekofyear",
        "INTERVAL 52 WEEK",
        weekly=True,
    ),
}


def check_forecast_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise InvalidInput(
            FieldProblem("grain", "known_grain", f"grain must be one of {', '.join(GRAINS)}")
        )
    return grain


def _first_of_month(day: date) -> date:
    if day.day != 1:
        raise InvalidInput(
            FieldProblem("origin", "first_of_month", f"{day} is not a month's first day")
        )
    return day


def _a_monday(day: date) -> date:
    if day.weekday() != 0:
        raise InvalidInput(
            FieldProblem("origin", "monday", f"{day} is not a Monday (an ISO week's first day)")
        )
    return day


def _buckets(origin: date, periods: int, grain: str) -> tuple[list[date], date]:
    """The first days of ``periods`` buckets from ``origin``, and the day after the last."""
    out = []
    day = origin
    for _ in range(periods):
        out.append(day)
        if grain == "week":
            day += timedelta(weeks=1)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out, day


def forecast(
    con: duckdb.DuckDBPyConnection,
    origin: date,
    periods: int = 3,
    level: str = "district",
    *,
    tz: str = "Asia/Shanghai",
    rise: float = 1.2,
    grain: str = "month",
) -> pa.Table:
    """Forecast ``periods`` months (or ISO weeks) from ``origin`` (a month's first day, or a
    Monday) using only data before it, per category and area, with the seasonal-naive figure
    beside each forecast. The bucket column is named after the grain: ``month`` or ``week``."""
    calendar = _CALENDARS[check_forecast_grain(grain)]
    origin = _a_monday(origin) if grain == "week" else _first_of_month(origin)
    targets, after = _buckets(origin, periods, grain)
    end = Period(origin, after - timedelta(days=1), tz).end
    counts = con.sql(
        _area_sql(calendar.counts, level), params={"start": _EPOCH, "end": end, "tz": tz}
    ).to_arrow_table()
    model = (
        sql("forecast")
        .replace("{step}", calendar.step)
        .replace("{recent}", calendar.recent)
        .replace("{season}", calendar.season)
        .replace("{year}", calendar.year)
    )
    with registered(con, counts=counts):
        params = {"origin": origin, "buckets": targets, "rise": rise, "prior": TREND_PRIOR}
        out = con.sql(model, params=params)
        out = out.to_arrow_table()
    keys = ["category_code", "area_code", "bucket"]
    actual = counts.rename_columns([*keys, "actual"])
    out = out.join(actual, keys, join_type="left outer")
    return out.rename_columns([grain if c == "bucket" else c for c in out.column_names])


@dataclass(frozen=True)
class Backtest:
    origin: date
    cells: int
    mae_forecast: float
    mae_seasonal_naive: float

    @property
    def skill(self) -> float:
        """1 - MAE ratio: above 0, the forecast beats seasonal-naive."""
        return 1 - self.mae_forecast / self.mae_seasonal_naive if self.mae_seasonal_naive else 0.0


def _check_backtest_year(year: int) -> None:
    if year not in BACKTEST_YEARS:
        first, last = BACKTEST_YEARS[0], BACKTEST_YEARS[-1]
        raise InvalidInput(
            FieldProblem("year", "year_range", f"year must be from {first} to {last} (got {year})")
        )


def backtest(
    con: duckdb.DuckDBPyConnection,
    year: int,
    level: str = "district",
    *,
    tz: str = "Asia/Shanghai",
    grain: str = "month",
) -> Backtest:
    """Forecast every month (or ISO week) of ``year`` from the years before it; mean absolute
    error of the forecast and of seasonal-naive over every category, area and bucket.

    Only buckets before the one holding the newest case are scored: a bucket the data has not
    reached yet, or has reached only in part, would count as (nearly) no requests. The data must
    reach back to the first bucket's a year before, which seasonal-naive needs."""
    calendar = _CALENDARS[check_forecast_grain(grain)]
    _check_backtest_year(year)
    if grain == "week":
        origin = date.fromisocalendar(year, 1, 1)
        periods = date(year, 12, 28).isocalendar().week  # 52 or 53 ISO weeks
    else:
        origin, periods = date(year, 1, 1), 12
    [(first_day, newest_day)] = con.execute(sql("case_span"), {"tz": tz}).fetchall()
    unit = "ISO week" if grain == "week" else "month"
    a_year_before = calendar.year_before(origin)
    if first_day is None or calendar.bucket_of(first_day) > a_year_before:
        since = f"the first case is of {first_day}" if first_day else "there are no cases"
        raise InvalidInput(
            FieldProblem(
                "year",
                "year_of_history",
                f"no year before {year} to learn from ({since}): a backtest forecasts a year "
                f"from the years before it, so the data must reach back to {a_year_before}",
            )
        )
    targets, _ = _buckets(origin, periods, grain)
    newest = calendar.bucket_of(newest_day)
    periods = sum(1 for b in targets if b < newest)
    if not periods:
        raise InvalidInput(
            FieldProblem(
                "year",
                "complete_buckets",
                f"no complete {unit} of {year} in the data (the newest case is of {newest_day}): "
                f"a backtest scores only the {unit}s before the newest data's",
            )
        )
    table = forecast(con, origin, periods, level, tz=tz, grain=grain)
    actual = pc.fill_null(table["actual"], 0).to_numpy(zero_copy_only=False).astype(float)
    fc = pc.fill_null(table["forecast"], 0.0).to_numpy(zero_copy_only=False)
    naive = table["seasonal_naive"].to_numpy(zero_copy_only=False).astype(float)
    if not actual.size:
        return Backtest(origin, 0, 0.0, 0.0)
    return Backtest(
        origin,
        int(actual.size),
        float(np.abs(fc - actual).mean()),
        float(np.abs(naive - actual).mean()),
    )
