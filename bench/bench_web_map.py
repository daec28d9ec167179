"""The command centre's map data and an inspector's grids over 1 M cases with 50 k open, each
call beside the raw SQL under it, and the command centre's first render in Chromium.

    python bench/bench_web_map.py                    # 1,000,000 cases, 5 % open
    python bench/bench_web_map.py --cases 100000     # quicker
    python bench/bench_web_map.py --data DIR         # build once into DIR, reuse it after

A fresh SQLite city (the browser tests' one) gets N cases written with multi-row inserts, cloned
from one case made through the service (so every column is as the app writes it), spread over
the city and placed by the city's locator (H3 cell, areas, unit grid), with a step deadline and,
for 5 %, an open status. One uvicorn worker serves the app. For each API call behind the map
and the "my grids" page: p50/p95 served, one request at a time, and p50/p95 of its statements
run straight on the database with sqlite3 in this process (the raw limit), and the ratio of the
p95s; calls that reuse kept counts are also timed right after a write. Then, when
/usr/bin/chromium is present, the command centre's first render (boundaries and cells drawn, the
map idle), from a fresh document and from another page, with the page's own marks and every
request of the last run; the floor beside it is MapLibre's own start in the same page. The load
average is printed at the start, after the API calls and at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import httpx
import numpy as np
from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.city import PASSWORD, build_browser_city  # noqa: E402
from tests.integration.sensing.city import EAST, NORTH, SOUTH, WEST  # noqa: E402

from onegrid.cases import services  # noqa: E402
from onegrid.cases.config import case_rules  # noqa: E402
from onegrid.cases.domain.intake import NewCase  # noqa: E402
from onegrid.cases.domain.states import Channel  # noqa: E402
from onegrid.cases.records import CASES  # noqa: E402
from onegrid.core.clock import SystemClock  # noqa: E402
from onegrid.db.engine import make_engine  # noqa: E402
from onegrid.db.session import Database  # noqa: E402
from onegrid.grid.location import locate_many  # noqa: E402
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope  # noqa: E402
from onegrid.schema import migrate  # noqa: E402

OPEN = ["to_verify", "to_file", "to_dispatch", "dispatched", "handling", "to_check", "to_close"]


def build(data: Path, n: int, open_share: float) -> None:
    db = Database(make_engine(f"sqlite:///{(data / 'onegrid.sqlite3').as_posix()}"))
    migrate(db.engine)
    clock = SystemClock()
    with db.unit_of_work() as session:
        build_browser_city(session, clock, data)
    staff = Principal(1, "bench", PrincipalKind.USER, (Grant(Role.INSPECTOR, Scope.city()),))
    with db.unit_of_work() as session:
        made = services.create_case_in(
            session,
            staff,
            NewCase("E0102", Channel.INSPECTOR, "垃圾堆放 (bench)", 116.305, 39.91),
            clock=clock,
            rules=case_rules("Asia/Shanghai"),
        )
        template = dict(
            session.execute(select(CASES).where(CASES.c.id == made.case.id)).one()._mapping
        )
    template.pop("id")
    rng = random.Random(7)
    now = datetime.now(UTC)
    base = now - timedelta(days=700)
    lon = np.array([rng.uniform(WEST, EAST) for _ in range(n)])
    lat = np.array([rng.uniform(SOUTH, NORTH) for _ in range(n)])
    # Every case where the app would put it: its unit grid and areas from the city's locator,
    # so an inspector's grids hold the cases that lie in them (not one grid holding them all).
    with db.unit_of_work() as session:
        at = locate_many(session, lon, lat, cells=(10,))
    batch: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        for i in range(n):
            is_open = rng.random() < open_share
            created = (
                now - timedelta(hours=rng.uniform(1, 200))
                if is_open
                else base + timedelta(seconds=i * 50)
            )
            deadline = created + timedelta(hours=rng.choice([2, 4, 24, 72, 240]))
            batch.append(
                {
                    **template,
                    "number": f"W{i:010d}",
                    "lon": float(lon[i]),
                    "lat": float(lat[i]),
                    "h3_10": h3.int_to_str(int(at.h3_10[i])),
                    "city_code": at.city[i] or None,
                    "district_code": at.district[i] or None,
                    "subdistrict_code": at.subdistrict[i] or None,
                    "community_code": at.community[i] or None,
                    "unit_grid_code": at.unit_grid[i] or None,
                    "status": rng.choice(OPEN) if is_open else "closed",
                    "created_at": created,
                    "updated_at": created,
                    "step_started_at": created,
                    "step_deadline": deadline if is_open else None,
                    "step_warn_at": deadline - (deadline - created) * 0.2 if is_open else None,
                    "closed_at": None if is_open else created + timedelta(hours=30),
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(CASES), batch)
                batch.clear()
        if batch:
            conn.execute(insert(CASES), batch)
    print(f"  wrote {n:,} cases in {time.perf_counter() - t0:.0f} s")
    db.engine.dispose()


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "ONEGRID_DATA_DIR": str(data),
        "ONEGRID_LOG_LEVEL": "WARNING",
        "ONEGRID_CASES_SCHEDULER_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "onegrid.api.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return proc, url


def timed(fn: Any, repeat: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def after_writes(client: httpx.Client, channel: str, read: Any, writes: int = 5) -> list[float]:
    """Milliseconds of ``read`` right after each of ``writes`` new cases in the busiest cell."""
    times = []
    for i in range(writes):
        made = client.post(
            "/api/v1/cases",
            json={
                "category_code": "E0102",
                "channel": channel,
                "description": f"bench {channel} write {i}",
                "lon": 116.305,
                "lat": 39.91,
            },
        )
        assert made.status_code == 201, made.text
        t = time.perf_counter()
        read()
        times.append((time.perf_counter() - t) * 1000)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def raw_group_by(db_file: Path) -> Any:
    con = sqlite3.connect(db_file)
    marks = ",".join("?" * len(OPEN))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    sql = (
        f"SELECT h3_10, count(*), sum(step_deadline < ?), sum(step_warn_at < ?) FROM cases "
        f"WHERE status IN ({marks}) AND h3_10 IS NOT NULL GROUP BY h3_10"
    )
    return lambda: con.execute(sql, (now, now, *OPEN)).fetchall()


def raw_drill(db_file: Path, cell: str) -> Any:
    """The drill-down's two statements (count and first page) straight on the database."""
    from onegrid.api.v1.map import _fine_range

    con = sqlite3.connect(db_file)
    first, last = _fine_range(cell)
    marks = ",".join("?" * len(OPEN))
    where = f"status IN ({marks}) AND h3_10 BETWEEN ? AND ?"
    count = f"SELECT count(*) FROM cases WHERE {where}"
    page = (
        f"SELECT id, number, status, category_code, step_deadline, lon, lat FROM cases "
        f"WHERE {where} ORDER BY step_deadline IS NULL, step_deadline, id LIMIT 100"
    )

    def run() -> Any:
        con.execute(count, (*OPEN, first, last)).fetchall()
        return con.execute(page, (*OPEN, first, last)).fetchall()

    return run


