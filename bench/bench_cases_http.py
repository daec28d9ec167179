"""Cases over HTTP: create, transition and list, beside a bare FastAPI endpoint.

    python bench/bench_cases_http.py                  # quick: SQLite and PostgreSQL (if up)
    python bench/bench_cases_http.py --cases 1000000  # the full 1 M-case listing figure

Each backend gets a fresh database with a small located city. One uvicorn worker serves the
OneGrid app; another serves a bare FastAPI endpoint that parses the same body and inserts the
same row into the same ``cases`` table (the raw limit). The load comes from a separate process:
64 keep-alive HTTP/1.1 connections on asyncio streams. Figures: cases/s with p50/p99 latency and
the ratio to the bare endpoint, and the server's CPU time per request beside the bare server's
(on a shared machine the rates follow whatever else runs; the CPU a request costs much less
so), for a citizen's web report (screened for duplicates; the reports spread over twenty
categories, or one with ``--hot-spot``) and an inspector's report (not screened);
transitions/s (``accept``, bearer-token auth, version check, history);
listing p95 over N cases generated with a bulk insert (not through the API), one request at a
time, cycling through filter mixes, against its raw limit: the same page statements replayed on
the driver's cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import shapely
from _pg import drop_database, fresh_database
from sqlalchemy import create_engine, insert, text

HERE = Path(__file__).resolve()
PASSWORD = "bench password 123"
WEST, MID, EAST, SOUTH, NORTH = 116.30, 116.31, 116.32, 39.90, 39.92
POINT = (116.305, 39.91)
WORDS = ["垃圾", "噪音", "井盖", "停车", "noise"]
BODY = {
    "category_code": "E0102",
    "channel": "web_app",
    "nature": "complaint",
    "description": "小区东门外垃圾堆放 (bench)",
    "lon": POINT[0],
    "lat": POINT[1],
    "address": "示范路 12 号",
    "reporter": {"name": "张三", "phone": "13812345678"},
}


# A city's reports spread over its categories: twenty of the shipped event classes that the
# hotline hears most (rubbish, roads, noise, parking, vendors, utilities, estates). A new report
# is screened against the open ones of its own category near it (ADR 0007), so the mix, not
# the city's size, sets how many a check scores; ``--hot-spot`` posts one category only.
MIX = (
    "E0102", "E0103", "E0104", "E0108", "E0110", "E0111", "E0201", "E0301", "E0302", "E0304",
    "E0405", "E0501", "E0504", "E0505", "E0506", "E0508", "E0601", "E0602", "E0701", "E0801",
)  # fmt: skip
HOT_SPOT = ("E0102",)


def bodies(n: int, seed: int = 11, categories: tuple[str, ...] = MIX) -> list[dict[str, Any]]:
    """``n`` reports at different places with different words, of ``categories`` in turn at
    random. Identical reports are not a city's load, and every intake screens for duplicates
    (ADR 0007): 2,000 copies of one report at one point make each create compare with every
    earlier one."""
    rng = random.Random(seed)
    return [
        {
            **BODY,
            "category_code": rng.choice(categories),
            "description": f"{rng.choice(WORDS)} {rng.choice(WORDS)} 第 {i} 处 (bench)",
            "lon": round(rng.uniform(WEST + 0.0005, EAST - 0.0005), 6),
            "lat": round(rng.uniform(SOUTH + 0.0005, NORTH - 0.0005), 6),
        }
        for i in range(n)
    ]


# ----------------------------------------------------------------------------- the bare app
def bare_app(url: str) -> Any:
    """FastAPI, the same request model, one INSERT of a full case row, commit; in both of its
    plain forms: ``/bare`` on the event loop (less CPU: 0.6 against 1.0 ms a request in a first
    trial) and ``/bare-sync`` through the thread pool (the loop never waits for the disk). The
    raw limit is whichever reaches more in the run."""
    from fastapi import FastAPI

    from onegrid.cases.records import CASES
    from onegrid.cases.schemas import CaseCreate
    from onegrid.db.engine import make_engine

    engine = make_engine(url)
    app = FastAPI()
    stmt = insert(CASES).returning(CASES.c.id)
    row = _row_template()

    def insert_row(body: CaseCreate) -> dict[str, Any]:
        now = datetime.now(UTC)
        values = {
            **row,
            "number": uuid.uuid4().hex[:24],
            "description": body.description,
            "lon": body.lon,
            "lat": body.lat,
            "created_at": now,
            "updated_at": now,
            "step_started_at": now,
            "step_deadline": now,
            "step_warn_at": now,
        }
        with engine.begin() as conn:
            new_id = conn.execute(stmt, values).scalar_one()
        return {"id": new_id, "number": values["number"]}

    async def bare(body: CaseCreate) -> dict[str, Any]:
        return insert_row(body)

    def bare_sync(body: CaseCreate) -> dict[str, Any]:
        return insert_row(body)

    # This module defers annotations and CaseCreate is imported here, not at module level:
    # without this FastAPI took "body" for a query parameter, and the baseline measured 422s.
    for endpoint in (insert_row, bare, bare_sync):
        endpoint.__annotations__["body"] = CaseCreate
    app.post("/bare", status_code=201)(bare)
    app.post("/bare-sync", status_code=201)(bare_sync)
    return app


def _row_template() -> dict[str, Any]:
    return {
        "category_code": "E0102",
        "component_id": None,
        "channel": "web_app",
        "nature": "complaint",
        "urgency": "normal",
        "address": "示范路 12 号",
        "tags": [],
        "h3_10": "8a31aa5a1a67fff",
        "city_code": "110000",
        "district_code": "110101",
        "subdistrict_code": "110101001",
        "community_code": "110101001001",
        "unit_grid_code": "110101001001001",
        "region_class": "core",
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
        "reporter_email": None,
        "reporter_user_id": None,
        "created_by": "anonymous",
        "external_ref": None,
        "source_type": None,
        "status": "to_verify",
        "version": 1,
        "department_code": None,
        "suggested_department_code": "sanitation",
        "merged_into_id": None,
        "split_parent_id": None,
        "limits_version": "2025.01",
        "step": "dispatch",
        "step_round": 1,
        "step_natural": False,
        "step_allowed_us": 7_200_000_000,
        "step_held_us": 0,
        "step_hold_started_at": None,
        "step_frozen_light": None,
        "overdue_steps": 0,
        "overdue_marked": False,
        "escalation_tier": 0,
        "escalated_to": None,
        "extensions_granted": 0,
        "extension_pending": None,
        "check_passed": None,
        "returns": 0,
        "reworks": 0,
        "reopens": 0,
        "filed_at": None,
        "dispatched_at": None,
        "closed_at": None,
    }


# ----------------------------------------------------------------------------- the load
# The load is HTTP/1.1 keep-alive over plain asyncio streams. httpx was tried first: its
# AsyncClient with 64 connections reached 262 req/s against a /healthz that serves 2,000 req/s
# (64 one-connection clients: 866 req/s) on this 2-core machine: it measured itself, not the
# server. ``--client httpx`` still runs it, for comparison.


async def _raw_worker(
    host: str,
    port: int,
    method: str,
    queue: list[tuple[str, bytes]],
    headers: dict[str, str],
    latencies: list[float],
    statuses: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        while queue:
            path, body = queue.pop()
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            t = time.perf_counter()
            writer.write(head.encode() + body)
            await writer.drain()
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.split(b"\r\n")
            length = next(
                int(ln.split(b":")[1]) for ln in lines if ln.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            statuses.append(int(lines[0].split()[1]))
    finally:
        writer.close()


async def _httpx_worker(
    client: httpx.AsyncClient,
    method: str,
    queue: list[tuple[str, bytes]],
    latencies: list[float],
    statuses: list[int],
) -> None:
    while queue:
        path, body = queue.pop()
        t = time.perf_counter()
        resp = await client.request(
            method, path, content=body, headers={"Content-Type": "application/json"}
        )
        latencies.append(time.perf_counter() - t)
        statuses.append(resp.status_code)


async def _load(
    url: str,
    method: str,
    paths: list[str],
    body: dict[str, Any] | list[dict[str, Any]] | None,
    headers: dict[str, str],
    connections: int,
    client: str = "raw",
) -> dict[str, float]:
    latencies: list[float] = []
    statuses: list[int] = []
    many = body if isinstance(body, list) else [body]
    data = [json.dumps(b).encode() if b is not None else b"" for b in many]
    queue = list(reversed([(p, data[i % len(data)]) for i, p in enumerate(paths)]))
    host, port = url.removeprefix("http://").split(":")
    start = time.perf_counter()
    if client == "httpx":
        clients = [
            httpx.AsyncClient(
                base_url=url, headers=headers, timeout=120, limits=httpx.Limits(max_connections=1)
            )
            for _ in range(connections)
        ]
        await asyncio.gather(
            *(_httpx_worker(c, method, queue, latencies, statuses) for c in clients)
        )
        for c in clients:
            await c.aclose()
    else:
        await asyncio.gather(
            *(
                _raw_worker(host, int(port), method, queue, headers, latencies, statuses)
                for _ in range(connections)
            )
        )
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": q[49] * 1e3,
        "p95_ms": q[94] * 1e3,
        "p99_ms": q[98] * 1e3,
        "failures": sum(s >= 300 for s in statuses),
        "n": len(latencies),
    }


CLIENT = "raw"


def load(
    url: str,
    method: str,
    paths: list[str],
    body: dict[str, Any] | list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    connections: int = 64,
) -> dict[str, float]:
    """Run the load in a separate process, so the client does not share the server's GIL."""
    spec = json.dumps(
        {
            "url": url,
            "method": method,
            "paths": paths,
            "body": body,
            "headers": headers or {},
            "connections": connections,
            "client": CLIENT,
        }
    )
    out = subprocess.run(
        [sys.executable, str(HERE), "--load-spec", "-"],
        input=spec.encode(),
        capture_output=True,
        timeout=900,
    )
    if out.returncode:
        raise RuntimeError(out.stderr.decode()[-2000:])
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- the city
def build_city(url: str, data_dir: Path) -> dict[str, str]:
    """Areas, H3 unit grids, departments, the taxonomy, duty rules and two users."""
    from onegrid.assets import services as assets
    from onegrid.core.clock import SystemClock
    from onegrid.db.engine import make_engine
    from onegrid.db.session import Database
    from onegrid.grid import services as grid
    from onegrid.grid.domain import Level
    from onegrid.grid.importing.areas import AreaImportOptions
    from onegrid.grid.importing.reading import read_features
    from onegrid.people import services as people
    from onegrid.people.domain import Grant, Role, Scope
    from onegrid.schema import migrate

    db = Database(make_engine(url))
    migrate(db.engine)
    clock, start = SystemClock(), date(2025, 1, 1)
    west, east = shapely.box(WEST, SOUTH, MID, NORTH), shapely.box(MID, SOUTH, EAST, NORTH)
    levels = {
        "city": [("110000", None, shapely.box(WEST, SOUTH, EAST, NORTH))],
        "district": [("110101", "110000", west), ("110112", "110000", east)],
        "subdistrict": [("110101001", "110101", west), ("110112001", "110112", east)],
        "community": [("110101001001", "110101001", west), ("110112001001", "110112001", east)],
    }
    with db.unit_of_work() as s:
        for level, areas in levels.items():
            feats = [
                {
                    "type": "Feature",
                    "properties": {"code": c, "parent": p},
                    "geometry": shapely.geometry.mapping(g),
                }
                for c, p, g in areas
            ]
            path = data_dir / f"{level}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
            grid.import_areas(
                s,
                read_features(path),
                AreaImportOptions(
                    level=Level(level),
                    code_field="code",
                    valid_from=start,
                    parent_field="parent" if level != "city" else None,
                ),
                clock,
            )
        grid.generate_unit_grids(s, clock, valid_from=start)
        for code in ("sanitation", "roads", "office"):
            people.create_department(s, code, code, clock)
        assets.ensure_taxonomy(s, clock)
        grid.set_duty_rule(
            s,
            clock,
            area_code="110000",
            category_prefix="E01",
            department_code="sanitation",
            valid_from=start,
        )
        people.create_user(
            s,
            "handler",
            PASSWORD,
            clock,
            grants=[Grant(Role.DEPARTMENT_HANDLER, Scope.department("sanitation"))],
            department_codes=["sanitation"],
        )
        people.create_user(
            s, "admin", PASSWORD, clock, grants=[Grant(Role.CITY_ADMIN, Scope.city())]
        )
        people.create_user(
            s, "inspector", PASSWORD, clock, grants=[Grant(Role.INSPECTOR, Scope.city())]
        )
    db.engine.dispose()
    return {"handler": "handler", "admin": "admin", "inspector": "inspector"}


