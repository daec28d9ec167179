"""Case commands: ``onegrid jobs run-once`` (the overdue job, for cron) and
``onegrid import cases`` (historical cases from a CSV export with a column mapping)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onegrid.cli.root import (
    app,
    console,
    err,
    import_app,
    open_database,
    settings_or_exit,
    show_report,
)
from onegrid.core.errors import DomainError, FieldProblem

jobs_app = typer.Typer(help="Background jobs, run once (for cron).", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

DEFAULT_NYC_MAPPING = Path(__file__).resolve().parents[1] / "cases" / "data" / "nyc311_mapping.yaml"


@jobs_app.command("run-once")
def run_once() -> None:
    """Mark overdue steps and escalate them one tier up (idempotent)."""
    from onegrid.cases.config import case_rules
    from onegrid.cases.scheduler import run_overdue_job
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    report = run_overdue_job(db, SystemClock(), case_rules(settings.timezone))
    show_report(report.render())


@import_app.command("cases")
def import_cases(
    file: Annotated[Path, typer.Argument(help="CSV (or .csv.gz) export of cases", exists=True)],
    mapping: Annotated[
        Path, typer.Option(help="Column and type mapping (YAML)", exists=True)
    ] = DEFAULT_NYC_MAPPING,
    batch_size: Annotated[int, typer.Option(min=100, help="Rows per transaction")] = 5000,
) -> None:
    """Load historical cases; rows already loaded (same source id) are skipped."""
    from onegrid.assets.services import ensure_taxonomy
    from onegrid.cases.config import case_rules
    from onegrid.cases.csvmapping import read_cases, read_mapping
    from onegrid.cases.importing import HistoricalCase, load_historical
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    with db.unit_of_work() as session:
        ensure_taxonomy(session, SystemClock())
    try:
        m = read_mapping(mapping)
        refused: list[FieldProblem] = []

        def cases() -> Iterator[HistoricalCase]:
            for item in read_cases(file, m):
                if isinstance(item, FieldProblem):
                    refused.append(item)
                else:
                    yield item

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            report = load_historical(
                db,
                cases(),
                rules=case_rules(settings.timezone),
                use_grid=m.use_grid,
                batch_size=batch_size,
                on_batch=lambda n: progress.advance(task, n),
            )
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    report.rejected[:0] = refused
    show_report(report.render())
