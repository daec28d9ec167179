"""Time series for charts: readings per device, area or quantity over a period, downsampled
into buckets (count, mean, min, max), from the database and, before its horizon, the lake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import BigInteger, ColumnElement, cast, func, literal, select
from sqlalchemy.orm import Session

from onegrid.core.errors import InvalidInput
from onegrid.sensing.lake import horizon, read_lake
from onegrid.sensing.models import DeviceRow, ReadingRow
from onegrid.sensing.queries import area_clause

R = ReadingRow.__table__
NICE_BUCKETS = (
    1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    7 * 86400,
)  # fmt: skip
MAX_POINTS = 5000
RAW_LIMIT = 10_000


@dataclass(frozen=True)
class Bucket:
    start: datetime
    count: int
    mean: float
    min: float
    max: float


@dataclass(frozen=True)
class Series:
    quantity: str
    start: datetime
    end: datetime
    bucket_s: int
    devices: int  # how many devices the series covers (None filter: every device)
    points: list[Bucket]


def choose_bucket(start: datetime, end: datetime, max_points: int) -> int:
    span = (end - start).total_seconds()
    need = span / max(max_points, 1)
    return next((b for b in NICE_BUCKETS if b >= need), NICE_BUCKETS[-1])


def _epoch(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", R.c.observed_at), BigInteger)
    return cast(func.floor(func.extract("epoch", R.c.observed_at)), BigInteger)


def _device_filter(
    session: Session, device_ids: Sequence[str] | None, area: str | None
) -> list[str] | None:
    if area is None:
        return list(device_ids) if device_ids is not None else None
    query = select(DeviceRow.id).where(area_clause(area))
    if device_ids is not None:
        query = query.where(DeviceRow.id.in_(device_ids))
    return list(session.scalars(query))


def _db_buckets(
    session: Session,
    quantity: str,
    start: datetime,
    end: datetime,
    devices: list[str] | None,
    bucket_s: int,
) -> dict[int, tuple[int, float, float, float]]:
    index = (_epoch(session) // literal(bucket_s, BigInteger)).label("b")
    query = (
        select(index, func.count(), func.sum(R.c.value), func.min(R.c.value), func.max(R.c.value))
        .where(R.c.quantity == quantity, R.c.observed_at >= start, R.c.observed_at < end)
        .group_by(index)
    )
    if devices is not None:
        query = query.where(R.c.device_id.in_(devices))
    return {
        int(b): (int(n), float(total), float(lo), float(hi))
        for b, n, total, lo, hi in session.execute(query)
    }


def _lake_buckets(table: pa.Table, bucket_s: int) -> dict[int, tuple[int, float, float, float]]:
    if table.num_rows == 0:
        return {}
    micros = table["observed_at"].cast(pa.int64()).to_numpy()
    values = table["value"].to_numpy()
    index = micros // (bucket_s * 1_000_000)
    order = np.argsort(index, kind="stable")
    index, values = index[order], values[order]
    keys, starts = np.unique(index, return_index=True)
    counts = np.diff(np.append(starts, len(index)))
    sums = np.add.reduceat(values, starts)
    mins = np.minimum.reduceat(values, starts)
    maxs = np.maximum.reduceat(values, starts)
    return {
        int(k): (int(n), float(s), float(lo), float(hi))
        for k, n, s, lo, hi in zip(keys, counts, sums, mins, maxs, strict=True)
    }


def series(
    session: Session,
    *,
    quantity: str,
    start: datetime,
    end: datetime,
    device_ids: Sequence[str] | None = None,
    area: str | None = None,
    bucket_s: int | None = None,
    max_points: int = 1000,
    lake: Path | None = None,
) -> Series:
    """Buckets of ``bucket_s`` seconds (default: a round size giving at most ``max_points``),
    aligned on the epoch, over every matching device together."""
    if end <= start:
        raise InvalidInput.one("end", "after_start", "end must be after start")
    bucket = bucket_s or choose_bucket(start, end, max_points)
    if bucket < 1 or (end - start).total_seconds() / bucket > MAX_POINTS:
        raise InvalidInput.one(
            "bucket_s", "max_points", f"at most {MAX_POINTS} buckets: choose a larger bucket"
        )
    devices = _device_filter(session, device_ids, area)
    merged: dict[int, tuple[int, float, float, float]] = {}
    split = horizon(lake) if lake is not None else None
    db_start = max(start, split) if split else start
    if lake is not None and split and start < split:
        table = read_lake(
            lake, quantity=quantity, start=start, end=min(end, split), device_ids=devices
        )
        merged.update(_lake_buckets(table, bucket))
    if db_start < end:
        for b, (n, s, lo, hi) in _db_buckets(
            session, quantity, db_start, end, devices, bucket
        ).items():
            if b in merged:
                n0, s0, lo0, hi0 = merged[b]
                merged[b] = (n0 + n, s0 + s, min(lo0, lo), max(hi0, hi))
            else:
                merged[b] = (n, s, lo, hi)
    points = [
        Bucket(datetime.fromtimestamp(b * bucket, UTC), n, s / n, lo, hi)
        for b, (n, s, lo, hi) in sorted(merged.items())
        if n
    ]
    return Series(quantity, start, end, bucket, len(devices) if devices is not None else -1, points)


def raw_readings(
    session: Session,
    *,
    device_id: str,
    quantity: str,
    start: datetime,
    end: datetime,
    limit: int = RAW_LIMIT,
) -> list[tuple[datetime, float]]:
    """Every stored reading of one device and quantity in [start, end), oldest first."""
    rows = session.execute(
        select(R.c.observed_at, R.c.value)
        .where(
            R.c.device_id == device_id,
            R.c.quantity == quantity,
            R.c.observed_at >= start,
            R.c.observed_at < end,
        )
        .order_by(R.c.observed_at)
        .limit(limit)
    )
    return [(t, v) for t, v in rows]


def period(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The default period: the last 24 hours up to now."""
    end = end or now
    start = start or end - timedelta(days=1)
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise InvalidInput.one(name, "timezone", f"{name} needs a UTC offset")
    return start.astimezone(UTC), end.astimezone(UTC)
