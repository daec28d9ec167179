"""``onegrid analytics …`` and ``onegrid import dataset``: the lake, its dataset catalogue and
open-data publications.

The console is the trusted operator for imports and publications; reading a dataset out of the
catalogue is done ``--as`` a user, whose permissions are checked as the API checks them, and so
is an export of cases (``onegrid analytics export cases``) when ``--as`` is given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from onegrid.cli.root import (
    app,
    console,
    err,
    import_app,
    open_database,
    settings_or_exit,
    show_report,
)
from onegrid.core.errors import DomainError

analytics_app = typer.Typer(help="The analytics lake.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")
datasets_app = typer.Typer(help="Departments' datasets in the lake.", no_args_is_help=True)
analytics_app.add_typer(datasets_app, name="datasets")
exports_app = typer.Typer(help="Exports out of the lake, limited by grants.", no_args_is_help=True)
analytics_app.add_typer(exports_app, name="export")
proactive_app = typer.Typer(
    help="Act before the call (未诉先办): accepted forecasts as proactive cases.",
    no_args_is_help=True,
)
analytics_app.add_typer(proactive_app, name="proactive")

Formats = Annotated[str, typer.Option("--formats", help="Comma-separated: csv, parquet, geojson.")]


def _fail(exc: DomainError) -> typer.Exit:
    problems = getattr(exc, "problems", None)
    if problems:
        for p in problems:
            err.print(f"{p.field}: {p.message}", markup=False, highlight=False)
    else:
        err.print(exc.message, markup=False, highlight=False)
    return typer.Exit(2)


@analytics_app.command("refresh")
def refresh_cmd() -> None:
    """Export what changed since the last refresh to the lake (Parquet under data_dir/lake)."""
    from onegrid.analytics.lake import Lake

    settings = settings_or_exit()
    db = open_database(settings)
    report = Lake.under(settings.data_dir).refresh(db, salt=settings.secret_key.encode())
    show_report(report.render())


@import_app.command("dataset")
def import_dataset_cmd(
    name: Annotated[str, typer.Argument(help="The dataset's name in the catalogue.")],
    file: Annotated[Path, typer.Argument(help="A CSV (.csv, .csv.gz), Parquet or GeoJSON file.")],
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="YAML: owner, licence, open, readers, columns (needed the first time).",
        ),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, parquet or geojson (default: by name).")
    ] = None,
) -> None:
    """Check a department's file against its declared columns and publish it whole, or nothing."""
    from onegrid.analytics.datasets import Catalogue, load_spec
    from onegrid.core.clock import SystemClock
    from onegrid.people.queries import get_department

    settings = settings_or_exit()
    try:
        declared = load_spec(spec) if spec is not None else None
        if declared is not None:
            with open_database(settings).reader() as s:
                get_department(s, declared.owner)
        entry = Catalogue.under(settings.data_dir).import_file(
            name, file, clock=SystemClock(), spec=declared, fmt=fmt
        )
    except DomainError as exc:
        raise _fail(exc) from None
    show_report(
        f"dataset {entry.name} v{entry.version}: {entry.rows:,} rows from {entry.lineage.source} "
        f"(owner {entry.spec.owner}, {'open' if entry.spec.open else 'shared'})"
    )


@datasets_app.command("list")
def list_cmd() -> None:
    """The catalogue: every dataset with its owner, licence, rows and refresh time."""
    from onegrid.analytics.datasets import Catalogue

    settings = settings_or_exit()
    out = Table(title="datasets")
    for col in ("name", "title", "owner", "open", "licence", "rows", "version", "refreshed"):
        out.add_column(col)
    for e in Catalogue.under(settings.data_dir).entries():
        out.add_row(
            e.name,
            e.spec.title,
            e.spec.owner,
            "yes" if e.spec.open else "no",
            e.spec.licence,
            f"{e.rows:,}",
            str(e.version),
            f"{e.refreshed_at:%Y-%m-%d %H:%M} UTC",
        )
    console.print(out)


def _principal(settings: Any, username: str) -> Any:
    from onegrid.people.queries import get_user_by_username, principal_of

    with open_database(settings).reader() as s:
        return principal_of(get_user_by_username(s, username))


def _console() -> Any:
    """The trusted operator at the shell, as every ``onegrid import`` and publication runs."""
    from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope

    return Principal(
        None, "console", PrincipalKind.USER, grants=(Grant(Role.CITY_ADMIN, Scope.city()),)
    )


