"""The demo city: ``onegrid demo`` and the empty-database check ``run`` makes."""

from __future__ import annotations

import typer

from onegrid.cli.root import app, console, open_database, settings_or_exit, show_report
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.schema import migrate


def load_demo_if_empty(db: Database, settings: Settings) -> None:
    from onegrid.demo import build_demo_city, is_empty

    if is_empty(db):
        console.print("empty database: building the demo city…")
        report = build_demo_city(db, seed=settings.demo_seed)
        show_report(report.render())
        _live(db, settings.demo_seed)


def _live(db: Database, seed: int) -> None:
    """The demo's work in progress and the hotline's example answers."""
    from onegrid.demo.live import load_knowledge_base, load_live_cases

    answers = load_knowledge_base(db)
    console.print(f"knowledge base: {answers} example answers", markup=False, highlight=False)
    live = load_live_cases(db, seed)
    if live is not None:
        show_report("work in progress (cases caught at every step):\n" + live.render())


@app.command("demo")
def demo_cmd(
    seed: int | None = None,
    history: bool = typer.Option(
        False,
        "--history",
        help="Also load about two years of synthetic case history and callbacks (minutes).",
    ),
) -> None:
    """Build the synthetic demo city (the same city for the same seed)."""
    from onegrid.demo import build_demo_city

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    seed = seed if seed is not None else settings.demo_seed
    report = build_demo_city(db, seed=seed)
    show_report(report.render())
    _live(db, seed)
    if history:
        from onegrid.demo.history import load_demo_history

        show_report(load_demo_history(db, seed).render())
