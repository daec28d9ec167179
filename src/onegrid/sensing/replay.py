"""Replay: a recorded time series fed through the same checks and rules as live readings.

A file (CSV, gzip or not) is read with a *replay format*: which column names the device, which
columns give the time (one ISO 8601 or epoch column, or ``year, month, day, hour[, minute]``
in a named time zone), and either one column per quantity ("wide", e.g. the PRSA files) or a
``quantity`` and a ``value`` column ("long", the default: ``device,ts,quantity,value``).

The replay moves a ``FixedClock`` to each time step, so rules, the future-timestamp check and
silence see the recording's time, not today's. ``speed`` is recorded seconds per wall-clock
second (3600: an hour a second); 0 replays as fast as the pipeline takes it.
"""

from __future__ import annotations

import functools
import gc
import itertools
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd  # type: ignore[import-untyped]

from onegrid.core.clock import FixedClock
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.yamlfile import read_yaml
from onegrid.sensing.domain.engine import AlertEvent, Change
from onegrid.sensing.ingest.pipeline import Message, Outcome, Pipeline
from onegrid.sensing.settings import DATA
from onegrid.sensing.store import Batch, Written

FORMATS = DATA / "replay"
GATEWAY = "replay"


@dataclass(frozen=True)
class ReplayFormat:
    device: str = "device"
    device_prefix: str = ""
    time: tuple[str, ...] = ("ts",)
    timezone: str = "UTC"
    quantities: Mapping[str, str] | None = None  # column → quantity; None: long format
    quantity: str = "quantity"
    value: str = "value"
    units: Mapping[str, str] = field(default_factory=dict)  # quantity → unit sent


