"""Evaluation (综合评价) and the hotline's monthly ranking: the SQL in ``sql/`` run on DuckDB.

The definitions live in the SQL files, not here: this module only picks the file, fills in
a whitelisted column name for the grouping level, binds the parameters and returns Arrow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources

import duckdb
import pyarrow as pa

from onegrid.analytics.period import Period, check_grain
from onegrid.analytics.ranking import RankingRules, load_ranking_rules, rules_for
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.dispatch.routing.domain import DISTRICT_GOVERNMENT_SUFFIX, RouteRule

AREA_LEVELS = {
    "district": "district_code",
    "subdistrict": "subdistrict_code",
    "community": "community_code",
    "unit_grid": "unit_grid_code",
}
RANKED_UNITS = {
    "district": "district_code",
    "subdistrict": "subdistrict_code",
    "department": "department_code",
}


@cache
def sql(name: str) -> str:
    return resources.files("onegrid.analytics").joinpath(f"sql/{name}.sql").read_text("utf-8")


def column_for(choices: dict[str, str], level: str, field: str = "level") -> str:
    if level not in choices:
        raise InvalidInput(
            FieldProblem(field, "known_level", f"{field} must be one of {', '.join(choices)}")
        )
    return choices[level]


def _params(period: Period, grain: str) -> dict[str, object]:
    return {"start": period.start, "end": period.end, "tz": period.tz, "grain": _trunc(grain)}


def _trunc(grain: str) -> str:
    # "period" buckets everything together: truncating to a millennium does that for any span
    # shorter than one, without a second copy of each query.
    return "millennium" if check_grain(grain) == "period" else grain


def department_indicators(
    con: duckdb.DuckDBPyConnection, period: Period, grain: str = "period"
) -> pa.Table:
    table = con.sql(sql("department_indicators"), params=_params(period, grain)).to_arrow_table()
    return _period_start(table, period, grain)


def on_time_close(
    con: duckdb.DuckDBPyConnection, period: Period, grain: str = "period"
) -> pa.Table:
    """Each department's on-time close rate and the counts it is made of, per bucket."""
    table = con.sql(sql("on_time_close"), params=_params(period, grain)).to_arrow_table()
    return _period_start(table, period, grain)


def area_indicators(
    con: duckdb.DuckDBPyConnection, period: Period, level: str, grain: str = "period"
) -> pa.Table:
    query = sql("area_indicators").replace("{area}", column_for(AREA_LEVELS, level))
    return _period_start(
        con.sql(query, params=_params(period, grain)).to_arrow_table(), period, grain
    )


def post_indicators(
    con: duckdb.DuckDBPyConnection, period: Period, grain: str = "period"
) -> pa.Table:
    table = con.sql(sql("post_indicators"), params=_params(period, grain)).to_arrow_table()
    return _period_start(table, period, grain)


def _period_start(table: pa.Table, period: Period, grain: str) -> pa.Table:
    if grain != "period":
        return table
    i = table.schema.get_field_index("period_start")
    return table.set_column(
        i, "period_start", pa.array([period.first] * table.num_rows, pa.date32())
    )


@dataclass(frozen=True)
class Ranking:
    month: str
    unit: str
    rules: RankingRules
    table: pa.Table


def three_rates_sql(unit: str) -> str:
    return sql("three_rates").replace("{unit}", column_for(RANKED_UNITS, unit, "unit"))


def ranking(
    con: duckdb.DuckDBPyConnection,
    month: str,
    unit: str = "subdistrict",
    *,
    tz: str = "Asia/Shanghai",
    area: str | None = None,
    versions: list[RankingRules] | None = None,
) -> Ranking:
    """The monthly ranking of ``unit``s by weighted three-rate score, reproducible: facts
    recorded after the month's settle cutoff and configuration versions made for later months
    are never used."""
    period = Period.month(month, tz)
    rules = rules_for(versions or load_ranking_rules(), period.first)
    params = {
        "start": period.start,
        "end": period.end,
        "first": period.first,
        "cutoff": period.end + timedelta(days=rules.settle_days),
        "response_hours": rules.response_limit_hours,
        "basically": rules.basically_satisfied_weight,
        "w_response": rules.weights["response"],
        "w_resolution": rules.weights["resolution"],
        "w_satisfaction": rules.weights["satisfaction"],
        "t_response": rules.targets.get("response"),
        "t_resolution": rules.targets.get("resolution"),
        "t_satisfaction": rules.targets.get("satisfaction"),
        # How a route says the district government took the case as the place's fallback (兜底).
        "relayed_rule": RouteRule.DISTRICT_FALLBACK.value,
        "chosen_rule": RouteRule.CHOSEN.value,
        "government_suffix": DISTRICT_GOVERNMENT_SUFFIX,
    }
    if area is not None:
        _known_area(con, area, unit)
    rates = con.sql(three_rates_sql(unit), params=params).to_arrow_table()
    bands = pa.table(
        {"band": list(rules.bands), "min_score": [float(v) for v in rules.bands.values()]}
    )
    ranked = _ranked(con, rates, bands)
    if area is not None:
        ranked = ranked.filter(pa.compute.equal(ranked["unit"], area))
    return Ranking(period.label, unit, rules, ranked)


def _ranked(con: duckdb.DuckDBPyConnection, rates: pa.Table, bands: pa.Table) -> pa.Table:
    with registered(con, three_rates=rates, bands=bands):
        return con.sql(sql("ranking")).to_arrow_table()


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Arrow tables visible to the next queries on ``con`` under these names."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


def _known_area(con: duckdb.DuckDBPyConnection, code: str, unit: str) -> None:
    if unit == "department":
        # A department a past month holds responsible may hold no case today (it returned
        # them): its dispatches in the history name it too.
        found = con.execute(
            "SELECT 1 FROM cases WHERE department_code = $c UNION ALL "
            "SELECT 1 FROM case_history WHERE action = 'dispatch' AND department_code = $c "
            "LIMIT 1",
            {"c": code},
        ).fetchall()
    else:
        found = con.execute(
            "SELECT 1 FROM areas WHERE code = $c AND level = $l", {"c": code, "l": unit}
        ).fetchall()
    if not found:
        raise NotFound(f"no {unit} {code!r} in the lake")


TYPE_COLUMNS = {"category": "category_code", "source_type": "source_type"}


def type_by_area(
    con: duckdb.DuckDBPyConnection, period: Period, level: str, by: str = "category"
) -> pa.Table:
    """Requests per type and area, with the median open-to-close time."""
    query = (
        sql("type_by_area")
        .replace("{type}", column_for(TYPE_COLUMNS, by, "by"))
        .replace("{area}", column_for(AREA_LEVELS, level))
    )
    return con.sql(query, params={"start": period.start, "end": period.end}).to_arrow_table()
