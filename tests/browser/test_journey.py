"""One case through every role in a real browser: the citizen reports it with a photo and a pin,
the inspector verifies it, the shift leader files it, the dispatcher sends it, the department
handles and reports back with a photo, the inspector checks it, the leader closes it, and the
citizen sees it closed and rates it. Every page is screenshotted and checked with axe-core."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from onegrid.analytics.lake import Lake
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from tests.browser.city import PASSWORD
from tests.browser.conftest import AXE, Server
from tests.support import need

pytestmark = pytest.mark.timeout(600)  # a loaded 2-core machine runs it 5x slower
# How long a page may take to show what a step waits for. CI's machine runs these about six
# times slower than a quiet one: a wait that holds costs nothing when the page is quick.
WAIT_MS = 60_000


def png(width: int = 8, height: int = 6) -> bytes:
    """A real (tiny) PNG: uploads are checked by content, not by name."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xc0\x30\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PHOTO = {"name": "street.png", "mimeType": "image/png", "buffer": png()}


def speak(context: Any, lang: str) -> None:
    """Pages of ``context`` open in ``lang``. The script runs on about:blank too, which may not
    touch storage (the browser logs an error): only our pages set it."""
    script = "if (location.protocol.startsWith('http')) localStorage.setItem('onegrid.lang', '%s')"
    context.add_init_script(script % lang)


class Journey:
    def __init__(self, browser: Any, server: Server, shots: Path) -> None:
        self.browser = browser
        self.server = server
        self.shots = shots
        self.audited: list[str] = []
        # City networks are often air-gapped: no page may ask anything of another server.
        self.outside: list[str] = []
        # What the browser logs as an error: a request the page should not have made, a script
        # failure. Refusals the pages show to the user (a second rating) are logged too.
        self.errors: list[str] = []

    def watch(self, context: Any) -> None:
        local = (self.server.url, "data:", "blob:")
        context.on(
            "request", lambda r: None if r.url.startswith(local) else self.outside.append(r.url)
        )
        context.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        context.on("weberror", lambda e: self.errors.append(str(e.error)))

    def page_for(self, username: str, lang: str = "zh") -> Any:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.watch(context)
        context.set_default_timeout(WAIT_MS)
        speak(context, lang)
        page = context.new_page()
        page.goto(f"{self.server.url}/#/login")
        page.get_by_label(re.compile("用户名|Username")).fill(username)
        page.get_by_label(re.compile("^(密码|Password)$")).fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.locator("#who").wait_for()
        return page

    def snap(self, page: Any, name: str) -> None:
        page.wait_for_load_state("load")
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        self.audit(page, name)
        assert not self.outside, f"requests to other servers by {name}: {self.outside[:5]}"

    def audit(self, page: Any, name: str) -> None:
        """No serious or critical axe-core violation on this page."""
        if not AXE.is_file():
            need(False, "axe-core", "run `npm ci` in frontend/ (make web does)")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
            f"{[n['target'] for n in v['nodes'][:3]]})"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"accessibility problems on {name}: {bad}"
        self.audited.append(name)

    def act(self, page: Any, case_id: int, action: str, status: str, **fill: Any) -> None:
        target = f"{self.server.url}/#/case/{case_id}"
        if page.url == target:
            page.reload()  # the same hash would not render the page again
        else:
            page.goto(target)
        form = page.locator(f"form[data-action={action}]")
        form.wait_for()
        if "reason" in fill:
            form.locator("textarea").fill(fill["reason"])
        if "photo" in fill:
            form.locator("input[type=file]").set_input_files(fill["photo"])
        form.locator("button[type=submit]").click()
        page.locator(f"#case-status[data-status={status}]").wait_for()


