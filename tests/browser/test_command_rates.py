"""The command centre's evaluation panel in a real browser: the hotline's three-rate ranking and
each department's on-time close rate, as tables and charts, for the month the leader picks.

Two months of hotline cases are loaded into a city of this module's own (the shared city's map
counts stay as the other tests expect), the requesters of last month's closed cases are called
back through the hotline desk's service, and the analytics lake is refreshed from the database."""

from __future__ import annotations

import calendar
import csv
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from onegrid.analytics.lake import Lake
from onegrid.cases.config import case_rules
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.dispatch.hotline.domain import Satisfaction
from onegrid.dispatch.hotline.services import record_callback
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.browser.conftest import Server, serve_city
from tests.browser.test_journey import Journey

pytestmark = pytest.mark.timeout(600)

CITY = ZoneInfo("Asia/Shanghai")
CORE = (116.305, 39.91)  # district 110101
SUBURB = (116.315, 39.91)  # district 110112
OPERATOR = Principal(
    0, "test:operator", PrincipalKind.USER, (Grant(Role.HOTLINE_OPERATOR, Scope.city()),)
)


def _month_start(day: datetime, back: int) -> datetime:
    """The first day, 10:00 city time, of the month ``back`` months before ``day``'s."""
    y, m = day.year, day.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return datetime(y, m, 3, 10, tzinfo=CITY)


def _case(
    ref: str, at: datetime, where: tuple[float, float], dept: str, closed: bool
) -> HistoricalCase:
    return HistoricalCase(
        "E0102",
        at,
        *where,
        f"路边垃圾 {ref}",
        external_ref=f"rates:{ref}",
        department_code=dept,
        closed_at=at + timedelta(hours=3) if closed else None,
    )


@pytest.fixture(scope="module")
def rated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """Last month: the west office closed 3 of 4 cases, roads 1 of 2; the month before, it
    closed 1 of 2. Last month's closed cases are called back resolved: satisfied in the core
    district, dissatisfied in the suburb."""
    with serve_city(tmp_path_factory.mktemp("rates-city")) as server:
        now = datetime.now(CITY)
        last, before = _month_start(now, 1), _month_start(now, 2)
        cases = [
            _case("s1", last, CORE, "west-office", True),
            _case("s2", last + timedelta(days=1), CORE, "west-office", True),
            _case("s3", last + timedelta(days=2), SUBURB, "west-office", True),
            _case("s4", last + timedelta(days=3), SUBURB, "west-office", False),
            _case("r1", last + timedelta(days=4), CORE, "roads", True),
            _case("r2", last + timedelta(days=5), CORE, "roads", False),
            _case("b1", before, CORE, "west-office", True),
            _case("b2", before + timedelta(days=1), CORE, "west-office", False),
        ]
        db = Database(make_engine(f"sqlite:///{(server.data_dir / 'onegrid.sqlite3').as_posix()}"))
        try:
            rules = case_rules("Asia/Shanghai")
            assert load_historical(db, cases, rules=rules).accepted == len(cases)
            with db.reader() as s:
                closed = s.execute(
                    select(CaseRow.id, CaseRow.external_ref, CaseRow.district_code).where(
                        CaseRow.status == "closed", CaseRow.external_ref.like("rates:%")
                    )
                ).all()
            for case_id, ref, district in closed:
                if ref == "rates:b1":
                    continue
                record_callback(
                    db,
                    OPERATOR,
                    case_id,
                    resolved=True,
                    satisfaction=Satisfaction.SATISFIED
                    if district == "110101"
                    else Satisfaction.DISSATISFIED,
                    clock=FixedClock(last + timedelta(days=8)),
                    rules=rules,
                )
            Lake.under(server.data_dir).refresh(db)
        finally:
            db.engine.dispose()
        yield server, last.strftime("%Y-%m")