@datasets_app.command("export")
def export_cmd(
    name: str,
    out: Annotated[Path, typer.Argument(help="The file to write; its suffix picks the format.")],
    user: Annotated[str, typer.Option("--as", help="Read as this user (permissions apply).")],
) -> None:
    """Write a dataset to CSV, Parquet or GeoJSON, if the user may read it."""
    from onegrid.analytics.datasets import Catalogue, format_of
    from onegrid.analytics.opendata import dataset_extract, write_file

    settings = settings_or_exit()
    try:
        principal = _principal(settings, user)
        catalogue = Catalogue.under(settings.data_dir)
        extract = dataset_extract(catalogue, principal, name, open_only=False)
        write_file(extract, format_of(out), out)
    except DomainError as exc:
        raise _fail(exc) from None
    show_report(f"wrote {out} ({extract.table.num_rows:,} rows)")


@exports_app.command("cases")
def export_cases_cmd(
    out: Annotated[Path, typer.Argument(help="The file to write; its suffix picks the format.")],
    start: Annotated[date, typer.Option(help="First local day.")],
    end: Annotated[date, typer.Option(help="Last local day.")],
    user: Annotated[
        str | None,
        typer.Option("--as", help="Export as this user: their grants limit the cases."),
    ] = None,
    area: Annotated[str | None, typer.Option(help="Only this area's cases (any level).")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, parquet or geojson (default: by name).")
    ] = None,
) -> None:
    """Write the lake's cases in a period to CSV, Parquet or GeoJSON.

    Without --as the console exports as the trusted operator (every case, with the lake's
    reporter fields), as for ``onegrid analytics publish``."""
    from onegrid.analytics.datasets import format_of
    from onegrid.analytics.exports import export_for, write_cases
    from onegrid.analytics.lake import Lake
    from onegrid.analytics.period import Period

    settings = settings_or_exit()
    try:
        kind = format_of(out, fmt)
        principal = _principal(settings, user) if user is not None else _console()
        export = export_for(principal, Period(start, end, settings.timezone), area)
        rows = write_cases(Lake.under(settings.data_dir).connect(), export, kind, out)
    except DomainError as exc:
        raise _fail(exc) from None
    show_report(f"wrote {out} ({rows:,} cases)")


@analytics_app.command("publish")
def publish_cmd(
    source: Annotated[
        str, typer.Argument(help="cases, case_counts or the name of an open dataset.")
    ],
    formats: Formats = "csv,parquet,geojson",
    start: Annotated[date | None, typer.Option(help="First day (cases, case_counts).")] = None,
    end: Annotated[date | None, typer.Option(help="Last day (cases, case_counts).")] = None,
) -> None:
    """Publish open data (no personal data, coarse locations) with a manifest."""
    from onegrid.analytics.opendata import OpenData, extract_for
    from onegrid.core.clock import SystemClock

    settings = settings_or_exit()
    try:
        extract = extract_for(settings, _console(), source, start, end)
        manifest = OpenData.under(settings.data_dir).publish(
            extract, [f.strip() for f in formats.split(",") if f.strip()], SystemClock()
        )
    except DomainError as exc:
        raise _fail(exc) from None
    files = ", ".join(f"{f['path']} ({f['bytes']:,} B)" for f in manifest["files"])
    show_report(
        f"published {manifest['name']} {manifest['publication']}: {manifest['rows']:,} rows; "
        f"{files}\n  under {OpenData.under(settings.data_dir).latest(manifest['name'])}"
    )


@proactive_app.command("accept")
def accept_cmd(
    category: Annotated[str, typer.Argument(help="The forecast's category code.")],
    area: Annotated[str, typer.Argument(help="The forecast's area code.")],
    day: Annotated[date, typer.Argument(help="A day of the month, or ISO week, forecast.")],
    forecast: Annotated[float, typer.Option(help="The requests forecast.")],
    user: Annotated[str, typer.Option("--as", help="Open the case as this user (a shift leader).")],
    grain: Annotated[str, typer.Option(help="month, or week (ISO weeks)")] = "month",
) -> None:
    """Open the proactive case of an accepted forecast (a row of ``onegrid report forecast``)
    for the unit responsible; accepting the same month or ISO week again opens no second."""
    from onegrid.analytics.proactive import AcceptedForecast, open_proactive_cases
    from onegrid.cases.config import case_rules
    from onegrid.core.clock import SystemClock

    settings = settings_or_exit()
    try:
        principal = _principal(settings, user)
        pick = AcceptedForecast(category, area, day, forecast, grain)
        [opened] = open_proactive_cases(
            open_database(settings),
            principal,
            [pick],
            clock=SystemClock(),
            rules=case_rules(settings.timezone),
        )
    except DomainError as exc:
        raise _fail(exc) from None
    done = "opened" if opened.created else "already opened"
    show_report(
        f"{done} case {opened.case.number} for {category} in {area} for {pick.period}"
        + (f" (suggested: {opened.case.suggested_department_code})" if opened.created else "")
    )
