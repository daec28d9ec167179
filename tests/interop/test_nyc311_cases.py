"""NYC 311 (100,000 real service requests) loaded as cases, checked against pandas.

The import and the check are independent: pandas reads the same file, applies the same three
rules (a case needs coordinates and a creation time, and cannot close before it opened), and
computes per-type counts and median open-to-close durations itself.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import func, select

from onegrid.assets.services import ensure_taxonomy
from onegrid.cases.config import case_rules
from onegrid.cases.csvmapping import read_cases, read_mapping
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cases.records import CASES
from onegrid.core.clock import FixedClock
from onegrid.core.errors import FieldProblem
from onegrid.db.session import Database
from tests.support import shared_file

pytestmark = [pytest.mark.realdata, pytest.mark.slow, pytest.mark.postgres]
MAPPING = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "onegrid"
    / "cases"
    / "data"
    / "nyc311_mapping.yaml"
)
FILE = "nyc311_2026-04to06_100k.csv.gz"


def _expected(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    df = pd.read_csv(path, dtype=str)
    df["created"] = pd.to_datetime(df["created_date"]).dt.tz_localize("America/New_York")
    df["closed"] = pd.to_datetime(df["closed_date"]).dt.tz_localize("America/New_York")
    df["lat_f"] = pd.to_numeric(df["latitude"], errors="coerce")
    df["lon_f"] = pd.to_numeric(df["longitude"], errors="coerce")
    keep = df["created"].notna() & df["lat_f"].notna() & df["lon_f"].notna()
    keep &= ~(df["closed"] < df["created"])
    categories = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))["categories"]
    return df[keep], categories


def test_nyc311_loads_with_the_counts_and_durations_pandas_finds(
    db: Database, clock: FixedClock
) -> None:
    path = shared_file(FILE)
    with db.unit_of_work() as s:
        ensure_taxonomy(s, clock)
    mapping = read_mapping(MAPPING)
    refused: list[FieldProblem] = []

    def cases() -> list[HistoricalCase]:
        out = []
        for item in read_cases(path, mapping):
            (refused.append if isinstance(item, FieldProblem) else out.append)(item)  # type: ignore[arg-type]
        return out

    report = load_historical(db, cases(), rules=case_rules(), use_grid=False)
    expected, categories = _expected(path)
    assert not report.rejected
    assert report.accepted == len(expected) == 100_000 - len(refused)
    assert {p.rule for p in refused} <= {"coordinates_required", "closed_after_created"}

    with db.reader() as s:
        counts: dict[str | None, int] = {
            t: n
            for t, n in s.execute(
                select(CASES.c.source_type, func.count()).group_by(CASES.c.source_type)
            )
        }
        per_category: dict[str, int] = {
            c: n
            for c, n in s.execute(
                select(CASES.c.category_code, func.count()).group_by(CASES.c.category_code)
            )
        }
        spans: dict[str, list[float]] = defaultdict(list)
        for kind, opened, closed in s.execute(
            select(CASES.c.source_type, CASES.c.created_at, CASES.c.closed_at).where(
                CASES.c.closed_at.is_not(None)
            )
        ):
            spans[kind].append((closed - opened) / timedelta(seconds=1))
    assert counts == expected["complaint_type"].value_counts().to_dict()
    mapped = expected["complaint_type"].map(categories).value_counts().to_dict()
    assert per_category == mapped

    closed = expected[expected["closed"].notna()]
    medians = (
        (closed["closed"] - closed["created"])
        .dt.total_seconds()
        .groupby(closed["complaint_type"])
        .median()
    )
    assert set(spans) == set(medians.index)
    for kind, median in medians.items():
        assert statistics.median(spans[kind]) == pytest.approx(median, abs=1e-3), kind
    # Spot check a busy type against figures read off the data: NYPD noise closes in hours.
    assert 0 < medians["Noise - Residential"] < 24 * 3600

    again = load_historical(db, cases(), rules=case_rules(), use_grid=False)
    assert (again.accepted, again.skipped_existing) == (0, report.accepted)
