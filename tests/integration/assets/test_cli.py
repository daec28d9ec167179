"""The ``onegrid`` commands of the assets context, against a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.logging import configure_logging
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import drift, migrate
from tests.integration.assets.city import IN_WEST, OUTSIDE, build_city


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    db = Database(make_engine(url))
    migrate(db.engine)
    with db.unit_of_work() as s:
        build_city(s, FixedClock(datetime(2026, 3, 2, tzinfo=UTC)), tmp_path)
    yield db
    db.engine.dispose()
    # The commands configured logging onto the runner's stderr, closed by now: point it back
    # at the live one, or later tests that log would fail writing to a closed file.
    configure_logging()


def test_taxonomy_and_import_commands(env: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["taxonomy", "show", "--kind", "event"])
    assert shown.exit_code == 0, shown.output
    assert "E0506" in shown.output
    exported = runner.invoke(app, ["taxonomy", "show", "--json"])
    path = tmp_path / "exported.json"
    path.write_text(exported.output, encoding="utf-8")
    again = runner.invoke(app, ["taxonomy", "load", str(path)])
    assert again.exit_code == 0 and "unchanged" in again.output

    csv_path = tmp_path / "components.csv"
    csv_path.write_text(
        "编码,小类代码,经度,纬度,权属\n"
        f",C0101,{IN_WEST[0]},{IN_WEST[1]},water\n"
        f",C0101,{OUTSIDE[0]},{OUTSIDE[1]},water\n",
        encoding="utf-8",
    )
    args = ["import", "components", str(csv_path), "--mapping", "owner=权属"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "REFUSED" in refused.output
    assert (tmp_path / "components.errors.csv").read_text(encoding="utf-8").count("\n") == 2
    skipped = runner.invoke(app, [*args, "--on-error", "skip"])
    assert skipped.exit_code == 0, skipped.output
    assert "1 components written" in skipped.output
    shown = runner.invoke(app, ["component", "show", "1101010101000001"])
    assert shown.exit_code == 0 and "110101001001" in shown.output
    state = runner.invoke(app, ["component", "set-state", "1101010101000001", "破损"])
    assert state.exit_code == 0 and "damaged" in state.output
    history = runner.invoke(app, ["component", "history", "1101010101000001"])
    assert history.exit_code == 0, history.output
    assert "state_changed" in history.output and "normal → damaged" in history.output
    unknown = runner.invoke(app, ["component", "history", "1101010101999999"])
    assert unknown.exit_code != 0
    assert drift(env.engine) == []  # the bulk import built its indexes again


def test_a_bad_taxonomy_file_is_refused_with_its_problems(env: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: '1'\nevents: [{major: '1x'}]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["taxonomy", "load", str(bad)])
    assert result.exit_code == 1
    assert "two_digits" in result.output
