"""The demo city: ``onegrid demo`` and the empty-database check ``run`` makes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from onegrid.cli.root import app, console, open_database, settings_or_exit, show_report
from onegrid.core.clock import Clock, SystemClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.schema import migrate

if TYPE_CHECKING:
    from onegrid.demo.background import HistoryLoad


def load_demo_if_empty(db: Database, settings: Settings) -> bool:
    """True when the database was empty and now holds the demo city and its live work."""
    from onegrid.demo import build_demo_city, is_empty

    if not is_empty(db):
        return False
    console.print("empty database: building the demo city…")
    report = build_demo_city(db, seed=settings.demo_seed)
    show_report(report.render())
    _live(db, settings.demo_seed)
    return True


def history_beside_server(
    db: Database,
    settings: Settings,
    *,
    built: bool,
    clock: Clock | None = None,
    days: int | None = None,
) -> HistoryLoad | None:
    """The demo's history, loading in a thread while the server serves: after the demo city
    was just built, or to finish a load that a stopped server left half done. None when
    ``ONEGRID_DEMO_HISTORY`` is false or there is nothing to load."""
    from onegrid.analytics.settings import analytics_settings
    from onegrid.demo.background import HistoryLoad
    from onegrid.demo.history import DAYS, history_unfinished

    if not settings.demo_history:
        return None
    clock = clock or SystemClock()
    if not built and not history_unfinished(db, clock.now()):
        _classifier_beside_server(db, settings, clock)
        return None
    load = HistoryLoad(
        db,
        settings.demo_seed,
        data_dir=settings.data_dir if analytics_settings().refresh_enabled else None,
        classifier_dir=settings.data_dir,
        salt=settings.secret_key.encode(),
        say=lambda text: console.print(text, markup=False, highlight=False),
        clock=clock,
        days=days or DAYS,
    )
    return load.start()


def _classifier_beside_server(db: Database, settings: Settings, clock: Clock) -> None:
    """A demo whose history is in but whose desk has no classifier gets one, in a thread."""
    from onegrid.demo.background import ClassifierTraining
    from onegrid.demo.classifier import has_model
    from onegrid.demo.history import has_history

    if has_model(settings.data_dir) or not has_history(db):
        return
    say = lambda text: console.print(text, markup=False, highlight=False)  # noqa: E731
    ClassifierTraining(db, settings.data_dir, say=say, clock=clock).start()


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
    history: bool | None = typer.Option(
        None,
        "--history/--no-history",
        help=(
            "Load about two years of synthetic case history and callbacks (a minute or so); "
            "the default is ONEGRID_DEMO_HISTORY (true)."
        ),
    ),
    history_days: int | None = typer.Option(None, hidden=True, help="Days of history."),
    components_per_grid: int | None = typer.Option(None, hidden=True, help="Components a grid."),
) -> None:
    """Build the synthetic demo city (the same city for the same seed), its work in progress
    and two years of case history."""
    from onegrid.demo import build_demo_city
    from onegrid.demo.background import span
    from onegrid.demo.city import COMPONENTS_PER_GRID
    from onegrid.demo.history import DAYS, load_demo_history
    from onegrid.demo.history import history_days as days_to_load

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    seed = seed if seed is not None else settings.demo_seed
    report = build_demo_city(
        db, seed=seed, components_per_grid=components_per_grid or COMPONENTS_PER_GRID
    )
    show_report(report.render())
    _live(db, seed)
    if not (settings.demo_history if history is None else history):
        return
    days = days_to_load(db, SystemClock().now(), history_days or DAYS)
    with console.status(f"demo history: loading {span(days)} of cases…") as status:
        loaded = load_demo_history(
            db,
            seed,
            days=history_days or DAYS,
            data_dir=settings.data_dir,
            on_progress=lambda done, total: status.update(
                f"demo history: {done:,} of {total:,} cases…"
            ),
        )
    show_report("demo history:\n" + loaded.render())
    from onegrid.core.errors import DomainError
    from onegrid.demo.classifier import train_demo_classifier

    try:
        with console.status("training the desk's classifier on the demo's cases…"):
            card = train_demo_classifier(db, settings.data_dir)
    except (OSError, DomainError) as exc:  # the city and its history stand without it
        console.print(f"classifier not trained: {exc}", markup=False, highlight=False)
        return
    if card is not None:
        console.print(f"classifier {card.name!r} trained on {card.rows:,} cases ({card.path})")
