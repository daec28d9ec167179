"""The root Typer application and what every command shares."""

from __future__ import annotations

import typer
from rich.console import Console

from onegrid.core.logging import configure_logging
from onegrid.core.settings import Settings, SettingsError, load_settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.people.passwords import configure_hashing

app = typer.Typer(
    name="onegrid",
    help="OneGrid: the city grid, cases, the 12345 hotline, sensors and data in one system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Every context adds its own ``onegrid import <what>`` command to this one group.
import_app = typer.Typer(help="Import data into OneGrid.", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console()
err = Console(stderr=True)


def show_report(text: str) -> None:
    """Print a report as it is: its ``[rule]`` tags are data, not rich markup to interpret."""
    console.print(text, markup=False, highlight=False)


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    configure_hashing(settings.auth)
    return settings


def open_database(settings: Settings) -> Database:
    from onegrid.cases.config import use_rule_store

    db = Database(make_engine(settings.effective_database_url))
    use_rule_store(db)  # commands that open or time cases use the rules saved in it
    return db
