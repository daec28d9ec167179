"""Open311 GeoReport v2 over HTTP: POST requests.json beside the native create, then GET
requests.json with filters over as many cases as fit in the loading budget.

    python bench/bench_open311.py                          # quick: 2,000 posts, 100 k cases
    python bench/bench_open311.py --cases 1000000 --load-seconds 180

One uvicorn worker serves the OneGrid app on SQLite (WAL) with a small located city (the city
and the bulk loader are those of ``bench_cases_http.py``). The load comes from a separate
process over raw HTTP/1.1 keep-alive connections. Figures: Open311 posts/s with p50/p99 and the
ratio to the native ``POST /api/v1/cases`` measured in the same run (reports of the same kinds
spread over the city, each screened for duplicates by both doors: the difference is the form
parsing, the api_key and the Open311 checks); then GET p50/p95 over the filter mixes below, one
request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from bench_cases_http import (
    BODY,
    EAST,
    NORTH,
    POINT,
    SOUTH,
    WEST,
    WORDS,
    build_city,
    bulk_cases,
    serve,
)
from sqlalchemy import text

HERE = Path(__file__).resolve()
FORM = {
    "service_code": "E0102",
    "lat": str(POINT[1]),
    "long": str(POINT[0]),
    "description": "小区东门外垃圾堆放 (bench)",
    "address_string": "示范路 12 号",
    "first_name": "San",
    "last_name": "Zhang",
    "phone": "13812345678",
    "attribute[nature]": "complaint",
}
# The bulk loader writes every chunk of 100,000 cases from 2025-01-01 on, 40 s apart, so these
# windows hold cases whatever the number loaded.
W, D2 = "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"
D8, D30 = "2025-01-09T00:00:00Z", "2025-02-01T00:00:00Z"
GET_MIXES: list[dict[str, str]] = [
    {"service_code": "E0102", "status": "open", "start_date": W, "end_date": D30,
     "page_size": "200"},
    {"status": "closed", "start_date": W, "end_date": D30, "page": "3", "page_size": "50"},
    {"service_code": "E0501,E0504", "start_date": W, "end_date": D8, "page_size": "100"},
    {"q": "井盖", "start_date": W, "end_date": D30, "page_size": "100"},
    {"bbox": "116.30,39.90,116.31,39.92", "start_date": W, "end_date": D2, "page_size": "100"},
    {"updated_after": "2025-01-05T00:00:00+08:00", "start_date": W, "end_date": D8,
     "page_size": "50", "extensions": "true"},
    {"start_date": W, "end_date": D8},  # the spec's default cap: 1,000
]  # fmt: skip


# ----------------------------------------------------------------------------- the load
async def _worker(
    host: str, port: int, spec: dict[str, Any], left: list[int], lat: list[float], st: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    bodies = [b.encode() for b in spec["bodies"]]
    try:
        while left:
            body = bodies[left.pop() % len(bodies)]
            head = (
                f"POST {spec['path']} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: {spec['type']}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            t = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            raw = await reader.readuntil(b"\r\n\r\n")
            lines = raw.split(b"\r\n")
            size = next(int(x.split(b":")[1]) for x in lines if x.lower().startswith(b"content-l"))
            await reader.readexactly(size)
            lat.append(time.perf_counter() - t)
            st.append(int(lines[0].split()[1]))
    finally:
        writer.close()


async def _load(spec: dict[str, Any]) -> dict[str, float]:
    lat: list[float] = []
    st: list[int] = []
    left = list(range(spec["n"]))
    host, port = spec["url"].removeprefix("http://").split(":")
    start = time.perf_counter()
    await asyncio.gather(
        *(_worker(host, int(port), spec, left, lat, st) for _ in range(spec["connections"]))
    )
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(lat, n=100)
    return {
        "rate": len(lat) / elapsed,
        "p50_ms": q[49] * 1e3,
        "p99_ms": q[98] * 1e3,
        "failures": sum(s >= 300 for s in st),
        "n": len(lat),
    }


def load(url: str, path: str, bodies: list[str], content_type: str, n: int) -> dict[str, float]:
    """In a separate process, so the client does not share the server's GIL."""
    spec = {"url": url, "path": path, "bodies": bodies, "type": content_type, "n": n}
    spec["connections"] = 64
    out = subprocess.run(
        [sys.executable, str(HERE), "--load-spec"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=900,
    )
    if out.returncode:
        raise RuntimeError(out.stderr.decode()[-2000:])
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- the steps
def api_key(url: str) -> str:
    from onegrid.core.clock import SystemClock
    from onegrid.db.engine import make_engine
    from onegrid.db.session import Database
    from onegrid.people.credentials import create_api_key
    from onegrid.people.domain import Role, Scope

    db = Database(make_engine(url))
    with db.unit_of_work() as s:
        _, raw = create_api_key(s, "bench", Role.OPEN311_CLIENT, Scope.city(), SystemClock())
    db.engine.dispose()
    return raw


PLACES = ["小区东门", "菜市场旁", "学校北侧", "公交站", "地铁口", "河边步道", "停车场", "十字路口"]
PROBLEMS = ["好几天没人管", "影响通行", "气味很大", "晚上看不清", "反复出现", "需要尽快处理"]


def reports(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` reports spread over the city (three sanitation classes, points anywhere in it,
    a few words each): every post is screened for duplicates, so the same report posted
    over and over would measure a hot spot, not a city."""
    rng = random.Random(seed)
    return [
        {
            "category": rng.choice(("E0102", "E0104", "E0108")),
            "lon": round(rng.uniform(WEST + 0.0005, EAST - 0.0005), 6),
            "lat": round(rng.uniform(SOUTH + 0.0005, NORTH - 0.0005), 6),
            "text": f"{rng.choice(PLACES)}{rng.choice(WORDS)}{rng.choice(PROBLEMS)}",
        }
        for _ in range(n)
    ]


WARM = 300


def posts(app_url: str, key: str, n: int) -> dict[str, dict[str, float]]:
    """Reports through both doors, each door its own (so neither repeats the other's and pays
    for proposals the other does not): JSON to the native create (channel web_app, screened
    for duplicates too) and forms to Open311; the first ``WARM`` of each warm the path."""
    native_bodies = [
        json.dumps(
            {**BODY, "category_code": r["category"], "lon": r["lon"], "lat": r["lat"],
             "description": r["text"]}
        )
        for r in reports(n + WARM, seed=3)
    ]  # fmt: skip
    forms = [
        urlencode(
            {**FORM, "api_key": key, "service_code": r["category"], "long": str(r["lon"]),
             "lat": str(r["lat"]), "description": r["text"]}
        )
        for r in reports(n + WARM, seed=5)
    ]  # fmt: skip
    doors = {
        "native": ("/api/v1/cases", native_bodies, "application/json"),
        "open311": ("/open311/v2/requests.json", forms, "application/x-www-form-urlencoded"),
    }
    for path, bodies, kind in doors.values():
        warm = load(app_url, path, bodies[:WARM], kind, WARM)
        assert warm["failures"] == 0, (path, warm)
    return {
        name: load(app_url, path, bodies[WARM:], kind, n)
        for name, (path, bodies, kind) in doors.items()
    }


def fill(url: str, target: int, seconds: float) -> int:
    """Bulk-insert cases in chunks until ``target`` or the time budget is reached."""
    from onegrid.db.engine import make_engine

    start, done, chunk, seed = time.perf_counter(), 0, 100_000, 11
    while done < target and time.perf_counter() - start < seconds:
        n = min(chunk, target - done)
        bulk_cases(url, n, "", seed=seed)
        done, seed = done + n, seed + 1
        print(f"  {done:,} cases after {time.perf_counter() - start:.0f} s", flush=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        total = int(conn.execute(text("SELECT count(*) FROM cases")).scalar_one())
        if url.startswith("sqlite"):
            # Each chunk lands in one transaction, so the write-ahead log ends up holding the
            # whole load, and every read must look pages up in it until a checkpoint. A
            # server gets there by itself as it serves; the GETs must not time that.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return total


def raw_gets(url: str, rounds: int) -> list[float]:
    """The raw limit: each mix's SELECT through SQLAlchemy Core in this process, rows fetched
    and dumped as JSON (no HTTP, no FastAPI, no mapping to Open311 fields)."""
    from datetime import UTC, datetime

    import orjson

    from onegrid.api.open311.requests import query_of
    from onegrid.api.open311.search import statement
    from onegrid.db.engine import make_engine

    engine = make_engine(url)
    now = datetime.now(UTC)
    times: list[float] = []
    with engine.connect() as conn:
        for r in range(rounds + 2):
            for mix in GET_MIXES:
                t = time.perf_counter()
                q = query_of(mix, now)
                rows = conn.execute(statement(q, full=mix.get("extensions") == "true")).all()
                orjson.dumps([dict(row._mapping) for row in rows], default=str)
                if r >= 2:
                    times.append(time.perf_counter() - t)
    engine.dispose()
    return times


def gets(app_url: str, rounds: int) -> dict[str, Any]:
    per_mix: list[list[float]] = [[] for _ in GET_MIXES]
    rows: list[int] = [0 for _ in GET_MIXES]
    with httpx.Client(base_url=app_url, timeout=60) as client:
        for r in range(rounds + 2):
            for i, mix in enumerate(GET_MIXES):
                t = time.perf_counter()
                resp = client.get("/open311/v2/requests.json", params=mix)
                spent = time.perf_counter() - t
                resp.raise_for_status()
                if r >= 2:  # the first two rounds warm the caches
                    per_mix[i].append(spent)
                    rows[i] = len(resp.json())
    every = [t for ts in per_mix for t in ts]
    q = statistics.quantiles(every, n=100)

    def p95(ts: list[float]) -> float:
        return statistics.quantiles(ts, n=20)[18] * 1e3

    return {
        "p50_ms": q[49] * 1e3,
        "p95_ms": q[94] * 1e3,
        "n": len(every),
        "mixes": [(m, rows[i], p95(per_mix[i])) for i, m in enumerate(GET_MIXES)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=100_000, help="target rows for GET")
    parser.add_argument("--load-seconds", type=float, default=180)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--load-spec", action="store_true")
    args = parser.parse_args()
    if args.load_spec:
        print(json.dumps(asyncio.run(_load(json.loads(sys.stdin.read())))))
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
        url = f"sqlite:///{tmp}/onegrid.sqlite3"
        build_city(url, Path(tmp))
        key = api_key(url)
        env = {
            "ONEGRID_DATA_DIR": tmp,
            "ONEGRID_DATABASE_URL": url,
            "ONEGRID_CASES_SCHEDULER_ENABLED": "false",
            "ONEGRID_LOG_LEVEL": "WARNING",
            "ONEGRID_LOG_FORMAT": "json",
        }
        proc, app_url = serve("app", env)
        try:
            print(f"posting {args.posts:,} of each …", flush=True)
            post = posts(app_url, key, args.posts)
            print(f"loading up to {args.cases:,} cases in {args.load_seconds:.0f} s …", flush=True)
            total = fill(url, args.cases, args.load_seconds)
            got = gets(app_url, args.rounds)
            raw = raw_gets(url, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    o, n = post["open311"], post["native"]
    print("\n== Open311 on SQLite, one uvicorn worker ==")
    for name, r in (("open311 POST requests.json", o), ("native POST /api/v1/cases", n)):
        print(
            f"{name:27}: {r['rate']:7,.0f}/s  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms"
            f"  ({r['n']:,} requests, {r['failures']} failed, 64 connections)"
        )
    print(f"ratio open311/native: {o['rate'] / n['rate']:.2f}")
    print(
        f"GET requests.json over {total:,} cases: p50 {got['p50_ms']:.1f} ms  "
        f"p95 {got['p95_ms']:.1f} ms  ({got['n']} requests, one at a time)"
    )
    rq = statistics.quantiles(raw, n=100)
    print(
        f"raw limit (the same SELECTs, Core, in process): p50 {rq[49] * 1e3:.1f} ms  "
        f"p95 {rq[94] * 1e3:.1f} ms; ratio of p95s {got['p95_ms'] / (rq[94] * 1e3):.1f}"
    )
    for mix, rows, p95 in got["mixes"]:
        print(f"  p95 {p95:6.1f} ms  {rows:5} rows  {mix}")


if __name__ == "__main__":
    main()
