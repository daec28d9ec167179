"""The demo city's standard address register: Open311 clients may post by address alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.api.app import create_app
from onegrid.core.clock import FixedClock, city_today
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.demo import build_demo_city
from onegrid.grid import queries as grid_queries

pytestmark = pytest.mark.postgres


def test_the_demo_takes_address_only_posts(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    report = build_demo_city(db, seed=11, clock=clock, components_per_grid=0)
    assert report.counts["standard addresses"] > 1000
    assert "standard addresses" in report.render()
    [key] = [raw for name, raw in report.api_keys if name.startswith("open311-demo")]
    settings = Settings(data_dir=tmp_path)
    today = city_today(clock, settings.timezone)
    with db.reader() as session:
        plate = grid_queries.find_address(session, "示范市东湖区和平街道康乐路 1 号", today)
        assert plate is not None and plate.unit_grid
        assert grid_queries.count_addresses(session, today) == report.counts["standard addresses"]
    with TestClient(create_app(settings, db=db, clock=clock)) as client:
        for where in ({"address_id": plate.id}, {"address_string": plate.text}):
            resp = client.post(
                "/open311/v2/requests.json",
                data={"api_key": key, "service_code": "E0102", "description": "垃圾", **where},
            )
            assert resp.status_code == 200, resp.text
            number = resp.json()[0]["service_request_id"]
            [request] = client.get(f"/open311/v2/requests/{number}.json").json()
            assert request["address"] == plate.text
            assert (request["long"], request["lat"]) == (plate.lon, plate.lat)
