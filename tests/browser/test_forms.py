"""What every form and page owes its user, in a real browser: the skip link moves the keyboard's
focus to the content without leaving the page (the hash is the route); an oversized photo is
refused next to its field before anything is sent, on a case action as on the report form; and
the server's refusals read in the user's language, next to the field they name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, bearer, post_case
from tests.browser.test_journey import PHOTO, WAIT_MS, Journey

pytestmark = pytest.mark.timeout(300)

# In the west subdistrict the inspector patrols, at its north-west corner: away from the cluster
# the command centre's tests look at.
SPOT = (39.9195, 116.3005)


def test_the_skip_link_moves_focus_to_the_content_and_keeps_the_page(
    browser: Any, web_server: Server
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{web_server.url}/#/report")
    page.locator("select[name=category] option").first.wait_for(state="attached")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    assert page.evaluate("location.hash") == "#/report"
    # Still the report page, not the home page a "#main" route would have drawn.
    assert page.locator("body").get_attribute("data-page") == "report"
    assert page.locator("form.report").count() == 1
    context.close()


def test_an_oversized_photo_on_a_case_action_is_refused_before_sending(
    browser: Any, web_server: Server, shots: Path
) -> None:
    lat, lon = SPOT
    case = post_case(
        web_server,
        bearer(web_server, "citizen"),
        category="E0406",
        channel="web_app",
        description="路口积水一直没有退，车辆绕行",
        lat=lat,
        lon=lon,
    )
    limit = httpx.get(f"{web_server.url}/api/v1/web/config").json()["max_upload_bytes"]
    j = Journey(browser, web_server, shots)
    page = j.page_for("inspector", lang="zh")
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and "/cases/" in r.url else None,
    )
    page.goto(f"{web_server.url}/#/case/{case['id']}")
    form = page.locator("form[data-action=verify]")
    photo = form.locator("input[type=file]")
    photo.set_input_files(
        {"name": "huge.png", "mimeType": "image/png", "buffer": b"\0" * (limit + 1)}
    )
    error = form.locator(f"#{photo.get_attribute('aria-describedby')}")
    error.filter(has_text="照片过大").wait_for()
    assert photo.get_attribute("aria-invalid") == "true"
    form.locator("button[type=submit]").click()
    assert page.evaluate("document.activeElement.type") == "file"
    assert "照片过大" in error.inner_text()
    # A photo the server takes is then sent, and the action with it: the listener hears POSTs,
    # and none came before.
    photo.set_input_files(PHOTO)
    assert error.inner_text() == ""
    assert sent == []
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/attachments")):
        form.locator("button[type=submit]").click()
    page.locator("#case-status:not([data-status=to_verify])").wait_for()
    page.context.close()


def test_the_servers_refusals_read_in_chinese_next_to_their_fields(
    browser: Any, web_server: Server, shots: Path
) -> None:
    j = Journey(browser, web_server, shots)
    # The report form: a point outside the city.
    citizen = j.page_for("citizen", lang="zh")
    citizen.goto(f"{web_server.url}/#/report")
    citizen.get_by_label("问题描述").fill("路灯不亮，晚上很黑")
    citizen.get_by_label("搜索类别（名称、关键词或编码）").fill("E0406")
    citizen.locator("select[name=category]").select_option("E0406")
    citizen.locator("input[name=lon]").fill("121.5")
    citizen.locator("input[name=lat]").fill("31.2")
    citizen.locator("form.report button[type=submit]").click()
    lon = citizen.locator("input[name=lon]")
    lon_error = citizen.locator(f"#{lon.get_attribute('aria-describedby')}")
    lon_error.filter(has_text="该位置不在本市范围内").wait_for()
    assert lon.get_attribute("aria-invalid") == "true"
    assert not re.search(r"[A-Za-z]", lon_error.inner_text())
    citizen.context.close()

    # The hotline desk: a phone number that is none, and no category confirmed.
    operator = j.page_for("operator", lang="zh")
    operator.goto(f"{web_server.url}/#/hotline")
    operator.locator("#hotline-map canvas").wait_for()
    operator.locator("textarea[name=text]").fill("小区门口垃圾堆了三天")
    operator.locator("input[name=caller_phone]").fill("call me maybe")
    operator.locator("form.report button[type=submit]").click()
    phone = operator.locator("input[name=caller_phone]")
    phone_error = operator.locator(f"#{phone.get_attribute('aria-describedby')}")
    phone_error.filter(has_text="电话只能包含数字").wait_for()
    assert phone.get_attribute("aria-invalid") == "true"
    j.snap(operator, "24-hotline-refused-zh")
    # A standard address's id the register does not hold, said at that field.
    phone.fill("13900001111")
    address_id = operator.locator("input[name=address_id]")
    address_id.fill("110101001001-9999")
    operator.locator("form.report button[type=submit]").click()
    address_error = operator.locator(f"#{address_id.get_attribute('aria-describedby').split()[-1]}")
    address_error.filter(has_text="标准地址库中没有这个地址编码").wait_for()
    assert address_id.get_attribute("aria-invalid") == "true"
    operator.context.close()

    # An admin form: a password shorter than the rule's minimum.
    admin = j.page_for("admin", lang="zh")
    admin.goto(f"{web_server.url}/#/admin")
    admin.locator("#user-list table").wait_for()
    admin.locator("#new-user summary").click()
    form = admin.locator("form[data-form=new-user]")
    form.locator("[name=username]").fill("short.password")
    form.locator("[name=password]").fill("short")
    form.locator("[name=grants]").fill("inspector 110101001")
    form.locator("button[type=submit]").click()
    password_error = form.locator("[name=password] ~ .field-error")
    password_error.filter(has_text="太短：至少 10 个字符").wait_for()
    admin.context.close()
