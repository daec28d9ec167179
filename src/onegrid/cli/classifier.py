"""The text classifier: ``onegrid classifier train | evaluate | suggest | correct | list`` and
``onegrid classifier corrections import | list``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from onegrid.cli.root import app, console, err, open_database, settings_or_exit
from onegrid.core.clock import SystemClock
from onegrid.core.errors import DomainError, InvalidInput
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.dispatch.classifier import (
    ClassifierConfig,
    EvaluationReport,
    LabelledData,
    Metrics,
    classifier_home,
    evaluate,
    evaluate_held_out,
    list_models,
    load_with_card,
    read_labelled_csv,
    save,
    train,
)

classifier_app = typer.Typer(
    help="Suggest a category for free text (Chinese or English), learnt from labelled history.",
    no_args_is_help=True,
)
app.add_typer(classifier_app, name="classifier")
corrections_app = typer.Typer(
    help="The operators' confirmations and corrections of suggested categories.",
    no_args_is_help=True,
)
classifier_app.add_typer(corrections_app, name="corrections")

FileArg = Annotated[Path, typer.Argument(help="A CSV file (plain or .gz) with a header row.")]
TextCol = Annotated[
    str, typer.Option("--text-col", help="The text column (the title when --text-col2 is given).")
]
TextCol2 = Annotated[
    str | None, typer.Option("--text-col2", help="A second text column: the body (detail).")
]
LabelCol = Annotated[str, typer.Option("--label-col", help="The category column.")]
Encoding = Annotated[str, typer.Option(help="The file's text encoding, e.g. utf-8 or gb18030.")]
Name = Annotated[str, typer.Option(help="The model's name: one directory of versions.")]
TitleWeight = Annotated[
    int, typer.Option(min=1, help="How many times the title counts against the body.")
]
Seed = Annotated[int, typer.Option(help="Seed of the splits and of the training.")]
Holdout = Annotated[float, typer.Option(help="The fraction of rows held out for scoring.")]


@contextmanager
def _refusals() -> Iterator[None]:
    """A domain error becomes a readable message and exit status 1."""
    try:
        yield
    except InvalidInput as exc:
        for p in exc.problems:
            where = f" (row {p.record})" if p.record is not None else ""
            err.print(f"[red]{p.field}{where}: {p.message}[/red]")
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None


def _read(
    file: Path, text_col: str, text_col2: str | None, label_col: str, encoding: str, weight: int
) -> LabelledData:
    data = read_labelled_csv(
        file,
        text_col=text_col,
        text_col2=text_col2,
        label_col=label_col,
        encoding=encoding,
        title_weight=weight,
    )
    skipped = f", {data.skipped} skipped without text or label" if data.skipped else ""
    console.print(f"{len(data.texts):,} labelled rows from {file}{skipped}")
    return data


@classifier_app.command("train")
def train_cmd(
    file: FileArg,
    text_col: TextCol,
    label_col: LabelCol,
    text_col2: TextCol2 = None,
    name: Name = "default",
    encoding: Encoding = "utf-8",
    title_weight: TitleWeight = ClassifierConfig.title_weight,
    corrections: Annotated[
        bool, typer.Option(help="Add the operators' corrections kept for this model.")
    ] = True,
    score_it: Annotated[
        bool, typer.Option("--evaluate/--no-evaluate", help="Score a held-out split first.")
    ] = True,
    holdout: Holdout = 0.2,
    seed: Seed = ClassifierConfig.seed,
) -> None:
    """Train a classifier on FILE and save it as a new version of NAME."""
    settings = settings_or_exit()
    model_dir = classifier_home(settings.data_dir) / name
    config = ClassifierConfig(title_weight=title_weight, seed=seed)
    with _refusals():
        data = _read(file, text_col, text_col2, label_col, encoding, title_weight)
        if corrections:
            kept = _kept_corrections(_database(settings), model_dir)
            if kept.texts:
                console.print(f"+ {len(kept.texts):,} rows from operators' corrections")
                data = data + kept
        metrics = None
        if score_it:
            with console.status("scoring a held-out split…"):
                held = evaluate_held_out(
                    data.texts, data.labels, fraction=holdout, seed=seed, config=config
                )
            console.print(
                f"held-out {holdout:.0%}: accuracy {held.accuracy:.3f}, "
                f"macro-F1 {held.macro_f1:.3f}"
            )
            metrics = {"held_out": held.as_dict(), "holdout_fraction": holdout, "seed": seed}
        with console.status(f"training on {len(data.texts):,} rows…"):
            model = train(data.texts, data.labels, config=config)
        card = save(model, model_dir, clock=SystemClock(), sources=data.sources, metrics=metrics)
    console.print(
        f"saved {card.name} version [bold]{card.version}[/bold]: {card.rows:,} rows, "
        f"{len(card.labels)} labels, {card.vocabulary_size:,} n-grams → {card.path}"
    )


def _database(settings: Settings) -> Database:
    from onegrid.schema import migrate

    db = open_database(settings)
    migrate(db.engine)
    return db


def _import(db: Database, model_dir: Path) -> None:
    from onegrid.dispatch.classifier.services import import_corrections

    done = import_corrections(db, model_dir)
    if done.added:
        console.print(f"{done.added:,} corrections imported from {done.path}", markup=False)


def _kept_corrections(db: Database, model_dir: Path) -> LabelledData:
    """The model's corrections in the database, after those of a file kept before it."""
    from onegrid.dispatch.classifier.queries import training_rows_from_corrections

    _import(db, model_dir)  # the first training after an upgrade finds the old file's rows
    with db.reader() as session:
        return training_rows_from_corrections(session, model_dir.name)


