"""Shared-bike oversaturation: bikes per parking area against its capacity, with a grace period.

Which bikes are parked where: every free-floating vehicle of a feed at its position (reserved and
disabled ones too: they take space all the same), and at a station the bikes its status counts
(available + disabled) at the station's position. A vehicle that names a station is counted by
the station's status, not again by itself.

An area is *over* when its bikes of all operators exceed its capacity. Over for longer than the
grace period, it raises one alert per operator whose bikes there exceed that operator's share of
the capacity: the capacity split in proportion to the fleet quotas of the operators present (equal
shares without quotas). An operator's alert clears when the area is no longer over, or its own
count falls back within its share. Fleets above their quota raise an alert of their own
(``judge_fleets``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from onegrid.sensing.domain.gbfs import StationInfo, StationStatus, Vehicle


@dataclass(frozen=True)
class ParkedGroup:
    """Bikes of one operator parked at one point."""

    operator: str
    lon: float
    lat: float
    count: int


def parked_groups(
    operator: str,
    vehicles: Iterable[Vehicle],
    stations: Iterable[StationInfo] = (),
    statuses: Iterable[StationStatus] = (),
) -> list[ParkedGroup]:
    out = [
        ParkedGroup(operator, v.lon, v.lat, 1)
        for v in vehicles
        if v.station_id is None and v.lon is not None and v.lat is not None
    ]
    where = {s.id: s for s in stations}
    for status in statuses:
        info = where.get(status.id)
        count = status.available + status.disabled
        if info is not None and count > 0:
            out.append(ParkedGroup(operator, info.lon, info.lat, count))
    return out


@dataclass(frozen=True)
class AreaCount:
    area: str
    capacity: int
    by_operator: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_operator.values())


class BikeChange(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"


@dataclass(frozen=True)
class BikeEvent:
    change: BikeChange
    area: str
    operator: str
    count: int  # the operator's bikes in the area
    total: int  # all operators' bikes in the area
    capacity: int
    share: float  # the operator's share of the capacity
    over_since: float


@dataclass
class AreaWatch:
    """What is remembered of an area between feed readings."""

    over_since: float | None = None
    alerted: set[str] = field(default_factory=set)  # operators with an open alert


def shares(capacity: int, present: Iterable[str], quotas: Mapping[str, int]) -> dict[str, float]:
    ops = sorted(set(present))
    weights = {op: float(quotas.get(op) or 0) for op in ops}
    if not ops:
        return {}
    if not all(weights.values()):
        weights = dict.fromkeys(ops, 1.0)
    total = sum(weights.values())
    return {op: capacity * w / total for op, w in weights.items()}


def judge(
    counts: Mapping[str, AreaCount],
    watches: Mapping[str, AreaWatch],
    *,
    now: float,
    grace_s: float,
    quotas: Mapping[str, int],
) -> tuple[dict[str, AreaWatch], list[BikeEvent]]:
    """The areas' next watch state and the alert changes, for one reading of every feed.

    ``counts`` holds every area with bikes now; an area only in ``watches`` has none left.
    """
    events: list[BikeEvent] = []
    out: dict[str, AreaWatch] = {}
    for area in sorted(set(counts) | set(watches)):
        count = counts.get(area)
        watch = watches.get(area) or AreaWatch()
        by_op = count.by_operator if count else {}
        total = count.total if count else 0
        capacity = count.capacity if count else 0
        share = shares(capacity, [op for op, n in by_op.items() if n > 0], quotas)
        over = count is not None and total > capacity
        since = (watch.over_since if watch.over_since is not None else now) if over else None
        alerted = set(watch.alerted)
        due = since is not None and now - since >= grace_s
        for op in sorted(alerted | (set(by_op) if due else set())):
            n = by_op.get(op, 0)
            exceeds = due and n > share.get(op, 0.0)
            if op in alerted and not exceeds:
                alerted.discard(op)
                change = BikeChange.CLEARED
            elif op in alerted:
                change = BikeChange.UPDATED
            elif exceeds:
                alerted.add(op)
                change = BikeChange.RAISED
            else:
                continue
            events.append(
                BikeEvent(
                    change,
                    area,
                    op,
                    n,
                    total,
                    capacity,
                    share.get(op, 0.0),
                    since if since is not None else (watch.over_since or now),
                )
            )
        if since is not None or alerted:
            out[area] = AreaWatch(since, alerted)
    return out, events


def fleets_over_quota(
    fleets: Mapping[str, int], quotas: Mapping[str, int]
) -> Sequence[tuple[str, int, int]]:
    """(operator, fleet, quota) for every operator whose feed shows more vehicles than allowed."""
    return [
        (op, n, quotas[op])
        for op, n in sorted(fleets.items())
        if quotas.get(op) is not None and n > quotas[op]
    ]


@dataclass(frozen=True)
class FleetEvent:
    change: BikeChange
    operator: str
    fleet: int | None  # None: not read this round (the alert clears because the quota went)
    quota: int | None


def judge_fleets(
    fleets: Mapping[str, int], quotas: Mapping[str, int], alerted: Iterable[str]
) -> list[FleetEvent]:
    """Alert changes for fleets above their quota, for one reading of every feed: raised when
    an operator's feed first shows more vehicles than its quota, updated while it still does,
    cleared when it no longer does or the operator has no quota any more. No grace period: a
    quota is a count of vehicles licensed for the city, not a place that fills up for a while.
    An operator whose feed was not read keeps its alert as it is: a missing fleet is not a
    small one."""
    over = {op: (n, q) for op, n, q in fleets_over_quota(fleets, quotas)}
    open_ = set(alerted)
    events: list[FleetEvent] = []
    for op in sorted(set(over) | open_):
        if op in over:
            n, q = over[op]
            change = BikeChange.UPDATED if op in open_ else BikeChange.RAISED
            events.append(FleetEvent(change, op, n, q))
        elif op in fleets or op not in quotas:
            events.append(FleetEvent(BikeChange.CLEARED, op, fleets.get(op), quotas.get(op)))
    return events
