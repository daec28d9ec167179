"""Finding problems in the data: spikes against the seasonal baseline, one topic a month and
its tracking, and the seasonal forecast (未诉先办) with its backtest.

Aggregates and models are SQL in ``sql/``; Python computes the Poisson interval (scipy) and
the calendar arithmetic of the baseline weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from onegrid.analytics.evaluation import AREA_LEVELS, column_for, registered, sql
from onegrid.analytics.period import Period
from onegrid.core.errors import FieldProblem, InvalidInput

LEVEL = 0.99  # the interval shown beside the expected count


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
    (first,) = con.execute("SELECT min(created_at) FROM cases").fetchall()[0]
    if first is None:
        return []
    data_start = first.date()
    baseline = [
        week - timedelta(weeks=52 * y + d)
        for y in range(1, years + 1)
        for d in (-1, 0, 1)
        if week - timedelta(weeks=52 * y + 1) >= data_start
    ]
    if not baseline:
        return []
    span = Period(min(baseline), week + timedelta(days=6), tz)
    counts = con.sql(
        _area_sql("weekly_counts", level),
        params={"start": span.start, "end": span.end, "tz": tz},
    ).to_arrow_table()
    with registered(con, weekly_counts=counts):
        table = con.sql(
            sql("spikes"),
            params={"week": week, "baseline": baseline, "baseline_weeks": len(baseline)},
        ).to_arrow_table()
    expected = table["expected"].to_numpy(zero_copy_only=False)
    observed = table["observed"].to_numpy(zero_copy_only=False)
    low = stats.poisson.ppf((1 - LEVEL) / 2, expected)
    high = stats.poisson.ppf(1 - (1 - LEVEL) / 2, expected)
    hits = np.flatnonzero((observed > high) & (observed >= min_observed))
    hits = hits[np.argsort(-(observed[hits] - expected[hits]), kind="stable")]
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


def topic_tracking(con: duckdb.DuckDBPyConnection, category: str, period: Period) -> pa.Table:
    params = {"category": category, "start": period.start, "end": period.end, "tz": period.tz}
    return con.sql(sql("topic_tracking"), params=params).to_arrow_table()


def _first_of_month(day: date) -> date:
    if day.day != 1:
        raise InvalidInput(
            FieldProblem("origin", "first_of_month", f"{day} is not a month's first day")
        )
    return day


def forecast(
    con: duckdb.DuckDBPyConnection,
    origin: date,
    months: int = 3,
    level: str = "district",
    *,
    tz: str = "Asia/Shanghai",
    rise: float = 1.2,
) -> pa.Table:
    """Forecast ``months`` months from ``origin`` (a month's first day) using only data before
    it, per category and area, with the seasonal-naive figure beside each forecast."""
    origin = _first_of_month(origin)
    targets = []
    day = origin
    for _ in range(months):
        targets.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    end = Period(origin, day - timedelta(days=1), tz).end
    counts = con.sql(
        _area_sql("monthly_counts", level), params={"end": end, "tz": tz}
    ).to_arrow_table()
    with registered(con, monthly_counts=counts):
        out = con.sql(sql("forecast"), params={"origin": origin, "months": targets, "rise": rise})
        out = out.to_arrow_table()
    actual = counts.rename_columns(["category_code", "area_code", "month", "actual"])
    return out.join(actual, ["category_code", "area_code", "month"], join_type="left outer")


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


def backtest(
    con: duckdb.DuckDBPyConnection, year: int, level: str = "district", *, tz: str = "Asia/Shanghai"
) -> Backtest:
    """Forecast every month of ``year`` from the years before it; mean absolute error of the
    forecast and of seasonal-naive over every category, area and month."""
    origin = date(year, 1, 1)
    table = forecast(con, origin, 12, level, tz=tz)
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
