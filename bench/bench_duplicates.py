"""The duplicate check with many cases stored: latency per new report (target ≤ 5 ms at 1 M).

Run: ``python bench/bench_duplicates.py [--cases 1000000] [--checks 2000]`` (a few minutes).
Open cases are spread over a 50 × 45 km city (Beijing's centre), 60 categories, reported over the
last 60 days, with texts drawn from a few dozen phrases; they are bulk-loaded into the duplicate
index of a SQLite file (WAL). Each check is what the desk runs for a new report:
``duplicates.index.find_candidates`` — the index range of its category in the cells around the
point, then distance and text similarity in Python. Printed beside two baselines of the same run:
- raw: the same indexed SELECT through the ``sqlite3`` module, no scoring (the floor);
- category: the same question without the cells (the category's rows in the window, filtered by
  a bounding box), what a check would cost with no H3 column.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from onegrid.db.engine import make_engine
from onegrid.dispatch.config import duplicate_rules
from onegrid.dispatch.duplicates.index import INDEX, cell_of, cells_around, find_candidates
from onegrid.schema import migrate

WEST, EAST, SOUTH, NORTH = 116.10, 116.70, 39.70, 40.10
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PHRASES = [
    "小区门口垃圾堆积无人清理",
    "路边垃圾桶满了发臭",
    "井盖缺失很危险",
    "路灯不亮一片漆黑",
    "人行道砖破损绊脚",
    "深夜施工噪音扰民",
    "共享单车乱停放堵路",
    "占道经营流动摊贩",
    "下水道返水污水外溢",
    "道路积水过不去",
    "树枝断裂挂在电线上",
    "违法建设私搭乱建",
    "小广告乱贴乱画",
    "garbage piled up and not collected",
    "large pothole in the road",
    "street light out all night",
    "illegal parking blocks the fire lane",
]
CATEGORIES = [f"E{m:02d}{n:02d}" for m in range(1, 7) for n in range(1, 11)]


Probe = tuple[str, float, float, str]


def load(path: Path, count: int, seed: int, sample: list[Probe]) -> float:
    """Bulk-load ``count`` open cases; every 500th (recent) one is kept in ``sample``."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    rng = random.Random(seed)
    started = time.perf_counter()
    batch = 50_000
    with engine.begin() as conn:
        for first in range(1, count + 1, batch):
            rows = []
            for case_id in range(first, min(first + batch, count + 1)):
                lon = WEST + rng.random() * (EAST - WEST)
                lat = SOUTH + rng.random() * (NORTH - SOUTH)
                row = {
                    "case_id": case_id,
                    "category_code": rng.choice(CATEGORIES),
                    "cell": cell_of(lon, lat),
                    "lon": lon,
                    "lat": lat,
                    "reported_at": NOW - timedelta(seconds=rng.random() * 60 * 86400),
                    "text": rng.choice(PHRASES) + rng.choice(PHRASES)[:4],
                }
                rows.append(row)
                recent = NOW - row["reported_at"] < timedelta(days=6)  # type: ignore[operator]
                if case_id % 500 == 0 and recent:
                    sample.append((row["category_code"], lon, lat, row["text"]))  # type: ignore[arg-type]
            conn.execute(insert(INDEX), rows)
    engine.dispose()
    return time.perf_counter() - started