def raw_heat(db_file: Path, days: int) -> Any:
    con = sqlite3.connect(db_file)
    since = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    # The plan the app gets (down the created_at index); grouping by the bare h3_10 makes
    # SQLite walk that whole index instead, 10x slower at 1 M cases.
    sql = (
        "SELECT coalesce(h3_10, ''), district_code, count(*) FROM cases WHERE created_at >= ? "
        "GROUP BY coalesce(h3_10, ''), district_code"
    )
    return lambda: con.execute(sql, (since,)).fetchall()


def raw_my_grids(db_file: Path, user_id: int) -> Any:
    """The my-grids call's statements straight on the database: the inspector's grids, their
    open-case tallies by grid and light, the 501 most urgent ids and those rows."""
    con = sqlite3.connect(db_file)
    today = datetime.now(UTC).date().isoformat()
    marks = ",".join("?" * len(OPEN))

    def run() -> Any:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        codes = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT unit_grid_code FROM inspector_grids WHERE user_id = ? AND "
                "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) ORDER BY 1",
                (user_id, today, today),
            )
        ]
        grids = ",".join("?" * len(codes))
        where = f"unit_grid_code IN ({grids}) AND status IN ({marks})"
        con.execute(
            "SELECT unit_grid_code, count(*), sum(CASE WHEN step_frozen_light = 'red' OR "
            "(step_frozen_light IS NULL AND step_deadline < ?) THEN 1 ELSE 0 END), "
            "sum(CASE WHEN step_frozen_light = 'yellow' OR (step_frozen_light IS NULL AND "
            "step_deadline >= ? AND step_warn_at < ?) THEN 1 ELSE 0 END) "
            f"FROM cases WHERE {where} GROUP BY unit_grid_code",
            (now, now, now, *codes, *OPEN),
        ).fetchall()
        ids = [
            r[0]
            for r in con.execute(
                f"SELECT id FROM cases WHERE {where} "
                "ORDER BY step_deadline IS NULL, step_deadline, id LIMIT 501",
                (*codes, *OPEN),
            )
        ]
        rows = ",".join("?" * len(ids))
        return con.execute(
            "SELECT id, number, status, category_code, step_deadline, district_code, "
            f"unit_grid_code, lon, lat, created_at FROM cases WHERE id IN ({rows})",
            ids,
        ).fetchall()

    return run


