"""``onegrid report …``: evaluation tables in the terminal and as CSV, the monthly HTML report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import typer
from rich.table import Table

from onegrid.cli.root import app, console, err, settings_or_exit
from onegrid.core.errors import DomainError

report_app = typer.Typer(help="Evaluation reports from the analytics lake.", no_args_is_help=True)
app.add_typer(report_app, name="report")
Csv = Annotated[Path | None, typer.Option("--csv", help="Also write the table to this CSV file.")]


def _show(table: pa.Table, title: str, csv: Path | None) -> None:
    if table.num_rows == 0:
        # A table without rows (nor, for a list of findings, columns) prints nothing at all.
        console.print(f"{title}: none")
    out = Table(title=title)
    for name in table.column_names:
        out.add_column(name)
    for row in table.to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    if table.num_rows:
        console.print(out)
    if csv is not None:
        pacsv.write_csv(table, csv)
        console.print(f"wrote {csv}")


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _connect() -> Any:
    from onegrid.analytics.lake import Lake

    settings = settings_or_exit()
    lake = Lake.under(settings.data_dir)
    if lake.current() is None:
        err.print(
            f"[yellow]the lake under {lake.root} is empty: run `onegrid analytics refresh`[/]"
        )
    return lake.connect(), settings.timezone


Weights = Annotated[
    Path | None,
    typer.Option(
        "--weights",
        help="Rank with this ranking file (versioned weights, bands, targets) instead of the "
        "configured one (ONEGRID_ANALYTICS_RANKING_FILE).",
    ),
]


def _weights(path: Path | None) -> Any:
    from onegrid.analytics.ranking import load_ranking_rules

    # Checked before the lake is opened: a file that breaks a rule exits 2 naming it.
    return _run(load_ranking_rules, path)


@report_app.command("ranking")
def ranking_cmd(
    month: str,
    unit: str = "subdistrict",
    area: Annotated[
        str | None,
        typer.Option(help="Only this unit (a subdistrict or district code, or a department)."),
    ] = None,
    weights: Weights = None,
    csv: Csv = None,
) -> None:
    """The monthly three-rate ranking of subdistricts, districts or departments."""
    from onegrid.analytics.evaluation import ranking

    versions = _weights(weights)
    con, tz = _connect()
    r = _run(ranking, con, month, unit, tz=tz, area=area, versions=versions)
    _show(r.table, f"{unit} ranking {r.month} (weights {r.rules.version})", csv)


@report_app.command("departments")
def departments_cmd(start: str, end: str, grain: str = "period", csv: Csv = None) -> None:
    """Department indicators (on-time close rate, rework rate…) per day, week, month or period."""
    from onegrid.analytics.evaluation import department_indicators
    from onegrid.analytics.period import Period

    con, tz = _connect()
    period = _run(Period, date.fromisoformat(start), date.fromisoformat(end), tz)
    _show(_run(department_indicators, con, period, grain), "departments", csv)


@report_app.command("composite")
def composite_cmd(month: str, csv: Csv = None) -> None:
    """The monthly department composite score: points per indicator, score and band."""
    from onegrid.analytics.composite import department_composite

    con, tz = _connect()
    c = _run(department_composite, con, month, tz=tz)
    _show(c.table, f"department composite {c.month} (configuration {c.rules.version})", csv)


@report_app.command("areas")
def areas_cmd(
    start: str, end: str, level: str = "subdistrict", grain: str = "period", csv: Csv = None
) -> None:
    """Area indicators at one level (public-report rate, density, per 10,000 residents)."""
    from onegrid.analytics.evaluation import area_indicators
    from onegrid.analytics.period import Period

    con, tz = _connect()
    period = _run(Period, date.fromisoformat(start), date.fromisoformat(end), tz)
    _show(_run(area_indicators, con, period, level, grain), f"{level}s", csv)


@report_app.command("posts")
def posts_cmd(start: str, end: str, grain: str = "period", csv: Csv = None) -> None:
    """Post indicators per person and role: on-time verification, check, filing and dispatch,
    accuracy, valid reports and the inspector's missed-report rate."""
    from onegrid.analytics.evaluation import post_indicators
    from onegrid.analytics.period import Period

    con, tz = _connect()
    period = _run(Period, date.fromisoformat(start), date.fromisoformat(end), tz)
    _show(_run(post_indicators, con, period, grain), "posts", csv)


@report_app.command("monthly")
def monthly_cmd(month: str, out: Path, weights: Weights = None) -> None:
    """Write the monthly evaluation report (HTML with inline SVG charts) to OUT."""
    from onegrid.analytics.report import monthly_report

    versions = _weights(weights)
    con, tz = _connect()
    out.write_text(_run(monthly_report, con, month, tz, versions=versions), encoding="utf-8")
    console.print(f"wrote {out}")


