"""``onegrid analytics …``: keep the Parquet lake up to date."""

from __future__ import annotations

import typer

from onegrid.cli.root import app, open_database, settings_or_exit, show_report

analytics_app = typer.Typer(help="The analytics lake.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")


@analytics_app.command("refresh")
def refresh_cmd() -> None:
    """Export what changed since the last refresh to the lake (Parquet under data_dir/lake)."""
    from onegrid.analytics.lake import Lake

    settings = settings_or_exit()
    db = open_database(settings)
    report = Lake.under(settings.data_dir).refresh(db, salt=settings.secret_key.encode())
    show_report(report.render())