def read_format(path: Path) -> ReplayFormat:
    """A replay format from YAML; a bare name (``prsa``) is one of the shipped formats."""
    if not path.suffix and not path.exists():
        path = FORMATS / f"{path.name}.yaml"
    data = read_yaml(path)
    known = set(ReplayFormat.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput.one(unknown[0], "known_field", f"a replay format has no {unknown[0]!r}")
    raw_time = data.get("time", ["ts"])
    data["time"] = tuple([raw_time] if isinstance(raw_time, str) else raw_time)
    try:
        ZoneInfo(str(data.get("timezone", "UTC")))
    except (KeyError, ValueError):
        raise InvalidInput.one("timezone", "iana", "an IANA time zone name") from None
    return ReplayFormat(**data)


@dataclass(frozen=True)
class Step:
    """Every reading of one recorded instant."""

    ts: float
    entries: list[dict[str, Any]]

    @functools.cached_property
    def readings(self) -> int:
        return sum(len(e["values"]) for e in self.entries)


def _times(frame: pd.DataFrame, fmt: ReplayFormat) -> np.ndarray:
    if len(fmt.time) == 1:
        col = frame[fmt.time[0]]
        if pd.api.types.is_numeric_dtype(col):
            out: np.ndarray = col.to_numpy(dtype=np.float64)
            return out
        stamps = pd.to_datetime(col, format="ISO8601")
    else:
        parts = dict(zip(("year", "month", "day", "hour", "minute"), fmt.time, strict=False))
        stamps = pd.to_datetime(frame[list(parts.values())].set_axis(list(parts), axis=1))
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(fmt.timezone)
    since = stamps.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")
    seconds: np.ndarray = since.dt.total_seconds().to_numpy(dtype=np.float64)
    return seconds


def read_steps(path: Path, fmt: ReplayFormat) -> list[Step]:
    """The file's readings, grouped by time step, in time order (missing values skipped)."""
    columns = [fmt.device, *fmt.time]
    columns += list(fmt.quantities) if fmt.quantities else [fmt.quantity, fmt.value]
    wanted = set(columns)
    try:  # only the columns the format names: the PRSA files have eighteen
        frame = pd.read_csv(path, low_memory=False, usecols=lambda c: c in wanted)
    except (OSError, ValueError) as exc:
        raise InvalidInput.one("file", "csv", f"cannot read {path}: {exc}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            [FieldProblem(c, "column", f"{path.name} has no column {c!r}") for c in missing]
        )
    steps = _group(_long(frame, fmt))
    if fmt.units:
        for step in steps:
            for e in step.entries:
                e["units"] = {q: u for q, u in fmt.units.items() if q in e["values"]}
    return steps


def _long(frame: pd.DataFrame, fmt: ReplayFormat) -> pd.DataFrame:
    """One row per reading: ts, device, quantity (q), value (v); missing values dropped."""
    ts = _times(frame, fmt)
    device = fmt.device_prefix + frame[fmt.device].astype(str)
    if fmt.quantities:
        long = pd.concat(
            [
                pd.DataFrame({"ts": ts, "device": device, "q": q, "v": frame[col]})
                for col, q in fmt.quantities.items()
            ]
        )
    else:
        long = pd.DataFrame(
            {
                "ts": ts,
                "device": device,
                "q": frame[fmt.quantity].astype(str),
                "v": frame[fmt.value],
            }
        )
    long["v"] = pd.to_numeric(long["v"], errors="coerce")
    return long[long["v"].notna()].sort_values(["ts", "device"], kind="stable")


def _group(long: pd.DataFrame) -> list[Step]:
    """Rows sorted by time and device → one entry per (time, device), one step per time.

    Hundreds of thousands of small dicts, all kept: the cyclic garbage collector, which would
    walk them again and again as they pile up and free none, is paused meanwhile (two thirds of
    the time of a four-year PRSA file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _entries(long)
    finally:
        if enabled:
            gc.enable()


def _entries(long: pd.DataFrame) -> list[Step]:
    n = len(long)
    if n == 0:
        return []
    ts = long["ts"].to_numpy(dtype=np.float64)
    dev = long["device"].to_numpy(dtype=object)
    new_step = np.ones(n, dtype=bool)
    new_step[1:] = ts[1:] != ts[:-1]
    new_entry = new_step.copy()
    new_entry[1:] |= dev[1:] != dev[:-1]
    starts = np.flatnonzero(new_entry)
    qs, vs = long["q"].to_numpy(dtype=object), long["v"].to_numpy(dtype=np.float64)
    entry_ts = ts[starts].tolist()
    entry_dev = dev[starts].tolist()
    if len(starts) == n:  # one reading an entry (one quantity a row): no slicing per entry
        values = [{q: v} for q, v in zip(qs.tolist(), vs.tolist(), strict=True)]
    else:
        bounds = [*starts.tolist(), n]
        q_list, v_list = qs.tolist(), vs.tolist()
        values = [
            dict(zip(q_list[a:b], v_list[a:b], strict=True)) for a, b in itertools.pairwise(bounds)
        ]
    entries = [
        {"device": d, "ts": t, "values": v}
        for d, t, v in zip(entry_dev, entry_ts, values, strict=True)
    ]
    # Entries are in time order: a step is the run of entries of one time.
    step_starts = np.flatnonzero(new_step[starts]).tolist()
    ends = [*step_starts[1:], len(entries)]
    return [Step(entry_ts[a], entries[a:b]) for a, b in zip(step_starts, ends, strict=True)]


@dataclass
class ReplayReport:
    steps: int = 0
    readings: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    raised: list[tuple[str, str, float]] = field(default_factory=list)  # rule, subject, start
    cleared: int = 0
    alerts_raised: int = 0
    alerts_reopened: int = 0
    first: datetime | None = None
    last: datetime | None = None
    seconds: float = 0.0

    def tally(self, step: Step, outcome: Outcome, events: Sequence[AlertEvent]) -> None:
        for event in events:
            if event.change is Change.RAISED:
                self.raised.append((event.rule.code, event.subject, event.started_at))
            elif event.change is Change.CLEARED:
                self.cleared += 1
        self.steps += 1
        self.readings += step.readings
        self.accepted += outcome.accepted
        self.rejected.update(r.reason.value for r in outcome.rejections)

    def episodes(self, tz: str = "UTC") -> Counter[tuple[str, str, int]]:
        """(rule, subject, year the episode began in ``tz``) → episodes."""
        zone = ZoneInfo(tz)
        return Counter(
            (rule, subject, datetime.fromtimestamp(start, zone).year)
            for rule, subject, start in self.raised
        )


def replay(
    pipeline: Pipeline,
    steps: list[Step],
    clock: FixedClock,
    *,
    speed: float = 0.0,
    chunk: int = 5000,
    on_written: Callable[[Written], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayReport:
    """Feed ``steps`` through ``pipeline`` (made with ``clock``); see the module docstring."""
    report = ReplayReport()
    topic = f"{pipeline.prefix}/gateways/{GATEWAY}/readings"
    started = time.monotonic()
    batch, pending = Batch(), 0
    messages: list[Message] = []

    def flush() -> None:
        nonlocal batch, messages, pending
        if messages or batch:
            written = pipeline.commit(batch, messages)
            report.alerts_raised += len(written.raised)
            report.alerts_reopened += len(written.reopened)
            if on_written is not None:
                on_written(written)
        batch, messages, pending = Batch(), [], 0

    for step in steps:
        if speed > 0:
            due = started + (step.ts - steps[0].ts) / speed
            wait = due - time.monotonic()
            if wait > 0:
                flush()
                sleep(wait)
        clock.set(datetime.fromtimestamp(step.ts, UTC))
        message = Message("replay", topic, orjson.dumps({"readings": step.entries}), step.ts)
        before = len(batch.events)
        outcome = pipeline.add(batch, message)
        pipeline.tick(batch)
        report.tally(step, outcome, batch.events[before:])
        messages.append(message)
        pending += step.readings
        if pending >= chunk or speed > 0:
            flush()
    flush()
    if steps:
        report.first = datetime.fromtimestamp(steps[0].ts, UTC)
        report.last = datetime.fromtimestamp(steps[-1].ts, UTC)
    report.seconds = time.monotonic() - started
    return report