def _rows(page: Any, table: str) -> list[list[str]]:
    cells: list[list[str]] = page.eval_on_selector_all(
        f"#{table} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    return cells


def test_ranking_and_on_time_rates_by_month(
    browser: Any, shots: Path, rated: tuple[Server, str]
) -> None:
    server, last = rated
    j = Journey(browser, server, shots)
    leader = j.page_for("leader")
    leader.goto(f"{server.url}/#/command")
    panel = leader.locator("#rates")
    panel.get_by_label("月份").fill(last)
    panel.locator("#rates-month").dispatch_event("change")
    leader.locator(f"#on-time[data-month='{last}'] #on-time-table").wait_for()
    leader.locator(f"#rates-ranking[data-month='{last}'] #ranking-table").wait_for()
    # Both districts' callers were helped; the core district's were satisfied, so it leads:
    # rank, name, response, resolution, satisfaction, score, band.
    ranking = _rows(leader, "ranking-table")
    assert [r[:2] for r in ranking] == [["1", "区域110101"], ["2", "区域110112"]], ranking
    assert [r[3:6] for r in ranking] == [["100%", "100%", "80"], ["100%", "0%", "40"]], ranking
    # The west office: 3 of 4 on time, 25 points above the 1 of 2 of the month before.
    on_time = {r[0]: r[1:] for r in _rows(leader, "on-time-table")}
    assert on_time["西区办事处"] == ["4", "3", "75%", "+25"], on_time
    assert on_time["部门roads"] == ["2", "1", "50%", "–"], on_time
    for chart in ("#ranking-chart", "#on-time-chart"):
        canvas = leader.locator(chart)
        assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-label")
        assert leader.eval_on_selector(chart, "c => c.width > 0 && c.height > 0")
    j.snap(leader, "15-command-rates")

    # Ranked by department instead; then a month with no figures says so.
    panel.get_by_label("考评单位").select_option("department")
    leader.locator("#rates-ranking[data-unit=department] #ranking-table").wait_for()
    assert {r[1] for r in _rows(leader, "ranking-table")} == {"西区办事处", "部门roads"}
    panel.locator("#rates-month").fill("2001-01")
    panel.locator("#rates-month").dispatch_event("change")
    leader.locator("#rates-ranking[data-month='2001-01'][data-rows='0']").wait_for()
    assert "暂无数据" in leader.locator("#rates-ranking").inner_text()
    leader.context.close()


def _download(page: Any) -> tuple[str, str]:
    """Press the export form's button; the saved file's name and text."""
    with page.expect_download() as caught:
        page.locator("#export-cases button[type=submit]").click()
    saved = caught.value
    return saved.suggested_filename, Path(saved.path()).read_text(encoding="utf-8")


def test_cases_exported_for_the_period_and_refusals_said(
    browser: Any, shots: Path, rated: tuple[Server, str]
) -> None:
    server, last = rated
    year, month = map(int, last.split("-"))
    first, final = f"{last}-01", f"{last}-{calendar.monthrange(year, month)[1]:02d}"
    j = Journey(browser, server, shots)
    leader = j.page_for("leader")
    leader.goto(f"{server.url}/#/command")
    form = leader.locator("#export-cases")
    # Last full month by default: the month the cases were loaded into.
    assert form.get_by_label("开始日期").input_value() == first
    assert form.get_by_label("结束日期").input_value() == final
    name, text = _download(leader)
    assert name == f"cases_{first}_{final}.csv"
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and {"number", "category_code", "district_code"} <= set(rows[0])
    assert len(rows) == 6, rows  # last month's six cases, the whole city for a city grant
    assert leader.locator("#export-done").inner_text() == f"已下载 {name}"

    # The server's refusal next to its field, in Chinese; nothing is saved.
    form.get_by_label("结束日期").fill(f"{last}-01")
    form.get_by_label("开始日期").fill(final)
    form.locator("button[type=submit]").click()
    refusal = leader.locator("#export-end-err")
    refusal.wait_for()
    assert refusal.inner_text() == "结束日期不能早于开始日期。"
    assert form.get_by_label("结束日期").get_attribute("aria-invalid") == "true"
    j.snap(leader, "16-command-export")
    leader.context.close()

    # In English, one district as GeoJSON: its four cases, the area in the file's name.
    dispatcher = j.page_for("dispatcher", lang="en")
    dispatcher.goto(f"{server.url}/#/command")
    form = dispatcher.locator("#export-cases")
    form.get_by_label("Format").select_option("geojson")
    form.locator("#export-area option[value='110101']").wait_for(state="attached")
    form.get_by_label("Area (optional)").select_option("110101")
    name, text = _download(dispatcher)
    assert name == f"cases_{first}_{final}_110101.geojson"
    features = json.loads(text)["features"]
    assert len(features) == 4 and {f["properties"]["district_code"] for f in features} == {"110101"}
    # The server's own words for the same refusal in English.
    form.get_by_label("To").fill(f"{last}-01")
    form.get_by_label("From").fill(final)
    form.locator("button[type=submit]").click()
    dispatcher.locator("#export-end-err").wait_for()
    assert "before it starts" in dispatcher.locator("#export-end-err").inner_text()
    dispatcher.context.close()

    # A hotline operator may not export: the command centre shows no such form.
    operator = j.page_for("operator")
    operator.goto(f"{server.url}/#/command")
    operator.locator("#feed[data-state=open]").wait_for(state="attached")
    assert operator.locator("#export-cases").count() == 0
    assert operator.locator("#rates").count() == 0
    operator.context.close()
