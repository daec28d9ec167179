"""The analytics API over a lake refreshed from the database; the report CLI over the same lake."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onegrid.analytics.lake import Lake
from onegrid.cases.config import case_rules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import Actor
from onegrid.cases.importing import HistoricalCase, HistoricalStep, load_historical
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.cases.city import CORE_SUB, IN_CORE, IN_SUBURB, build_city

pytestmark = pytest.mark.postgres
LEADER = Actor("user:1", "leader", "shift_leader")
HANDLER = Actor("user:2", "handler", "department_handler")
T0 = datetime(2026, 2, 2, 1, tzinfo=UTC)


def _case(i: int, where: tuple[float, float], accept_after: timedelta) -> HistoricalCase:
    at = T0 + timedelta(days=i)
    return HistoricalCase(
        "E0102",
        at,
        *where,
        f"rubbish {i}",
        external_ref=f"t:{i}",
        steps=(
            HistoricalStep(Command(Action.VERIFY), at + timedelta(minutes=10), LEADER),
            HistoricalStep(Command(Action.FILE), at + timedelta(minutes=20), LEADER),
            HistoricalStep(
                Command(Action.DISPATCH, department_code="sanitation"),
                at + timedelta(minutes=30),
                LEADER,
            ),
            HistoricalStep(Command(Action.ACCEPT), at + accept_after, HANDLER),
        ),
    )


@pytest.fixture
def lake_city(db: Database, clock: FixedClock, settings: Settings, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        people.create_user(
            s, "ana", "correct horse battery", clock, grants=(Grant(Role.ANALYST, Scope.city()),)
        )
        people.create_user(
            s,
            "lead",
            "correct horse battery",
            clock,
            grants=(Grant(Role.SHIFT_LEADER, Scope.city()),),
        )
    cases = [_case(i, IN_CORE, timedelta(hours=1)) for i in range(4)]
    cases += [_case(10 + i, IN_SUBURB, timedelta(hours=40)) for i in range(3)]
    report = load_historical(db, cases, rules=case_rules("Asia/Shanghai"))
    assert report.accepted == 7, report.render()
    Lake.under(settings.data_dir).refresh(db)
    return db


def _auth(client: TestClient, user: str = "ana") -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token", data={"username": user, "password": "correct horse battery"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_ranking_reports_and_errors_over_http(lake_city: Database, client: TestClient) -> None:
    h = _auth(client)
    r = client.get("/api/v1/analytics/ranking", params={"month": "2026-02"}, headers=h)
    assert r.status_code == 200, r.text
    rows = {x["unit"]: x for x in r.json()["rows"]}
    assert rows[CORE_SUB]["response_rate"] == 1.0
    # No callbacks this month: no resolution or satisfaction rate, so no score and no rank
    # (not the rank 1 every unscored unit shared, whatever its response rate).
    assert rows[CORE_SUB]["rank"] is None and rows["110112001"]["rank"] is None
    assert rows["110112001"]["response_rate"] == 0.0
    # Against ranking.yaml's targets (response 0.95); no callbacks, so nothing to judge there.
    assert (rows[CORE_SUB]["response_met"], rows["110112001"]["response_met"]) == (True, False)
    assert rows[CORE_SUB]["resolution_met"] is None
    assert client.get("/api/v1/analytics/ranking", params={"month": "2026-02"}).status_code == 401
    missing = client.get(
        "/api/v1/analytics/ranking", params={"month": "2026-02", "area": "110199001"}, headers=h
    )
    assert missing.status_code == 404 and "110199001" in missing.text
    bad = client.get(
        "/api/v1/analytics/departments",
        params={"start": "2026-02-10", "end": "2026-02-01"},
        headers=h,
    )
    assert bad.status_code == 422 and "end_not_before_start" in bad.text
    deps = client.get(
        "/api/v1/analytics/departments",
        params={"start": "2026-02-01", "end": "2026-02-28"},
        headers=h,
    )
    assert [(d["department_code"], d["dispatched"]) for d in deps.json()] == [("sanitation", 7)]
    on_time = client.get(
        "/api/v1/analytics/departments/on-time",
        params={"start": "2026-02-01", "end": "2026-02-28", "grain": "month"},
        headers=h,
    )
    assert [
        (d["department_code"], d["period_start"], d["dispatched"], d["held"])
        for d in on_time.json()
    ] == [("sanitation", "2026-02-01", 7, 0)]
    backwards = client.get(
        "/api/v1/analytics/departments/on-time",
        params={"start": "2026-02-10", "end": "2026-02-01"},
        headers=h,
    )
    assert backwards.status_code == 422 and "end_not_before_start" in backwards.text
    page = client.get("/api/v1/analytics/report", params={"month": "2026-02"}, headers=h)
    assert (
        page.status_code == 200
        and "<svg" in page.text
        and "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    hot = client.get(
        "/api/v1/analytics/hotspots",
        params={"category": "E0102", "start": "2026-02-01", "end": "2026-02-28"},
        headers=h,
    )
    assert hot.status_code == 200 and isinstance(hot.json(), list)
    topics = client.get("/api/v1/analytics/topics", params={"month": "2026-02"}, headers=h)
    assert [(t["category_code"], t["volume"]) for t in topics.json()] == [("E0102", 7)]
    ahead = client.get(
        "/api/v1/analytics/forecast", params={"origin": "2026-03-01", "months": 2}, headers=h
    )
    assert ahead.status_code == 200 and {r["area_code"] for r in ahead.json()} == {
        "110101",
        "110112",
    }
    bad_origin = client.get(
        "/api/v1/analytics/forecast", params={"origin": "2026-03-02"}, headers=h
    )
    assert bad_origin.status_code == 422 and "first_of_month" in bad_origin.text
    for path, params in (
        ("/api/v1/analytics/spikes", {"week_of": "2026-02-10"}),
        (
            "/api/v1/analytics/hotspots/emerging",
            {"category": "E0102", "start": "2026-02-01", "end": "2026-02-28"},
        ),
        ("/api/v1/analytics/topics/E0102", {"start": "2026-01-01", "end": "2026-03-31"}),
        ("/api/v1/analytics/posts", {"start": "2026-02-01", "end": "2026-02-28"}),
        ("/api/v1/analytics/departments/composite", {"month": "2026-02"}),
        ("/api/v1/analytics/areas", {"start": "2026-02-01", "end": "2026-02-28", "grain": "week"}),
    ):
        assert client.get(path, params=params, headers=h).status_code == 200, path


def test_report_cli_prints_and_writes_csv(
    lake_city: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    out = tmp_path / "rank.csv"
    result = CliRunner().invoke(app, ["report", "ranking", "2026-02", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "subdistrict ranking 2026-02" in result.output and CORE_SUB in out.read_text()
    assert out.read_text().splitlines()[0].startswith('"rank","unit"')
    written = {r["unit"]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert (written[CORE_SUB]["response_met"], written["110112001"]["response_met"]) == (
        "true",
        "false",
    )
    result = CliRunner().invoke(app, ["report", "departments", "2026-02-10", "2026-02-01"])
    assert result.exit_code == 2 and "before it starts" in result.output
    scores = tmp_path / "composite.csv"
    result = CliRunner().invoke(app, ["report", "composite", "2026-02", "--csv", str(scores)])
    assert result.exit_code == 0 and "composite 2026-02" in result.output, result.output
    assert '"sanitation"' in scores.read_text() and '"band"' in scores.read_text()
    html = tmp_path / "m.html"
    result = CliRunner().invoke(app, ["report", "monthly", "2026-02", str(html)])
    assert result.exit_code == 0 and "<svg" in html.read_text()
    areas = tmp_path / "areas.csv"
    result = CliRunner().invoke(
        app,
        ["report", "areas", "2026-02-01", "2026-02-28", "--level", "district", "--csv", str(areas)],
    )
    assert result.exit_code == 0, result.output
    counted = {r["area_code"]: r["cases"] for r in csv.DictReader(areas.read_text().splitlines())}
    assert counted == {"110101": "4", "110112": "3"}
    result = CliRunner().invoke(
        app, ["report", "areas", "2026-02-01", "2026-02-28", "--level", "x"]
    )
    assert result.exit_code == 2 and "level must be one of" in result.output
    result = CliRunner().invoke(app, ["report", "hotspots", "E0102", "2026-02-01", "2026-02-28"])
    assert result.exit_code == 0 and "hotspots E0102: none" in result.output, result.output


RESPONSE_ONLY = """\
versions:
  - version: city
    valid_from: 2024-01-01
    weights: {response: 1.0, resolution: 0, satisfaction: 0}
