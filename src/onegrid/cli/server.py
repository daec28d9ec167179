"""Serving and schema commands: ``run``, ``migrate``, ``check-schema``."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from onegrid.cli.root import app, console, err, open_database, settings_or_exit
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.schema import drift, migrate


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply every pending migration (idempotent)."""
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    console.print(f"migrated {db.engine.url.render_as_string(hide_password=True)}")


@app.command("check-schema")
def check_schema_cmd() -> None:
    """Fail if the models and the migrations disagree."""
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    diffs = drift(db.engine)
    if diffs:
        for d in diffs:
            err.print(f"drift: {d}")
        raise typer.Exit(1)
    console.print("models and migrations agree")


@app.command("run")
def run_cmd(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[
        bool, typer.Option(help="Load the demo city when the database is empty.")
    ] = True,
) -> None:
    """Migrate, load the demo city if the database is empty, and serve the app (the demo's two
    years of history load in the background meanwhile)."""
    import uvicorn

    from onegrid.api.app import create_app

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    built = False
    if demo:
        from onegrid.cli.demo import load_demo_if_empty

        built = load_demo_if_empty(db, settings)
    _first_lake(db, settings)
    app_ = create_app(settings, db=db)
    if demo:
        from onegrid.cli.demo import history_beside_server

        # Started before uvicorn, in this process: its batches share the one SQLite writer
        # with the app's requests, and it is a daemon, so stopping the server stops it too.
        history_beside_server(db, settings, built=built)
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(f"OneGrid serving on http://{bind_host}:{bind_port}  (API docs: /docs)")
    uvicorn.run(app_, host=bind_host, port=bind_port, log_level=settings.log_level.lower())


def _first_lake(db: Database, settings: Settings) -> None:
    """Build the analytics lake beside the server when there is none yet: the evaluation,
    hotspots and spikes then show within seconds of a first start instead of after the first
    scheduled refresh (15 minutes by default). In a thread, so that a large database does not
    hold the server back; the lake's lock keeps it apart from the scheduled refreshes."""
    from onegrid.analytics.lake import Lake
    from onegrid.analytics.scheduler import refresh_once
    from onegrid.analytics.settings import analytics_settings

    if not analytics_settings().refresh_enabled or Lake.under(settings.data_dir).current():
        return

    def build() -> None:
        report = refresh_once(db, settings.data_dir, settings.secret_key.encode())
        console.print(
            f"analytics lake built: {sum(report.rows.values()):,} rows in {report.seconds:.1f} s"
        )

    threading.Thread(target=build, name="first-lake", daemon=True).start()
