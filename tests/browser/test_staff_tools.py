"""The staff's newer tools in a real browser: the command centre's heat, hotspot and spike layers,
the drill-down from a cell (or a subdistrict and its unit grids) to one case and an action taken
there, the 3-D view; bulk actions in the workbench with a partial failure named; an inspector's
own grids; the admin pages. Each page is screenshotted and checked with axe-core.

The cases are seeded over HTTP on the shared server (a cluster of street-rubbish reports around
one cell and scattered other reports, plus one from a year ago written in process) and the
analytics lake is refreshed from its database, so the hotspot and spike layers have real Gi* hot
cells and a real spike to draw."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import httpx
import pytest

from onegrid.analytics.lake import Lake
from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.browser.conftest import Server, bearer, post_case
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(600)

HOT = (39.91, 116.305)  # the cluster's centre, in the west subdistrict


def _category(server: Server, code: str) -> Any:
    r = httpx.get(f"{server.url}/api/v1/categories/{code}")
    r.raise_for_status()
    return r.json()


def _report(server: Server, who: dict[str, str], category: str, lat: float, lon: float) -> Any:
    description = f"{category} 巡查发现 seeded"
    return post_case(
        server,
        who,
        category=category,
        channel="instruction",
        description=description,
        lat=lat,
        lon=lon,
    )


@pytest.fixture(scope="module")
def seeded(web_server: Server) -> list[Any]:
    """Three rubbish reports in each of seven cells around ``HOT`` (a hot cell needs three cases
    of its own), one other report in each of 24 cells over the city, one report from a year ago;
    then the lake is refreshed so that the hot cells and this week's spike show."""
    leader = bearer(web_server, "leader")
    cluster = []
    for cell in h3.grid_disk(h3.latlng_to_cell(*HOT, 10), 1):
        lat, lon = h3.cell_to_latlng(cell)
        cluster += [_report(web_server, leader, "E0102", lat, lon) for _ in range(3)]
    for i in range(5):
        for k in range(5):
            lat, lon = 39.9015 + k * 0.0042, 116.3015 + i * 0.0042
            if h3.grid_distance(h3.latlng_to_cell(lat, lon, 10), h3.latlng_to_cell(*HOT, 10)) > 1:
                _report(web_server, leader, "E0103", lat, lon)
    db = Database(make_engine(f"sqlite:///{(web_server.data_dir / 'onegrid.sqlite3').as_posix()}"))
    try:
        # One report a year and more ago gives the spike scan a baseline year (with nothing in
        # it, the cluster's twenty-one this week stand far above the expected none).
        past = FixedClock(datetime.now(UTC) - timedelta(days=400))
        seeder = Principal(1, "seed", PrincipalKind.USER, (Grant(Role.INSPECTOR, Scope.city()),))
        with db.unit_of_work() as session:
            services.create_case_in(
                session,
                seeder,
                NewCase("E0103", Channel.INSPECTOR, "一年前的上报", 116.315, 39.905),
                clock=past,
                rules=case_rules("Asia/Shanghai"),
            )
        Lake.under(web_server.data_dir).refresh(db)
    finally:
        db.engine.dispose()
    return cluster


