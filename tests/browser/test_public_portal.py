"""The portal for visitors who are not signed in: a report with a photo and a pin gets its case
number and keeps its photo (sent under the create reply's upload grant), and the public map
shows open cases as cells and the recent requests in the view, on a desktop and a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, bearer, post_case, serve_city
from tests.browser.test_journey import PHOTO, WAIT_MS, Journey, speak

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A city of its own: these reports would join the clusters the shared city's tests count.
    with serve_city(tmp_path_factory.mktemp("public-city")) as server:
        yield server


def _visitor(j: Journey, server: Server, lang: str = "en") -> Any:
    context = j.browser.new_context(viewport={"width": 1280, "height": 900})
    j.watch(context)  # the public pages, too, ask nothing of another server
    context.set_default_timeout(WAIT_MS)
    speak(context, lang)
    page = context.new_page()
    page.goto(f"{server.url}/#/")
    page.locator("#lang-switch").wait_for()
    assert page.locator("#who").count() == 0  # not signed in
    return page


def test_a_visitor_without_an_account_reports_with_a_photo_and_a_pin(
    browser: Any, city: Server, shots: Path
) -> None:
    j = Journey(browser, city, shots)
    page = _visitor(j, city)
    page.goto(f"{city.url}/#/report")
    page.locator("#report-map[data-ready] canvas").wait_for()
    page.get_by_label("Description").fill("Rubbish piled at the east gate for three days")
    page.locator("select[name=category]").select_option("E0102")
    box = page.locator("#report-map canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.46, box["y"] + box["height"] * 0.5)
    assert 116.30 < float(page.locator("input[name=lon]").input_value()) < 116.31
    page.locator("input[name=photos]").set_input_files(PHOTO)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/cases") and r.request.method == "POST"
    ) as reply:
        page.locator("form.report button[type=submit]").click()
    assert reply.value.headers.get("upload-token")
    number = page.locator("#case-number").inner_text()
    page.locator(".result[data-photos=sent]").wait_for()
    assert page.locator("#photos-failed").count() == 0
    j.snap(page, "40-report-anonymous")
    assert j.errors == []  # an anonymous visitor is not an error: nothing red in the console
    # Followed without an account, by number: a report pinned without an address shows its point.
    page.get_by_role("link", name="Follow it").click()
    place = page.locator("#track-address")
    place.wait_for()
    assert re.fullmatch(r"116\.30\d{3}, 39\.\d{5}", place.inner_text()), place.inner_text()

    leader = bearer(city, "leader")
    found = httpx.get(f"{city.url}/api/v1/cases", params={"q": number}, headers=leader).json()
    (case,) = found["items"]
    photos = httpx.get(f"{city.url}/api/v1/cases/{case['id']}/attachments", headers=leader)
    assert [(a["filename"], a["media_type"]) for a in photos.json()] == [
        ("street.png", "image/png")
    ]
    page.context.close()


def test_a_visitor_browses_open_and_recent_cases_on_the_map(
    browser: Any, city: Server, shots: Path
) -> None:
    seeded = post_case(
        city,
        bearer(city, "citizen"),
        category="E0102",
        channel="web_app",
        description="西门外垃圾桶满溢，无人清运",
        lat=39.905,
        lon=116.305,
    )
    j = Journey(browser, city, shots)
    page = _visitor(j, city)
    page.get_by_role("link", name="Cases map").click()
    page.wait_for_function("Number(document.body.dataset.cells) >= 1")
    item = page.locator(f"#recent li[data-request='{seeded['number']}']")
    item.wait_for()
    assert "Open" in item.inner_text() and "西门外垃圾桶满溢" in item.inner_text()
    assert (
        "市民李四" not in page.content()
    )  # the reporter is never shown (Open311 never sends them)
    item.get_by_role("button").click()
    page.locator("#public-map .maplibregl-marker").wait_for()
    j.snap(page, "41-public-map")

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#public-map canvas").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    j.snap(page, "42-public-map-phone")
    assert j.errors == []
    page.context.close()


def test_an_inspector_reports_from_the_street_as_the_grid_s_own_case(
    browser: Any, city: Server, shots: Path
) -> None:
    j = Journey(browser, city, shots)
    page = j.page_for("inspector", lang="en")
    page.goto(f"{city.url}/#/report")
    page.locator("#report-map[data-ready] canvas").wait_for()
    page.get_by_label("Description").fill("Manhole cover cracked beside the bus stop")
    page.locator("select[name=category]").select_option("E0102")
    box = page.locator("#report-map canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.46, box["y"] + box["height"] * 0.5)
    page.locator("input[name=photos]").set_input_files(PHOTO)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/cases") and r.request.method == "POST"
    ) as reply:
        page.locator("form.report button[type=submit]").click()
    created = reply.value.json()
    # The inspector's own report needs no verification on site: it waits to be filed.
    assert (created["channel"], created["status"]) == ("inspector", "to_file")
    page.locator(".result[data-photos=sent]").wait_for()
    photos = httpx.get(
        f"{city.url}/api/v1/cases/{created['id']}/attachments", headers=bearer(city, "leader")
    )
    assert [a["filename"] for a in photos.json()] == ["street.png"]
    page.context.close()
