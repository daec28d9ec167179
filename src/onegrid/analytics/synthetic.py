"""Synthetic lake tables made with numpy, straight into Arrow (benchmarks and query tests).

Not a simulation of the workflow (the demo history replays real transitions); just columns with
the shapes the queries need: seasons, hot cells, slow departments, accepts and callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import h3
import numpy as np
import pyarrow as pa

from onegrid.analytics import tables as t

US = 1_000_000


@dataclass(frozen=True)
class SyntheticCity:
    districts: int = 4
    subdistricts_per_district: int = 5
    departments: int = 12
    categories: tuple[str, ...] = ("E0101", "E0102", "E0401", "E0405", "E0501", "C0101")
    centre: tuple[float, float] = (39.91, 116.40)

    def subdistricts(self) -> list[str]:
        return [
            f"1101{d:02d}{s:03d}"
            for d in range(1, self.districts + 1)
            for s in range(1, self.subdistricts_per_district + 1)
        ]


def _cells(city: SyntheticCity) -> np.ndarray:
    origin = h3.latlng_to_cell(*city.centre, 10)
    return np.array(sorted(h3.grid_disk(origin, 20)))


def make_tables(
    n: int, city: SyntheticCity | None = None, seed: int = 7, start: datetime | None = None
) -> dict[str, pa.Table]:
    city = city or SyntheticCity()
    rng = np.random.default_rng(seed)
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    t0 = int(start.timestamp()) * US
    span = 730 * 86400 * US
    # More cases in winter and summer, as heating and rain do.
    # Sorted by time, as the lake's month partitions keep them.
    u = np.sort(rng.random(n))
    created = t0 + (u * span).astype(np.int64)
    subs = np.array(city.subdistricts())
    sub_i = rng.integers(0, subs.size, n)
    cells = _cells(city)
    hot = rng.random(n) < 0.1
    cell_i = np.where(hot, rng.integers(0, 5, n), rng.integers(0, cells.size, n))
    depts = np.array([f"dept{d:02d}" for d in range(city.departments)])
    dept_i = rng.integers(0, depts.size, n)
    slow = dept_i < 2
    dispatched = created + rng.integers(60, 3600, n) * US
    handle_h = rng.exponential(np.where(slow, 60.0, 12.0))
    closed_at = dispatched + (handle_h * 3600 * US).astype(np.int64)
    closed = rng.random(n) < 0.93
    status = np.where(closed, "closed", np.where(rng.random(n) < 0.3, "on_hold", "handling"))
    overdue = (handle_h > 24).astype(np.int32)
    channel = np.where(rng.random(n) < 0.6, "hotline", "inspector")
    ids = np.arange(1, n + 1, dtype=np.int64)
    ts = pa.timestamp("us", tz="UTC")
    cases = pa.table(
        {
            "id": ids,
            "category_code": np.array(city.categories)[rng.integers(0, len(city.categories), n)],
            "channel": channel,
            "h3_10": cells[cell_i],
            "district_code": pa.array(np.char.ljust(subs[sub_i], 6).astype("U6")),
            "subdistrict_code": subs[sub_i],
            "status": status,
            "department_code": depts[dept_i],
            "reporter_key": pa.array(rng.integers(0, n // 3 + 1, n).astype(str)),
            "overdue_steps": overdue,
            "returns": (rng.random(n) < 0.05).astype(np.int32),
            "reworks": (rng.random(n) < 0.04).astype(np.int32),
            "created_at": pa.array(created, ts),
            "updated_at": pa.array(np.where(closed, closed_at, dispatched), ts),
            "dispatched_at": pa.array(dispatched, ts),
            "closed_at": pa.array(np.where(closed, closed_at, 0), ts, mask=~closed),
        }
    )
    cases = _conform(cases, t.CASES.schema)
    accept = dispatched + (rng.exponential(np.where(slow, 30.0, 4.0)) * 3600 * US).astype(np.int64)
    order = np.argsort(accept, kind="stable")
    history = _conform(
        pa.table(
            {
                "id": ids,
                "case_id": ids[order],
                "at": pa.array(accept[order], ts),
                "actor": pa.array(depts[dept_i][order]),
                "action": pa.array(np.full(n, "accept")),
                "step_ended_late": pa.array(overdue.astype(bool)[order]),
            }
        ),
        t.CASE_HISTORY.schema,
    )
    called = closed & (channel == "hotline")
    k = int(called.sum())
    sat = rng.choice(
        np.array(["satisfied", "basically_satisfied", "dissatisfied"]), k, p=[0.8, 0.12, 0.08]
    )
    called_at = closed_at[called] + 86400 * US
    by_time = np.argsort(called_at, kind="stable")
    callbacks = _conform(
        pa.table(
            {
                "id": np.arange(1, k + 1, dtype=np.int64),
                "case_id": ids[called][by_time],
                "at": pa.array(called_at[by_time], ts),
                "resolved": pa.array((rng.random(k) < np.where(slow[called], 0.7, 0.95))[by_time]),
                "satisfaction": pa.array(sat[by_time]),
                # The desk credits the answer to the case's department, as the lake's export does.
                "department_code": pa.array(depts[dept_i][called][by_time]),
            }
        ),
        t.CALLBACKS.schema,
    )
    codes = [*sorted({s[:6] for s in subs}), *subs]
    areas = _conform(
        pa.table(
            {
                "code": codes,
                "level": ["district" if len(c) == 6 else "subdistrict" for c in codes],
                "name_zh": codes,
                "area_m2": [5e6] * len(codes),
                "population": [100_000] * len(codes),
            }
        ),
        t.AREAS.schema,
    )
    return {"cases": cases, "case_history": history, "callbacks": callbacks, "areas": areas}


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table[f.name].cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.table(cols, schema=schema)