def test_command_centre_layers_drill_down_and_3d(
    browser: Any, web_server: Server, shots: Path, seeded: list[Any]
) -> None:
    assert len(seeded) == 21
    j = Journey(browser, web_server, shots)
    leader = j.page_for("leader")
    leader.goto(f"{web_server.url}/#/command")
    leader.wait_for_function("Number(document.body.dataset.cells) >= 1")
    # The heat of the period and the hotspots of one category.
    leader.locator("#layer-heat").check()
    leader.wait_for_function("Number(document.body.dataset.heat) >= 30")
    leader.locator("#hotspot-category").select_option("E0102")
    leader.wait_for_function("Number(document.body.dataset.hotspots) >= 1")
    assert re.search(r"\d", leader.locator("#hotspot-note").inner_text())
    # This week's spike: the twenty-one rubbish reports in the west subdistrict.
    leader.wait_for_function("Number(document.body.dataset.spikes) >= 1")
    rubbish = _category(web_server, "E0102")
    spike = leader.locator("#spikes tbody tr").filter(has_text=rubbish["name_zh"])
    assert spike.locator(".category").get_attribute("data-code") == "E0102"
    assert "110101001" in spike.inner_text()
    j.snap(leader, "13-command-layers")

    # City → district (the map fits it) → the busiest cell → its cases → one case, and an
    # action taken in the panel.
    leader.locator("button[data-district='110101']").click()
    leader.wait_for_function("Number(document.body.dataset.cells) >= 1")
    # The red cell comes first: the year-old report, long past its deadline.
    assert "红灯 1 件" in leader.locator("#busy-cells button").first.inner_text()
    # Each busy cell's button says where it is (its subdistrict, else its centre), not only
    # its counts: eight buttons named "3 open, 1 red" are alike to a screen reader.
    busy = leader.locator("#busy-cells button").evaluate_all("bs => bs.map(b => b.textContent)")
    assert all(re.match(r"^(区域\d+|[\d., ]+ 附近)：", name) for name in busy), busy
    leader.locator("#busy-cells button").first.click()
    drill = leader.locator("#drill")
    drill.locator("button[data-case]").first.wait_for()
    # Staff read the category by its name; the code is secondary text.
    label = drill.locator(".drill-list .category").first
    named = _category(web_server, label.get_attribute("data-code") or "")
    assert label.inner_text().startswith(named["name_zh"])
    drill.locator("button[data-case]").first.click()
    drill.locator("#panel-case-status[data-status=to_file]").wait_for()
    assert named["name_zh"] in drill.locator("#panel-case-category").inner_text()
    assert drill.locator(".history li").count() >= 1
    drill.locator("form[data-action=file] button[type=submit]").click()
    drill.locator("#panel-case-status[data-status=to_dispatch]").wait_for()
    j.snap(leader, "14-command-drill-case")
    drill.locator("#drill-back").click()
    drill.locator("button[data-case]").first.wait_for()
    # … or from the cell's list to a unit grid's open cases, and on to one of them.
    grid = drill.locator("button[data-grid]").first.get_attribute("data-grid")
    drill.locator("button[data-grid]").first.click()
    leader.locator(f"#drill[data-grid='{grid}'] button[data-case]").first.wait_for()
    drill.locator("button[data-case]").first.click()
    drill.locator("#panel-case-number").wait_for()
    drill.locator("#drill-back").click()
    # The grid's list is drawn again before the district is chosen (the panel's drills race
    # otherwise: the later choice wins, and this test says which one that is).
    leader.locator(f"#drill[data-grid='{grid}'] button[data-case]").first.wait_for()
    # A slow answer does not undo a later choice: the grid's list, asked for on the way back
    # from a case, arrives after the user has chosen the district, and the district stays.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    leader.route(f"**/api/v1/cases?area={grid}&*", hold)
    drill.locator("button[data-case]").first.click()
    drill.locator("#drill-back").click()
    for _ in range(200):  # the route's handler runs while Playwright waits
        if held:
            break
        leader.wait_for_timeout(50)
    leader.locator("button[data-district='110101']").click()
    leader.locator("#drill[data-district='110101'] button[data-subdistrict]").first.wait_for()
    assert len(held) == 1
    with leader.expect_response(lambda r: f"area={grid}&" in r.url):
        held[0].continue_()
    leader.unroute(f"**/api/v1/cases?area={grid}&*", hold)
    leader.evaluate("() => new Promise((done) => setTimeout(done, 200))")
    assert drill.locator("button[data-subdistrict]").count() == 1
    assert drill.get_attribute("data-grid") is None

    # City → district → its subdistricts → one subdistrict (the map fits it) → its unit grids
    # with open cases, the cluster's first → a grid's open cases → one case.
    leader.locator("button[data-district='110101']").click()
    leader.locator("#drill[data-district='110101'] button[data-subdistrict]").first.wait_for()
    assert drill.locator("button[data-subdistrict]").count() == 1  # the east's is not offered
    drill.locator("button[data-subdistrict='110101001']").click()
    grids = leader.locator("#drill[data-subdistrict='110101001'] #drill-grids button[data-grid]")
    grids.first.wait_for()
    counts = [
        int(re.findall(r"\d+", li.inner_text())[-2])
        for li in drill.locator("#drill-grids li").all()
    ]
    assert counts[0] >= 3 and sum(counts) >= 21  # the cluster's 21 lie in this subdistrict
    grid = grids.first.get_attribute("data-grid") or ""
    assert grid.startswith("110101001")
    grids.first.click()
    leader.locator(f"#drill[data-grid='{grid}'] button[data-case]").first.wait_for()
    drill.locator("button[data-case]").first.click()
    drill.locator("#panel-case-number").wait_for()
    drill.locator("#drill-back").click()
    drill.locator("#drill-up").click()
    leader.locator("#drill[data-subdistrict='110101001'] #drill-grids").wait_for()
    j.snap(leader, "14b-command-subdistrict")

    # The 3-D view: the cells raised by their counts, the map tilted.
    leader.locator("#view-3d").click()
    leader.wait_for_function("document.body.dataset.view === '3d'")
    assert leader.locator("#view-3d").get_attribute("aria-pressed") == "true"
    j.snap(leader, "15-command-3d")
    leader.context.close()


