"""The lake: incremental export with a watermark, versions swapped whole, DuckDB over Parquet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from onegrid.analytics.lake import Lake
from onegrid.cases.config import CaseRules
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cases.models import CaseRow
from onegrid.cli import app
from onegrid.db.session import Database
from tests.integration.cases.city import IN_CORE, IN_SUBURB

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 1, 20, 2, tzinfo=UTC)


def _cases(n: int, start: datetime, tag: str) -> list[HistoricalCase]:
    return [
        HistoricalCase(
            "E0102",
            start + timedelta(days=i * 7),
            *(IN_CORE if i % 2 else IN_SUBURB),
            f"case {i}",
            external_ref=f"{tag}:{i}",
            closed_at=start + timedelta(days=i * 7, hours=5) if i % 3 == 0 else None,
            department_code="sanitation",
        )
        for i in range(n)
    ]


def test_refresh_exports_only_what_changed_and_keeps_old_versions_readable(
    city: Database, rules: CaseRules, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    load_historical(city, _cases(8, T0, "a"), rules=rules)
    first = lake.refresh(city)
    assert first.version == 1
    assert first.rows["cases"] == 8 and first.rows["case_history"] == 8 + 3
    assert first.rows["areas"] == 7
    assert first.rows["callbacks"] == 0
    con = lake.connect()
    months = con.execute("SELECT strftime(created_at, '%Y-%m') m, count(*) FROM cases GROUP BY 1")
    assert dict(months.fetchall()) == {"2026-01": 2, "2026-02": 4, "2026-03": 2}
    parts = {p.parent.name for p in (tmp_path / "lake" / "v000001" / "cases").glob("*/*")}
    assert parts == {"month=2026-01", "month=2026-02", "month=2026-03"}

    nothing = lake.refresh(city)
    assert not nothing.changed and nothing.version == 1

    # One case changes, two arrive: only those rows move, and the case appears once.
    later = T0 + timedelta(days=60)
    with city.unit_of_work() as s:
        s.execute(
            update(CaseRow)
            .where(CaseRow.external_ref == "a:1")
            .values(status="closed", closed_at=later, updated_at=later)
        )
    load_historical(city, _cases(2, T0 + timedelta(days=1), "b"), rules=rules)
    second = lake.refresh(city)
    assert second.version == 2 and second.rows["cases"] == 3 and second.rows["areas"] == 0
    fresh = lake.connect()
    total, ids, closed = fresh.execute(
        "SELECT count(*), count(DISTINCT id), count(closed_at) FROM cases"
    ).fetchone()  # type: ignore[misc]
    assert (total, ids, closed) == (10, 10, 5)
    # The connection opened before the refresh still reads version 1 as it was.
    assert con.execute("SELECT count(*), count(closed_at) FROM cases").fetchone() == (8, 3)
    # No personal data in the lake.
    assert (
        "reporter_phone"
        not in pq.read_schema(
            next((tmp_path / "lake" / "v000002" / "cases").glob("*/*.parquet"))
        ).names
    )


def test_a_failed_refresh_leaves_the_published_version_untouched(
    city: Database, rules: CaseRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "lake")
    load_historical(city, _cases(4, T0, "a"), rules=rules)
    lake.refresh(city)
    load_historical(city, _cases(4, T0 + timedelta(days=2), "b"), rules=rules)
    calls = {"n": 0}
    real = pq.write_table

    def flaky(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pq, "write_table", flaky)
    with pytest.raises(OSError, match="disk full"):
        lake.refresh(city)
    monkeypatch.setattr(pq, "write_table", real)
    assert (tmp_path / "lake" / "CURRENT").read_text() == "v000001"
    assert lake.connect().execute("SELECT count(*) FROM cases").fetchone() == (4,)
    assert not list((tmp_path / "lake").glob(".tmp-*"))
    again = lake.refresh(city)
    assert again.version == 2 and again.rows["cases"] == 4
    assert lake.connect().execute("SELECT count(*) FROM cases").fetchone() == (8,)


def test_the_cli_refreshes_the_lake_under_the_data_dir(
    city: Database, rules: CaseRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", city.engine.url.render_as_string(False))
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    load_historical(city, _cases(3, T0, "a"), rules=rules)
    result = CliRunner().invoke(app, ["analytics", "refresh"])
    assert result.exit_code == 0, result.output
    assert "lake v1" in result.output and "cases 3" in result.output
    result = CliRunner().invoke(app, ["analytics", "refresh"])
    assert "nothing new" in result.output
