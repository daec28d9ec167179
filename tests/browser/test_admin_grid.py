"""An admin edits the grid and the dispatch catalogue in a real browser: uploads a GeoJSON file,
sees the dry-run plan as a list and on the map, applies it and finds the new area; a broken file
is refused with every problem named; then adds a duty rule on the new area and tests the route
it makes. Pages are screenshotted and checked with axe-core.

It runs on a server and city of its own: a new district changes how the shared city's maps fit,
and the other browser tests click on those maps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely

from tests.browser.conftest import Server, serve_city
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(600)

NEW_DISTRICT = "110113"
EAST_OF_CITY = shapely.box(116.32, 39.90, 116.33, 39.92)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_city(tmp_path_factory.mktemp("grid-admin-city")) as server:
        yield server


def _geojson(path: Path, *features: dict[str, Any]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": shapely.geometry.mapping(geometry),
    }


def test_admin_imports_an_area_and_routes_to_it(
    browser: Any, own_server: Server, shots: Path, tmp_path: Path
) -> None:
    j = Journey(browser, own_server, shots)
    admin = j.page_for("admin", lang="en")
    admin.get_by_role("link", name="Configuration").click()
    admin.get_by_role("link", name="Areas and grids").click()
    form = admin.locator("#ag-import")
    form.wait_for()

    # A broken file: every problem is named, with its feature, and nothing is planned.
    broken = _geojson(
        tmp_path / "broken.geojson",
        _feature(EAST_OF_CITY, name="无编码"),
        _feature(shapely.Point(116.325, 39.91), code="110114", name="点"),
    )
    form.get_by_label("What to import").select_option("areas")
    form.get_by_label("Level").select_option("district")
    form.get_by_label("One parent code for all").fill("110000")
    form.get_by_label("English name property").fill("name_en")
    form.get_by_label("GeoJSON file").set_input_files(str(broken))
    form.get_by_role("button", name="Check (writes nothing)").click()
    problems = admin.locator("#ag-import-errors li")
    problems.nth(1).wait_for()
    listed = " ".join(problems.all_inner_texts())
    assert "feature 1" in listed and "feature 2 (code 110114)" in listed
    assert form.get_by_label("GeoJSON file").get_attribute("aria-invalid") == "true"
    assert admin.get_by_role("button", name="Import this plan").is_disabled()

    # A good file: the plan first (nothing written), then the same plan applied.
    good = _geojson(
        tmp_path / "district.geojson",
        _feature(EAST_OF_CITY, code=NEW_DISTRICT, name="新区", name_en="New district"),
    )
    form.get_by_label("GeoJSON file").set_input_files(str(good))
    form.get_by_role("button", name="Check (writes nothing)").click()
    admin.locator(f"#ag-plan-table tr[data-code='{NEW_DISTRICT}'][data-change=create]").wait_for()
    admin.locator("#ag-plan-map[data-features='1']").wait_for()
    assert "New: 1" in admin.locator(".plan-counts").inner_text()
    assert admin.locator(f"#ag-areas tr[data-area='{NEW_DISTRICT}']").count() == 0
    j.snap(admin, "30-admin-grid-plan")
    admin.get_by_role("button", name="Import this plan").click()
    admin.locator("#ag-plan-h", has_text="Imported").wait_for()
    row = admin.locator(f"#ag-areas tr[data-area='{NEW_DISTRICT}']")
    row.wait_for()
    assert "New district" in row.inner_text()
    j.snap(admin, "31-admin-grid-applied")

    # Its names are corrected in place; an empty Chinese name is refused next to the field.
    row.get_by_role("button", name=f"Edit {NEW_DISTRICT}").click()
    rename = admin.locator("#ag-rename")
    rename.get_by_label("Chinese name").fill("")
    rename.get_by_role("button", name="Save").click()
    assert rename.get_by_label("Chinese name").get_attribute("aria-invalid") == "true"
    rename.get_by_label("Chinese name").fill("东新区")
    rename.get_by_label("English name").fill("East New District")
    rename.get_by_role("button", name="Save").click()
    admin.locator(
        f"#ag-areas tr[data-area='{NEW_DISTRICT}']", has_text="East New District"
    ).wait_for()

    # A duty rule on the new district, then the route it makes for a point inside it.
    admin.get_by_role("link", name="Routing and inspectors").click()
    add = admin.locator("#ar-add")
    add.wait_for()
    add.get_by_label("Area code").fill(NEW_DISTRICT)
    add.get_by_label("Category prefix").fill("E01")
    add.get_by_label("Department").fill("nobody")
    add.get_by_role("button", name="Add the rule").click()
    dept_error = add.locator("[name=department_code] ~ .field-error")
    dept_error.wait_for()
    assert "nobody" in dept_error.inner_text()
    add.get_by_label("Department").fill("roads")
    add.get_by_role("button", name="Add the rule").click()
    admin.locator("#ar-added", has_text="added").wait_for()
    admin.locator("#ar-rules tr[data-rule]", has_text=NEW_DISTRICT).wait_for()

    test = admin.locator("#ar-test")
    # A click on the map picks the point; the fields stay the keyboard's way to give it.
    admin.locator("#ar-test-map[data-ready=true]").wait_for()
    admin.locator("#ar-test-map canvas").click()  # its centre, scrolled into view
    picked = float(test.get_by_label("Longitude (WGS84)").input_value())
    assert 116.29 < picked < 116.34
    test.get_by_label("Category").fill("E0101")
    test.get_by_label("Longitude (WGS84)").fill("116.325")
    test.get_by_label("Latitude (WGS84)").fill("39.91")
    test.get_by_role("button", name="Test").click()
    admin.locator("#ar-route-dept", has_text="roads").wait_for()
    assert "duty rule" in admin.locator("#ar-route-rule").inner_text()
    j.snap(admin, "32-admin-routing")
    admin.context.close()