def test_bulk_actions_report_each_case(
    browser: Any, web_server: Server, shots: Path, seeded: list[Any]
) -> None:
    j = Journey(browser, web_server, shots)
    token = bearer(web_server, "leader")
    picks = [_report(web_server, token, "E0103", 39.905, 116.302 + i * 0.002) for i in range(3)]
    leader = j.page_for("leader", lang="en")
    leader.goto(f"{web_server.url}/#/work")
    queue = leader.locator("section[data-queue=to_file]")
    for c in picks:
        queue.locator(f"input.pick[data-case='{c['number']}']").check()
    assert leader.locator("#bulk-count").inner_text() == "3 selected"
    row = queue.locator("tr").filter(has=leader.locator(f"input[data-case='{picks[0]['number']}']"))
    other = _category(web_server, "E0103")
    assert row.locator(".category").inner_text().startswith(other["name_en"])
    action = leader.get_by_label("Do to the selected cases")
    assert "file" in action.locator("option").evaluate_all("os => os.map(o => o.value)")
    # Someone else files one of them meanwhile: that one fails, by name, and the rest go on.
    stale = picks[1]
    r = httpx.post(
        f"{web_server.url}/api/v1/cases/{stale['id']}/file",
        headers=token,
        json={"expected_version": stale["version"], "reason": ""},
    )
    assert r.status_code == 200, r.text
    action.select_option("file")
    leader.locator("#bulk-go").click()
    leader.locator("#bulk-summary").wait_for()
    assert leader.locator("#bulk-summary").inner_text() == "2 done, 1 failed"
    failed = leader.locator("#bulk-results li[data-ok=false]")
    assert failed.count() == 1
    assert failed.get_attribute("data-case") == stale["number"]
    assert leader.locator("#bulk-results li[data-ok=true]").count() == 2
    j.snap(leader, "16-workbench-bulk")
    leader.context.close()


def test_an_inspector_sees_their_grids(
    browser: Any, web_server: Server, shots: Path, seeded: list[Any]
) -> None:
    j = Journey(browser, web_server, shots)
    inspector = j.page_for("inspector")
    inspector.get_by_role("link", name="我的网格").click()
    inspector.locator("#grids-map canvas").wait_for()
    inspector.wait_for_function("Number(document.body.dataset.myGrids) >= 1")
    rows = inspector.locator("#my-grid-cases tbody tr")
    rows.first.wait_for()
    assert rows.count() >= 21  # the cluster lies in the west subdistrict the inspector patrols
    rubbish = _category(web_server, "E0102")
    assert rows.filter(has_text=rubbish["name_zh"]).count() >= 21
    assert rows.locator(".category[data-code=E0102]").count() >= 21
    j.snap(inspector, "17-my-grids")
    inspector.context.close()


