"""Shared-bike oversaturation from GBFS feeds built out of real Citi Bike trip ends: one
operator publishes v2.3 station feeds as files, the other v3.0 free-floating vehicles over HTTP.
The watch reads both on a schedule; cells over capacity past the grace period raise alerts and
cases for the operator, checked against an independent count with h3 and pandas."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import h3
import pandas as pd
import pytest
import shapely

from onegrid.assets import services as assets
from onegrid.cases.config import CaseRules
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services as grid
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.people import services as people
from onegrid.sensing import alerting, bikewatch
from onegrid.sensing.alerting import SYSTEM_PRINCIPAL
from onegrid.sensing.models import AlertRow
from tests.support import shared_file

pytestmark = pytest.mark.realdata
CAPACITY = 40  # bikes a res-10 cell holds: the busiest cells of the sample hold more
GRACE = 600


def trips() -> pd.DataFrame:
    frame = pd.read_csv(shared_file("citibike_trips_2024-09_sample10k.csv.gz"))
    return frame.dropna(subset=["end_lat", "end_lng", "end_station_id"])


def v23_feeds(root: Path, ends: pd.DataFrame) -> str:
    """Citi Bike's docks as v2.3 station feeds: each classic bike parked where its trip ended."""
    stations = ends.groupby("end_station_id").agg(
        name=("end_station_name", "first"),
        lat=("end_lat", "mean"),
        lon=("end_lng", "mean"),
        bikes=("ride_id", "size"),
    )

    def doc(data: dict[str, Any]) -> str:
        return json.dumps({"last_updated": 1725148800, "ttl": 60, "version": "2.3", "data": data})

    (root / "station_information.json").write_text(
        doc(
            {
                "stations": [
                    {
                        "station_id": str(i),
                        "name": r.name,
                        "lat": r.lat,
                        "lon": r.lon,
                        "capacity": 40,
                    }
                    for i, r in stations.iterrows()
                ]
            }
        )
    )
    (root / "station_status.json").write_text(
        doc(
            {
                "stations": [
                    {
                        "station_id": str(i),
                        "num_bikes_available": int(r.bikes),
                        "num_bikes_disabled": 0,
                        "num_docks_available": 10,
                        "is_installed": True,
                        "is_renting": True,
                        "is_returning": True,
                        "last_reported": 1725148800,
                    }
                    for i, r in stations.iterrows()
                ]
            }
        )
    )
    feeds = [{"name": n, "url": f"{n}.json"} for n in ("station_information", "station_status")]
    (root / "gbfs.json").write_text(doc({"en": {"feeds": feeds}}))
    return str(root / "gbfs.json")


def v30_feeds(root: Path, ends: pd.DataFrame, base: str) -> None:
    """E-bikes as v3.0 free-floating vehicles at their trip ends."""

    def doc(data: dict[str, Any]) -> str:
        stamp = "2024-09-01T00:00:00+00:00"
        return json.dumps({"last_updated": stamp, "ttl": 60, "version": "3.0", "data": data})

    (root / "vehicle_status.json").write_text(
        doc(
            {
                "vehicles": [
                    {
                        "vehicle_id": r.ride_id,
                        "lat": r.end_lat,
                        "lon": r.end_lng,
                        "is_reserved": False,
                        "is_disabled": False,
                    }
                    for r in ends.itertuples()
                ]
            }
        )
    )
    (root / "gbfs.json").write_text(
        doc({"feeds": [{"name": "vehicle_status", "url": f"{base}/vehicle_status.json"}]})
    )


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "lyft"
    root.mkdir()
    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def expected(ends: pd.DataFrame, area: shapely.Geometry) -> set[tuple[str, str]]:
    """(operator, cell or area) whose bikes exceed their share where the total is over capacity."""
    lat, lon = ends["end_lat"].to_numpy(), ends["end_lng"].to_numpy()
    inside = shapely.contains_xy(area, lon, lat)
    where = [
        "P-1" if hit else h3.latlng_to_cell(y, x, 10)
        for x, y, hit in zip(lon, lat, inside, strict=True)
    ]
    op = ends["rideable_type"].map({"classic_bike": "citi", "electric_bike": "lyft"})
    counts = pd.DataFrame({"where": where, "op": op}).value_counts().unstack(fill_value=0)
    out = set()
    for place, row in counts.iterrows():
        capacity = 5 if place == "P-1" else CAPACITY
        present = row[row > 0]
        if present.sum() > capacity:
            out |= {(o, str(place)) for o, n in present.items() if n > capacity / len(present)}
    return out