@classifier_app.command("evaluate")
def evaluate_cmd(
    file: FileArg,
    text_col: TextCol,
    label_col: LabelCol,
    text_col2: TextCol2 = None,
    encoding: Encoding = "utf-8",
    title_weight: TitleWeight = ClassifierConfig.title_weight,
    folds: Annotated[int, typer.Option(min=2, help="Folds of the cross-validation.")] = 5,
    holdout: Holdout = 0.2,
    seed: Seed = ClassifierConfig.seed,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the classifier on FILE: stratified cross-validation and a held-out split."""
    config = ClassifierConfig(title_weight=title_weight, seed=seed)
    with _refusals():
        data = _read(file, text_col, text_col2, label_col, encoding, title_weight)
        with console.status(f"{folds}-fold cross-validation…"):
            report = evaluate(
                data.texts,
                data.labels,
                folds=folds,
                seed=seed,
                holdout_fraction=holdout,
                config=config,
            )
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    _print_report(report)


def _print_report(report: EvaluationReport) -> None:
    summary = Table(title="classifier scores")
    for column in ("split", "rows", "accuracy", "macro-F1"):
        summary.add_column(column, justify="right" if column != "split" else "left")
    summary.add_row(
        f"{report.folds}-fold CV (mean ± sd of folds)",
        f"{report.cross_validated.rows:,}",
        f"{report.accuracy:.3f}",
        f"{report.macro_f1:.3f} ± {report.macro_f1_stdev:.3f}",
    )
    summary.add_row(
        f"held-out {report.holdout_fraction:.0%}",
        f"{report.held_out.rows:,}",
        f"{report.held_out.accuracy:.3f}",
        f"{report.held_out.macro_f1:.3f}",
    )
    console.print(summary)
    console.print(_per_label_table(report.cross_validated, "per label (pooled out-of-fold)"))


def _per_label_table(metrics: Metrics, title: str) -> Table:
    table = Table(title=title)
    table.add_column("label")
    for column in ("precision", "recall", "F1", "support"):
        table.add_column(column, justify="right")
    for s in metrics.per_label:
        table.add_row(
            s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)
        )
    return table


@classifier_app.command("suggest")
def suggest_cmd(
    text: Annotated[str, typer.Argument(help="The message (its title when --detail is given).")],
    detail: Annotated[str, typer.Option(help="The message's body.")] = "",
    name: Name = "default",
    version: Annotated[str | None, typer.Option(help="A version; default the newest.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many suggestions.")] = 3,
) -> None:
    """Suggest the K likeliest categories for TEXT."""
    settings = settings_or_exit()
    with _refusals():
        model, card = load_with_card(classifier_home(settings.data_dir) / name, version)
        suggestions = model.suggest(model.compose(text, detail), k=k)
    table = Table(title=f"{card.name} {card.version}")
    table.add_column("category")
    table.add_column("confidence", justify="right")
    for s in suggestions:
        table.add_row(s.label, f"{s.confidence:.1%}")
    console.print(table)


@classifier_app.command("correct")
def correct_cmd(
    text: Annotated[str, typer.Argument(help="The message as the operator saw it.")],
    label: Annotated[str, typer.Argument(help="The category the operator chose.")],
    suggested: Annotated[str | None, typer.Option(help="The category that was suggested.")] = None,
    name: Name = "default",
) -> None:
    """Keep an operator's choice of category as training data for the next `train`."""
    from onegrid.dispatch.classifier.services import correct

    settings = settings_or_exit()
    with _refusals():
        kept = correct(
            _database(settings), name, text=text, label=label, suggested=suggested,
            clock=SystemClock(),
        )  # fmt: skip
    verb = "confirmation" if kept.confirmed else "correction"
    console.print(f"{verb} kept for {name} (#{kept.id})", markup=False)


@classifier_app.command("list")
def list_cmd(
    name: Annotated[str | None, typer.Option(help="Only this model.")] = None,
) -> None:
    """List the trained classifiers and their versions, newest first."""
    settings = settings_or_exit()
    with _refusals():
        models = list_models(classifier_home(settings.data_dir))
    if name is not None:
        models = {n: cards for n, cards in models.items() if n == name}
    if not models:
        err.print("no trained classifier: run `onegrid classifier train FILE …`")
        raise typer.Exit(1)
    table = Table(title=f"classifiers in {classifier_home(settings.data_dir)}")
    for column in ("name", "version", "trained at (UTC)", "rows", "labels", "held-out macro-F1"):
        table.add_column(column)
    for model_name, cards in models.items():
        for i, card in enumerate(cards):
            held = (card.metrics or {}).get("held_out", {}).get("macro_f1")
            table.add_row(
                model_name,
                card.version + (" (newest)" if i == 0 else ""),
                card.trained_at.strftime("%Y-%m-%d %H:%M:%S"),
                f"{card.rows:,}",
                str(len(card.labels)),
                f"{held:.3f}" if held is not None else "—",
            )
    console.print(table)


@corrections_app.command("import")
def corrections_import_cmd(name: Name = "default") -> None:
    """Import NAME's corrections.jsonl, kept before corrections had a table; again adds nothing."""
    settings = settings_or_exit()
    model_dir = classifier_home(settings.data_dir) / name
    from onegrid.dispatch.classifier.services import import_corrections

    with _refusals():
        done = import_corrections(_database(settings), model_dir)
    console.print(f"{done.read:,} corrections in {done.path}, {done.added:,} new", markup=False)


@corrections_app.command("list")
def corrections_list_cmd(
    name: Annotated[str | None, typer.Option(help="Only this model's corrections.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Decided at or after: a date or date and time (the city's time)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Decided before: a date (counted whole) or date and time."),
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV (every column, UTC times) for analysts.")
    ] = False,
) -> None:
    """The operators' corrections, oldest first."""
    from onegrid.dispatch.classifier.corrections import decided_window
    from onegrid.dispatch.classifier.queries import corrections_csv, iter_corrections

    settings = settings_or_exit()
    with _refusals():
        start, end = decided_window(since, until, settings.timezone)
        found = iter_corrections(_database(settings), model=name, since=start, until=end)
        if as_csv:
            for chunk in corrections_csv(found):
                typer.echo(chunk, nl=False)
            return
        rows = list(found)
    if not rows:
        console.print("no corrections kept" + (f" since {since}" if since else ""), markup=False)
        return
    table = Table(title="operators' corrections")
    for column in ("id", "model", "decided at (UTC)", "by", "suggested", "chosen", "text"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.id),
            r.model,
            r.decided_at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(r.decided_by),
            escape(r.suggested_category or "—"),
            escape(r.chosen_category),
            escape(r.text if len(r.text) <= 40 else r.text[:39] + "…"),
        )
    console.print(table)