"""


def test_a_city_s_own_weights_over_http_and_a_file_that_breaks_a_rule(
    lake_city: Database, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "city-ranking.yaml"
    own.write_text(RESPONSE_ONLY, encoding="utf-8")
    monkeypatch.setenv("ONEGRID_ANALYTICS_RANKING_FILE", str(own))
    h = _auth(client)
    r = client.get("/api/v1/analytics/ranking", params={"month": "2026-02"}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["rules_version"], r.json()["weights"]["response"]) == ("city", 1.0)
    page = client.get("/api/v1/analytics/report", params={"month": "2026-02"}, headers=h)
    assert "Weights version city" in page.text
    # A file edited so its weights add up to 1.2 is refused at the next request, named.
    own.write_text(RESPONSE_ONLY.replace("resolution: 0", "resolution: 0.2"), encoding="utf-8")
    bad = client.get("/api/v1/analytics/ranking", params={"month": "2026-02"}, headers=h)
    assert bad.status_code == 422 and "sum_to_one" in bad.text and str(own) in bad.text
    composite = tmp_path / "city-composite.yaml"
    composite.write_text(
        "versions:\n  - version: city\n    valid_from: 2024-01-01\n    bands: {A: 0}\n"
        "    items:\n      - {indicator: close_rate, points: 90, threshold: 0.9}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEGRID_ANALYTICS_COMPOSITE_FILE", str(composite))
    bad = client.get(
        "/api/v1/analytics/departments/composite", params={"month": "2026-02"}, headers=h
    )
    assert bad.status_code == 422 and "points_sum_to_100" in bad.text and str(composite) in bad.text


def test_report_cli_ranks_one_area_and_with_a_weights_file(
    lake_city: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    out = tmp_path / "one.csv"
    result = CliRunner().invoke(
        app, ["report", "ranking", "2026-02", "--area", CORE_SUB, "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [r["unit"] for r in csv.DictReader(out.read_text().splitlines())] == [CORE_SUB]
    result = CliRunner().invoke(app, ["report", "ranking", "2026-02", "--area", "110199001"])
    assert result.exit_code == 2 and "no subdistrict '110199001'" in result.output
    own = tmp_path / "w.yaml"
    own.write_text(RESPONSE_ONLY, encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "ranking", "2026-02", "--weights", str(own)])
    assert result.exit_code == 0 and "(weights city)" in result.output, result.output
    own.write_text(RESPONSE_ONLY.replace("1.0", "0.5"), encoding="utf-8")
    for command in (["ranking", "2026-02"], ["monthly", "2026-02", str(tmp_path / "m.html")]):
        result = CliRunner().invoke(app, ["report", *command, "--weights", str(own)])
        assert result.exit_code == 2 and "add up to 0.5" in result.output, result.output
        assert own.name in result.output
    # The configured file (ONEGRID_ANALYTICS_RANKING_FILE) is checked the same way.
    monkeypatch.setenv("ONEGRID_ANALYTICS_RANKING_FILE", str(own))
    result = CliRunner().invoke(app, ["report", "ranking", "2026-02"])
    assert result.exit_code == 2 and "add up to 0.5" in result.output


def test_an_accepted_forecast_opens_a_proactive_case(
    lake_city: Database, client: TestClient
) -> None:
    body = [
        {"category_code": "E0102", "area_code": CORE_SUB, "month": "2026-04-01", "forecast": 12}
    ]
    denied = client.post("/api/v1/analytics/proactive", json=body, headers=_auth(client))
    assert denied.status_code == 422 and "channel_role" in denied.text  # an analyst may not
    lead = _auth(client, "lead")
    first = client.post("/api/v1/analytics/proactive", json=body, headers=lead)
    assert first.status_code == 200, first.text
    again = client.post("/api/v1/analytics/proactive", json=body, headers=lead)
    assert first.json()[0]["created"] and not again.json()[0]["created"]
    assert again.json()[0]["case_number"] == first.json()[0]["case_number"]
    assert first.json()[0]["period"] == "2026-04"
    # Two weeks of April accepted: two cases, keyed by the ISO week; the month's stays one.
    weeks = [
        {"category_code": "E0102", "area_code": CORE_SUB, "week": w, "forecast": 4}
        for w in ("2026-04-06", "2026-04-13", "2026-04-15")
    ]
    opened = client.post("/api/v1/analytics/proactive", json=weeks, headers=lead).json()
    assert [(o["period"], o["week"], o["created"]) for o in opened] == [
        ("2026-W15", "2026-04-06", True),
        ("2026-W16", "2026-04-13", True),
        ("2026-W16", "2026-04-15", False),  # a day of a week accepted before
    ]
    assert len({o["case_number"] for o in [*opened, first.json()[0]]}) == 3
    both = {**body[0], "week": "2026-04-06"}
    neither = {k: v for k, v in body[0].items() if k != "month"}
    bad = client.post("/api/v1/analytics/proactive", json=[weeks[0], both, neither], headers=lead)
    assert bad.status_code == 422, bad.text
    assert {(p["field"], p["rule"], p["record"]) for p in bad.json()["errors"]} == {
        (f, "exactly_one_of", r) for f in ("month", "week") for r in ("1", "2")
    }


def test_the_case_extract_is_published_without_personal_data(
    lake_city: Database, client: TestClient, clock: FixedClock, settings: Settings
) -> None:
    with lake_city.unit_of_work() as s:
        people.create_user(
            s,
            "boss",
            "correct horse battery",
            clock,
            grants=(Grant(Role.CITY_ADMIN, Scope.city()),),
        )
    boss = _auth(client, "boss")
    for source in ("cases", "case_counts"):
        r = client.post(
            f"/api/v1/analytics/open-data/{source}",
            params={"start": "2026-02-01", "end": "2026-02-28", "formats": "csv,parquet,geojson"},
            headers=boss,
        )
        assert r.status_code == 200, r.text
    cases = client.get("/api/v1/analytics/open-data/cases/cases.geojson").json()
    assert len(cases["features"]) == 7
    props = cases["features"][0]["properties"]
    assert not {"lon", "lat", "h3_10", "reporter_key", "created_by", "unit_grid_code"} & set(props)
    assert h3.get_resolution(props["h3_9"]) == 9
    assert cases["features"][0]["geometry"]["type"] == "Polygon"
    counts = client.get("/api/v1/analytics/open-data/case_counts/case_counts.csv").text
    rows = list(csv.DictReader(io.StringIO(counts)))
    assert sum(int(r["requests"]) for r in rows) == 7 and {r["month"] for r in rows} == {"2026-02"}
    manifest = client.get("/api/v1/analytics/open-data/cases/manifest.json").json()
    assert manifest["rows"] == 7 and "reporter_key" in manifest["personal_data_removed"]


def test_daily_spikes_and_the_weekly_forecast_over_http(
    lake_city: Database, client: TestClient
) -> None:
    h = _auth(client)
    day = client.get("/api/v1/analytics/spikes", params={"day": "2026-02-12"}, headers=h)
    assert day.status_code == 200 and day.json() == []  # no earlier year to compare with
    for params in ({"day": "2026-02-12", "week_of": "2026-02-12"}, {}):
        both = client.get("/api/v1/analytics/spikes", params=params, headers=h)
        assert both.status_code == 422, both.text
        problems = both.json()["errors"]
        assert {(p["field"], p["rule"]) for p in problems} == {
            ("week_of", "exactly_one_of"),
            ("day", "exactly_one_of"),
        }
    weekly = client.get(
        "/api/v1/analytics/forecast",
        params={"origin": "2026-03-02", "grain": "week", "weeks": 3, "level": "subdistrict"},
        headers=h,
    )
    assert weekly.status_code == 200, weekly.text
    assert sorted({r["week"] for r in weekly.json()}) == ["2026-03-02", "2026-03-09", "2026-03-16"]
    not_monday = client.get(
        "/api/v1/analytics/forecast", params={"origin": "2026-03-01", "grain": "week"}, headers=h
    )
    assert not_monday.status_code == 422 and '"monday"' in not_monday.text
    bad_grain = client.get(
        "/api/v1/analytics/forecast", params={"origin": "2026-03-01", "grain": "day"}, headers=h
    )
    assert bad_grain.status_code == 422 and "known_grain" in bad_grain.text
    # The lake's cases are of February 2026: no year before 2027 (nor before 2026) to learn from.
    for year in (2026, 2027):
        back = client.get(
            "/api/v1/analytics/forecast/backtest", params={"year": year, "grain": "week"}, headers=h
        )
        assert back.status_code == 422 and '"year_of_history"' in back.text, back.text


def test_the_month_topic_is_chosen_replaced_and_tracked(
    lake_city: Database, client: TestClient, clock: FixedClock, settings: Settings
) -> None:
    with lake_city.unit_of_work() as s:
        people.create_user(
            s,
            "boss",
            "correct horse battery",
            clock,
            grants=(Grant(Role.CITY_ADMIN, Scope.city()),),
        )
    url = "/api/v1/analytics/topics/2026-02/choice"
    body = {"category_code": "E0102", "note": "rubbish on the street"}
    denied = client.post(url, json=body, headers=_auth(client))
    assert denied.status_code == 403 and "analytics.choose_topic" in denied.text
    boss = _auth(client, "boss")
    for bad_url, bad_body, field in (
        ("/api/v1/analytics/topics/2026-13/choice", body, "month"),
        (url, {"category_code": "X9999"}, "category_code"),
        (url, {"category_code": "E0102", "area_code": "110199999"}, "area_code"),
    ):
        r = client.post(bad_url, json=bad_body, headers=boss)
        assert r.status_code == 422 and [p["field"] for p in r.json()["errors"]] == [field]
    first = client.post(url, json={"category_code": "E0405"}, headers=boss)
    assert first.status_code == 200, first.text
    chosen = client.post(url, json={**body, "area_code": CORE_SUB}, headers=boss)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["chosen_by"] == "boss" and chosen.json()["chosen_at"].startswith(
        "2026-03-02"
    )
    listed = client.get("/api/v1/analytics/topics/chosen", headers=_auth(client))
    assert listed.status_code == 200, listed.text
    [one] = listed.json()
    assert (one["month"], one["category_code"], one["area_code"]) == ("2026-02", "E0102", CORE_SUB)
    # To the clock's 2 March: March has no request yet, and is tracked as none.
    assert [(r["month"], r["n"]) for r in one["tracking"]] == [
        ("2026-02-01", 4),
        ("2026-03-01", 0),
    ]
    raw = (settings.data_dir / "lake" / "topics" / "chosen.json").read_text()
    assert '"E0405"' in raw  # the replaced choice stays in the file's history


def test_report_cli_day_spikes_weekly_forecast_and_topic_choice(
    lake_city: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    url = lake_city.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    run = CliRunner().invoke
    result = run(app, ["report", "spikes", "--day", "2026-02-12"])
    assert result.exit_code == 0 and "spikes on 2026-02-12" in result.output, result.output
    result = run(app, ["report", "spikes", "2026-02-12", "--day", "2026-02-12"])
    assert result.exit_code == 2 and "exactly one" in result.output
    result = run(app, ["report", "forecast", "2026-03-02", "--grain", "week", "--weeks", "2"])
    assert result.exit_code == 0 and "forecast by week" in result.output, result.output
    result = run(app, ["report", "topics", "2026-02", "--choose", "E0102"])
    assert result.exit_code == 0 and "topic of 2026-02: E0102" in result.output, result.output
    result = run(app, ["report", "topics", "2026-02", "--choose", "X9999"])
    assert result.exit_code == 2 and "category_code" in result.output
    chosen = (settings.data_dir / "lake" / "topics" / "chosen.json").read_text()
    assert '"chosen_by": "console"' in chosen


def test_report_cli_posts(
    lake_city: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    out = tmp_path / "posts.csv"
    result = CliRunner().invoke(
        app, ["report", "posts", "2026-02-01", "2026-02-28", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert rows and {"on_time_filing_rate", "missed_report_rate"} <= set(rows[0])
    assert all(r["role"] for r in rows) and all(int(r["steps"]) >= 0 for r in rows)
    result = CliRunner().invoke(app, ["report", "posts", "2026-02-10", "2026-02-01"])
    assert result.exit_code == 2 and "before it starts" in result.output


def test_the_console_accepts_forecasts_as_proactive_cases_by_month_and_iso_week(
    lake_city: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(settings.data_dir))
    url = lake_city.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    accept = ["analytics", "proactive", "accept", "E0102", CORE_SUB]
    run = CliRunner().invoke
    week = [*accept, "2026-04-06", "--grain", "week", "--forecast", "5", "--as", "lead"]
    result = run(app, week)
    assert result.exit_code == 0 and "opened case" in result.output, result.output
    assert "for 2026-W15" in result.output
    number = result.output.split("case ")[1].split()[0]
    # The next week of the same month is a case of its own; the same week again is not.
    result = run(app, [*accept, "2026-04-13", "--grain", "week", "--forecast", "5", "--as", "lead"])
    assert result.exit_code == 0 and "opened case" in result.output and number not in result.output
    result = run(app, week)
    assert result.exit_code == 0 and f"already opened case {number}" in result.output
    result = run(app, [*accept, "2026-04-01", "--forecast", "12", "--as", "lead"])
    assert result.exit_code == 0 and "for 2026-04" in result.output, result.output
    result = run(app, [*accept, "2026-04-01", "--forecast", "1", "--grain", "day", "--as", "lead"])
    assert result.exit_code == 2 and "grain" in result.output
    result = run(app, [*accept, "2026-04-01", "--forecast", "1", "--as", "ana"])
    assert result.exit_code == 2 and "instruction channel" in result.output  # not an analyst
    unknown = ["analytics", "proactive", "accept", "E0102", "110199001", "2026-04-01"]
    result = run(app, [*unknown, "--forecast", "1", "--as", "lead"])
    assert result.exit_code == 2 and "no area '110199001'" in result.output, result.output
    # The lake holds February 2026 alone: a backtest of 2026 has no year to learn from.
    result = run(app, ["report", "forecast", "2026-03-01", "--backtest-year", "2026"])
    assert result.exit_code == 2 and "no year before 2026" in result.output, result.output