def bulk_cases(url: str, n: int, status: str, seed: int = 7) -> None:
    """``n`` synthetic cases written with multi-row inserts (not through the API)."""
    from onegrid.cases.records import CASES

    rng = random.Random(seed)
    engine = create_engine(url) if url.startswith("postgresql") else None
    from onegrid.db.engine import make_engine

    engine = engine or make_engine(url)
    statuses = [
        "to_verify",
        "to_file",
        "to_dispatch",
        "dispatched",
        "handling",
        "to_check",
        "closed",
        "closed",
        "closed",
        "closed",
    ]
    cats = ["E0102", "E0104", "E0501", "E0504", "E0801", "E0602", "C0101", "E0108"]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    row = _row_template()
    batch: list[dict[str, Any]] = []
    stamp = uuid.uuid4().hex[:6]
    with engine.begin() as conn:
        for i in range(n):
            created = base + timedelta(seconds=i * 40)
            district = "110101" if i % 3 else "110112"
            st = status or rng.choice(statuses)
            deadline = created + timedelta(hours=rng.choice([2, 4, 24, 72]))
            batch.append(
                {
                    **row,
                    "number": f"B{stamp}{i:09d}",
                    "category_code": rng.choice(cats),
                    "district_code": district,
                    "subdistrict_code": district + "001",
                    "community_code": district + "001001",
                    "unit_grid_code": f"{district}001001{rng.randint(1, 120):03d}",
                    "channel": rng.choice(["web_app", "hotline", "inspector", "open311"]),
                    "urgency": rng.choice(["low", "normal", "normal", "high"]),
                    "status": st,
                    "department_code": "sanitation" if st != "to_verify" else None,
                    "description": f"case {i} {rng.choice(WORDS)}",
                    "lon": POINT[0],
                    "lat": POINT[1],
                    "created_at": created,
                    "updated_at": created,
                    "step_started_at": created,
                    "step_deadline": deadline,
                    "step_warn_at": created + (deadline - created) * 0.8,
                    "step": None if st == "closed" else "handle",
                    "closed_at": deadline if st == "closed" else None,
                }
            )
            if len(batch) == 10_000:
                conn.execute(insert(CASES), batch)
                batch = []
        if batch:
            conn.execute(insert(CASES), batch)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE cases"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


