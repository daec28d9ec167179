"""NYC 311 (100,000 real requests) through the lake: counts per complaint type per community
district, and median close times, equal an independent pandas + Shapely computation; the
hotspot scan finds the same significant cells as PySAL's esda."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from onegrid.analytics.evaluation import type_by_area
from onegrid.analytics.hotspots import MIN_COUNT, hotspots
from onegrid.analytics.lake import Lake
from onegrid.analytics.period import Period
from onegrid.assets.services import ensure_taxonomy
from onegrid.cases.config import case_rules
from onegrid.cases.csvmapping import read_cases, read_mapping
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid import services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.schema import migrate
from tests.support import shared_file
from tests.unit.analytics.test_hotspots import esda_hot_cells

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


@pytest.fixture(scope="module")
def nyc_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    """The file and the boundaries loaded once into a fresh SQLite database and exported to a
    lake, shared by this module's tests (loading takes most of their time; the lake's export on
    PostgreSQL is covered by test_lake)."""
    root = tmp_path_factory.mktemp("nyc311")
    shared_file(FILE)
    db = Database(make_engine(f"sqlite:///{root / 'onegrid.sqlite3'}"))
    migrate(db.engine)
    _areas(db, FixedClock(datetime(2026, 7, 1, tzinfo=UTC)))
    mapping = read_mapping(MAPPING)
    cases = [c for c in read_cases(shared_file(FILE), mapping) if isinstance(c, HistoricalCase)]
    load_historical(db, cases, rules=case_rules("America/New_York"))
    lake = Lake(root / "lake")
    lake.refresh(db)
    yield lake
    db.engine.dispose()


def test_counts_and_median_close_times_per_type_and_district_match_pandas(nyc_lake: Lake) -> None:
    period = Period(date(2026, 1, 1), date(2026, 12, 31), "America/New_York")
    got = type_by_area(nyc_lake.connect(), period, "subdistrict", by="source_type").to_pandas()
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


def test_hotspots_are_the_significant_cells_esda_finds(nyc_lake: Lake) -> None:
    """The two busiest categories over May: onegrid's scan against esda's Gi* (weights built
    with h3 over every cell where any case arose in May) with the same BH correction, on
    counts per cell taken here from the lake's cases with pandas."""
    period = Period(date(2026, 5, 1), date(2026, 5, 31), "America/New_York")
    con = nyc_lake.connect()
    cases = con.execute(
        "SELECT category_code, h3_10, created_at FROM cases WHERE h3_10 IS NOT NULL"
    ).df()
    in_may = cases[(cases["created_at"] >= period.start) & (cases["created_at"] < period.end)]
    cells = sorted(in_may["h3_10"].unique())
    for category in in_may["category_code"].value_counts().index[:2]:
        per_cell = in_may[in_may["category_code"] == category].groupby("h3_10").size()
        x = per_cell.reindex(cells, fill_value=0).to_numpy(dtype=np.float64)
        # Every significant cell, then those reported hot (cases of their own): the statistic
        # and the correction are over every cell either way.
        for min_count in (0, MIN_COUNT):
            expected = esda_hot_cells(cells, x, min_count=min_count)
            found = hotspots(con, category, period, min_count=min_count)
            assert len(found) > 20, category
            assert {h.cell for h in found} == {c for c, _ in expected}, category
            assert [h.cell for h in found[:10]] == [c for c, _ in expected[:10]], category
            assert [h.z for h in found] == pytest.approx([z for _, z in expected], rel=1e-6)
            assert {h.cell: h.count for h in found} == {
                c: int(x[cells.index(c)]) for c, _ in expected
            }
