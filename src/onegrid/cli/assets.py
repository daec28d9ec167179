"""Taxonomy and component commands: ``onegrid taxonomy …``, ``onegrid import components``,
``onegrid component …``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session

from onegrid.assets import queries, services
from onegrid.assets.domain import Kind, parse_state
from onegrid.assets.importing import ComponentImportOptions, OnError, import_components_file
from onegrid.assets.sources import parse_mapping
from onegrid.assets.taxonomy import taxonomy_as_document
from onegrid.cli.root import (
    app,
    console,
    err,
    import_app,
    open_database,
    settings_or_exit,
    show_report,
)
from onegrid.core.clock import SystemClock
from onegrid.core.errors import DomainError, FieldProblem, InvalidInput
from onegrid.db.session import Database
from onegrid.schema import migrate

taxonomy_app = typer.Typer(help="The component and event classes (taxonomy).", no_args_is_help=True)
component_app = typer.Typer(help="The component (部件) inventory.", no_args_is_help=True)
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(component_app, name="component")


def _print_problems(problems: list[FieldProblem], title: str) -> None:
    table = Table(title=title)
    for column in ("record", "field", "rule", "problem"):
        table.add_column(column, overflow="fold")
    for p in problems[:200]:
        table.add_row(p.record or "", p.field, p.rule, p.message)
    err.print(table)
    if len(problems) > 200:
        err.print(f"… and {len(problems) - 200} more")


@contextmanager
def _database() -> Iterator[Database]:
    """A migrated database; a domain error is printed and exits 1."""
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        yield db
    except InvalidInput as exc:
        _print_problems(exc.problems, "refused: nothing was written")
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.engine.dispose()


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    with _database() as db, db.unit_of_work() as session:
        yield session


@taxonomy_app.command("load")
def taxonomy_load(
    file: Annotated[Path, typer.Argument(help="A taxonomy file, YAML or JSON.")],
) -> None:
    """Validate a taxonomy file and store it as the newest version (old versions are kept)."""
    with _unit_of_work() as session:
        loaded = services.load_taxonomy_file(session, file, SystemClock())
    v = loaded.version
    if loaded.created:
        console.print(f"taxonomy version {v.id} ({v.label}) loaded: {v.category_count} classes")
    else:
        console.print(f"unchanged: version {v.id} ({v.label}) already holds this taxonomy")


@taxonomy_app.command("show")
def taxonomy_show(
    kind: Annotated[Kind | None, typer.Option(help="component or event")] = None,
    version: Annotated[int | None, typer.Option(help="A version id; default the one in use.")] = (
        None
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the taxonomy file (it loads back).")
    ] = False,
) -> None:
    """List the classes of the taxonomy in use (or of an older version)."""
    with _database() as db, db.reader() as session:
        v = (
            queries.get_taxonomy_version(session, version)
            if version is not None
            else queries.current_version(session)
        )
        if v is None:
            err.print("no taxonomy loaded: run `onegrid taxonomy load FILE`")
            raise typer.Exit(1)
        categories = [
            c for c in queries.categories_of(session, v.id) if kind is None or c.kind is kind
        ]
    if as_json:
        doc = taxonomy_as_document(v.name, v.label, v.note, categories)
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    table = Table(title=f"taxonomy version {v.id}: {v.name} ({v.label})")
    for column in ("code", "中文", "English", "urgency", "emergency"):
        table.add_column(column)
    for c in categories:
        table.add_row(c.code, c.name_zh, c.name_en, c.urgency.value, "yes" if c.emergency else "")
    console.print(table)


@taxonomy_app.command("versions")
def taxonomy_versions() -> None:
    """Every stored taxonomy version, newest first; the newest active one is in use."""
    with _database() as db, db.reader() as session:
        versions = queries.taxonomy_versions(session)
        current = queries.current_version(session)
    table = Table()
    for column in ("id", "label", "name", "classes", "active", "loaded", "source"):
        table.add_column(column)
    for v in versions:
        mark = "in use" if current and v.id == current.id else ("yes" if v.active else "no")
        table.add_row(
            str(v.id),
            v.label,
            v.name,
            str(v.category_count),
            mark,
            v.loaded_at.isoformat(timespec="seconds"),
            v.source,
        )
    console.print(table)


@taxonomy_app.command("deactivate")
def taxonomy_deactivate(version: int) -> None:
    """Switch a version off (switching the one in use off goes back to the one before)."""
    with _unit_of_work() as session:
        services.set_taxonomy_active(session, version, False)
    console.print(f"taxonomy version {version} deactivated")


@taxonomy_app.command("activate")
def taxonomy_activate(version: int) -> None:
    """Switch a version on again."""
    with _unit_of_work() as session:
        services.set_taxonomy_active(session, version, True)
    console.print(f"taxonomy version {version} activated")


@import_app.command("components")
def import_components_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or GeoJSON of points.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or geojson; default from the suffix.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(help="FIELD=COLUMN, repeatable: e.g. --mapping owner=权属单位."),
    ] = None,
    on_error: Annotated[
        OnError, typer.Option(help="refuse: write nothing if any row is bad; skip: write the rest.")
    ] = OnError.REFUSE,
    batch_size: Annotated[int, typer.Option(help="Rows located and written at a time.")] = 10_000,
    report: Annotated[
        Path | None, typer.Option(help="Where to write the problem report (CSV).")
    ] = None,
    crs: Annotated[
        str, typer.Option(help="Coordinates of the file: wgs84, gcj02, bd09 or EPSG:<code>.")
    ] = "wgs84",
    admin_code: Annotated[
        str | None,
        typer.Option(
            help="6-digit code to number rows without an ID under, where the "
            "district codes are not admin codes."
        ),
    ] = None,
    data_source: Annotated[
        str | None, typer.Option(help="Data source of rows that name none; default the file.")
    ] = None,
    check_departments: Annotated[
        bool, typer.Option(help="Refuse rows whose department codes are unknown.")
    ] = True,
) -> None:
    """Import components in bulk: checked, located and written as one unit of work."""
    settings = settings_or_exit()
    size = file.stat().st_size if file.is_file() else 0
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with _database() as db, Progress(*columns, console=console, transient=True) as bar:
        options = ComponentImportOptions(
            on_error=on_error,
            batch_size=batch_size,
            mapping=parse_mapping(mapping or []),
            fmt=fmt,
            crs=crs,
            admin_code=admin_code,
            data_source=data_source,
            check_departments=check_departments,
            report_path=report,
            timezone=settings.timezone,
        )
        task = bar.add_task(f"{file.name}: 0 rows", total=size or None)

        def progress(bytes_read: int, rows: int) -> None:
            bar.update(task, completed=bytes_read, description=f"{file.name}: {rows:,} rows")

        result = import_components_file(db, file, SystemClock(), options, progress)
    show_report(result.render())
    if result.refused or (result.problem_count and not result.written):
        raise typer.Exit(1)


@component_app.command("show")
def component_show(component_id: str) -> None:
    """Print one component."""
    with _database() as db, db.reader() as session:
        c = queries.get_component(session, component_id)
    table = Table(show_header=False)
    for name, value in vars(c).items():
        table.add_row(name, "" if value is None else str(value))
    console.print(table)


@component_app.command("history")
def component_history(component_id: str) -> None:
    """Print a component's recorded changes, oldest first."""
    with _database() as db, db.reader() as session:
        queries.get_component(session, component_id)
        entries = queries.component_history(session, component_id.strip())
    table = Table("at (UTC)", "actor", "action", "changes")
    for e in entries:
        changes = "; ".join(f"{k}: {old} → {new}" for k, (old, new) in e.changes.items())
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, changes)
    console.print(table)


@component_app.command("set-state")
def component_set_state(
    component_id: str,
    state: Annotated[str, typer.Argument(help="normal, damaged, lost, under_repair or removed")],
) -> None:
    """Change a component's state (removed retires it for good)."""
    with _unit_of_work() as session:
        c = services.change_component_state(
            session, component_id, parse_state(state), SystemClock()
        )
    console.print(f"component {c.id} is now {c.state}")