# ----------------------------------------------------------------------------- servers
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    cmd = (
        [sys.executable, str(HERE), "--serve-bare", str(port)]
        if target == "bare"
        else [
            sys.executable,
            "-m",
            "uvicorn",
            "onegrid.api.app:create_app",
            "--factory",
            "--workers",
            "1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    )
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/docs", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{target} server did not start")


def token(url: str, username: str) -> dict[str, str]:
    resp = httpx.post(
        url + "/api/v1/auth/token", data={"username": username, "password": PASSWORD}, timeout=30
    )
    resp.raise_for_status()
    return {"Authorization": "Bearer " + resp.json()["access_token"]}


LIST_MIXES: list[dict[str, Any]] = [
    {"status": "handling"},
    {"area": "110112", "status": ["dispatched", "handling"]},
    {"category": "E01", "light": "red"},
    {"department": "sanitation", "urgency": "high", "overdue": "true"},
    {"created_from": "2025-03-01T00:00:00Z", "created_to": "2025-03-08T00:00:00Z"},
    {"channel": "hotline", "sort": "-updated_at"},
    {"q": "井盖"},
    {"area": "110101001", "light": "green", "limit": 100},
]


def _list_latencies(url: str, headers: dict[str, str], rounds: int) -> dict[str, Any]:
    times: list[float] = []
    per_mix: dict[str, list[float]] = {json.dumps(m, ensure_ascii=False): [] for m in LIST_MIXES}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for _ in range(2):  # warm the caches
            for mix in LIST_MIXES:
                client.get("/api/v1/cases", params=mix).raise_for_status()
        for _ in range(rounds):
            for mix in LIST_MIXES:
                t = time.perf_counter()
                client.get("/api/v1/cases", params=mix).raise_for_status()
                times.append(time.perf_counter() - t)
                per_mix[json.dumps(mix, ensure_ascii=False)].append(times[-1])
    q = statistics.quantiles(times, n=100)
    # Which filter mix is slow matters more than the pooled figure: the median of each.
    mixes = {k: statistics.median(v) * 1e3 for k, v in per_mix.items()}
    return {"p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3, "n": len(times), "mixes": mixes}


def _mix_filter(mix: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The ``list_cases`` arguments that the HTTP query string ``mix`` becomes."""
    from onegrid.cases.domain.lights import Light
    from onegrid.cases.queries import CaseFilter

    def many(key: str) -> tuple[str, ...]:
        value = mix.get(key, [])
        return tuple(value) if isinstance(value, list) else (value,)

    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(mix[key]) if key in mix else None

    f = CaseFilter(
        status=many("status"),
        category=mix.get("category"),
        channel=many("channel"),
        area=mix.get("area"),
        department=mix.get("department"),
        urgency=many("urgency"),
        light=Light(mix["light"]) if "light" in mix else None,
        overdue={"true": True, "false": False}.get(mix.get("overdue", "")),
        created_from=when("created_from"),
        created_to=when("created_to"),
        text=mix.get("q"),
    )
    return f, {"sort": mix.get("sort", "-created_at"), "limit": mix.get("limit", 50)}


def _raw_list_latencies(url: str, rounds: int) -> dict[str, float]:
    """The raw limit of a list: the page statements the app issues for each mix, captured once
    and then run straight on the driver's cursor (no HTTP, auth, ORM, rows to models or JSON)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from onegrid.cases.queries import list_cases
    from onegrid.db.engine import make_engine

    engine = make_engine(url)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    statements: list[list[tuple[str, Any]]] = []
    now = datetime.now(UTC)
    with Session(engine) as session:
        for mix in LIST_MIXES:
            f, kw = _mix_filter(mix)
            captured.clear()
            list_cases(session, f, now=now, **kw)
            # The area lookup is part of the request; keep every statement of the list.
            statements.append([(st, p) for st, p in captured if "cases" in st])
    event.remove(engine, "before_cursor_execute", capture)
    times: list[float] = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for _ in range(2 + rounds):
            for stmts in statements:
                t = time.perf_counter()
                for st, p in stmts:
                    cur.execute(st, p)
                    cur.fetchall()
                times.append(time.perf_counter() - t)
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()
    times = times[2 * len(statements) :]
    q = statistics.quantiles(times, n=100)
    return {"p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3}


def run_backend(name: str, url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{name}] building the city …", flush=True)
    build_city(url, data_dir)
    env = {
        "ONEGRID_DATA_DIR": str(data_dir),
        "ONEGRID_DATABASE_URL": url,
        "ONEGRID_CASES_SCHEDULER_ENABLED": "false",
        "ONEGRID_LOG_LEVEL": "WARNING",
        "ONEGRID_LOG_FORMAT": "json",
        "BENCH_DB_URL": url,
    }
    app, app_url = serve("app", env)
    bare, bare_url = serve("bare", env)
    out: dict[str, Any] = {}
    try:
        if not args.no_write:
            _writes(name, url, (app.pid, app_url), (bare.pid, bare_url), args, out)
        if not args.no_list:
            print(f"[{name}] {args.cases:,} cases for listing (bulk insert) …", flush=True)
            bulk_cases(url, args.cases, "")
            out["list"] = _list_latencies(app_url, token(app_url, "admin"), args.list_rounds)
            out["list"]["cases"] = args.cases
            out["list"]["raw"] = _raw_list_latencies(url, args.list_rounds)
    finally:
        for proc in (app, bare):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_load(pid: int, *args: Any, **kw: Any) -> dict[str, float]:
    """``load`` with the server's CPU milliseconds per request: on a shared machine the rate
    follows whatever else runs, the CPU a request costs the server much less so."""
    before = cpu_seconds(pid)
    out = load(*args, **kw)
    out["cpu_ms"] = (cpu_seconds(pid) - before) * 1e3 / out["n"]
    return out


def _writes(
    name: str,
    url: str,
    app: tuple[int, str],
    bare: tuple[int, str],
    args: argparse.Namespace,
    out: dict[str, Any],
) -> None:
    """Creates over HTTP beside the bare endpoint, then transitions."""
    (app_pid, app_url), (bare_pid, bare_url) = app, bare
    n = args.requests
    mix = HOT_SPOT if args.hot_spot else MIX
    reports = bodies(n + 300, categories=mix)
    load(app_url, "POST", ["/api/v1/cases"] * 300, reports[n:])  # warm up both
    load(bare_url, "POST", ["/bare"] * 300, reports[n:])
    load(bare_url, "POST", ["/bare-sync"] * 300, reports[n:])
    print(f"[{name}] creating {n} cases over HTTP …", flush=True)
    forms = [
        timed_load(bare_pid, bare_url, "POST", [path] * n, reports[:n])
        for path in ("/bare", "/bare-sync")
    ]
    for form, path in zip(forms, ("event loop", "thread pool"), strict=True):
        form["form"] = path
    out["bare"], out["bare_other"] = sorted(forms, key=lambda f: -f["rate"])
    out["create"] = timed_load(app_pid, app_url, "POST", ["/api/v1/cases"] * n, reports[:n])
    # An inspector's report: the steps issue 3 names (validate, locate, number, deadline, insert
    # with history) behind a bearer token, without the duplicate screen a citizen's report gets.
    inspector = token(app_url, "inspector")
    patrol = [{**r, "channel": "inspector"} for r in bodies(n + 300, seed=5, categories=mix)]
    load(app_url, "POST", ["/api/v1/cases"] * 300, patrol[n:], inspector)
    out["create_inspector"] = timed_load(
        app_pid, app_url, "POST", ["/api/v1/cases"] * n, patrol[:n], inspector
    )
    print(f"[{name}] transitions …", flush=True)
    from onegrid.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM cases")).scalar_one()
    engine.dispose()
    bulk_cases(url, n, "dispatched")
    handler = token(app_url, "handler")
    paths = [f"/api/v1/cases/{before + i + 1}/accept" for i in range(n)]
    out["transition"] = timed_load(app_pid, app_url, "POST", paths, {}, handler)


def report(name: str, r: dict[str, Any]) -> None:
    print(f"\n== {name} ==")
    if "create" in r:
        _report_writes(r)
    if "list" in r:
        _report_list(r["list"])


def _report_writes(r: dict[str, Any]) -> None:
    c, b, t = r["create"], r["bare"], r["transition"]
    print(
        f"create over HTTP : {c['rate']:8,.0f} cases/s  p50 {c['p50_ms']:.1f} ms  "
        f"p99 {c['p99_ms']:.1f} ms  (64 connections, {c['n']:,} requests, "
        f"{c['failures']} failed)"
    )
    print(
        f"bare FastAPI+INSERT: {b['rate']:6,.0f} rows/s   p50 {b['p50_ms']:.1f} ms  "
        f"p99 {b['p99_ms']:.1f} ms  ({b['failures']} failed; {b['form']}, the faster form; "
        f"CPU {b['cpu_ms']:.2f} ms)"
    )
    if "bare_other" in r:
        o = r["bare_other"]
        print(
            f"  the other form ({o['form']}): {o['rate']:,.0f} rows/s, CPU {o['cpu_ms']:.2f} ms "
            f"({o['failures']} failed)"
        )
    print(f"ratio create/bare: {c['rate'] / b['rate']:.2f}")
    if "create_inspector" in r:
        i = r["create_inspector"]
        print(
            f"create, inspector channel (no duplicate screen; bearer token): {i['rate']:,.0f} "
            f"cases/s  p50 {i['p50_ms']:.1f} ms  p99 {i['p99_ms']:.1f} ms  ({i['failures']} "
            f"failed); ratio to bare {i['rate'] / b['rate']:.2f}; server CPU {i['cpu_ms']:.2f} ms"
        )
    print(
        f"server CPU per request: create {c['cpu_ms']:.2f} ms, bare {b['cpu_ms']:.2f} ms "
        f"(ratio bare/create {b['cpu_ms'] / c['cpu_ms']:.2f}: the same figure, less "
        f"sensitive to other load)"
    )
    print(
        f"transition accept: {t['rate']:8,.0f} /s      p50 {t['p50_ms']:.1f} ms  "
        f"p99 {t['p99_ms']:.1f} ms  ({t['failures']} failed; bearer-token auth; "
        f"server CPU {t['cpu_ms']:.2f} ms each)"
    )


def _report_list(li: dict[str, Any]) -> None:
    print(
        f"list with filters over {li['cases']:,} cases: p50 {li['p50_ms']:.1f} ms  "
        f"p95 {li['p95_ms']:.1f} ms  ({li['n']} requests, one at a time)"
    )
    raw = li["raw"]
    print(
        f"raw SQL of the same pages (driver cursor): p50 {raw['p50_ms']:.1f} ms  "
        f"p95 {raw['p95_ms']:.1f} ms  ratio p95 raw/HTTP {raw['p95_ms'] / li['p95_ms']:.2f}"
    )
    for mix, median in li.get("mixes", {}).items():
        print(f"    median {median:8.1f} ms  {mix}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="rows for the listing")
    parser.add_argument("--requests", type=int, default=3000, help="creates / transitions")
    parser.add_argument("--list-rounds", type=int, default=25)
    parser.add_argument("--no-list", action="store_true", help="creates and transitions only")
    parser.add_argument(
        "--hot-spot",
        action="store_true",
        help="every report of one category (the screen scores up to max_scanned neighbours)",
    )
    parser.add_argument("--no-write", action="store_true", help="the listing only")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--load-spec")
    parser.add_argument("--serve-bare", type=int)
    args = parser.parse_args()
    global CLIENT  # one switch for the whole run
    CLIENT = args.client
    if args.load_spec:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(asyncio.run(_load(**spec))))
        return
    if args.serve_bare:
        import uvicorn

        uvicorn.run(
            bare_app(os.environ["BENCH_DB_URL"]),
            port=args.serve_bare,
            log_level="warning",
            access_log=False,
        )
        return
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    print(f"{os.uname().machine}, {cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_dir = Path(tmp) / "sqlite"
        sqlite_dir.mkdir()
        results: dict[str, dict[str, Any]] = {}
        if not args.no_sqlite:
            results["sqlite"] = run_backend(
                "sqlite", f"sqlite:///{sqlite_dir}/onegrid.sqlite3", sqlite_dir, args
            )
        pg = None if args.no_pg else fresh_database("onegrid_bench")
        if pg:
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            try:
                results["postgresql"] = run_backend("postgresql", pg, pg_dir, args)
            finally:
                drop_database(pg)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    for name, r in results.items():
        report(name, r)


if __name__ == "__main__":
    main()
