"""What each role is offered and told, in a real browser: actions only when they can be taken (an
extension is decided only when one was asked for); a reporter without an account follows their
case by its number; a case that leaves the user's reach, a refusal, a locked sign-in and the 12345
desk's results read in the user's language; the desk keeps the call being typed through a language
switch; the maps speak the user's language and leave cleanly; and the navigation offers each role
only what it can use.

The tests run on a city of their own: the cases they make do not change the shared city's counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.city import PASSWORD
from tests.browser.conftest import Server, bearer, post_case, serve_city
from tests.browser.test_journey import WAIT_MS, Journey, speak

pytestmark = pytest.mark.timeout(600)

# The west subdistrict, whose office handles every event there; away from its corners.
WEST = (39.912, 116.304)
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_city(tmp_path_factory.mktemp("roles-city")) as server:
        yield server


def _act(
    server: Server, who: str, case: dict[str, Any], action: str, reason: str = "", **extra: Any
) -> Any:
    r = httpx.post(
        f"{server.url}/api/v1/cases/{case['id']}/{action}",
        headers=bearer(server, who),
        json={"expected_version": case["version"], "reason": reason, **extra},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _dispatched(server: Server, description: str, lat: float, lon: float) -> Any:
    """A leader's instruction, filed and sent to the west office: waiting for it to accept."""
    case = post_case(
        server,
        bearer(server, "leader"),
        category="E0103",
        channel="instruction",
        description=description,
        lat=lat,
        lon=lon,
    )
    case = _act(server, "leader", case, "file")
    return _act(server, "dispatcher", case, "dispatch", department_code="west-office")


def test_an_extension_is_decided_only_when_one_was_asked_for(
    browser: Any, city: Server, shots: Path
) -> None:
    case = _dispatched(city, "道路上的垃圾需要清理，等待处置", 39.913, 116.3035)
    case = _act(city, "handler", case, "accept")
    assert case["status"] == "handling" and case["extension_pending"] is None
    j = Journey(browser, city, shots)
    leader = j.page_for("leader", lang="en")
    leader.goto(f"{city.url}/#/case/{case['id']}")
    leader.locator("#case-status[data-status=handling]").wait_for()
    leader.locator("form.action").first.wait_for()
    offered = leader.locator("form.action").evaluate_all("fs => fs.map(f => f.dataset.action)")
    assert "extend_approve" not in offered and "extend_refuse" not in offered, offered
    # The department asks for two more working days: now the leader may grant or refuse them.
    _act(city, "handler", case, "extend-request", "配件在路上", amount=2, unit="working_days")
    leader.reload()
    leader.locator("form[data-action=extend_approve]").wait_for()
    assert leader.locator("form[data-action=extend_refuse]").count() == 1
    j.snap(leader, "qa-extension-asked")
    leader.context.close()


def test_a_reporter_without_an_account_follows_the_case_by_its_number(
    browser: Any, city: Server, shots: Path
) -> None:
    j = Journey(browser, city, shots)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    j.watch(context)
    context.set_default_timeout(WAIT_MS)
    speak(context, "en")
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.method == "GET" else None)
    page.goto(f"{city.url}/#/report")
    page.get_by_label("Description").fill("A street lamp is out at the corner")
    page.locator("select[name=category]").select_option("E0103")
    page.locator("input[name=lon]").fill(str(WEST[1] + 0.001))
    page.locator("input[name=lat]").fill(str(WEST[0] + 0.001))
    page.locator("input[name=address]").fill("West Street 12")
    page.locator("form.report button[type=submit]").click()
    number = page.locator("#case-number").inner_text()
    page.get_by_role("link", name="Follow it").click()
    page.locator("#track-status").wait_for()
    assert page.evaluate("location.hash") == f"#/track/{number}"
    assert "#/login" not in page.url
    assert page.locator("#track-number").inner_text() == number
    assert page.locator("#track-status").get_attribute("data-status") == "open"
    assert page.locator("#track-category .category").get_attribute("data-code") == "E0103"
    assert page.locator("#track-address").inner_text() == "West Street 12"
    assert page.locator("#track-updated").get_attribute("datetime")
    # Read from the public Open311 view: never the staff's case API.
    assert any(f"/open311/v2/requests/{number}.json" in u for u in asked)
    assert not [u for u in asked if "/api/v1/cases/" in u]
    j.snap(page, "qa-track-anonymous")
    # A number that is none is said so, in the page's words.
    page.get_by_label("Case number").fill("NO-SUCH-CASE")
    page.get_by_role("button", name="Look up").click()
    page.locator("#track-error").filter(has_text="No request numbered NO-SUCH-CASE").wait_for()
    context.close()


