"""NYC 311 (100,000 real requests) through the lake: counts per complaint type per community
district, and median close times, equal an independent pandas + Shapely computation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from onegrid.analytics.evaluation import type_by_area
from onegrid.analytics.lake import Lake
from onegrid.analytics.period import Period
from onegrid.assets.services import ensure_taxonomy
from onegrid.cases.config import case_rules
from onegrid.cases.csvmapping import read_cases, read_mapping
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from tests.support import shared_file

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
MAPPING = Path(__file__).resolve().parents[3] / "src/onegrid/cases/data/nyc311_mapping.yaml"
FILE = "nyc311_2026-04to06_100k.csv.gz"
START = date(2020, 1, 1)


def _areas(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        ensure_taxonomy(s, clock)
        for name, opts in (
            ("nyc_boroughs.geojson", {"level": Level.DISTRICT, "code_field": "BoroCode"}),
            (
                "nyc_community_districts.geojson",
                {"level": Level.SUBDISTRICT, "code_field": "BoroCD", "parent_from_code_prefix": 1},
            ),
        ):
            options = AreaImportOptions(valid_from=START, **opts)  # type: ignore[arg-type]
            services.import_areas(s, read_features(shared_file(name)), options, clock)


def _pandas_expected() -> pd.DataFrame:
    """The file read by pandas; each point placed by brute-force Shapely containment in the
    community district with the smallest code that covers it."""
    df = pd.read_csv(shared_file(FILE), dtype=str)
    df["created"] = pd.to_datetime(df["created_date"]).dt.tz_localize("America/New_York")
    df["closed"] = pd.to_datetime(df["closed_date"]).dt.tz_localize("America/New_York")
    df["lat_f"] = pd.to_numeric(df["latitude"], errors="coerce")
    df["lon_f"] = pd.to_numeric(df["longitude"], errors="coerce")
    keep = df["created"].notna() & df["lat_f"].notna() & df["lon_f"].notna()
    keep &= ~(df["closed"] < df["created"])
    df = df[keep].copy()
    with shared_file("nyc_community_districts.geojson").open(encoding="utf-8") as f:
        features = json.load(f)["features"]
    shapes = sorted((str(int(x["properties"]["BoroCD"])), shape(x["geometry"])) for x in features)
    lon, lat = df["lon_f"].to_numpy(), df["lat_f"].to_numpy()
    cd = np.full(len(df), None, dtype=object)
    for code, geom in reversed(shapes):  # smallest code last, so it wins
        cd[shapely.intersects_xy(geom, lon, lat)] = code
    df["cd"] = cd
    return df[df["cd"].notna()]


def test_counts_and_median_close_times_per_type_and_district_match_pandas(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the lake's export is covered on PostgreSQL by test_lake; 100k rows once")
    _areas(db, clock)
    mapping = read_mapping(MAPPING)
    cases = [c for c in read_cases(shared_file(FILE), mapping) if isinstance(c, HistoricalCase)]
    load_historical(db, cases, rules=case_rules("America/New_York"))
    lake = Lake(tmp_path / "lake")
    lake.refresh(db)
    period = Period(date(2026, 1, 1), date(2026, 12, 31), "America/New_York")
    got = type_by_area(lake.connect(), period, "subdistrict", by="source_type").to_pandas()
    got = got.set_index(["type", "area_code"]).sort_index()

    df = _pandas_expected()
    counts = df.groupby(["complaint_type", "cd"]).size()
    assert len(got) == len(counts) > 500
    assert got["cases"].to_dict() == counts.to_dict()
    closed = df[df["closed"].notna()]
    medians = (
        (closed["closed"] - closed["created"])
        .dt.total_seconds()
        .groupby([closed["complaint_type"], closed["cd"]])
        .median()
    )
    ours = got["median_close_seconds"].dropna()
    assert set(ours.index) == set(medians.index)
    assert np.allclose(ours.sort_index().to_numpy(), medians.sort_index().to_numpy(), atol=1e-3)
