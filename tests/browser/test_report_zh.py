"""A citizen reporting in Chinese near a similar open report is told so in Chinese, and one
reporting another kind of problem at the same place is not.

The notice follows the server's ``Possible-Duplicate-Of`` header on the web report's reply; the
numbers it names are other reporters' cases, so the page says only that one exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, bearer, post_case
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(300)

# In the east subdistrict, away from the west's clusters that other browser tests count.
SPOT = (39.905, 116.317)
NOTICE_ZH = "附近已有一件相似的诉求正在办理，您的诉求可能会与其合并处理，办理进度照常可查。"


def _report_in_browser(page: Any, server: Server, category: str, text: str) -> Any:
    lat, lon = SPOT
    page.goto(f"{server.url}/#/")  # a fresh form, also after a report sent from this page
    page.goto(f"{server.url}/#/report")
    page.get_by_label("问题描述").fill(text)
    # Found by its Chinese name, as a citizen would: the list shows only the first matches.
    name = httpx.get(f"{server.url}/api/v1/categories/{category}").json()["name_zh"]
    page.get_by_label("搜索类别（名称、关键词或编码）").fill(name)
    page.locator("select[name=category]").select_option(category)
    page.locator("input[name=lon]").fill(f"{lon:.6f}")
    page.locator("input[name=lat]").fill(f"{lat:.6f}")
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/cases") and r.request.method == "POST"
    ) as reply:
        page.locator("form.report button[type=submit]").click()
    page.locator("#case-number").wait_for()
    return reply.value


def test_a_chinese_citizen_is_told_of_a_similar_open_report(
    browser: Any, web_server: Server, shots: Path
) -> None:
    lat, lon = SPOT
    first = post_case(
        web_server,
        bearer(web_server, "citizen"),
        category="E0102",
        channel="web_app",
        description="南门外垃圾堆放多日无人清理",
        lat=lat,
        lon=lon,
    )
    j = Journey(browser, web_server, shots)
    citizen = j.page_for("citizen", lang="zh")
    assert citizen.locator("html").get_attribute("lang") == "zh-CN"

    reply = _report_in_browser(citizen, web_server, "E0102", "南门外垃圾堆放好几天了，没人清理")
    assert first["number"] in reply.headers["possible-duplicate-of"]
    notice = citizen.locator("#possible-duplicate")
    assert notice.inner_text() == NOTICE_ZH
    assert citizen.locator("#case-number").inner_text() != first["number"]
    j.snap(citizen, "23-report-similar-zh")

    # Another kind of problem at the same spot is not a duplicate: no notice.
    other = _report_in_browser(citizen, web_server, "E0406", "南门外路面积水，行人难以通过")
    assert "possible-duplicate-of" not in other.headers
    assert citizen.locator("#possible-duplicate").count() == 0
    citizen.context.close()