def city_over(session: Any, clock: FixedClock, tmp: Path, box: shapely.Polygon) -> None:
    codes = {
        "city": ("NY", None),
        "district": ("NY01", "NY"),
        "subdistrict": ("NY01001", "NY01"),
        "community": ("NY01001001", "NY01001"),
    }
    for level, (code, parent) in codes.items():
        feature = {
            "type": "Feature",
            "properties": {"code": code, "parent": parent},
            "geometry": shapely.geometry.mapping(box),
        }
        path = tmp / f"{level}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        options = AreaImportOptions(
            level=Level(level),
            code_field="code",
            valid_from=date(2024, 1, 1),
            parent_field="parent" if parent else None,
        )
        grid.import_areas(session, read_features(path), options, clock)
    assets.ensure_taxonomy(session, clock)


def test_gbfs_feeds_raise_oversaturation_cases_for_the_operators(
    db: Database,
    clock: FixedClock,
    rules: CaseRules,
    tmp_path: Path,
    served: tuple[Path, str],
) -> None:
    ends = trips()
    classic = ends[ends["rideable_type"] == "classic_bike"]
    electric = ends[ends["rideable_type"] == "electric_bike"]
    citi_root = tmp_path / "citi"
    citi_root.mkdir()
    citi_url = v23_feeds(citi_root, classic)
    lyft_root, base = served
    v30_feeds(lyft_root, electric, base)
    busiest = classic["end_station_id"].value_counts().index[0]
    spot = classic[classic["end_station_id"] == busiest].iloc[0]
    area = bikewatch.buffer(float(spot["end_lng"]), float(spot["end_lat"]), 60.0)
    box = shapely.box(
        ends["end_lng"].min() - 0.01,
        ends["end_lat"].min() - 0.01,
        ends["end_lng"].max() + 0.01,
        ends["end_lat"].max() + 0.01,
    )
    with db.unit_of_work() as s:
        city_over(s, clock, tmp_path, box)
        for code in ("citi", "lyft"):
            people.create_department(s, f"{code}-ops", f"{code} 运营", clock, kind="operator")
        bikewatch.set_operator(s, "citi", "Citi Bike", "citi-ops", clock, feed_url=citi_url)
        bikewatch.set_operator(
            s, "lyft", "Lyft e-bikes", "lyft-ops", clock, feed_url=f"{base}/gbfs.json"
        )
        bikewatch.set_area(s, "P-1", "Busiest dock", area, 5, clock)

    reports: list[bikewatch.WatchReport] = []

    def after(report: bikewatch.WatchReport) -> None:
        reports.append(report)
        for alert_id in report.written.raised:
            alerting.after_raise(db, alert_id, SYSTEM_PRINCIPAL, clock, rules)
        for alert_id in report.written.cleared:
            alerting.after_clear(db, alert_id, clock, rules)
        clock.advance(timedelta(seconds=GRACE))
        if len(reports) == 2:  # the e-bikes ride away: only the docks' bikes are left
            v30_feeds(lyft_root, electric.iloc[:0], base)

    bikewatch.run_watch(
        db,
        clock,
        cell_capacity=CAPACITY,
        grace_s=GRACE,
        interval_s=0.01,
        timeout_s=10,
        after=after,
        rounds=3,
    )

    first, second, third = reports
    assert not first.failed and first.bikes == len(ends)
    assert first.fleets == {"citi": len(classic), "lyft": len(electric)}
    assert first.written.raised == []  # over capacity, but not for the grace period yet
    want = expected(ends, area)
    assert len(want) > 20 and ("citi", "P-1") in want
    with db.reader() as s:
        rows = {r.id: r for r in s.query(AlertRow).filter(AlertRow.rule_code == bikewatch.RULE)}
        raised = {tuple(rows[i].subject.split("@")) for i in second.written.raised}
        assert raised == want
        for alert_id in second.written.raised:
            alert = rows[alert_id]
            assert alert.case_state == "opened", alert.case_note
            case = get_case(s, alert.case_id)
            assert case.channel == "sensor"
            assert alert.department_code == f"{alert.subject.split('@')[0]}-ops"
        left = expected(classic, area)
        cleared = {tuple(rows[i].subject.split("@")) for i in third.written.cleared}
        assert left and cleared == want - left
        # The e-bikes rode away: their cases closed by themselves; the docks' stay open.
        for alert_id in second.written.raised:
            status = get_case(s, rows[alert_id].case_id or 0).status
            gone = alert_id in third.written.cleared
            assert status == ("closed" if gone else "to_file"), rows[alert_id].subject
    assert third.written.raised == []  # what is still over stays the same alert