def _probes(count: int, seed: int, sample: list[Probe]) -> list[Probe]:
    """Half anywhere (mostly nothing near), half 0–100 m from a stored case (a duplicate)."""
    rng = random.Random(seed + 1)
    near = []
    for category, lon, lat, text in rng.sample(sample, min(len(sample), count // 2)):
        metres = rng.random() * 100
        near.append((category, lon + metres / 85_000, lat, text[: 4 + rng.randrange(8)]))
    return near + [
        (
            rng.choice(CATEGORIES),
            WEST + rng.random() * (EAST - WEST),
            SOUTH + rng.random() * (NORTH - SOUTH),
            rng.choice(PHRASES),
        )
        for _ in range(count - len(near))
    ]


def _summary(name: str, times: list[float]) -> float:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"  {name:<8} mean {statistics.fmean(ms):6.3f} ms   p50 {ms[len(ms) // 2]:6.3f} ms   "
        f"p95 {p95:6.3f} ms   max {ms[-1]:7.3f} ms   ({len(ms):,} checks)"
    )
    return statistics.fmean(ms)


def bench_checks(path: Path, probes: list[Probe]) -> float:
    from onegrid.db.session import Database

    rules = duplicate_rules()
    db = Database(make_engine(f"sqlite:///{path}"))
    times, found = [], 0
    with db.reader() as session:
        for category, lon, lat, text in probes[:50]:  # warm the page cache and statement cache
            find_candidates(session, rules, category, lon, lat, text, NOW)
        for category, lon, lat, text in probes:
            t0 = time.perf_counter()
            found += len(find_candidates(session, rules, category, lon, lat, text, NOW))
            times.append(time.perf_counter() - t0)
    db.engine.dispose()
    mean = _summary("ours", times)
    print(f"           {found:,} proposals over {len(probes):,} checks")
    return mean


def bench_raw(path: Path, probes: list[Probe]) -> tuple[float, float]:
    rules = duplicate_rules()
    conn = sqlite3.connect(path)
    since = (NOW - timedelta(hours=rules.window_hours)).isoformat()
    raw = []
    for category, lon, lat, _ in probes:
        t0 = time.perf_counter()
        cells = cells_around(lon, lat, rules.ring)
        marks = ",".join("?" * len(cells))
        conn.execute(
            "SELECT case_id, lon, lat, text FROM duplicate_index "
            f"WHERE category_code = ? AND cell IN ({marks}) AND reported_at >= ? "
            "ORDER BY reported_at DESC LIMIT ?",
            (category, *cells, since, rules.max_scanned),
        ).fetchall()
        raw.append(time.perf_counter() - t0)
    scan = []
    d = rules.radius_m / 111_195
    for category, lon, lat, _ in probes[:100]:
        t0 = time.perf_counter()
        conn.execute(
            "SELECT case_id FROM duplicate_index WHERE category_code = ? AND reported_at >= ? "
            "AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?",
            (category, since, lon - 1.3 * d, lon + 1.3 * d, lat - d, lat + d),
        ).fetchall()
        scan.append(time.perf_counter() - t0)
    conn.close()
    return _summary("raw", raw), _summary("category", scan)


def bench_hot_spot(path: Path, reports: int, checks: int, seed: int) -> float:
    """``reports`` open reports of one category within 100 m (a busy market, or one problem
    reported over and over), then ``checks`` new reports there: a check scores at most the
    rules' ``max_scanned`` newest, so it stays bounded however many pile up."""
    from onegrid.db.session import Database

    rng = random.Random(seed + 2)
    lon0, lat0, category = 116.4, 39.9, "E0101"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        rows = []
        for i in range(reports):
            lon = lon0 + (rng.random() - 0.5) * 0.002
            lat = lat0 + (rng.random() - 0.5) * 0.0015
            rows.append(
                {
                    "case_id": 10_000_000 + i,
                    "category_code": category,
                    "cell": cell_of(lon, lat),
                    "lon": lon,
                    "lat": lat,
                    "reported_at": NOW - timedelta(seconds=rng.random() * 5 * 86400),
                    "text": rng.choice(PHRASES),
                }
            )
        conn.execute(insert(INDEX), rows)
    engine.dispose()
    rules = duplicate_rules()
    db = Database(make_engine(f"sqlite:///{path}"))
    times = []
    with db.reader() as session:
        for i in range(checks + 20):
            t0 = time.perf_counter()
            find_candidates(session, rules, category, lon0, lat0, rng.choice(PHRASES), NOW)
            if i >= 20:
                times.append(time.perf_counter() - t0)
    db.engine.dispose()
    return _summary("hot spot", times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        sample: list[Probe] = []
        seconds = load(path, args.cases, args.seed, sample)
        size = path.stat().st_size / 1e6
        print(
            f"duplicate index: {args.cases:,} open cases loaded in {seconds:.1f} s ({size:.0f} MB)"
        )
        rules = duplicate_rules()
        print(
            f"rules: radius {rules.radius_m:.0f} m, window {rules.window_hours:.0f} h, "
            f"{len(cells_around(116.4, 39.9, rules.ring))} res-9 cells per check"
        )
        probes = _probes(args.checks, args.seed, sample)
        ours = bench_checks(path, probes)
        raw, scan = bench_raw(path, probes)
        print(f"ratio ours / raw indexed SELECT: {ours / raw:.2f}×")
        print(f"ratio category-only / ours: {scan / ours:.1f}×")
        print(f"target ≤ 5 ms per check: {'met' if ours <= 5 else 'NOT met'} (mean {ours:.3f} ms)")
        hot = bench_hot_spot(path, 5000, 500, args.seed)
        print(f"hot spot (5,000 open reports of one kind within 100 m): mean {hot:.3f} ms")


if __name__ == "__main__":
    main()
