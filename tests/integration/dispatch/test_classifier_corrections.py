"""The operators' corrections in ``classifier_corrections``: kept with the call, learnt from by
``onegrid classifier train``, imported once from the JSONL files kept before the table."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.dispatch.classifier import (
    ClassifierConfig,
    classifier_home,
    corrections_file,
    list_versions,
    normalise,
)
from onegrid.dispatch.classifier.features import build_vectorizer
from onegrid.dispatch.classifier.queries import list_corrections, training_rows_from_corrections
from onegrid.dispatch.classifier.services import correct, import_corrections
from onegrid.dispatch.hotline.services import DeskRules, record_call
from onegrid.dispatch.hotline.suggest import suggest_category
from onegrid.dispatch.models import HotlineCallRow
from tests.integration.dispatch.city import DESK, call_draft
from tests.unit.dispatch.synthetic import bilingual_messages

pytestmark = pytest.mark.postgres
runner = CliRunner()
# The synthetic messages' labels as categories of the test city's taxonomy.
CODES = {"sanitation": "E0102", "roads": "E0103", "noise": "E0101"}


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["classifier", *args])
    return result.exit_code, result.output


def _count(db: Database, table: str) -> int:
    with db.reader() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_the_desk_keeps_the_operators_choice_with_its_call(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    draft = call_draft(suggested_category="E0103", suggested_confidence=0.62, model_version="v1")
    result = record_call(city, DESK, draft, clock=clock, rules=desk)
    assert result.dispatched and result.case is not None
    with city.reader() as s:
        [kept] = list_corrections(s)
    assert (kept.model, kept.call_id, kept.case_id) == ("default", result.call.id, result.case.id)
    assert (kept.decided_by, kept.decided_at) == (DESK.actor, clock.now())
    assert (kept.text, kept.chosen_category) == ("小区门口垃圾堆积三天无人清理", "E0102")
    assert (kept.suggested_category, kept.suggested_confidence) == ("E0103", 0.62)
    assert (kept.model_version, kept.import_key) == ("v1", None)
    assert not (classifier_home(desk.data_dir) / "default" / "corrections.jsonl").exists()


def test_a_kept_text_has_its_digits_masked_and_trains_the_same(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    said = "我是王先生，电话 138 1234 5678，人民路１２号门口垃圾堆积三天无人清理"
    record_call(city, DESK, call_draft(text=said, suggested_category="E0103"), clock=clock,
                rules=desk)  # fmt: skip
    with city.reader() as s:
        [kept] = list_corrections(s)
        data = training_rows_from_corrections(s, "default")
    # The phone number and the door number are not kept; the name is (see ADR 0005).
    assert kept.text == "我是王先生，电话 0 0 0，人民路0号门口垃圾堆积三天无人清理"
    assert data.texts == [kept.text]
    with city.reader() as s:
        [call] = s.scalars(select(HotlineCallRow))
        assert call.text == said  # the call's own record is as said, for those who may see it
    # What training reads of it is exactly what it read of the text as said.
    vectorizer = build_vectorizer(ClassifierConfig(min_df=1))
    as_said = vectorizer.fit_transform([normalise(said)]).toarray()
    assert (vectorizer.transform([normalise(kept.text)]).toarray() == as_said).all()


def test_a_refused_call_keeps_no_correction(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    draft = call_draft(department_code="no-such-unit", suggested_category="E0102")
    with pytest.raises(InvalidInput) as info:
        record_call(city, DESK, draft, clock=clock, rules=desk)
    assert info.value.problems[0].field == "department_code"
    assert (_count(city, "classifier_corrections"), _count(city, "hotline_calls")) == (0, 0)


def test_a_correction_that_cannot_be_kept_undoes_the_call_and_its_dispatch(
    city: Database, clock: FixedClock, desk: DeskRules
) -> None:
    unnamed = replace(desk, classifier_name="m" * 65)  # wider than the table's column
    with pytest.raises(InvalidInput) as info:
        record_call(city, DESK, call_draft(), clock=clock, rules=unnamed)
    assert info.value.problems[0].field == "model"
    counts = [_count(city, t) for t in ("hotline_calls", "cases", "case_routes")]
    assert counts == [0, 0, 0]
    assert _count(city, "classifier_corrections") == 0


def _history(path: Path) -> Path:
    texts, labels = bilingual_messages(per_label=20)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["subject", "category"])
        writer.writerows(zip(texts, (CODES[x] for x in labels), strict=True))
    return path


def test_training_learns_the_desks_corrections(
    city: Database, clock: FixedClock, desk: DeskRules, cli_env: Path, tmp_path: Path
) -> None:
    history = _history(tmp_path / "history.csv")
    train = ("train", str(history), "--text-col", "subject", "--label-col", "category",
             "--no-evaluate")  # fmt: skip
    code, out = _cli(*train)
    assert code == 0, out
    assert "operators' corrections" not in out
    said = "小区门口共享单车乱停"
    before = suggest_category(desk.data_dir, "default", said)
    assert before.best is not None and before.model_version is not None
    chosen = next(c for c in CODES.values() if c != before.best.label)
    draft = call_draft(
        text=said,
        category_code=chosen,
        suggested_category=before.best.label,
        suggested_confidence=before.best.confidence,
        model_version=before.model_version,
    )
    record_call(city, DESK, draft, clock=clock, rules=desk)
    with city.reader() as s:
        [kept] = list_corrections(s, model="default")

    code, out = _cli(*train)
    assert code == 0, out
    assert "+ 1 rows from operators' corrections" in out
    after = suggest_category(desk.data_dir, "default", said)
    assert after.best is not None and after.best.label == chosen
    newest = list_versions(classifier_home(desk.data_dir) / "default")[0]
    assert newest.version == after.model_version
    [_, source] = newest.sources
    assert (source.path, source.rows) == ("database:classifier_corrections?model=default", 1)
    assert source.through_id == kept.id  # the corrections it learnt from, by the newest id
    card = json.loads((newest.path / "card.json").read_text(encoding="utf-8"))  # type: ignore[operator]
    assert card["sources"][1]["through_id"] == kept.id
    assert "through_id" not in card["sources"][0]  # a file's source is as it was


def _old_line(text_: str, label: str, at: datetime, **more: object) -> str:
    return json.dumps({"at": at.isoformat(), "text": text_, "label": label, **more}) + "\n"


def test_an_old_corrections_file_is_imported_once(
    db: Database, desk: DeskRules, cli_env: Path
) -> None:
    model_dir = classifier_home(desk.data_dir) / "default"
    model_dir.mkdir(parents=True)
    path = corrections_file(model_dir)
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    path.write_text(
        _old_line("路灯不亮", "E0101", t0, suggested="E0103", confidence=0.5, operator="user:7")
        + _old_line("路灯不亮", "E0103", t0 + timedelta(minutes=5), model_version="v0"),
        encoding="utf-8",
    )
    first = import_corrections(db, model_dir)
    assert (first.read, first.added) == (2, 2)
    again = import_corrections(db, model_dir)
    assert (again.read, again.added) == (2, 0)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(_old_line("loud bar", "E0101", t0 + timedelta(hours=1)))
    code, out = _cli("corrections", "import")
    assert code == 0, out
    assert "3 corrections in" in out and "1 new" in out
    code, out = _cli("corrections", "import")
    assert code == 0 and "0 new" in out, out

    with db.reader() as s:
        rows = list_corrections(s, model="default")
        learnt = training_rows_from_corrections(s, "default")
    assert [(r.text, r.chosen_category, r.decided_at) for r in rows] == [
        ("路灯不亮", "E0101", t0),
        ("路灯不亮", "E0103", t0 + timedelta(minutes=5)),
        ("loud bar", "E0101", t0 + timedelta(hours=1)),
    ]
    assert [r.decided_by for r in rows] == ["user:7", "console", "console"]
    assert (rows[0].suggested_category, rows[0].suggested_confidence) == ("E0103", 0.5)
    assert (learnt.texts, learnt.labels) == (["路灯不亮", "loud bar"], ["E0103", "E0101"])
    assert learnt.sources[0].through_id == rows[-1].id
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(HotlineCallRow)) == 0


def test_a_damaged_old_file_is_refused_whole(db: Database, desk: DeskRules, cli_env: Path) -> None:
    model_dir = classifier_home(desk.data_dir) / "default"
    model_dir.mkdir(parents=True)
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    corrections_file(model_dir).write_text(
        _old_line("路灯不亮", "E0101", t0) + '{"text": "half a line\n', encoding="utf-8"
    )
    code, out = _cli("corrections", "import")
    assert code == 1
    assert "line 2 is not a correction" in out
    assert _count(db, "classifier_corrections") == 0


def test_corrections_are_listed_since_a_day_as_csv(
    db: Database, clock: FixedClock, cli_env: Path
) -> None:
    # 2026-03-02 01:00 UTC is 09:00 in Beijing; the day before is a day earlier there too.
    clock.advance(timedelta(days=-1))
    correct(db, "default", text="old one", label="E0101", clock=clock)
    clock.advance(timedelta(days=1))
    kept = correct(db, "default", text="井盖, \"丢了\"", label="E0103", suggested="E0103",
                   clock=clock, decided_by="user:9")  # fmt: skip
    correct(db, "other", text="another model", label="E0101", clock=clock)

    code, out = _cli("corrections", "list", "--since", "2026-03-02", "--name", "default", "--csv")
    assert code == 0, out
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["id"] == str(kept.id) and row["text"] == '井盖, "丢了"'
    assert (row["decided_by"], row["confirmed"]) == ("user:9", "True")
    assert row["decided_at"] == "2026-03-02T01:00:00+00:00"
    code, out = _cli("corrections", "list", "--since", "2026-03-01")
    assert code == 0, out
    assert "old one" in out and "another model" in out
    code, out = _cli("corrections", "list", "--until", "2026-03-01")
    assert code == 0, out
    assert "old one" in out and "another model" not in out
    code, out = _cli("corrections", "list", "--since", "March")
    assert code == 1 and "since" in out
    code, out = _cli("corrections", "list", "--since", "2026-03-02", "--until", "2026-03-01")
    assert code == 1 and "until" in out
    code, out = _cli("correct", "路灯不亮", "E0101", "--suggested", "E0103")
    assert code == 0 and "correction kept for default" in out, out
