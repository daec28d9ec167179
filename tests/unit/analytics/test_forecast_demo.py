"""On the demo city's two years of history, the seasonal forecast of the last year does at least
as well as seasonal-naive: the history is stationary with strong seasons, so a forecast that
pools the seasons over areas and the level over a year must not lose to last year's count."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest
import shapely

from onegrid.analytics import tables as t
from onegrid.analytics.findings import backtest
from onegrid.cases.config import case_rules
from onegrid.demo.geometry import synth_city
from onegrid.demo.history import synthetic_history

NOW = datetime(2026, 11, 30, 1, tzinfo=UTC)  # the demo's history runs to 29 November 2026


def _demo_lake(seed: int = 11) -> duckdb.DuckDBPyConnection:
    """The cases of ``load_demo_history`` with their subdistricts, without the database: the
    same days (from the first time limits in force) and the same areas."""
    first = case_rules().limits.versions[0].valid_from
    cases = list(synthetic_history(seed, NOW, (NOW.date() - first).days - 1))
    subs = [a for a in synth_city(seed) if a.level == "subdistrict"]
    points = shapely.points([c.lon for c in cases], [c.lat for c in cases])
    found, within = shapely.STRtree([a.geometry for a in subs]).query(points, "within")
    sub_of = dict(zip(found.tolist(), within.tolist(), strict=True))
    assert len(sub_of) == len(cases)
    codes = [subs[sub_of[i]].code for i in range(len(cases))]
    columns = {
        "id": list(range(len(cases))),
        "category_code": [c.category_code for c in cases],
        "subdistrict_code": codes,
        "district_code": [subs[sub_of[i]].parent_code for i in range(len(cases))],
        "created_at": [c.created_at for c in cases],
    }
    schema = t.CASES.schema
    table = pa.table(
        {
            f.name: pa.array(columns[f.name], f.type)
            if f.name in columns
            else pa.nulls(len(cases), f.type)
            for f in schema
        },
        schema=schema,
    )
    con = duckdb.connect()
    con.register("cases", table)
    return con


@pytest.mark.slow
def test_the_forecast_matches_seasonal_naive_on_the_demo_history() -> None:
    con = _demo_lake()
    for grain, level, buckets in (
        ("month", "district", 10),  # January to October 2026: November holds the newest case
        ("month", "subdistrict", 10),
        ("week", "district", 47),  # ISO weeks 1 to 47 of 2026
    ):
        result = backtest(con, 2026, level, grain=grain)
        areas = 5 if level == "district" else 20
        assert result.cells == 10 * areas * buckets, (grain, level, result)
        assert result.mae_seasonal_naive > 0
        assert result.skill >= 0, (grain, level, result)
