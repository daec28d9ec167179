"""Older readings leave the database for the Parquet lake.

Layout: ``<lake>/sensing_readings/quantity=<q>/date=<YYYY-MM-DD>/part-<first device>.parquet``
(hive partitioning, UTC dates), columns ``device_id``, ``observed_at`` (timestamp µs, UTC),
``value``. A roll:

1. takes the devices in groups; for each group and quantity reads the rows older than the cutoff
   (an index range per device and quantity: the table's key starts with them);
2. writes each (quantity, day) part to a temporary file in the lake and renames it into place,
   merged with the part already there (a re-run, or late readings of a rolled day, never
   duplicates a row: rows are unique on device and time);
3. deletes the group's rolled rows, in one transaction;
4. when every group is done, moves the *horizon*: queries read the lake before it and the
   database after it, so a roll that stops half-way shows no reading twice and loses none.

Rolls are serialised by a file lock in the lake (``.roll.lock``): the server's scheduled roll and
``onegrid sensors roll`` never merge into the same part at once (one would drop the other's rows).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import delete, select

from onegrid.db.session import Database
from onegrid.sensing.models import DeviceRow, ReadingRow

TABLE_DIR = "sensing_readings"
HORIZON = "_horizon.json"
LOCK = ".roll.lock"  # a leading dot: the dataset reader skips it
SCHEMA = pa.schema(
    [
        ("device_id", pa.string()),
        ("observed_at", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
    ]
)
PARTITIONING = ds.partitioning(
    pa.schema([("quantity", pa.string()), ("date", pa.string())]), flavor="hive"
)
GROUP = 200
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
R = ReadingRow.__table__


@dataclass
class RollReport:
    rows: int = 0
    files: int = 0
    horizon: datetime | None = None


def table_root(lake: Path) -> Path:
    return lake / TABLE_DIR


def horizon(lake: Path) -> datetime | None:
    """Readings before this time are in the lake (and only there for queries)."""
    path = table_root(lake) / HORIZON
    if not path.is_file():
        return None
    return datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["before"])


def _replace(path: Path, write: Callable[[str], object]) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_part(lake: Path, quantity: str, day: str, name: str, table: pa.Table) -> None:
    path = table_root(lake) / f"quantity={quantity}" / f"date={day}" / f"part-{name}.parquet"
    if path.exists():
        merged = pa.concat_tables([pq.read_table(path, schema=SCHEMA), table])
        # Rows are unique on device and time; a re-run brings the same rows again.
        grouped = merged.group_by(["device_id", "observed_at"], use_threads=False).aggregate(
            [("value", "last")]
        )
        table = pa.table(
            {
                "device_id": grouped["device_id"],
                "observed_at": grouped["observed_at"],
                "value": grouped["value_last"],
            }
        )
    table = table.sort_by([("device_id", "ascending"), ("observed_at", "ascending")])
    final = table.cast(SCHEMA)
    _replace(path, lambda tmp: pq.write_table(final, tmp, compression="zstd"))


def _groups(db: Database) -> Iterator[list[tuple[str, list[str]]]]:
    with db.reader() as session:
        rows = session.execute(select(DeviceRow.id, DeviceRow.quantities).order_by(DeviceRow.id))
        devices = [(r.id, sorted(r.quantities)) for r in rows]
    for i in range(0, len(devices), GROUP):
        yield devices[i : i + GROUP]


def _roll_group(
    db: Database, lake: Path, group: Sequence[tuple[str, list[str]]], before: datetime
) -> tuple[int, int]:
    parts: dict[tuple[str, str], list[tuple[str, datetime, float]]] = {}
    with db.reader() as session:
        for device_id, quantities in group:
            for quantity in quantities:
                found = session.execute(
                    select(R.c.observed_at, R.c.value).where(
                        R.c.device_id == device_id,
                        R.c.quantity == quantity,
                        R.c.observed_at < before,
                    )
                )
                for observed_at, value in found:
                    day = observed_at.astimezone(UTC).date().isoformat()
                    parts.setdefault((quantity, day), []).append((device_id, observed_at, value))
    if not parts:
        return 0, 0
    name = _SAFE.sub("_", group[0][0])
    count = 0
    for (quantity, day), rows in sorted(parts.items()):
        table = pa.table(
            {
                "device_id": [r[0] for r in rows],
                "observed_at": [r[1] for r in rows],
                "value": [r[2] for r in rows],
            },
            schema=SCHEMA,
        )
        _write_part(lake, quantity, day, name, table)
        count += len(rows)
    with db.unit_of_work() as session:
        for device_id, quantities in group:
            session.execute(
                delete(ReadingRow).where(
                    ReadingRow.device_id == device_id,
                    ReadingRow.quantity.in_(quantities),
                    ReadingRow.observed_at < before,
                )
            )
    return count, len(parts)


@contextmanager
def _roll_lock(lake: Path) -> Iterator[None]:
    root = table_root(lake)
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def roll_to_lake(db: Database, lake: Path, before: datetime) -> RollReport:
    """Move every reading older than ``before`` into the lake (see the module docstring)."""
    with _roll_lock(lake):
        return _roll(db, lake, before)


def _roll(db: Database, lake: Path, before: datetime) -> RollReport:
    report = RollReport()
    current = horizon(lake)
    for group in _groups(db):
        rows, files = _roll_group(db, lake, group, before)
        report.rows += rows
        report.files += files
    if current is None or before > current:
        text = json.dumps({"before": before.astimezone(UTC).isoformat()})
        _replace(table_root(lake) / HORIZON, lambda tmp: Path(tmp).write_text(text, "utf-8"))
    report.horizon = max(before, current) if current else before
    return report


def cutoff(now: datetime, keep_days: int) -> datetime:
    """Midnight UTC ``keep_days`` ago: the lake takes whole days."""
    day = (now.astimezone(UTC) - timedelta(days=keep_days)).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def read_lake(
    lake: Path,
    *,
    quantity: str,
    start: datetime,
    end: datetime,
    device_ids: Sequence[str] | None = None,
) -> pa.Table:
    """Rows of one quantity in [start, end) from the lake (an empty table when there is none)."""
    root = table_root(lake)
    if not root.is_dir():
        return SCHEMA.empty_table()
    dataset = ds.dataset(root, format="parquet", partitioning=PARTITIONING, schema=_FULL)
    expr = (
        (pc.field("quantity") == quantity)
        & (pc.field("date") >= start.astimezone(UTC).date().isoformat())
        & (pc.field("date") <= end.astimezone(UTC).date().isoformat())
        & (pc.field("observed_at") >= pa.scalar(start, pa.timestamp("us", tz="UTC")))
        & (pc.field("observed_at") < pa.scalar(end, pa.timestamp("us", tz="UTC")))
    )
    if device_ids is not None:
        expr = expr & pc.field("device_id").isin(list(device_ids))
    return dataset.to_table(filter=expr, columns=["device_id", "observed_at", "value"])


_FULL = pa.schema([*SCHEMA, ("quantity", pa.string()), ("date", pa.string())])