def test_admin_configures_the_city(browser: Any, web_server: Server, shots: Path) -> None:
    j = Journey(browser, web_server, shots)
    admin = j.page_for("admin", lang="en")
    admin.get_by_role("link", name="Configuration").click()
    admin.locator("#user-list table").wait_for()

    # A new user: the server's rules are shown next to the field, then it is created.
    form = admin.locator("form[data-form=new-user]")
    admin.locator("#new-user summary").click()
    form.get_by_label("Username").fill("new.inspector")
    form.get_by_label("Password").fill("short")
    form.get_by_label("Roles").fill("inspector 110101001")
    form.locator("button[type=submit]").click()
    password_error = form.locator("[name=password] ~ .field-error")
    password_error.wait_for()
    assert form.locator("[name=password]").get_attribute("aria-invalid") == "true"
    assert password_error.inner_text()
    form.get_by_label("Password").fill("a-long-enough-password")
    form.locator("button[type=submit]").click()
    admin.locator("tr[data-user='new.inspector']").wait_for()
    j.snap(admin, "18-admin-users")
    admin.locator("button[data-edit='new.inspector']").click()
    edit = admin.locator("form[data-form=edit-user]")
    edit.get_by_label("Active").uncheck()
    edit.locator("button[type=submit]").click()
    admin.locator("tr[data-user='new.inspector'] td:nth-child(5)").filter(has_text="No").wait_for()

    # A department.
    admin.get_by_role("link", name="Departments").click()
    dept = admin.locator("form[data-form=new-department]")
    dept.get_by_label("Code").fill("parks")
    dept.get_by_label("Chinese name").fill("园林绿化局")
    dept.locator("button[type=submit]").click()
    admin.locator("tr[data-department=parks]").wait_for()

    # The time limits: shown by version, and a broken proposal is refused rule by rule.
    admin.get_by_role("link", name="Time limits").click()
    admin.locator("section[data-version]").first.wait_for()
    checker = admin.locator("form[data-form=check]")
    checker.locator("button[type=submit]").click()
    checker.locator("[data-ok=true]").wait_for()
    text = checker.locator("textarea").input_value().replace("4 working_hours", "4 fortnights", 1)
    checker.locator("textarea").fill(text)
    checker.locator("button[type=submit]").click()
    checker.locator(".problems li").first.wait_for()
    j.snap(admin, "19-admin-time-limits")

    admin.get_by_role("link", name="Working calendar").click()
    admin.locator("section[data-year='2026']").wait_for()
    j.snap(admin, "20-admin-calendar")
    admin.get_by_role("link", name="Categories").click()
    admin.locator("#category-table tbody tr").first.wait_for()
    admin.get_by_role("link", name="API keys").click()
    admin.locator("#admin-api-keys").wait_for()
    admin.locator("#key-list").wait_for()
    keys = admin.locator("form[data-form=new-key]")
    if keys.count():  # the people context's API-key endpoints are there
        keys.get_by_label("Name").fill("open311 gateway")
        keys.locator("button[type=submit]").click()
        shown = admin.locator("#new-key").inner_text()
        prefix = admin.locator("tr[data-key] code").first.inner_text()
        assert f"_{prefix}_" in shown
        admin.locator(f"button[data-revoke='{prefix}']").click()
        admin.locator(f"tr[data-key='{prefix}'] button[data-revoke]").wait_for(state="detached")
    j.snap(admin, "21-admin-api-keys")
    # Someone without an admin grant is told so.
    leader = j.page_for("leader", lang="en")
    leader.goto(f"{web_server.url}/#/admin")
    assert "may not" in leader.locator("[role=alert]").inner_text()
    leader.context.close()
    admin.context.close()


def test_a_citizen_is_told_of_a_similar_report(
    browser: Any, web_server: Server, shots: Path, seeded: list[Any]
) -> None:
    # Last in this module: the report joins the cluster the tests above count.
    # A neighbour's web report first: web reports are the ones screened (and so indexed).
    lat, lon = HOT
    post_case(
        web_server,
        bearer(web_server, "citizen"),
        category="E0102",
        channel="web_app",
        description="东门外垃圾堆放三天无人清理",
        lat=lat,
        lon=lon,
    )
    j = Journey(browser, web_server, shots)
    citizen = j.page_for("citizen", lang="en")
    citizen.goto(f"{web_server.url}/#/report")
    citizen.locator("textarea[name=description]").fill("东门外垃圾堆放好几天了，无人清理")
    citizen.locator("select[name=category]").select_option("E0102")
    citizen.locator("input[name=lon]").fill(f"{lon:.6f}")
    citizen.locator("input[name=lat]").fill(f"{lat:.6f}")
    citizen.locator("form.report button[type=submit]").click()
    citizen.locator("#case-number").wait_for()
    notice = citizen.locator("#possible-duplicate")
    assert "similar open report exists nearby" in notice.inner_text()
    assert "merged" in notice.inner_text()
    j.snap(citizen, "22-report-similar")
    citizen.context.close()
