"""The demo's history as part of the demo: ``onegrid demo`` loads it unless told not to, and
``onegrid run`` loads it in a thread beside the server, through the same one writer as the
server's own writes, finishing a load a stopped server left half done. A few weeks of it here;
the demo loads two years."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import NewCase, Reporter
from onegrid.cases.domain.states import Channel
from onegrid.cases.models import CaseHistoryRow, CaseRow
from onegrid.cli import app
from onegrid.cli.demo import history_beside_server
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.demo import build_demo_city
from onegrid.demo.background import HistoryLoad
from onegrid.demo.history import (
    OPERATOR,
    REF_PREFIX,
    history_days,
    history_end,
    history_unfinished,
    load_demo_history,
    refs_from,
    report_callbacks,
    synthetic_history,
)
from onegrid.demo.live import REF_PREFIX as LIVE_PREFIX
from onegrid.demo.live import load_live_cases
from onegrid.dispatch.models import HotlineCallbackRow
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope

SEED = 11
DAYS = 21


def _demo(db: Database, clock: FixedClock) -> None:
    """The demo city and its work in progress, as ``onegrid run`` builds them."""
    build_demo_city(db, seed=SEED, clock=clock, components_per_grid=1)
    assert load_live_cases(db, SEED, clock) is not None


def _expected(db: Database, clock: FixedClock, days: int = DAYS) -> set[str]:
    now = clock.now()
    cases = synthetic_history(SEED, history_end(db, now), history_days(db, now, days), until=now)
    return {c.external_ref or "" for c in cases}


def _loaded(db: Database) -> list[str]:
    with db.reader() as s:
        return list(s.scalars(select(CaseRow.external_ref).where(refs_from(REF_PREFIX))))


def _callbacks_per_case(db: Database) -> list[int]:
    with db.reader() as s:
        return list(
            s.scalars(
                select(func.count())
                .where(HotlineCallbackRow.operator == OPERATOR.actor)
                .group_by(HotlineCallbackRow.case_id)
            )
        )


def test_history_loads_beside_the_servers_own_writes(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _demo(db, clock)
    with db.reader() as s:
        live_start = s.scalar(select(func.min(CaseRow.created_at)).where(refs_from(LIVE_PREFIX)))
        point = s.execute(
            select(CaseRow.lon, CaseRow.lat).where(refs_from(LIVE_PREFIX)).limit(1)
        ).one()
    said: list[str] = []
    load = HistoryLoad(
        db,
        SEED,
        data_dir=tmp_path,
        classifier_dir=tmp_path,
        clock=clock,
        days=DAYS,
        batch_size=5,
        say=said.append,
    )
    operator = Principal(
        None, "test desk", PrincipalKind.SYSTEM, (Grant(Role.HOTLINE_OPERATOR, Scope.city()),)
    )
    rules = case_rules()
    made: list[int] = []

    def write() -> None:
        new = NewCase(
            category_code="E0102",
            channel=Channel.HOTLINE,
            description="路边垃圾堆放",
            lon=point.lon,
            lat=point.lat,
            reporter=Reporter(phone="13800001111"),
        )
        made.append(services.create_case(db, operator, new, clock=clock, rules=rules).case.id)
        time.sleep(0.005)

    load.start()
    while not _loaded(db) and load.thread.is_alive():
        write()
    held = -1
    if db.dialect == "sqlite":
        # A long request holds the one writer: the loader's next batch waits for it.
        with one_writer(db.dialect):
            held = len(_loaded(db))
            time.sleep(0.3)
            assert len(_loaded(db)) == held
    while load.thread.is_alive() or len(made) < 3:
        write()
    assert load.join(60) and load.error is None, said

    expected = _expected(db, clock)
    loaded = _loaded(db)
    assert len(expected) > 150 and sorted(loaded) == sorted(expected)
    assert held < len(expected)  # it was still loading when the request held the writer
    assert not history_unfinished(db, clock.now())
    assert _callbacks_per_case(db) and set(_callbacks_per_case(db)) == {1}
    with db.reader() as s:
        ids = s.execute(
            select(func.min(CaseRow.id), func.max(CaseRow.id)).where(refs_from(REF_PREFIX))
        ).one()
        mine = s.scalar(select(func.count()).where(CaseRow.id.in_(made)))
        newest = s.scalar(select(func.max(CaseRow.created_at)).where(refs_from(REF_PREFIX)))
    assert mine == len(made)
    # The server's writes went in between the history's batches, not after the load.
    assert any(ids[0] < i < ids[1] for i in made), (ids, made[:5])
    # The history stops where the work in progress starts, and covers the days asked for.
    assert newest is not None and live_start is not None and newest < live_start
    assert newest > live_start - timedelta(days=2)
    assert said[-1].startswith(f"demo history: {len(expected):,} cases over {DAYS} days")
    assert "; lake refreshed; classifier 'default' trained on " in said[-1], said[-1]
    from onegrid.analytics.lake import Lake

    in_lake = Lake.under(tmp_path).connect().execute("SELECT count(*) FROM cases").fetchone()
    assert in_lake is not None and in_lake[0] >= len(expected)
    # The desk suggests from the first call, by a model trained on the demo's own cases (the
    # file it was trained on is named in its card), and a city's model is never replaced.
    from onegrid.demo.classifier import train_demo_classifier
    from onegrid.dispatch.hotline.suggest import suggest_category

    suggestion = suggest_category(tmp_path, "default", "我家楼下的垃圾桶满了，垃圾堆了好几天")
    assert suggestion.available and suggestion.best is not None
    assert suggestion.best.label == "E0102", suggestion
    assert (tmp_path / "demo" / "labelled_cases.csv").read_text("utf-8").count("\n") > len(expected)
    assert train_demo_classifier(db, tmp_path, clock=clock) is None


def test_a_case_reopened_by_a_callback_is_handled_again_and_closed(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # "Not resolved" sends the case back (DOMAIN.md); the city then handles it again. Left
    # open, two years of callbacks used to leave hundreds of old cases handling for ever.
    _demo(db, clock)
    load_demo_history(db, SEED, clock, days=45, data_dir=tmp_path)
    now = clock.now()
    with db.reader() as s:
        rows = s.execute(
            select(CaseRow.id, CaseRow.status, HotlineCallbackRow.at)
            .join(HotlineCallbackRow, HotlineCallbackRow.case_id == CaseRow.id)
            .where(refs_from(REF_PREFIX), HotlineCallbackRow.resolved.is_(False))
        ).all()
        redone = dict(
            s.execute(
                select(CaseHistoryRow.case_id, func.count())
                .where(CaseHistoryRow.action == "report_back", CaseHistoryRow.actor == "user:0")
                .group_by(CaseHistoryRow.case_id)
            ).all()
        )
    old = [(i, status) for i, status, at in rows if at < now - timedelta(days=8)]
    assert old, "no old 'not resolved' callback: widen the days"
    assert all(status == "closed" for _, status in old), old
    assert all(redone.get(i) == 1 for i, _ in old)
    # The newest may still wait for their department, as in a city today; none is lost.
    assert {status for _, status, _ in rows} <= {"closed", "handling"}
    # A second pass (the next start) handles nothing twice.
    report_callbacks(db, SEED, now, tmp_path)
    with db.reader() as s:
        again = s.scalar(
            select(func.count()).where(
                CaseHistoryRow.action == "report_back", CaseHistoryRow.actor == "user:0"
            )
        )
    assert again == sum(redone.values())


class _Stopped(Exception):
    """The server stopped under the load."""


def test_a_load_cut_short_anywhere_is_finished_by_the_next_start(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _demo(db, clock)
    settings = Settings(data_dir=tmp_path, demo_seed=SEED)
    expected = _expected(db, clock)
    now = clock.now()

    def stop_at(share: float) -> Callable[[int, int], None]:
        def stop(done: int, total: int) -> None:
            if done >= total * share:
                raise _Stopped

        return stop

    # Stopped half-way through the cases.
    with pytest.raises(_Stopped):
        load_demo_history(db, SEED, clock, days=DAYS, batch_size=10, on_progress=stop_at(0.5))
    half = len(_loaded(db))
    assert 0 < half < len(expected)
    assert history_unfinished(db, now)
    # Then once every case was in, before any callback.
    with pytest.raises(_Stopped):
        load_demo_history(db, SEED, clock, days=DAYS, on_progress=stop_at(1))
    assert sorted(_loaded(db)) == sorted(expected)
    assert history_unfinished(db, now) and not _callbacks_per_case(db)
    # Then in the middle of the callbacks (those up to a week ago made).
    report_callbacks(db, SEED, now - timedelta(days=7), tmp_path)
    some = len(_callbacks_per_case(db))
    assert some and history_unfinished(db, now)

    # The next start, a day later, makes the same cases: it loads none again and makes the
    # callbacks still missing, each case called back once.
    later = FixedClock(now + timedelta(days=1))
    load = history_beside_server(db, settings, built=False, clock=later, days=DAYS)
    assert load is not None and load.join(60) and load.error is None
    assert load.report is not None
    assert (load.report.skipped_existing, load.report.accepted) == (len(expected), 0)
    assert sorted(_loaded(db)) == sorted(expected)
    called = _callbacks_per_case(db)
    assert len(called) > some and set(called) == {1}
    assert not history_unfinished(db, later.now())
    # Finished: the start after that has nothing to do.
    assert history_beside_server(db, settings, built=False, clock=later) is None


def test_the_setting_turns_the_background_load_off(
    db: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DEMO_HISTORY", "false")
    off = Settings(data_dir=tmp_path)
    assert not off.demo_history
    monkeypatch.delenv("ONEGRID_DEMO_HISTORY")
    on = Settings(data_dir=tmp_path, demo_seed=SEED)
    assert on.demo_history
    threads = threading.active_count()
    assert history_beside_server(db, off, built=True, clock=clock) is None
    # A database without history (``onegrid demo --no-history``) is left without it.
    assert history_beside_server(db, on, built=False, clock=clock) is None
    assert threading.active_count() == threads and not _loaded(db)


def test_a_failed_load_is_told_and_leaves_the_caller_going(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the lake's directory should be")
    said: list[str] = []
    load = HistoryLoad(db, SEED, data_dir=not_a_dir, clock=clock, days=3, say=said.append)
    assert load.start().join(60)
    assert load.error is not None
    assert said[-1].startswith("demo history: failed (") and "next start" in said[-1]


def test_a_classifier_that_cannot_be_trained_is_told_and_the_history_stands(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """The history is loaded and the lake refreshed; where the demo's labelled cases should be
    written is a file, so the training fails: the load says so, and is not a failed load."""
    _demo(db, clock)
    (tmp_path / "demo").write_text("a file where the demo's directory should be")
    said: list[str] = []
    load = HistoryLoad(
        db, SEED, data_dir=tmp_path, classifier_dir=tmp_path, clock=clock, days=3, say=said.append
    )
    assert load.start().join(60)
    assert load.error is None, said
    assert "; lake refreshed; classifier not trained (" in said[-1], said[-1]
    assert said[-1].startswith("demo history: ")


def test_a_demo_whose_history_is_in_but_has_no_classifier_gets_one_at_the_next_start(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    """A start stopped before the training, or a database from before the demo trained one:
    the next start trains it beside the server, and the one after leaves it alone."""
    from onegrid.demo.classifier import has_model

    _demo(db, clock)
    load_demo_history(db, SEED, clock, days=DAYS, data_dir=tmp_path)
    assert not has_model(tmp_path)
    settings = Settings(data_dir=tmp_path, demo_seed=SEED)
    assert history_beside_server(db, settings, built=False, clock=clock) is None
    for thread in threading.enumerate():
        if thread.name == "demo-classifier":
            thread.join(60)
    assert has_model(tmp_path)
    assert history_beside_server(db, settings, built=False, clock=clock) is None
    assert not any(t.name == "demo-classifier" for t in threading.enumerate())


def _demo_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> Database:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONEGRID_DATABASE_URL", "")
    monkeypatch.delenv("ONEGRID_DEMO_HISTORY", raising=False)
    command = ["demo", "--seed", str(SEED), "--components-per-grid", "1", "--history-days"]
    done = CliRunner().invoke(app, [*command, "10", *flags])
    assert done.exit_code == 0, done.output
    return Database(make_engine(f"sqlite:///{(tmp_path / 'onegrid.sqlite3').as_posix()}"))


def test_demo_command_loads_the_history_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _demo_command(tmp_path, monkeypatch)
    try:
        assert len(_loaded(db)) > 50 and _callbacks_per_case(db)
    finally:
        db.engine.dispose()


def test_demo_command_without_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _demo_command(tmp_path, monkeypatch, "--no-history")
    try:
        with db.reader() as s:
            assert s.scalar(select(CaseRow.id).where(refs_from(LIVE_PREFIX)).limit(1))
        assert not _loaded(db)
    finally:
        db.engine.dispose()
