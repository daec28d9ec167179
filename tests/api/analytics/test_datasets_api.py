"""The dataset catalogue and open data over HTTP and on the command line, permissions included."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onegrid.analytics.datasets import Catalogue, parse_spec
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.cases.city import build_city
from tests.support import shared_file
from tests.unit.analytics.test_datasets import DISTRICT_COLUMNS, NYC_COLUMNS

pytestmark = [pytest.mark.postgres, pytest.mark.realdata]
PASSWORD = "correct horse battery"
ROWS = 5_000


@pytest.fixture
def catalogue_city(db: Database, clock: FixedClock, settings: Settings, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        for name, grant in (
            ("ana", Grant(Role.ANALYST, Scope.city())),
            ("sani", Grant(Role.DEPARTMENT_HANDLER, Scope.department("sanitation"))),
            ("boss", Grant(Role.CITY_ADMIN, Scope.city())),
        ):
            people.create_user(s, name, PASSWORD, clock, grants=(grant,))
    cat = Catalogue.under(settings.data_dir)
    nyc = parse_spec(
        {
            "title": "NYC 311",
            "owner": "sanitation",
            "lon": "longitude",
            "lat": "latitude",
            "columns": NYC_COLUMNS,
        }
    )
    # The first rows of the real file: the whole file is imported in tests/unit/analytics.
    head = tmp_path / "nyc311_head.csv"
    pd.read_csv(shared_file("nyc311_2026-04to06_100k.csv.gz"), dtype=str, nrows=ROWS).to_csv(
        head, index=False
    )
    cat.import_file("nyc311", head, clock=clock, spec=nyc)
    districts = parse_spec(
        {
            "title": "Community districts",
            "owner": "roads",
            "open": True,
            "licence": "NYC DCP public data",
            "columns": DISTRICT_COLUMNS,
        }
    )
    cat.import_file(
        "community_districts",
        shared_file("nyc_community_districts.geojson"),
        clock=clock,
        spec=districts,
    )
    return db


def _auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_the_catalogue_shows_each_user_what_they_may_read_and_open_data_to_all(
    catalogue_city: Database, client: TestClient
) -> None:
    ana, sani = _auth(client, "ana"), _auth(client, "sani")
    listed = client.get("/api/v1/analytics/datasets", headers=ana)
    assert [d["name"] for d in listed.json()] == ["community_districts"]
    mine = client.get("/api/v1/analytics/datasets", headers=sani).json()
    assert {d["name"]: d["rows"] for d in mine} == {"community_districts": 71, "nyc311": ROWS}
    denied = client.get("/api/v1/analytics/datasets/nyc311/rows", headers=ana)
    assert denied.status_code == 403 and "sanitation" in denied.text
    assert client.get("/api/v1/analytics/datasets").status_code == 401
    entry = client.get("/api/v1/analytics/datasets/nyc311", headers=sani).json()
    assert entry["lineage"]["format"] == "csv" and entry["spec"]["owner"] == "sanitation"
    page = client.get(
        "/api/v1/analytics/datasets/nyc311/rows", params={"limit": 3, "offset": 2}, headers=sani
    ).json()
    assert page["total"] == ROWS and len(page["rows"]) == 3
    assert isinstance(page["rows"][0]["unique_key"], int)
    shapes = client.get(
        "/api/v1/analytics/datasets/community_districts/rows", params={"limit": 1}, headers=ana
    ).json()
    assert shapes["rows"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    missing = client.get("/api/v1/analytics/datasets/nope/rows", headers=ana)
    assert missing.status_code == 404
    got = client.get(
        "/api/v1/analytics/datasets/nyc311/file", params={"format": "parquet"}, headers=sani
    )
    assert got.status_code == 200 and pq.read_table(io.BytesIO(got.content)).num_rows == ROWS
    bad = client.get(
        "/api/v1/analytics/datasets/nyc311/file", params={"format": "xlsx"}, headers=sani
    )
    assert bad.status_code == 422 and "known_format" in bad.text

    # Open data: published by an admin, served to anyone.
    boss = _auth(client, "boss")
    url = "/api/v1/analytics/open-data/community_districts"
    assert client.post(url, headers=ana).status_code == 403
    r = client.post(url, params={"formats": "csv,geojson"}, headers=boss)
    assert r.status_code == 200, r.text
    manifest = r.json()
    assert manifest["rows"] == 71 and [f["format"] for f in manifest["files"]] == ["csv", "geojson"]
    listed = client.get("/api/v1/analytics/open-data")  # no sign-in needed
    assert [m["name"] for m in listed.json()] == ["community_districts"]
    geo = client.get("/api/v1/analytics/open-data/community_districts/community_districts.geojson")
    assert geo.status_code == 200 and len(geo.json()["features"]) == 71
    shared = client.post("/api/v1/analytics/open-data/nyc311", headers=boss)
    assert shared.status_code == 422 and "open_dataset" in shared.text
    period = client.post("/api/v1/analytics/open-data/cases", headers=boss)
    assert period.status_code == 422 and "start" in period.text and "end" in period.text


def test_import_and_export_on_the_command_line(
    catalogue_city: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv(
        "ONEGRID_DATABASE_URL", str(catalogue_city.engine.url.render_as_string(False))
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump({"title": "t", "owner": "no-such-dept", "columns": DISTRICT_COLUMNS})
    )
    src = str(shared_file("nyc_community_districts.geojson"))
    runner = CliRunner()
    result = runner.invoke(app, ["import", "dataset", "cd", src, "--spec", str(spec)])
    assert result.exit_code == 2 and "no-such-dept" in result.output
    spec.write_text(
        yaml.safe_dump(
            {
                "title": "t",
                "owner": "roads",
                "columns": [*DISTRICT_COLUMNS[:2], DISTRICT_COLUMNS[3]],
            }
        )
    )
    result = runner.invoke(app, ["import", "dataset", "cd", src, "--spec", str(spec)])
    assert result.exit_code == 2 and "Shape_Area" in result.output, result.output
    spec.write_text(yaml.safe_dump({"title": "t", "owner": "roads", "columns": DISTRICT_COLUMNS}))
    result = runner.invoke(app, ["import", "dataset", "cd", src, "--spec", str(spec)])
    assert result.exit_code == 0 and "71 rows" in result.output, result.output
    listing = runner.invoke(app, ["analytics", "datasets", "list"])
    assert "cd" in listing.output and "nyc311" in listing.output
    out = tmp_path / "nyc.csv"
    denied = runner.invoke(
        app, ["analytics", "datasets", "export", "nyc311", str(out), "--as", "ana"]
    )
    assert denied.exit_code == 2 and not out.exists()
    done = runner.invoke(
        app, ["analytics", "datasets", "export", "nyc311", str(out), "--as", "sani"]
    )
    assert done.exit_code == 0 and len(out.read_text().splitlines()) == ROWS + 1
    geo = tmp_path / "cd.geojson"
    assert (
        runner.invoke(
            app, ["analytics", "datasets", "export", "cd", str(geo), "--as", "boss"]
        ).exit_code
        == 0
    )
    assert len(json.loads(geo.read_text())["features"]) == 71
    closed = runner.invoke(app, ["analytics", "publish", "cd"])
    assert closed.exit_code == 2 and "not open" in closed.output
    published = runner.invoke(
        app, ["analytics", "publish", "community_districts", "--formats", "parquet"]
    )
    assert published.exit_code == 0 and "71 rows" in published.output, published.output
    manifest = json.loads(
        next(
            (settings.data_dir / "open-data" / "community_districts").glob("*/manifest.json")
        ).read_text()
    )
    assert [f["path"] for f in manifest["files"]] == ["community_districts.parquet"]
