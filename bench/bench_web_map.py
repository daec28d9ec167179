"""The command centre's map data over 1 M cases with 50 k open, beside the raw SQL under it.

    python bench/bench_web_map.py                    # 1,000,000 cases, 5 % open
    python bench/bench_web_map.py --cases 100000     # quicker

A fresh SQLite city (the browser tests' one) gets N cases written with multi-row inserts, cloned
from one case made through the service (so every column is as the app writes it), spread over
the city with their H3 cell, a step deadline and, for 5 %, an open status. One uvicorn worker
serves the app. Figures: ``GET /api/v1/map/cells`` (whole city, resolution 8 and 10) and
``GET /api/v1/map/districts`` p50/p95, one request at a time; the raw baseline is the cells
endpoint's GROUP BY run straight on the database with sqlite3 in this process; and, when
/usr/bin/chromium is present, the command-centre page's first render in the browser (navigation
to boundaries and cells drawn).
"""

from __future__ import annotations

import argparse
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
    batch: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        for i in range(n):
            lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
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
                    "lon": lon,
                    "lat": lat,
                    "h3_10": h3.latlng_to_cell(lat, lon, 10),
                    "district_code": "110101" if lon < 116.31 else "110112",
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
    import os
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


def browser_first_render(url: str) -> float | None:
    if not Path("/usr/bin/chromium").exists():
        return None
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
        page.goto(f"{url}/#/")
        t = time.perf_counter()
        page.goto(f"{url}/#/command")
        page.wait_for_function("document.body.dataset.firstRenderMs !== undefined", timeout=60_000)
        page.wait_for_function("document.body.dataset.cells !== undefined")
        elapsed = (time.perf_counter() - t) * 1000
        print(
            f"  page says: first render {page.evaluate('document.body.dataset.firstRenderMs')} ms,"
            f" cells {page.evaluate('document.body.dataset.cells')}"
        )
        b.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--open-share", type=float, default=0.05)
    ap.add_argument("--repeat", type=int, default=40)
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
        raw = timed(raw_group_by(data / "onegrid.sqlite3"), args.repeat)
        proc, url = serve(data)
        try:
            with httpx.Client(base_url=url, timeout=60) as c:
                c.post("/api/v1/web/session", data={"username": "leader", "password": PASSWORD})
                figures = {}
                for res in (8, 10):
                    r = c.get("/api/v1/map/cells", params={"resolution": res}).json()
                    print(
                        f"  resolution {res}: {len(r['features']):,} cells served"
                        f" (resolution {r['resolution']}), {r['total']:,} open cases"
                    )
                    figures[f"cells r{res}"] = timed(
                        lambda res=res: c.get("/api/v1/map/cells", params={"resolution": res}),
                        args.repeat,
                    )
                figures["districts"] = timed(lambda: c.get("/api/v1/map/districts"), args.repeat)
                cold = []  # after a write the cached counts are stale: the GROUP BY runs again
                for i in range(5):
                    made = c.post(
                        "/api/v1/cases",
                        json={
                            "category_code": "E0102",
                            "channel": "web_app",
                            "description": f"bench write {i}",
                            "lon": 116.305,
                            "lat": 39.91,
                        },
                    )
                    assert made.status_code == 201, made.text
                    t = time.perf_counter()
                    c.get("/api/v1/map/cells", params={"resolution": 8})
                    cold.append((time.perf_counter() - t) * 1000)
                print(
                    f"  cells right after a write (recomputed): "
                    f"median {statistics.median(cold):.0f}"
                    f" ms, max {max(cold):.0f} ms"
                )
                # The drill-down from the busiest resolution-8 cell, and the heat of 30 days.
                r8 = c.get("/api/v1/map/cells", params={"resolution": 8}).json()["features"]
                busiest = max(r8, key=lambda f: f["properties"]["total"])["properties"]["cell"]
                drill = c.get(f"/api/v1/map/cells/{busiest}/cases").json()
                print(f"  drill-down cell {busiest}: {drill['total']:,} open, first 100 served")
                drills = {
                    "drill-down (cell → cases)": (
                        timed(lambda: c.get(f"/api/v1/map/cells/{busiest}/cases"), args.repeat),
                        timed(raw_drill(data / "onegrid.sqlite3", busiest), args.repeat),
                    ),
                    "heat, 30 days, counts reused": (
                        timed(lambda: c.get("/api/v1/map/heat", params={"days": 30}), args.repeat),
                        timed(raw_heat(data / "onegrid.sqlite3", 30), args.repeat),
                    ),
                }
            with httpx.Client(base_url=url, timeout=60) as ic:
                ic.post("/api/v1/web/session", data={"username": "inspector", "password": PASSWORD})
                mine = ic.get("/api/v1/map/my-grids").json()
                opened = sum(g["properties"]["open"] for g in mine["grids"]["features"])
                print(
                    f"  my grids: {len(mine['grids']['features']):,} grids, {opened:,} open cases"
                )
                figures["my grids (inspector)"] = timed(
                    lambda: ic.get("/api/v1/map/my-grids"), args.repeat
                )
            print(f"  raw GROUP BY (sqlite3): p50 {p(raw, 50):.1f} ms, p95 {p(raw, 95):.1f} ms")
            for name, (served, bare) in drills.items():
                ratio = p(served, 95) / p(bare, 95)
                print(
                    f"  {name}: p50 {p(served, 50):.1f} ms, p95 {p(served, 95):.1f} ms;"
                    f" its raw SQL p95 {p(bare, 95):.1f} ms, ratio {ratio:.2f}"
                )
            for name, values in figures.items():
                print(
                    f"  {name}: p50 {p(values, 50):.1f} ms, p95 {p(values, 95):.1f} ms,"
                    f" ratio to raw p95 {p(values, 95) / p(raw, 95):.1f}x"
                )
            first = browser_first_render(url)
            if first is not None:
                print(f"  command centre first render in Chromium: {first:.0f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
