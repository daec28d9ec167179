"""Case exports out of the lake: each reader gets the cases its grants reach, reporter fields only
with a personal-data grant, in CSV, Parquet or GeoJSON; the CLI writes the same file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from onegrid.analytics.lake import Lake
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import Reporter
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cases.records import CASES
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.cases.city import (
    CORE,
    IN_CORE,
    IN_SUBURB,
    SUBURB,
    SUBURB_SUB,
    build_city,
)

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 2, 2, 1, tzinfo=UTC)
URL = "/api/v1/analytics/exports/cases"
FEB = {"start": "2026-02-01", "end": "2026-02-28"}
PASSWORD = "correct horse battery"
USERS = {
    "ana": Grant(Role.ANALYST, Scope.city()),
    "lead": Grant(Role.SHIFT_LEADER, Scope.city()),
    "dist": Grant(Role.SHIFT_LEADER, Scope.area(CORE)),
    "sub": Grant(Role.ANALYST, Scope.area(SUBURB_SUB)),
    "roads": Grant(Role.DEPARTMENT_HANDLER, Scope.department("roads")),
    "insp": Grant(Role.INSPECTOR, Scope.city()),
}
# Analyses the whole city; calls back (personal data) in one district only.
MIXED = (Grant(Role.ANALYST, Scope.city()), Grant(Role.DISPATCHER, Scope.area(CORE)))


def _case(i: int, where: tuple[float, float], department: str | None) -> HistoricalCase:
    return HistoricalCase(
        "E0102",
        T0 + timedelta(days=i),
        *where,
        f"rubbish {i}",
        reporter=Reporter("王小明", f"1380000{i:04d}"),
        external_ref=f"x:{i}",
        department_code=department,
    )


@pytest.fixture
def exports_city(db: Database, clock: FixedClock, settings: Settings, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        for name, grant in USERS.items():
            people.create_user(s, name, PASSWORD, clock, grants=(grant,))
        people.create_user(s, "mixed", PASSWORD, clock, grants=MIXED)
    cases = [_case(i, IN_CORE, "sanitation") for i in range(4)]
    cases += [_case(10 + i, IN_SUBURB, "roads") for i in range(3)]
    cases += [_case(20, IN_CORE, "roads"), _case(21, IN_SUBURB, None)]
    cases += [_case(40, IN_CORE, "roads")]  # 14 March: outside February
    report = load_historical(db, cases, rules=case_rules("Asia/Shanghai"))
    assert report.accepted == 10, report.render()
    Lake.under(settings.data_dir).refresh(db)
    return db


def _auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _csv(client: TestClient, user: str, **params: str) -> list[dict[str, str]]:
    r = client.get(URL, params={**FEB, **params}, headers=_auth(client, user))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def _count(db: Database, *where: object) -> int:
    """The operational database's own count of February's cases, independent of the lake."""
    c = CASES.c
    feb = (c.created_at >= datetime(2026, 1, 31, 16, tzinfo=UTC)) & (
        c.created_at < datetime(2026, 2, 28, 16, tzinfo=UTC)
    )
    with db.reader() as s:
        count = select(func.count()).where(feb, c.merged_into_id.is_(None), *where)
        return int(s.execute(count).scalar_one())


def test_each_reader_gets_the_cases_its_grant_reaches(
    exports_city: Database, client: TestClient
) -> None:
    c = CASES.c
    everything = _csv(client, "ana")
    assert len(everything) == _count(exports_city) == 9
    district = _csv(client, "dist")
    assert {r["district_code"] for r in district} == {CORE}
    assert len(district) == _count(exports_city, c.district_code == CORE) == 5
    sub = _csv(client, "sub")
    assert {r["subdistrict_code"] for r in sub} == {SUBURB_SUB}
    assert len(sub) == _count(exports_city, c.subdistrict_code == SUBURB_SUB) == 4
    roads = _csv(client, "roads")
    assert {r["department_code"] for r in roads} == {"roads"}
    assert len(roads) == _count(exports_city, c.department_code == "roads") == 4
    # ``area`` narrows within the reach; it never widens it.
    assert {r["district_code"] for r in _csv(client, "roads", area=CORE)} == {CORE}
    assert len(_csv(client, "roads", area=CORE)) == 1
    assert _csv(client, "dist", area=SUBURB_SUB) == []


def test_reporter_fields_only_with_a_personal_data_grant(
    exports_city: Database, client: TestClient
) -> None:
    analyst = _csv(client, "ana")
    assert not {"reporter_key", "created_by"} & set(analyst[0])
    for user in ("lead", "dist", "roads"):
        rows = _csv(client, user)
        assert all(r["reporter_key"] and r["created_by"] for r in rows), user
    mixed = _csv(client, "mixed")
    assert len(mixed) == 9
    assert {r["district_code"] for r in mixed if r["reporter_key"] and r["created_by"]} == {CORE}
    assert {r["district_code"] for r in mixed if not (r["reporter_key"] or r["created_by"])} == {
        SUBURB
    }
    # The lake never held the name or the phone, whoever asks.
    text = client.get(URL, params=FEB, headers=_auth(client, "lead")).text
    assert "王小明" not in text and "13800000" not in text


def test_a_reader_without_the_export_grant_is_refused(
    exports_city: Database, client: TestClient
) -> None:
    r = client.get(URL, params=FEB, headers=_auth(client, "insp"))
    assert r.status_code == 403 and "analytics.export" in r.text
    assert client.get(URL, params=FEB).status_code == 401


def test_each_format_parses(exports_city: Database, client: TestClient) -> None:
    h = _auth(client, "dist")
    parquet = client.get(URL, params={**FEB, "format": "parquet"}, headers=h)
    assert parquet.status_code == 200, parquet.text
    assert (
        'filename="cases_2026-02-01_2026-02-28.parquet"' in parquet.headers["content-disposition"]
    )
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 5 and set(table["district_code"].to_pylist()) == {CORE}
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    geo = client.get(URL, params={**FEB, "format": "geojson"}, headers=h)
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert len(features) == 5
    point = features[0]["geometry"]
    assert point["type"] == "Point" and point["coordinates"] == pytest.approx(list(IN_CORE))
    assert features[0]["properties"]["created_at"].startswith("2026-02-02T01:00:00")


def test_bad_input_names_the_field_and_rule(exports_city: Database, client: TestClient) -> None:
    h = _auth(client, "ana")
    for params, field, rule in (
        ({"start": "2026-02-28", "end": "2026-02-01"}, "end", "end_not_before_start"),
        ({**FEB, "format": "xlsx"}, "format", "known_format"),
        ({**FEB, "area": "110199"}, "area", "known_area"),
    ):
        r = client.get(URL, params=params, headers=h)
        assert r.status_code == 422, r.text
        assert [(p["field"], p["rule"]) for p in r.json()["errors"]] == [(field, rule)]


def _said(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines at the terminal's width


def test_the_cli_writes_the_export_whole(
    exports_city: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    url = exports_city.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    run = CliRunner().invoke
    out = tmp_path / "roads.parquet"
    args = ["analytics", "export", "cases", str(out), "--start", "2026-02-01", "--end"]
    result = run(app, [*args, "2026-02-28", "--as", "roads"])
    assert result.exit_code == 0 and "(4 cases)" in _said(result.output), result.output
    assert set(pq.read_table(out)["department_code"].to_pylist()) == {"roads"}
    sub = tmp_path / "sub.csv"
    result = run(app, [*args[:3], str(sub), *args[4:], "2026-02-28", "--area", SUBURB_SUB])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(sub.read_text().splitlines()))
    assert len(rows) == 4 and all(r["reporter_key"] for r in rows)  # the console operator
    # A refused export leaves the earlier file as it was and no temporary file beside it.
    before = out.read_bytes()
    for extra, said in (
        (["2026-01-31", "--as", "roads"], "end: "),
        (["2026-02-28", "--as", "insp"], "analytics.export"),
        (["2026-02-28", "--area", "110199"], "area: "),
        (["2026-02-28", "--format", "xlsx"], "format: "),
    ):
        result = run(app, [*args, *extra])
        assert result.exit_code == 2 and said in _said(result.output), (extra, result.output)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