def raw_shapes(db_file: Path, user_id: int) -> Any:
    """The inspector's grid shapes read straight from the database (what a 200 costs without
    turning WKB into GeoJSON)."""
    con = sqlite3.connect(db_file)
    sql = (
        "SELECT code, geometry FROM unit_grids WHERE code IN (SELECT unit_grid_code FROM "
        "inspector_grids WHERE user_id = ?) AND valid_to IS NULL ORDER BY code"
    )
    return lambda: con.execute(sql, (user_id,)).fetchall()


# What the command-centre page marks (frontend/src/pages/command.ts), in order.
MARKS = ("command:start", "command:map-loaded", "command:cells", "command:first-render")


def _first_render_once(page: Any, url: str, cold: bool) -> dict[str, Any]:
    page.evaluate("performance.clearMarks(); performance.clearResourceTimings()")
    if cold:  # a fresh document: the bundle, the map's chunk and every call
        page.goto("about:blank")
        t = time.perf_counter()
        page.goto(f"{url}/#/command")
    else:  # from another page of the app, as a leader moves through it
        page.goto(f"{url}/#/")
        page.locator("#who").wait_for()
        page.evaluate("performance.clearMarks(); performance.clearResourceTimings()")
        t = time.perf_counter()
        page.evaluate("location.hash = '#/command'")
    page.wait_for_function("document.body.dataset.firstRenderMs !== undefined", timeout=60_000)
    wall = (time.perf_counter() - t) * 1000
    marks = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
    calls = page.evaluate(
        "performance.getEntriesByType('resource').filter(r => r.name.includes('/api/') ||"
        " r.name.includes('/assets/')).map(r => [r.name.replace(location.origin, ''),"
        " r.startTime, r.responseEnd, r.transferSize])"
    )
    start = marks.get("command:start", 0.0)
    out = {
        "wall": wall,
        "page": float(page.evaluate("Number(document.body.dataset.firstRenderMs)")),
    }
    out |= {m: marks[m] - start for m in MARKS if m in marks}
    out["calls"] = calls
    page.evaluate("delete document.body.dataset.firstRenderMs; delete document.body.dataset.cells")
    return out


def browser_first_render(url: str, repeat: int) -> None:
    """The command centre's first render in Chromium, cold (a fresh document) and warm (from
    another page), with where the time went; the floor is MapLibre's own start in the same
    page: its style loaded and first frame ready, before any of the page's data is drawn."""
    if repeat < 1:
        return
    if not Path("/usr/bin/chromium").exists():
        print("  (no /usr/bin/chromium: the first render is not measured)")
        return
    from playwright.sync_api import sync_playwright
    from tests.browser.conftest import CHROMIUM_ARGS

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = b.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page.goto(f"{url}/#/login")
        page.locator("input[name=username]").fill("leader")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.locator("#who").wait_for()
        for cold in (True, False):
            runs = [_first_render_once(page, url, cold) for _ in range(repeat)]
            walls = [r["wall"] for r in runs]
            floor = [r.get("command:map-loaded", float("nan")) for r in runs]
            name = "cold (fresh document)" if cold else "warm (from another page)"
            print(
                f"  command centre first render, {name}: p50 {p(walls, 50):.0f} ms,"
                f" p95 {p(walls, 95):.0f} ms (page's own clock p50"
                f" {statistics.median(r['page'] for r in runs):.0f} ms); MapLibre loaded at"
                f" p50 {statistics.median(floor):.0f} ms, ratio"
                f" {statistics.median(r['page'] for r in runs) / statistics.median(floor):.2f}"
            )
            last = runs[-1]
            steps = ", ".join(f"{m.split(':')[1]} {last[m]:.0f}" for m in MARKS if m in last)
            print(f"    last run, ms after the page started: {steps}")
            for name_, start, end, size in last["calls"]:
                print(f"      {start:7.0f} → {end:7.0f} ms  {size / 1024:7.1f} KiB  {name_[:90]}")
        b.close()


