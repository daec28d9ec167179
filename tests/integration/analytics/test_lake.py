"""The lake: incremental export with a watermark, versions swapped whole, DuckDB over Parquet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from onegrid.analytics import sources
from onegrid.analytics.lake import Lake, _PartitionWriter
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
    real = pq.ParquetWriter.write_table

    def flaky(self: pq.ParquetWriter, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetWriter, "write_table", flaky)
    with pytest.raises(OSError, match="disk full"):
        lake.refresh(city)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
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


def test_many_batches_stream_into_one_file_per_partition_and_updates_replace_rows(
    city: Database, rules: CaseRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 3 rows, at most 4 rows buffered: every partition is written in pieces, and
    the watermark is the greatest (updated_at, id) read, whatever order the rows came in."""
    monkeypatch.setattr(sources, "BATCH", 3)
    monkeypatch.setattr(_PartitionWriter, "BUFFERED", 4)
    lake = Lake(tmp_path / "lake")
    load_historical(city, _cases(12, T0, "a"), rules=rules)
    first = lake.refresh(city)
    assert first.rows["cases"] == 12 and first.rows["case_history"] == 12 + 4
    files = sorted((tmp_path / "lake" / "v000001" / "cases").glob("*/*.parquet"))
    assert [f.parent.name for f in files] == [
        "month=2026-01",
        "month=2026-02",
        "month=2026-03",
        "month=2026-04",
    ]
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == 12
    assert not lake.refresh(city).changed

    # Two cases change (one of them twice): each appears once, in its newest state, and the
    # untouched months keep their files.
    later = T0 + timedelta(days=90)
    with city.unit_of_work() as s:
        for ref, at in (("a:4", later), ("a:9", later), ("a:4", later + timedelta(hours=1))):
            s.execute(
                update(CaseRow)
                .where(CaseRow.external_ref == ref)
                .values(status="closed", closed_at=at, updated_at=at)
            )
    second = lake.refresh(city)
    assert second.rows["cases"] == 2
    con = lake.connect()
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM cases").fetchone() == (12, 12)
    closed = con.execute(
        "SELECT max(closed_at) FROM cases WHERE number IN "
        "(SELECT number FROM cases WHERE closed_at >= $t)",
        {"t": later},
    ).fetchone()
    assert closed == (later + timedelta(hours=1),)
    v1, v2 = (tmp_path / "lake" / "v000001"), (tmp_path / "lake" / "v000002")
    # Case a:4 is in February, a:9 in March: January's file is the one version 1 wrote.
    assert [p.name for p in (v2 / "cases" / "month=2026-01").iterdir()] == [
        p.name for p in (v1 / "cases" / "month=2026-01").iterdir()
    ]
    assert [p.name for p in (v2 / "cases" / "month=2026-02").iterdir()] == ["part-000002-r.parquet"]
    assert not lake.refresh(city).changed


def test_a_lake_of_an_earlier_format_is_exported_again_whole(
    city: Database, rules: CaseRules, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    load_historical(city, _cases(5, T0, "a"), rules=rules)
    lake.refresh(city)
    manifest = tmp_path / "lake" / "v000001" / "manifest.json"
    raw = json.loads(manifest.read_text())
    raw["watermarks"].pop("format")
    manifest.write_text(json.dumps(raw))
    again = lake.refresh(city)
    assert again.version == 2 and again.rows["cases"] == 5 and again.rows["areas"] == 7
    assert lake.connect().execute("SELECT count(*) FROM cases").fetchone() == (5,)


def test_the_history_is_written_in_one_run_of_row_groups_per_action(
    city: Database, rules: CaseRules, tmp_path: Path
) -> None:
    """A filter on the action (the returns of every month, one month's dispatches) skips the
    other actions' row groups by their statistics: each row group holds one action, in time
    order, however the actions came interleaved from the database."""
    lake = Lake(tmp_path / "lake")
    cases = [
        HistoricalCase(
            "E0102",
            T0 + timedelta(hours=i),
            *IN_CORE,
            f"case {i}",
            external_ref=f"c:{i}",
            closed_at=T0 + timedelta(hours=i, minutes=30) if i % 2 else None,
        )
        for i in range(6)
    ]
    load_historical(city, cases, rules=rules)
    lake.refresh(city)
    (path,) = (tmp_path / "lake" / "v000001" / "case_history").glob("*/*.parquet")
    meta = pq.ParquetFile(path).metadata
    action = meta.schema.to_arrow_schema().get_field_index("action")
    groups = [meta.row_group(i).column(action).statistics for i in range(meta.num_row_groups)]
    assert all(g.min == g.max for g in groups)
    assert len({g.min for g in groups}) == len(groups) >= 2
    rows = pq.read_table(path, columns=["action", "at"]).to_pylist()
    assert rows == sorted(rows, key=lambda r: (r["action"], r["at"]))
    assert rows != sorted(rows, key=lambda r: r["at"])


def _two_versions(city: Database, rules: CaseRules, lake: Lake) -> None:
    """Version 1 holds 4 cases in January; version 2 adds 4 whose month files v1 lacks."""
    load_historical(city, _cases(4, T0, "a"), rules=rules)
    lake.refresh(city)
    load_historical(city, _cases(4, T0 - timedelta(days=60), "b"), rules=rules)
    lake.refresh(city)


def test_a_reader_pairs_a_version_with_its_own_file_list_while_a_refresh_publishes(
    city: Database, rules: CaseRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "lake")
    _two_versions(city, rules, lake)
    # The reader finds version 1, then the pointer moves on to version 2 (a refresh published).
    pointers = iter([tmp_path / "lake" / "v000001"])
    monkeypatch.setattr(Lake, "current", lambda self: next(pointers, self.root / "v000002"))
    assert lake.connect().execute("SELECT count(*) FROM cases").fetchone() == (4,)


def test_a_reader_whose_version_was_collected_reads_the_current_one(
    city: Database, rules: CaseRules, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "lake")
    _two_versions(city, rules, lake)
    gone = tmp_path / "lake" / "v000000"
    pointers = iter([gone])
    monkeypatch.setattr(Lake, "current", lambda self: next(pointers, self.root / "v000002"))
    assert lake.connect().execute("SELECT count(*) FROM cases").fetchone() == (8,)
