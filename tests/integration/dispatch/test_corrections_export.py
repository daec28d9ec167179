"""The corrections' CSV, as the console and the API both write it: read a batch at a time, no
cell a spreadsheet would run, and refused bounds told plainly; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.classifier.queries import corrections_csv, iter_corrections
from onegrid.dispatch.classifier.services import correct

pytestmark = pytest.mark.postgres
runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["classifier", "corrections", *args])
    return result.exit_code, result.output


def test_every_correction_is_read_a_batch_at_a_time_in_order(
    db: Database, clock: FixedClock
) -> None:
    ids = []
    for n in range(7):
        model = "other" if n == 3 else "default"
        ids.append(correct(db, model, text=f"路灯 {n}", label="E0101", clock=clock).id)
        clock.advance(timedelta(minutes=1))
    read = iter_corrections(db, batch=2)
    first = next(read)
    # Kept while the export reads: left to the next export.
    late = correct(db, "default", text="later", label="E0101", clock=clock).id
    assert [first.id, *(c.id for c in read)] == ids
    assert [c.id for c in iter_corrections(db, model="default", batch=2)] == [
        *ids[:3],
        *ids[4:],
        late,
    ]
    since = clock.now() - timedelta(minutes=3)
    assert [c.id for c in iter_corrections(db, since=since, batch=3)] == [*ids[4:], late]
    assert list(iter_corrections(db, model="none", batch=2)) == []


def test_an_empty_table_is_a_header_alone(db: Database) -> None:
    assert list(iter_corrections(db)) == []
    assert "".join(corrections_csv([])).splitlines() == [
        "id,model,decided_at,decided_by,call_id,case_id,text,suggested_category,"
        "suggested_confidence,chosen_category,confirmed,model_version"
    ]


def test_the_console_csv_is_guarded_as_the_apis(
    db: Database, clock: FixedClock, cli_env: Path
) -> None:
    correct(db, "default", text="=HYPERLINK(0)", label="E0101", clock=clock)
    correct(db, "default", text="+cmd 电话一三八一二三四五六七八", label="E0101", clock=clock)
    code, out = _cli("list", "--csv")
    assert code == 0, out
    assert [r["text"] for r in csv.DictReader(io.StringIO(out))] == [
        "'=HYPERLINK(0)",
        "'+cmd 电话0",
    ]
    rows = list(iter_corrections(db))
    assert out == "".join(corrections_csv(rows))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--since", "0001-01-01"), "since"),
        (("--until", "0001-01-01T00:00"), "until"),
        (("--since", "9999-12-31T23:00-05:00"), "since"),
        (("--until", "9999-12-31", "--csv"), "until"),
    ],
)
def test_a_time_out_of_range_is_refused_plainly(
    db: Database, clock: FixedClock, cli_env: Path, args: tuple[str, ...], field: str
) -> None:
    correct(db, "default", text="路灯不亮", label="E0101", clock=clock)
    result = runner.invoke(app, ["classifier", "corrections", "list", *args])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{field}: a time between the years 1 and 9999" in result.output
