"""The monthly evaluation report: one self-contained HTML file, charts as inline SVG."""

from __future__ import annotations

from html import escape
from typing import Any

import duckdb

from onegrid.analytics.evaluation import department_indicators, ranking
from onegrid.analytics.period import Period
from onegrid.analytics.ranking import RankingRules


def _bars(rows: list[tuple[str, float | None]], unit: str = "") -> str:
    """A horizontal bar chart; missing values are drawn as an empty row."""
    height = 22 * len(rows) + 10
    top = max([v for _, v in rows if v is not None] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}">']
    for i, (label, value) in enumerate(rows):
        y = 5 + 22 * i
        width = 0 if value is None else 420 * value / top
        text = "—" if value is None else f"{value:.1f}{unit}"
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(label)}</text>'
            f'<rect x="150" y="{y}" width="{width:.1f}" height="16" fill="#3b6ea5"/>'
            f'<text x="{155 + width:.1f}" y="{y + 13}" font-size="11">{text}</text>'
        )
    return "".join(parts) + "</svg>"


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def monthly_report(
    con: duckdb.DuckDBPyConnection,
    month: str,
    tz: str = "Asia/Shanghai",
    *,
    versions: list[RankingRules] | None = None,
) -> str:
    """The month's report, ranked with ``versions`` (default: the configured ranking file)."""
    ranked = ranking(con, month, "subdistrict", tz=tz, versions=versions)
    rows = ranked.table.to_pylist()
    departments = department_indicators(con, Period.month(month, tz)).to_pylist()
    score_chart = _bars([(str(r["name"] or r["unit"]), r["score"]) for r in rows])
    on_time = _bars(
        [
            (
                r["department_code"],
                None if r["on_time_close_rate"] is None else 100 * r["on_time_close_rate"],
            )
            for r in departments
        ],
        " %",
    )
    cols = [
        "rank",
        "unit",
        "name",
        "score",
        "band",
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "requests_per_10k_residents",
        "repeat_callers",
    ]
    dcols = ["department_code", "dispatched", "closed", "on_time_close_rate", "rework_rate"]
    return (
        "<!doctype html><html lang='zh'><meta charset='utf-8'>"
        f"<title>OneGrid evaluation {escape(ranked.month)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style>"
        f"<h1>Monthly evaluation 月度综合评价 {escape(ranked.month)}</h1>"
        f"<p>Weights version {escape(ranked.rules.version)}: "
        + ", ".join(f"{k} {v:g}" for k, v in ranked.rules.weights.items())
        + "</p><h2>Subdistrict ranking (three rates)</h2>"
        + score_chart
        + _table(rows, cols)
        + "<h2>Departments: on-time close rate</h2>"
        + on_time
        + _table(departments, dcols)
        + "</html>"
    )