def test_a_case_that_leaves_the_handlers_reach_sends_them_to_the_workbench(
    browser: Any, city: Server, shots: Path
) -> None:
    case = _dispatched(city, "这不是我们部门的事情，需要退回", 39.911, 116.3045)
    j = Journey(browser, city, shots)
    handler = j.page_for("handler", lang="zh")
    handler.goto(f"{city.url}/#/case/{case['id']}")
    form = handler.locator("form[data-action=return]")
    form.locator("textarea[name=reason]").fill("不属于本部门职责")
    form.locator("button[type=submit]").click()
    flash = handler.locator("#work-flash")
    flash.wait_for()
    assert handler.evaluate("location.hash") == "#/work"
    assert case["number"] in flash.inner_text()
    assert not LATIN.search(flash.inner_text().replace(case["number"], ""))
    assert handler.locator("#page-error").count() == 0
    j.snap(handler, "qa-returned-to-workbench")
    # Any refusal reads in the user's language: a case that is not the citizen's.
    citizen = j.page_for("citizen", lang="zh")
    citizen.goto(f"{city.url}/#/case/{case['id']}")
    error = citizen.locator("#page-error")
    error.wait_for()
    assert not LATIN.search(error.inner_text()), error.inner_text()
    handler.context.close()
    citizen.context.close()