def test_one_case_through_every_role(browser: Any, web_server: Server, shots: Path) -> None:
    j = Journey(browser, web_server, shots)

    # The citizen: sign in, describe, take the suggested category, pin it, attach a photo.
    citizen = j.page_for("citizen")
    j.snap(citizen, "01-home-citizen")
    citizen.goto(f"{web_server.url}/#/report")
    citizen.locator("#report-map[data-ready] canvas").wait_for()
    j.snap(citizen, "02-report-empty")
    citizen.locator("form.report button[type=submit]").click()
    assert citizen.locator("[aria-invalid=true]").count() >= 3  # told next to each field
    citizen.get_by_label("问题描述").fill("小区东门外垃圾堆放三天无人清理，气味很大")
    assert citizen.locator("select[name=category]").input_value() == "E0102"
    box = citizen.locator("#report-map canvas").bounding_box()
    citizen.mouse.click(box["x"] + box["width"] * 0.46, box["y"] + box["height"] * 0.5)
    lon = float(citizen.locator("input[name=lon]").input_value())
    assert 116.30 < lon < 116.31  # the west district, where our handler works
    citizen.locator("input[name=photos]").set_input_files(PHOTO)
    citizen.locator("form.report button[type=submit]").click()
    number = citizen.locator("#case-number").inner_text()
    assert re.fullmatch(r"\S{6,}", number)
    j.snap(citizen, "03-report-done")
    href = citizen.get_by_role("link", name="查看进度").get_attribute("href")
    case_id = int(href.rsplit("/", 1)[1])

    # The inspector verifies it on site; it waits in their queue first.
    inspector = j.page_for("inspector", lang="en")
    inspector.goto(f"{web_server.url}/#/work")
    queue = inspector.locator("section[data-queue=to_verify]")
    queue.get_by_role("link", name=number).wait_for()
    row = queue.locator("tr").filter(has=inspector.get_by_role("link", name=number))
    rubbish = httpx.get(f"{web_server.url}/api/v1/categories/E0102").json()
    assert row.locator(".category").inner_text().startswith(rubbish["name_en"])
    j.snap(inspector, "04-workbench-inspector")
    j.act(inspector, case_id, "verify", "to_file", reason="Seen on site")

    leader = j.page_for("leader")
    j.act(leader, case_id, "file", "to_dispatch")

    dispatcher = j.page_for("dispatcher")
    dispatcher.goto(f"{web_server.url}/#/work")
    dispatcher.locator("section[data-queue=to_dispatch]").get_by_role(
        "link", name=number
    ).wait_for()
    j.snap(dispatcher, "05-workbench-dispatcher")
    dispatcher.goto(f"{web_server.url}/#/case/{case_id}")
    dispatcher.locator("form[data-action=dispatch]").wait_for()
    j.snap(dispatcher, "06-case-dispatcher")
    category = dispatcher.locator("#case-category .category")
    assert category.inner_text().startswith(rubbish["name_zh"])  # the name; the code beside it
    assert category.get_attribute("data-code") == "E0102"
    # Before dispatch the page says what the rules suggest; after, who sent it where and why.
    suggestion = dispatcher.locator("#route-explanation").inner_text()
    assert suggestion.startswith("尚未派遣，规则建议 west-office:"), suggestion
    j.act(dispatcher, case_id, "dispatch", "dispatched")  # empty: the duty rules decide
    assert dispatcher.locator("#case-department").inner_text() == "west-office"
    assert dispatcher.locator("#route-explanation").inner_text().startswith("west-office:")

    # The command centre sees it as an open cell and in the live feed.
    leader.goto(f"{web_server.url}/#/command")
    # The feed opens once the map has drawn; a loaded machine takes a while to get there.
    leader.locator("#feed[data-state=open]").wait_for(timeout=90_000)
    leader.locator(f"#feed li[data-case='{number}']").wait_for()
    leader.wait_for_function("Number(document.body.dataset.cells) >= 1")
    leader.locator("#district-table tbody tr").first.wait_for()
    j.snap(leader, "07-command-centre")

    handler = j.page_for("handler")
    j.act(handler, case_id, "accept", "handling")
    j.snap(handler, "08-case-handler")
    j.act(handler, case_id, "report_back", "to_check", reason="已清运", photo=PHOTO)

    j.act(inspector, case_id, "check", "to_close", reason="Clean now")
    j.act(leader, case_id, "close", "closed")

    # The hotline calls the citizen back (回访): solved, satisfied.
    operator = j.page_for("operator")
    operator.goto(f"{web_server.url}/#/case/{case_id}")
    callback = operator.locator("form[data-action=callback]")
    callback.get_by_label("满意", exact=True).check()
    j.snap(operator, "09-callback-operator")
    callback.locator("button[type=submit]").click()
    operator.locator("#callback-done").wait_for()

    # The citizen follows it: closed, with every step in the history and both photos.
    citizen.goto(f"{web_server.url}/#/mine")
    citizen.get_by_role("link", name=number).click()
    citizen.locator("#case-status[data-status=closed]").wait_for()
    assert citizen.locator(".history li").count() >= 8
    assert citizen.locator(".photos img").count() == 2
    j.snap(citizen, "10-case-closed-citizen")
    # The citizen rates it (评价), once: a second rating is refused with the reason.
    rating = citizen.locator("form[data-action=rating]")
    rating.get_by_label("基本满意").check()
    rating.locator("button[type=submit]").click()
    citizen.locator("#rating-done").wait_for()
    citizen.reload()
    citizen.locator("form[data-action=rating] button[type=submit]").click()
    refused = citizen.locator("form[data-action=rating] .field-error")
    refused.filter(has_text="once").wait_for()

    # The command centre's evaluation counts it: once the lake is refreshed from the database
    # (the server's own schedule would, every 15 minutes), the handling department's on-time
    # close rate for this month includes the case closed on time.
    db = Database(make_engine(f"sqlite:///{(web_server.data_dir / 'onegrid.sqlite3').as_posix()}"))
    try:
        Lake.under(web_server.data_dir).refresh(db)
    finally:
        db.engine.dispose()
    leader.goto(f"{web_server.url}/#/command")
    # The evaluation opens on the last complete month; this case closed in the current one.
    month = leader.locator("#rates-month")
    month.wait_for()
    current = month.get_attribute("max")
    assert month.input_value() < current  # the month before
    month.fill(current)
    month.dispatch_event("change")
    office = leader.locator("#on-time-table tbody tr").filter(has_text="西区办事处")
    office.wait_for()
    due, on_time = (int(c) for c in office.locator("td").all_inner_texts()[1:3])
    assert due >= 1 and on_time >= 1, office.inner_text()
    j.snap(leader, "10b-command-rates")

    # The same portal on a phone screen.
    phone = j.page_for("citizen", lang="en")
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{web_server.url}/#/report")
    phone.locator("#report-map[data-ready] canvas").wait_for()
    j.snap(phone, "11-report-phone")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert len(j.audited) == 12
    # The one error the browser logs is the second rating's refusal, shown to the citizen.
    assert j.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ], j.errors
    for p in (citizen, inspector, leader, dispatcher, handler, operator, phone):
        p.context.close()  # the command centre's live feed is a stream the server waits on


