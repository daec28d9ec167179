"""The floor on a hotspot's own cases (``min_count``) over HTTP and in ``onegrid report hotspots``:
a lake with one busy cell (5 cases) ringed by cells of 2, in a field of single cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onegrid.analytics.hotspots import MIN_COUNT
from onegrid.analytics.lake import Lake
from onegrid.cases.config import case_rules
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.cases.city import IN_CORE, build_city

pytestmark = pytest.mark.postgres
CENTRE = h3.latlng_to_cell(IN_CORE[1], IN_CORE[0], 10)
RING = sorted(set(h3.grid_disk(CENTRE, 1)) - {CENTRE})
FEBRUARY = {"category": "E0102", "start": "2026-02-01", "end": "2026-02-28"}


def _counts() -> dict[str, int]:
    counts = dict.fromkeys(h3.grid_disk(CENTRE, 3), 1)
    counts.update(dict.fromkeys(RING, 2))
    counts[CENTRE] = 5
    return counts


@pytest.fixture
def hot_lake(db: Database, clock: FixedClock, settings: Settings, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        people.create_user(
            s, "ana", "correct horse battery", clock, grants=(Grant(Role.ANALYST, Scope.city()),)
        )
    t0 = datetime(2026, 2, 2, 1, tzinfo=UTC)
    cases = []
    for cell, n in sorted(_counts().items()):
        lat, lng = h3.cell_to_latlng(cell)
        for k in range(n):
            at = t0 + timedelta(hours=len(cases))
            cases.append(
                HistoricalCase("E0102", at, lng, lat, "rubbish", external_ref=f"hot:{cell}:{k}")
            )
    report = load_historical(db, cases, rules=case_rules("Asia/Shanghai"))
    assert report.accepted == len(cases) == 47, report.render()
    Lake.under(settings.data_dir).refresh(db)
    return db


def _token(client: TestClient) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token", data={"username": "ana", "password": "correct horse battery"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_min_count_sets_the_floor_of_the_hotspots_listed(
    hot_lake: Database, client: TestClient
) -> None:
    h = _token(client)

    def cells(path: str, **params: object) -> dict[str, int]:
        r = client.get(path, params={**FEBRUARY, **params}, headers=h)
        assert r.status_code == 200, r.text
        return {spot["cell"]: spot["count"] for spot in r.json()}

    assert MIN_COUNT == 3
    assert cells("/api/v1/analytics/hotspots") == {CENTRE: 5}
    # Its ring is significant too, with two cases a cell.
    assert cells("/api/v1/analytics/hotspots", min_count=1) == {CENTRE: 5} | dict.fromkeys(RING, 2)
    assert cells("/api/v1/analytics/hotspots", min_count=5) == {CENTRE: 5}
    assert cells("/api/v1/analytics/hotspots", min_count=6) == {}
    # Nothing a year before: the busy cell emerged, under the same floor.
    assert cells("/api/v1/analytics/hotspots/emerging") == {CENTRE: 5}
    assert cells("/api/v1/analytics/hotspots/emerging", min_count=6) == {}

    # The command centre's map layer takes the same floor over its last `days` days.
    def mapped(**params: object) -> dict[str, int]:
        r = client.get(
            "/api/v1/map/hotspots", params={"category": "E0102", "days": 366, **params}, headers=h
        )
        assert r.status_code == 200, r.text
        return {f["properties"]["cell"]: f["properties"]["count"] for f in r.json()["features"]}

    assert mapped() == {CENTRE: 5}
    assert mapped(min_count=1) == {CENTRE: 5} | dict.fromkeys(RING, 2)
    assert mapped(min_count=6) == {}
    paths = ("/api/v1/analytics/hotspots", "/api/v1/analytics/hotspots/emerging")
    for path in (*paths, "/api/v1/map/hotspots"):
        for bad, rule in ((0, "greater_than_equal"), (-2, "greater_than_equal"), ("x", "int")):
            r = client.get(path, params={**FEBRUARY, "min_count": bad}, headers=h)
            assert r.status_code == 422, (path, bad, r.text)
            assert r.json()["errors"][0]["field"] == "min_count", r.text
            assert r.json()["errors"][0]["rule"].startswith(rule), r.text


def test_report_hotspots_cli_takes_min_count(
    hot_lake: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    command = ["report", "hotspots", "E0102", "2026-02-01", "2026-02-28"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert CENTRE in result.output and not any(c in result.output for c in RING)
    result = CliRunner().invoke(app, [*command, "--min-count", "1"])
    assert result.exit_code == 0, result.output
    assert all(c in result.output for c in [CENTRE, *RING])
    result = CliRunner().invoke(app, [*command, "--min-count", "6"])
    assert result.exit_code == 0 and "hotspots E0102: none" in result.output, result.output
    result = CliRunner().invoke(app, [*command, "--min-count", "0"])
    assert result.exit_code == 2 and "--min-count" in result.output, result.output