def load() -> str:
    return "load average " + " / ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--open-share", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--renders", type=int, default=5, help="First renders timed in Chromium")
    ap.add_argument("--data", type=Path, help="Reuse (or keep) the city in this directory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="onegrid-bench-web-") as tmp:
        data = args.data or Path(tmp)
        if (data / "onegrid.sqlite3").exists():
            print(f"reusing the city in {data}")
        else:
            data.mkdir(parents=True, exist_ok=True)
            print(f"building a city with {args.cases:,} cases ({args.open_share:.0%} open)…")
            build(data, args.cases, args.open_share)
        print(f"  at the start: {load()}")
        db_file = data / "onegrid.sqlite3"
        raw = timed(raw_group_by(db_file), args.repeat)
        proc, url = serve(data)
        try:
            with httpx.Client(base_url=url, timeout=60) as c:
                c.post("/api/v1/web/session", data={"username": "leader", "password": PASSWORD})
                calls: dict[str, tuple[list[float], list[float]]] = {}
                for res in (8, 10):
                    r = c.get("/api/v1/map/cells", params={"resolution": res}).json()
                    print(
                        f"  resolution {res}: {len(r['features']):,} cells served"
                        f" (resolution {r['resolution']}), {r['total']:,} open cases"
                    )
                    calls[f"cells r{res} (counts reused)"] = (
                        timed(
                            lambda res=res: c.get("/api/v1/map/cells", params={"resolution": res}),
                            args.repeat,
                        ),
                        raw,
                    )
                calls["districts (counts reused)"] = (
                    timed(lambda: c.get("/api/v1/map/districts"), args.repeat),
                    raw,
                )
                # After a write the cached counts are stale: the GROUP BY runs again.
                cold = after_writes(
                    c, "web_app", lambda: c.get("/api/v1/map/cells", params={"resolution": 8})
                )
                calls["cells right after a write (recounted)"] = (cold, raw)
                # The drill-down from the busiest resolution-8 cell, and the heat of 30 days.
                r8 = c.get("/api/v1/map/cells", params={"resolution": 8}).json()["features"]
                busiest = max(r8, key=lambda f: f["properties"]["total"])["properties"]["cell"]
                drill = c.get(f"/api/v1/map/cells/{busiest}/cases").json()
                print(f"  drill-down cell {busiest}: {drill['total']:,} open, first 100 served")
                calls["drill-down (cell → cases)"] = (
                    timed(lambda: c.get(f"/api/v1/map/cells/{busiest}/cases"), args.repeat),
                    timed(raw_drill(db_file, busiest), args.repeat),
                )
                calls["heat, 30 days (counts reused)"] = (
                    timed(lambda: c.get("/api/v1/map/heat", params={"days": 30}), args.repeat),
                    timed(raw_heat(db_file, 30), args.repeat),
                )
            with httpx.Client(base_url=url, timeout=60) as ic:
                ic.post("/api/v1/web/session", data={"username": "inspector", "password": PASSWORD})
                me = ic.get("/api/v1/me").json()
                mine = ic.get("/api/v1/map/my-grids").json()
                shapes = ic.get("/api/v1/map/my-grids/shapes")
                opened = sum(g["open"] for g in mine["grids"])
                print(
                    f"  my grids: {len(mine['grids']):,} grids ({len(shapes.content) / 1024:.0f}"
                    f" KiB of shapes), {opened:,} open cases in them,"
                    f" {len(mine['cases']['features'])} served as points"
                )
                calls["my grids: tallies and urgent cases"] = (
                    timed(lambda: ic.get("/api/v1/map/my-grids"), args.repeat),
                    timed(raw_my_grids(db_file, me["id"]), args.repeat),
                )
                calls["my grids: shapes (200)"] = (
                    timed(lambda: ic.get("/api/v1/map/my-grids/shapes"), args.repeat),
                    timed(raw_shapes(db_file, me["id"]), args.repeat),
                )
                # A case written in the grids: the answer is made again.
                recounted = after_writes(ic, "inspector", lambda: ic.get("/api/v1/map/my-grids"))
                calls["my grids right after a write (recounted)"] = (
                    recounted,
                    timed(raw_my_grids(db_file, me["id"]), 5),
                )
                tag = {"If-None-Match": shapes.headers["etag"]}
                calls["my grids: shapes revalidated (304)"] = (
                    timed(lambda: ic.get("/api/v1/map/my-grids/shapes", headers=tag), args.repeat),
                    timed(raw_shapes(db_file, me["id"]), args.repeat),
                )
            print(
                f"  raw cells GROUP BY (sqlite3): p50 {p(raw, 50):.1f} ms, p95 {p(raw, 95):.1f} ms"
            )
            print(
                "  API call: served p50 / p95; its statements raw in sqlite3 p50 / p95;"
                " ratio of the p95s"
            )
            for name, (served, bare) in calls.items():
                print(
                    f"  {name}: {p(served, 50):.1f} / {p(served, 95):.1f} ms;"
                    f" raw {p(bare, 50):.1f} / {p(bare, 95):.1f} ms;"
                    f" ratio {p(served, 95) / p(bare, 95):.2f}"
                )
            print(f"  after the API calls: {load()}")
            browser_first_render(url, args.renders)
            print(f"  at the end: {load()}")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
