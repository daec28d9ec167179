"""A city admin edits the taxonomy in the browser: a class's English name saved as a new version
is what the categories API shows; a new class with a broken code is refused next to its row (in
the user's language); an older version is put back in use from the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Server, serve_city
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The taxonomy is the city's: changing it on the shared server would rename others' classes.
    with serve_city(tmp_path_factory.mktemp("taxonomy-admin-city")) as server:
        yield server


def _name_en(server: Server, code: str) -> str:
    return str(httpx.get(f"{server.url}/api/v1/categories/{code}").json()["name_en"])


def test_an_admin_renames_a_class_and_a_broken_code_is_refused_beside_its_row(
    browser: Any, own_server: Server, shots: Path
) -> None:
    j = Journey(browser, own_server, shots)
    admin = j.page_for("admin", lang="en")
    admin.goto(f"{own_server.url}/#/admin?tab=categories")
    admin.locator("#category-table tr[data-code=C0101]").wait_for()
    first = admin.locator("#taxonomy-in-use").get_attribute("data-version")

    # Search, rename in English, save as a new version with a note.
    admin.get_by_label("Search categories").fill("C0101")
    assert admin.locator("#category-table tbody tr:visible").count() == 1
    admin.get_by_label("English name C0101").fill("Drinking-water manhole cover")
    save = admin.locator("form[data-form=save-taxonomy]")
    save.get_by_label("Note").fill("clearer English name")
    save.locator("button[type=submit]").click()
    admin.locator("[data-saved]").wait_for()
    second = admin.locator("#taxonomy-in-use").get_attribute("data-version")
    assert second != first
    assert _name_en(own_server, "C0101") == "Drinking-water manhole cover"
    history = admin.locator(f"#taxonomy-versions tr[data-version='{second}']")
    assert "clearer English name" in history.inner_text()

    # A new class whose code is not two digits: refused next to its own row, nothing saved.
    box = admin.locator("#new-class")
    box.get_by_label("Minor code").fill("1x")
    box.get_by_label("Chinese name").fill("测试井盖")
    box.get_by_label("English name").fill("Test cover")
    admin.locator("#add-class").click()
    row = admin.locator("#category-table tr[data-code='C011x']")
    row.wait_for()
    save.get_by_label("Note").fill("a test class")
    save.locator("button[type=submit]").click()
    row.locator("[data-path-error$='.minor']").filter(has_text="two digits").wait_for()
    assert row.get_by_label("Minor code C01").get_attribute("aria-invalid") == "true"
    assert admin.locator("#taxonomy-in-use").get_attribute("data-version") == second
    j.snap(admin, "24-admin-taxonomy-refused")

    # The first version back in use from the history: the categories follow it.
    admin.locator(f"#taxonomy-versions button[data-use='{first}']").click()
    admin.locator(f"[data-activated='{first}']").wait_for()
    assert admin.locator("#taxonomy-in-use").get_attribute("data-version") == first
    assert _name_en(own_server, "C0101") == "Water-supply manhole cover"
    admin.context.close()

    # In Chinese, the refusal in the user's language.
    zh = j.page_for("admin", lang="zh")
    zh.goto(f"{own_server.url}/#/admin?tab=categories")
    zh.locator("#category-table tr[data-code=E0101]").wait_for()
    new = zh.locator("#new-class")
    new.get_by_label("小类编号").fill("00")
    new.get_by_label("中文名").fill("测试")
    new.get_by_label("英文名").fill("Test")
    zh.locator("#add-class").click()
    form = zh.locator("form[data-form=save-taxonomy]")
    form.get_by_label("说明").fill("测试")
    form.locator("button[type=submit]").click()
    zh.locator("#category-table tr[data-code='C0100'] [data-path-error$='.minor']").filter(
        has_text="编号从 01 开始"
    ).wait_for()
    j.snap(zh, "25-admin-taxonomy-refused-zh")
    zh.context.close()
