"""The demo's history loaded beside a serving ``onegrid run``, so a new user waits for nothing.

A thread of the server's own process: on SQLite each batch takes the process's one writer
(``load_historical`` does), so the server's requests wait for one small batch at most. When the
history is in, the analytics lake is refreshed, so the analytics pages show it. A failure is
logged and leaves the server serving; a load cut short is finished by the next start
(``history_unfinished``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from onegrid.cases.importing import LoadReport
from onegrid.core.clock import Clock, SystemClock
from onegrid.core.logging import get_logger
from onegrid.db.session import Database
from onegrid.demo.history import BATCH, DAYS, history_days, load_demo_history

log = get_logger("onegrid.demo.history")

Say = Callable[[str], None]


def span(days: int) -> str:
    return f"{days / 365:.1f} years" if days >= 365 else f"{days} days"


class HistoryLoad:
    """One background load of the demo's history; ``start`` it, ``join`` it in tests."""

    def __init__(
        self,
        db: Database,
        seed: int,
        *,
        data_dir: Path | None,
        classifier_dir: Path | None = None,
        salt: bytes = b"onegrid-lake",
        say: Say | None = None,
        clock: Clock | None = None,
        days: int = DAYS,
        batch_size: int = BATCH,
    ) -> None:
        self.db = db
        self.seed = seed
        self.data_dir = data_dir  # the lake's; None: leave the lake to its scheduled refresh
        # Where the desk's classifier lives (the data directory); None: train none.
        self.classifier_dir = classifier_dir
        self.salt = salt
        self.say = say or (lambda text: log.info(text))
        self.clock = clock or SystemClock()
        self.days = days
        self.batch_size = batch_size
        self.report: LoadReport | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run, name="demo-history", daemon=True)
        self._shown = 0

    def start(self) -> HistoryLoad:
        self.thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """True once the load has ended, well or not."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def run(self) -> None:
        try:
            self._load()
        except Exception as exc:  # the server keeps serving without the rest of the history
            self.error = exc
            log.exception("demo history failed", error=repr(exc)[:300])
            self.say(f"demo history: failed ({exc!r}); the next start goes on with it")

    def _load(self) -> None:
        started = time.perf_counter()
        days = history_days(self.db, self.clock.now(), self.days)
        self.say(f"demo history: loading {span(days)} of cases in the background…")
        self.report = report = load_demo_history(
            self.db,
            self.seed,
            self.clock,
            days=self.days,
            batch_size=self.batch_size,
            on_progress=self._progress,
            data_dir=self.data_dir,
        )
        lake = "lake left to its next refresh"
        if self.data_dir is not None:
            from onegrid.analytics.scheduler import refresh_once

            refresh_once(self.db, self.data_dir, self.salt)
            lake = "lake refreshed"
        if self.classifier_dir is not None:
            said = train_told(self.db, self.classifier_dir, self.clock)
            lake += f"; {said}" if said else ""
        again = f" ({report.skipped_existing:,} already there)" if report.skipped_existing else ""
        self.say(
            f"demo history: {report.accepted:,} cases over {span(days)} loaded{again} in "
            f"{time.perf_counter() - started:.0f} s; {lake}"
        )

    def _progress(self, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > self._shown and done < total:
            self._shown = tenth
            self.say(f"demo history: {tenth * 10}% ({done:,} of {total:,} cases)")


def train_told(db: Database, data_dir: Path, clock: Clock) -> str:
    """Train the desk's classifier from the demo's cases unless the city has one; what to tell
    (empty when there was one). A failure is told, never raised: the history stands without it
    and the desk says it has no model."""
    from onegrid.demo.classifier import train_demo_classifier

    try:
        card = train_demo_classifier(db, data_dir, clock=clock)
    except Exception as exc:
        log.exception("demo classifier failed", error=repr(exc)[:300])
        return f"classifier not trained ({exc!r:.200})"
    return "" if card is None else f"classifier {card.name!r} trained on {card.rows:,} cases"


class ClassifierTraining:
    """The desk's classifier trained in a thread beside the server, for a demo whose history is
    in but whose classifier is missing (a start stopped before the training, a failed one, or a
    database from before the demo trained one)."""

    def __init__(self, db: Database, data_dir: Path, *, say: Say, clock: Clock) -> None:
        self.db = db
        self.data_dir = data_dir
        self.clock = clock
        self.say = say
        self.thread = threading.Thread(target=self.run, name="demo-classifier", daemon=True)

    def start(self) -> ClassifierTraining:
        self.thread.start()
        return self

    def run(self) -> None:
        said = train_told(self.db, self.data_dir, self.clock)
        if said:
            self.say(f"demo: {said}")