def test_a_locked_account_is_told_so_and_until_when(browser: Any, city: Server) -> None:
    # The lock counts failures per name, whether or not such a user exists.
    name = "locked.out.nobody"
    for _ in range(5):
        r = httpx.post(
            f"{city.url}/api/v1/web/session", data={"username": name, "password": "wrong-pass"}
        )
        assert r.status_code == 401
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    speak(context, "zh")
    page = context.new_page()
    page.goto(f"{city.url}/#/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    alert = page.locator("form [role=alert]")
    alert.filter(has_text="登录失败次数过多").wait_for()
    text = alert.inner_text()
    assert "用户名或密码错误" not in text
    assert re.search(r"\d{1,2}:\d{2}", text), text  # until when, in the city's time
    assert not LATIN.search(text), text
    context.close()


def _desk(j: Journey, city: Server, text: str) -> Any:
    """The operator at the 12345 desk in Chinese, a call's text and phone typed."""
    operator = j.page_for("operator", lang="zh")
    operator.goto(f"{city.url}/#/hotline")
    operator.locator("#hotline-map canvas").wait_for()
    operator.locator("textarea[name=text]").fill(text)
    operator.locator("input[name=caller_phone]").fill("13900002222")
    return operator


def test_a_longitude_that_is_no_number_is_said_so_at_its_field(
    browser: Any, city: Server, shots: Path
) -> None:
    operator = _desk(Journey(browser, city, shots), city, "路灯坏了，晚上很黑")
    lon, lat = operator.locator("input[name=lon]"), operator.locator("input[name=lat]")
    lon.fill("abc")
    lat.fill(str(WEST[0] - 0.001))
    operator.locator("form.report button[type=submit]").click()
    lon_error = operator.locator(f"#{lon.get_attribute('aria-describedby')}")
    lon_error.filter(has_text="不是有效的数字").wait_for()
    assert lon.get_attribute("aria-invalid") == "true"
    assert "同时填写" not in operator.locator("form.report").inner_text()
    operator.context.close()


def test_the_desk_keeps_the_call_through_a_language_switch(
    browser: Any, city: Server, shots: Path
) -> None:
    operator = _desk(Journey(browser, city, shots), city, "小区门口的积水一直没有退")
    operator.locator("input[name=lon]").fill(str(WEST[1] - 0.002))
    operator.locator("#lang-switch").click()
    operator.get_by_label("What the caller said").wait_for()
    assert operator.locator("textarea[name=text]").input_value() == "小区门口的积水一直没有退"
    assert operator.locator("input[name=caller_phone]").input_value() == "13900002222"
    assert operator.locator("input[name=lon]").input_value() == str(WEST[1] - 0.002)
    operator.context.close()


def test_the_desk_says_the_outcome_in_words_and_duplicates_by_number(
    browser: Any, city: Server, shots: Path
) -> None:
    j = Journey(browser, city, shots)
    operator = _desk(j, city, "小区门口的垃圾堆了三天没人清理，味道很大")
    operator.locator("input[name=lon]").fill(str(WEST[1] - 0.001))
    operator.locator("input[name=lat]").fill(str(WEST[0] - 0.001))
    operator.locator("input[name=category_code]").fill("E0102")
    operator.locator("form.report button[type=submit]").click()
    case_link = operator.locator("#call-case")
    case_link.wait_for()
    number = case_link.inner_text()
    outcome = operator.locator("p", has=case_link).inner_text()
    # The same problem again: the possible duplicate is named by its case number.
    operator.locator("#preview").click()
    duplicate = operator.locator("#desk li a[href^='#/case/']").first
    duplicate.wait_for()
    said = ("已立案" in outcome, LATIN.findall(outcome.replace(number, "")), duplicate.inner_text())
    assert said == (True, [], number), outcome
    j.snap(operator, "qa-hotline-zh")
    operator.context.close()


def test_a_unit_that_does_not_exist_is_said_at_its_field(
    browser: Any, city: Server, shots: Path
) -> None:
    case = post_case(
        city,
        bearer(city, "leader"),
        category="E0103",
        channel="instruction",
        description="井盖旁的垃圾需要清理",
        lat=39.914,
        lon=116.3025,
    )
    _act(city, "leader", case, "file")
    j = Journey(browser, city, shots)
    dispatcher = j.page_for("dispatcher", lang="zh")
    dispatcher.goto(f"{city.url}/#/case/{case['id']}")
    form = dispatcher.locator("form[data-action=dispatch]")
    dept = form.locator("input[name=department_code]")
    dept.fill("NOPE")
    form.locator("button[type=submit]").click()
    dept_error = dispatcher.locator(f"#{dept.get_attribute('aria-describedby')}")
    dept_error.filter(has_text="没有这个部门").wait_for()
    assert dept.get_attribute("aria-invalid") == "true"
    assert not LATIN.search(dept_error.inner_text())
    dispatcher.context.close()


def test_the_maps_buttons_speak_chinese(browser: Any, city: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    speak(context, "zh")
    page = context.new_page()
    page.goto(f"{city.url}/#/map")
    zoom_in = page.locator(".maplibregl-ctrl-zoom-in")
    zoom_in.wait_for()
    assert zoom_in.get_attribute("title") == "放大"
    assert page.locator(".maplibregl-ctrl-zoom-out").get_attribute("aria-label") == "缩小"
    context.close()


def test_leaving_the_map_before_its_cells_arrive_is_clean(browser: Any, city: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    held: list[Any] = []
    # The cells are held back until the visitor has left the map: their reply comes late.
    page.route("**/api/v1/map/cells*", lambda route: held.append(route), times=1)
    with page.expect_request("**/api/v1/map/cells*"):
        page.goto(f"{city.url}/#/map")
    page.locator("#top nav a[href='#/report']").click()
    page.locator("form.report").wait_for()
    for route in held:
        route.continue_()
    assert held, "the map asked for no cells"
    page.wait_for_timeout(1500)
    # The late reply finds no map: nothing thrown, and the page now shown keeps its form.
    assert not errors, errors
    assert page.locator("form.report").count() == 1
    assert "getSource" not in page.locator("#main").inner_text()
    context.close()


def _analyst(server: Server) -> None:
    r = httpx.post(
        f"{server.url}/api/v1/users",
        headers=bearer(server, "admin"),
        json={
            "username": "analyst",
            "password": PASSWORD,
            "display_name": "分析员",
            "grants": [{"role": "analyst", "scope": "city"}],
        },
    )
    assert r.status_code == 201, r.text


def _nav(page: Any) -> list[str]:
    result: list[str] = page.locator("#top nav a").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"
    )
    return result


def test_each_role_is_offered_what_it_can_use(browser: Any, city: Server, shots: Path) -> None:
    _analyst(city)
    j = Journey(browser, city, shots)
    analyst = j.page_for("analyst", lang="en")
    links = _nav(analyst)
    assert "#/work" not in links, links  # "My requests" only lists what they reported
    assert "#/command" in links, links
    analyst.goto(f"{city.url}/#/command")
    analyst.locator("#rates-month").wait_for()
    assert analyst.locator("#page-error").count() == 0
    assert analyst.locator("#command-map").count() == 0
    analyst.locator("#rates-ranking[data-month]").wait_for()
    j.snap(analyst, "qa-analyst-evaluation")
    analyst.context.close()

    dispatcher = j.page_for("dispatcher", lang="en")
    links = _nav(dispatcher)
    assert "#/work" in links and "#/command" in links, links
    if "#/mine" in links:
        # Their own reports only (none here), not the city's cases they may read.
        dispatcher.goto(f"{city.url}/#/mine")
        dispatcher.get_by_role("heading", name="My requests").wait_for()
        dispatcher.locator("main table, main p").first.wait_for()
        assert dispatcher.locator("main table tbody tr").count() == 0
    dispatcher.context.close()

    citizen = j.page_for("citizen", lang="en")
    assert "#/mine" in _nav(citizen)
    citizen.goto(f"{city.url}/#/mine")
    citizen.get_by_role("heading", name="My requests").wait_for()
    # The heading names the list once: no caption saying it again.
    assert citizen.get_by_text("My requests", exact=True).count() == 2  # the nav link and h1
    citizen.context.close()


def test_the_api_key_list_heads_its_date_created(browser: Any, city: Server) -> None:
    r = httpx.post(
        f"{city.url}/api/v1/api-keys",
        headers=bearer(city, "admin"),
        json={"name": "open311 gateway", "role": "open311_client", "scope": "city"},
    )
    assert r.status_code == 201, r.text
    j = Journey(browser, city, Path("."))
    admin = j.page_for("admin", lang="en")
    admin.goto(f"{city.url}/#/admin?tab=api-keys")
    heads = admin.locator("#admin-api-keys thead th")
    heads.first.wait_for()
    names = heads.evaluate_all("hs => hs.map(h => h.textContent)")
    assert "Created" in names and "Reported" not in names, names
    admin.context.close()


def test_one_open_case_is_counted_in_the_singular(browser: Any, city: Server, shots: Path) -> None:
    # The only case in the east district: its unit grid holds one open case.
    case = post_case(
        city,
        bearer(city, "leader"),
        category="E0103",
        channel="instruction",
        description="东区路边的垃圾需要清理",
        lat=39.918,
        lon=116.318,
    )
    grid = case["location"]["unit_grid"]
    j = Journey(browser, city, shots)
    leader = j.page_for("leader", lang="en")
    leader.goto(f"{city.url}/#/command")
    leader.locator("button[data-district='110112']").click()
    drill = leader.locator("#drill")
    drill.locator("button[data-subdistrict='110112001']").click()
    drill.locator(f"#drill-grids button[data-grid='{grid}']").click()
    leader.locator(f"#drill[data-grid='{grid}'] button[data-case]").first.wait_for()
    assert drill.locator("#drill-h").inner_text() == f"Unit grid {grid}: 1 open case"
    leader.context.close()
