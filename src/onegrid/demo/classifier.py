"""The demo's hotline classifier, trained from the demo city's own history.

A city trains its classifier from its labelled cases (`onegrid classifier train FILE …`); the
demo does the same once its history is loaded, so that the 12345 desk suggests a category from
the first call. The labelled cases are written to a CSV file under the data directory first, and
the model's card names that file and its digest, as a training from any file does. A model the
city trained itself is never replaced.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from onegrid.cases.models import CaseRow
from onegrid.core.clock import Clock, SystemClock
from onegrid.db.session import Database
from onegrid.dispatch.classifier import (
    ModelCard,
    classifier_home,
    read_labelled_csv,
    save,
    train,
)
from onegrid.dispatch.config import dispatch_settings

LABELLED_FILE = "labelled_cases.csv"


def has_model(data_dir: Path, name: str | None = None) -> bool:
    """Whether the city keeps anything under the model's name: a version, or something it
    cannot read, which is the city's to mend, not the demo's to train over."""
    directory = classifier_home(data_dir) / (name or dispatch_settings().classifier_name)
    return directory.is_dir() and any(not p.name.startswith(".") for p in directory.iterdir())


def write_labelled_cases(db: Database, path: Path) -> int:
    """Every case's description and category as a ``text,category_code`` CSV; the rows
    written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    query = select(CaseRow.description, CaseRow.category_code).order_by(CaseRow.id)
    with db.reader() as session, path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "category_code"])
        for text, category in session.execute(query.execution_options(yield_per=5000)):
            writer.writerow([text, category])
            rows += 1
    return rows


def train_demo_classifier(
    db: Database, data_dir: Path, name: str | None = None, clock: Clock | None = None
) -> ModelCard | None:
    """Train ``name`` (the desk's, ``ONEGRID_DISPATCH_CLASSIFIER_NAME``) from the demo's cases
    unless a version of it exists; its card, or ``None`` when there was one already."""
    name = name or dispatch_settings().classifier_name
    if has_model(data_dir, name):
        return None
    path = data_dir / "demo" / LABELLED_FILE
    write_labelled_cases(db, path)
    data = read_labelled_csv(path, text_col="text", label_col="category_code")
    model = train(data.texts, data.labels)
    return save(
        model, classifier_home(data_dir) / name, clock=clock or SystemClock(), sources=data.sources
    )
