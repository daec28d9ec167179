"""An admin edits the city's working calendar and time limits in the browser: a change to the
past is refused next to the row it names; a holiday and summer hours added for a coming year and
a new time-limit version are saved as revisions and listed in the history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(600)


def test_an_admin_adds_a_holiday_and_sees_it_in_the_history(
    browser: Any, web_server: Server, shots: Path
) -> None:
    j = Journey(browser, web_server, shots)
    admin = j.page_for("admin", lang="en")
    admin.goto(f"{web_server.url}/#/admin?tab=calendar")
    admin.locator("#calendar-edit").wait_for()
    start = int(admin.locator("#rules-source").get_attribute("data-revision"))

    # Taking out a holiday of 2025 would change the past: refused, named beside the table.
    admin.get_by_label("Year", exact=True).select_option("2025")
    admin.locator("#holiday-table tbody tr").first.wait_for()
    admin.locator("#holiday-table tbody tr").first.get_by_role("button", name="Remove").click()
    save = admin.locator("form[data-form=save-calendar]")
    save.get_by_label("Note").fill("take out New Year's Day 2025")
    save.locator("button[type=submit]").click()
    refused = admin.locator("[data-path-error='years.2025']")
    refused.filter(has_text="Days before today").wait_for()
    assert "2025-01-01" in refused.inner_text()

    # A holiday in a coming year: added, saved with a note, listed in the history.
    admin.reload()
    admin.locator("#calendar-edit").wait_for()
    admin.locator("#add-year").click()
    year = admin.get_by_label("Year", exact=True).input_value()
    box = admin.locator("#new-holiday")
    box.get_by_role("button", name="Add the holiday").click()
    box.locator(".field-error").filter(has_text="Required").wait_for()  # checked before sending
    box.get_by_label("Holiday name (Chinese)").fill("城市日")
    box.get_by_label("Holiday name (English)").fill("City Day")
    box.get_by_label("From").fill(f"{year}-05-20")
    box.get_by_label("To").fill(f"{year}-05-21")
    box.get_by_role("button", name="Add the holiday").click()
    admin.locator("#holiday-table tr[data-holiday='City Day']").wait_for()
    # Summer hours from 1 May of that year, saved with the holiday.
    hours = admin.locator("#new-hours")
    hours.get_by_label("From").fill(f"{year}-05-01")
    hours.get_by_label("Name (e.g. summer hours)").fill("summer hours")
    hours.get_by_label("Working periods").fill("8-12")
    hours.get_by_role("button", name="Add the change of hours").click()
    hours.locator(".field-error").filter(has_text="HH:MM-HH:MM").wait_for()
    hours.get_by_label("Working periods").fill("08:00-12:00, 14:00-18:00")
    hours.get_by_role("button", name="Add the change of hours").click()
    admin.locator(f"#hours-table tr[data-from='{year}-05-01']").wait_for()
    save = admin.locator("form[data-form=save-calendar]")
    save.get_by_label("Note").fill("City Day: two days off")
    save.locator("button[type=submit]").click()
    admin.locator("[data-saved]").wait_for()
    source = admin.locator("#rules-source")
    assert source.get_attribute("data-revision") == str(start + 1)
    assert "City Day: two days off" in source.inner_text()
    row = admin.locator(f"#rules-history tr[data-revision='{start + 1}']")
    assert "City Day: two days off" in row.inner_text() and "admin" in row.inner_text()
    admin.locator(f"section[data-year='{year}']").wait_for()
    saved_hours = admin.locator(f"#hours-table tr[data-from='{year}-05-01']")
    assert "08:00–12:00, 14:00–18:00" in saved_hours.inner_text()
    assert saved_hours.get_by_role("button", name=f"Remove {year}-05-01").count() == 1
    # A change that would start in the past is refused beside it, and can be taken out again.
    hours = admin.locator("#new-hours")
    hours.get_by_label("From").fill("2020-05-01")
    hours.get_by_label("Working periods").fill("09:00-17:00")
    hours.get_by_role("button", name="Add the change of hours").click()
    save = admin.locator("form[data-form=save-calendar]")
    save.get_by_label("Note").fill("a change in the past")
    save.locator("button[type=submit]").click()
    past = admin.locator("#hours-table tr[data-from='2020-05-01']")
    past.locator("[data-path-error]").filter(has_text="after today").wait_for()
    past.get_by_role("button", name="Remove 2020-05-01").click()
    past.wait_for(state="detached")
    j.snap(admin, "21-admin-calendar-saved")

    # The time limits: a new version from the one in force, checked, then saved.
    admin.get_by_role("link", name="Time limits").click()
    admin.locator("#start-version").click()
    editor = admin.locator("#version-editor")
    editor.get_by_label("valid from").fill("2020-01-01")
    editor.locator("#check-version").click()
    editor.locator("[data-path-error$='.valid_from']").filter(has_text="after today").wait_for()
    editor.get_by_label("valid from").fill(f"{year}-01-01")
    editor.locator("#rule-table tbody tr").first.locator("[data-field=amount]").fill("3")
    editor.locator("#check-version").click()
    editor.locator("[data-ok=true]").wait_for()
    j.audit(admin, "time-limits-editor")
    form = admin.locator("form[data-form=save-time-limits]")
    form.get_by_label("Note").fill(f"faster first rule from {year}")
    form.locator("button[type=submit]").click()
    admin.locator("[data-saved]").wait_for()
    assert admin.locator("section[data-version]").count() >= 2
    history = admin.locator("#rules-history tbody tr").first
    assert f"faster first rule from {year}" in history.inner_text()
    j.snap(admin, "22-admin-time-limits-saved")
    admin.context.close()

    # In Chinese: where the rules come from, and a refusal in the user's language.
    zh = j.page_for("admin", lang="zh")
    zh.goto(f"{web_server.url}/#/admin?tab=calendar")
    zh.locator("#rules-source").filter(has_text="当前生效").wait_for()
    zh.get_by_label("年份", exact=True).select_option("2025")
    zh.locator("#holiday-table tbody tr").first.get_by_role("button", name="删除").click()
    form = zh.locator("form[data-form=save-calendar]")
    form.get_by_label("说明").fill("删除 2025 年元旦")
    form.locator("button[type=submit]").click()
    zh.locator("[data-path-error='years.2025']").filter(has_text="今天以前的日期").wait_for()
    j.snap(zh, "23-admin-calendar-refused-zh")
    zh.context.close()
