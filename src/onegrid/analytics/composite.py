"""The department composite score (综合评价): indicator points and bands from a versioned file.

Each item names an indicator of ``department_indicators``, the points it is worth, the threshold
that earns them all and the points lost per percentage point short of it. An indicator a
department has no cases for (no urgent case this month) is left out and the score is scaled to
the points that could be earned, so a department is not penalised for work it was not given.
The scoring is SQL (``sql/department_composite.sql``); this module loads and checks the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from onegrid.analytics.evaluation import department_indicators, registered, sql
from onegrid.analytics.period import Period
from onegrid.analytics.settings import analytics_settings
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.yamlfile import read_yaml

INDICATORS = (
    "close_rate",
    "on_time_close_rate",
    "on_time_handling_rate",
    "rework_rate",
    "urgent_on_time_close_rate",
)


@dataclass(frozen=True)
class Item:
    indicator: str
    points: float
    threshold: float
    per_point: float
    lower_is_better: bool = False


@dataclass(frozen=True)
class CompositeRules:
    version: str
    valid_from: date
    items: tuple[Item, ...]
    bands: dict[str, float]


def _item(raw: Any, where: str, problems: list[FieldProblem]) -> Item | None:
    if not isinstance(raw, dict) or raw.get("indicator") not in INDICATORS:
        problems.append(
            FieldProblem(
                where,
                "known_indicator",
                f"{where}: indicator must be one of {', '.join(INDICATORS)}",
            )
        )
        return None
    try:
        item = Item(
            str(raw["indicator"]),
            float(raw["points"]),
            float(raw["threshold"]),
            float(raw.get("per_point", 1)),
            bool(raw.get("lower_is_better", False)),
        )
    except (KeyError, TypeError, ValueError):
        problems.append(
            FieldProblem(where, "numbers", f"{where}: points and threshold must be numbers")
        )
        return None
    if item.points <= 0 or not 0 <= item.threshold <= 1 or item.per_point < 0:
        problems.append(
            FieldProblem(
                where,
                "range",
                f"{where}: points > 0, 0 ≤ threshold ≤ 1 (a rate), per_point ≥ 0",
            )
        )
    return item


def _rules(raw: Any, source: str) -> CompositeRules:
    version = str(raw.get("version", "?")) if isinstance(raw, dict) else "?"
    where = f"{source} version {version}"
    problems: list[FieldProblem] = []
    if not isinstance(raw, dict) or "valid_from" not in raw:
        raise InvalidInput(FieldProblem("valid_from", "required", f"{where}: valid_from"))
    items = [
        _item(r, f"{where} items[{i}]", problems) for i, r in enumerate(raw.get("items") or [])
    ]
    kept = tuple(i for i in items if i is not None)
    total = sum(i.points for i in kept)
    if not problems and not math.isclose(total, 100.0, abs_tol=1e-9):
        problems.append(
            FieldProblem(
                "items", "points_sum_to_100", f"{where}: points add up to {total:g}, not 100"
            )
        )
    names = [i.indicator for i in kept]
    problems += [
        FieldProblem("items", "unique", f"{where}: {n} is scored twice")
        for n in sorted({n for n in names if names.count(n) > 1})
    ]
    bands = raw.get("bands") or {}
    if not bands:
        problems.append(FieldProblem("bands", "required", f"{where}: bands are required"))
    try:
        valid_from = date.fromisoformat(str(raw["valid_from"]))
    except ValueError:
        problems.append(FieldProblem("valid_from", "date", f"{where}: valid_from: YYYY-MM-DD"))
    try:
        floors = {str(k): float(v) for k, v in bands.items()} if bands else {}
    except (AttributeError, TypeError, ValueError):
        problems.append(FieldProblem("bands", "numbers", f"{where}: bands: name: lowest score"))
    if problems:
        raise InvalidInput(problems)
    return CompositeRules(version, valid_from, kept, floors)


def load_composite_rules(path: Path | None = None) -> list[CompositeRules]:
    """Every version in ``path``, else in the configured file
    (``ONEGRID_ANALYTICS_COMPOSITE_FILE``, by default the packaged
    ``data/department_composite.yaml``); a refusal names the file."""
    path = path or analytics_settings().composite_file
    source = str(path)
    raw = read_yaml(path, "composite_file")
    versions = [_rules(v, source) for v in raw.get("versions") or []]
    if not versions:
        raise InvalidInput(FieldProblem("versions", "required", f"{source}: no versions"))
    return sorted(versions, key=lambda r: r.valid_from)


def _rules_for(versions: list[CompositeRules], first: date) -> CompositeRules:
    chosen = [v for v in versions if v.valid_from <= first]
    if not chosen:
        raise InvalidInput(
            FieldProblem("month", "configured", f"no composite configuration applies to {first}")
        )
    return chosen[-1]


@dataclass(frozen=True)
class Composite:
    month: str
    rules: CompositeRules
    table: pa.Table


def composite_sql(rules: CompositeRules) -> str:
    # Only names from INDICATORS (checked when the file was loaded) are written into the SQL.
    values = " ".join(f"WHEN '{n}' THEN i.{n}" for n in INDICATORS)
    per_item = ", ".join(
        f"max(earned) FILTER (WHERE indicator = '{i.indicator}') AS {i.indicator}_points"
        for i in rules.items
    )
    return sql("department_composite").replace("{values}", values).replace("{per_item}", per_item)


def department_composite(
    con: duckdb.DuckDBPyConnection,
    month: str,
    *,
    tz: str = "Asia/Shanghai",
    versions: list[CompositeRules] | None = None,
) -> Composite:
    """Every department's composite score and band for ``month``, with the version used."""
    period = Period.month(month, tz)
    rules = _rules_for(versions or load_composite_rules(), period.first)
    indicators = department_indicators(con, period)
    items = pa.Table.from_pylist(
        [i.__dict__ for i in rules.items],
        schema=pa.schema(
            [
                ("indicator", pa.string()),
                ("points", pa.float64()),
                ("threshold", pa.float64()),
                ("per_point", pa.float64()),
                ("lower_is_better", pa.bool_()),
            ]
        ),
    )
    bands = pa.table(
        {"band": list(rules.bands), "min_score": [float(v) for v in rules.bands.values()]}
    )
    with registered(con, indicators=indicators, items=items, bands=bands):
        table = con.sql(composite_sql(rules)).to_arrow_table()
    return Composite(period.label, rules, table)