@report_app.command("hotspots")
def hotspots_cmd(
    category: str,
    start: str,
    end: str,
    csv: Csv = None,
    min_count: Annotated[
        int | None,
        typer.Option(
            "--min-count",
            min=1,
            help="The fewest cases of its own a cell needs to be listed (when not given: 3).",
        ),
    ] = None,
) -> None:
    """Significant hot H3 cells of one category (Gi*, false-discovery corrected)."""
    from onegrid.analytics.hotspots import MIN_COUNT, hotspots
    from onegrid.analytics.period import Period

    con, tz = _connect()
    period = _run(Period, date.fromisoformat(start), date.fromisoformat(end), tz)
    floor = MIN_COUNT if min_count is None else min_count
    found = _run(hotspots, con, category, period, min_count=floor)
    _show(pa.Table.from_pylist([h.__dict__ for h in found]), f"hotspots {category}", csv)


@report_app.command("spikes")
def spikes_cmd(
    week_of: Annotated[str | None, typer.Argument(help="A day of the week to scan.")] = None,
    day: Annotated[str | None, typer.Option(help="Scan this one day instead of a week.")] = None,
    level: str = "subdistrict",
    csv: Csv = None,
) -> None:
    """Categories in areas far above their seasonal baseline in the week of WEEK_OF, or on the
    day given with --day."""
    from onegrid.analytics.findings import daily_spikes, spikes

    if (week_of is None) == (day is None):
        err.print("[red]give exactly one of WEEK_OF and --day[/red]")
        raise typer.Exit(2)
    con, tz = _connect()
    if day is not None:
        found = _run(daily_spikes, con, _day(day, "--day"), level, tz=tz)
        title = f"spikes on {day}"
    else:
        assert week_of is not None
        found = _run(spikes, con, _day(week_of, "WEEK_OF"), level, tz=tz)
        title = f"spikes week of {week_of}"
    if not found:
        console.print(f"{title}: none above the seasonal baseline")
    _show(pa.Table.from_pylist([s.__dict__ for s in found]), title, csv)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]{name}: not a date YYYY-MM-DD: {text!r}[/red]")
        raise typer.Exit(2) from None


@report_app.command("topics")
def topics_cmd(
    month: str,
    choose: Annotated[
        str | None, typer.Option(help="Record this category as MONTH's topic (每月一题).")
    ] = None,
    area: Annotated[str | None, typer.Option(help="With --choose: the topic's area.")] = None,
    note: Annotated[str, typer.Option(help="With --choose: why this topic.")] = "",
    csv: Csv = None,
) -> None:
    """One topic a month: candidates by volume, growth, departments and repeat calls; with
    --choose, record the month's chosen topic and show its tracking since."""
    from onegrid.analytics.findings import topic_candidates

    con, tz = _connect()
    if choose is None:
        _show(_run(topic_candidates, con, month, tz=tz), f"topic candidates {month}", csv)
        return
    from onegrid.analytics.topics import CityNames, TopicChoices, tracked
    from onegrid.cli.root import open_database
    from onegrid.core.clock import SystemClock, city_today

    settings = settings_or_exit()
    db = open_database(settings)

    names = CityNames(db)
    clock = SystemClock()
    choice = _run(
        TopicChoices.under(settings.data_dir).choose,
        month,
        choose,
        known_category=names.category,
        known_area=names.area,
        area_code=area,
        note=note,
        chosen_by="console",
        clock=clock,
    )
    where = f" in {choice.area_code}" if choice.area_code else ""
    console.print(f"topic of {choice.month}: {choice.category_code}{where}")
    _show(tracked(con, choice, city_today(clock, tz), tz), f"{choice.category_code} since", csv)


@report_app.command("forecast")
def forecast_cmd(
    origin: str,
    months: int = 3,
    weeks: int = 8,
    grain: Annotated[str, typer.Option(help="month, or week (ISO weeks from a Monday)")] = "month",
    level: str = "district",
    backtest_year: int = 0,
    csv: Csv = None,
) -> None:
    """Seasonal forecast from ORIGIN (a month's first day, or a Monday with --grain week); with
    --backtest-year, its error against seasonal-naive on that year."""
    from onegrid.analytics.findings import backtest, forecast

    con, tz = _connect()
    periods = weeks if grain == "week" else months
    table = _run(forecast, con, _day(origin, "ORIGIN"), periods, level, tz=tz, grain=grain)
    _show(table, f"forecast by {grain}", csv)
    if backtest_year:
        b = _run(backtest, con, backtest_year, level, tz=tz, grain=grain)
        console.print(
            f"backtest {backtest_year}: MAE {b.mae_forecast:.2f} vs seasonal-naive "
            f"{b.mae_seasonal_naive:.2f} over {b.cells} category-area-{grain}s "
            f"(skill {b.skill:.2f})"
        )
