"""The 12345 hotline: ``onegrid hotline rates | kb-load | kb-search | duplicates``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from onegrid.cli.root import app, console, err, open_database, settings_or_exit
from onegrid.core.errors import DomainError, InvalidInput

hotline_app = typer.Typer(
    help="The 12345 hotline desk: the three rates, the knowledge base, duplicates.",
    no_args_is_help=True,
)
app.add_typer(hotline_app, name="hotline")


@contextmanager
def _refusals() -> Iterator[None]:
    """A domain error becomes a readable message and exit status 1."""
    try:
        yield
    except InvalidInput as exc:
        for p in exc.problems:
            err.print(f"{p.field}: {p.message} [{p.rule}]", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


@hotline_app.command("rates")
def rates(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM (the city's time zone).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Response, resolution and satisfaction rates of every unit for a month."""
    from onegrid.dispatch.config import hotline_rules
    from onegrid.dispatch.hotline.queries import hotline_rates, month_period
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    with _refusals(), db.reader() as session:
        period = month_period(month, settings.timezone)
        rules = hotline_rules()
        found = hotline_rates(session, period, rules)
    if as_json:
        rows = [
            {
                **vars(r.facts),
                "response_rate": r.response_rate,
                "resolution_rate": r.resolution_rate,
                "satisfaction_rate": r.satisfaction_rate,
            }
            for r in found
        ]
        data = {
            "period": period.label,
            "basically_satisfied_weight": rules.basically_satisfied_weight,
            "units": rows,
        }
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = Table(title=f"12345 rates, {period.label}")
    for name in ("unit", "dispatched", "response", "callbacks", "resolution", "satisfaction"):
        table.add_column(name, justify="left" if name == "unit" else "right")
    for r in found:
        f = r.facts
        table.add_row(
            f.unit,
            str(f.dispatched),
            _pct(r.response_rate),
            str(f.callbacks),
            _pct(r.resolution_rate),
            _pct(r.satisfaction_rate),
        )
    console.print(table)
    if not found:
        console.print("no dispatches or callbacks in this month")


@hotline_app.command("kb-load")
def kb_load(
    file: Annotated[
        Path | None, typer.Argument(help="A YAML file of answers (default: the shipped example)")
    ] = None,
) -> None:
    """Add or replace knowledge-base answers (by code)."""
    from onegrid.core.clock import SystemClock
    from onegrid.dispatch.config import dispatch_settings
    from onegrid.dispatch.hotline.knowledge import load_answers
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    path = file or dispatch_settings().knowledge_base_file
    with _refusals(), db.unit_of_work() as session:
        count = load_answers(session, path, SystemClock())
    console.print(f"{count} answers loaded from {path}", markup=False, highlight=False)


@hotline_app.command("kb-search")
def kb_search(
    question: Annotated[str, typer.Argument(help="Words of the caller's question")],
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
) -> None:
    """The answers that best match a question."""
    from onegrid.dispatch.hotline.knowledge import search_answers

    settings = settings_or_exit()
    db = open_database(settings)
    with _refusals(), db.reader() as session:
        found = search_answers(session, question, limit)
    for a in found:
        console.print(f"{a.code}  {a.score:.2f}  {a.question}\n    {a.answer}", markup=False)
    if not found:
        console.print("no answer matches: the call becomes a case")


@hotline_app.command("duplicates")
def duplicates(
    status: Annotated[str, typer.Option(help="proposed, confirmed or undone")] = "proposed",
) -> None:
    """Duplicate proposals waiting for (or given) a dispatcher's decision."""
    from onegrid.dispatch.duplicates.services import ProposalStatus, list_proposals

    settings = settings_or_exit()
    db = open_database(settings)
    with _refusals():
        try:
            wanted = ProposalStatus(status)
        except ValueError:
            raise InvalidInput.one(
                "status", "known_status", "proposed, confirmed or undone"
            ) from None
        with db.reader() as session:
            found = list_proposals(session, status=wanted)
    for p in found:
        console.print(
            f"#{p.id}: case {p.case_id} → {p.existing_case_id}  score {p.score:.2f}  "
            f"{p.distance_m:.0f} m  text {p.similarity:.2f}  {p.status}",
            markup=False,
        )
    if not found:
        console.print(f"no {status} proposals")


@hotline_app.command("dup-index")
def dup_index() -> None:
    """Index the open cases of the duplicate window (cases reported before the index existed)."""
    from onegrid.core.clock import SystemClock
    from onegrid.dispatch.config import duplicate_rules
    from onegrid.dispatch.duplicates.services import rebuild_index
    from onegrid.schema import migrate

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    with _refusals():
        count = rebuild_index(db, duplicate_rules(), SystemClock().now())
    console.print(f"{count:,} open cases indexed for duplicate checks")