def test_language_switch_is_remembered(browser: Any, web_server: Server, shots: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{web_server.url}/#/")
    page.locator("#lang-switch").wait_for()
    start = page.evaluate("document.documentElement.lang")
    page.locator("#lang-switch").click()
    switched = page.evaluate("document.documentElement.lang")
    assert switched != start
    page.reload()
    page.locator("#lang-switch").wait_for()
    assert page.evaluate("document.documentElement.lang") == switched
    heading = page.locator("h1").inner_text()
    assert heading == ("One network for the city" if switched == "en" else "城市运行一网统管")
    context.close()


def test_an_expired_session_keeps_the_draft(browser: Any, web_server: Server) -> None:
    j = Journey(browser, web_server, Path("."))
    page = j.page_for("citizen", lang="en")
    page.goto(f"{web_server.url}/#/report")
    page.get_by_label("Description").fill("A broken street lamp near the school gate")
    page.context.clear_cookies()  # the session ends while the citizen is busy
    page.get_by_role("link", name="My requests").click()
    assert "draft was kept" in page.locator(".notice").inner_text()
    assert "#/login" in page.url
    page.get_by_label("Username").fill("citizen")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.locator("#who").wait_for()
    page.goto(f"{web_server.url}/#/report")
    page.get_by_label("Description").wait_for()
    assert page.get_by_label("Description").input_value().startswith("A broken street lamp")
    page.context.close()


def test_the_hotline_desk_previews_and_records_a_call(
    browser: Any, web_server: Server, shots: Path
) -> None:
    j = Journey(browser, web_server, shots)
    page = j.page_for("operator", lang="en")
    page.goto(f"{web_server.url}/#/hotline")
    page.locator("#hotline-map canvas").wait_for()
    page.get_by_label("What the caller said").fill("小区门口垃圾堆了三天 rubbish piled up")
    page.get_by_label("Caller's phone").fill("13800001111")
    page.get_by_label("Longitude").fill("116.305")
    page.get_by_label("Latitude").fill("39.905")
    page.get_by_label("Category").fill("E0102")  # no classifier is trained in this city
    page.locator("#preview").click()
    page.locator("#desk-route").wait_for()
    assert "west-office" in page.locator("#desk-route").inner_text()
    j.snap(page, "12-hotline-desk")
    page.get_by_role("button", name="Record the call").click()
    page.locator("#call-case").wait_for()
    assert "Outcome: case" in page.locator(".result p").inner_text()
    page.context.close()
