"""The rule engine: streaming state per (rule, device) and (rule, area), O(1) per reading.

``observe`` takes one reading and returns what changed: an alert raised, updated (the condition
holds on: the same alert, never a new one) or cleared. ``tick`` is called with the clock's time
to find silent devices. A reading older than the last one a state has seen is ignored by that
state (a redelivered or late message cannot raise or clear anything twice).

The engine knows nothing of storage: the ingester restores it from the open alerts at start
(``restore``), so an alert whose condition still holds is updated, not raised again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.rules import Rule, RuleKind

GAP_FACTOR = 1.5
"""Readings further apart than 1.5 reporting intervals are not consecutive: one is missing."""


class Change(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    CLEARED = "cleared"


class SubjectKind(StrEnum):
    DEVICE = "device"
    AREA = "area"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    change: Change
    rule: Rule
    subject: str  # a device id, or an area code
    subject_kind: SubjectKind
    at: float  # the time of the reading (or tick) that caused the change
    started_at: float  # when the condition began
    value: float | None
    device: Device | None = None  # the device of a device alert

    @property
    def key(self) -> str:
        return alert_key(self.rule.code, self.subject)


def alert_key(rule_code: str, subject: str) -> str:
    """What identifies an open alert: one per rule and subject at a time."""
    return f"{rule_code}|{subject}"


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An open alert as stored, to restore the engine from."""

    rule_code: str
    subject: str
    subject_kind: SubjectKind
    started_at: float


class _State:
    __slots__ = ("active", "device", "last_ts", "rule", "started")

    def __init__(self, rule: Rule, device: Device) -> None:
        self.rule = rule
        self.device = device
        self.last_ts = float("-inf")
        self.active = False
        self.started = 0.0

    def feed(self, value: float, ts: float) -> AlertEvent | None:
        raise NotImplementedError

    def _event(self, change: Change, ts: float, value: float | None) -> AlertEvent:
        return AlertEvent(
            change,
            self.rule,
            self.device.id,
            SubjectKind.DEVICE,
            ts,
            self.started,
            value,
            self.device,
        )


class _Threshold(_State):
    __slots__ = ("run_start",)

    def __init__(self, rule: Rule, device: Device) -> None:
        super().__init__(rule, device)
        self.run_start: float | None = None

    def _holds(self, value: float) -> bool:
        rule = self.rule
        return value > rule.above if rule.above is not None else value < rule.below  # type: ignore[operator]

    def _ends(self, value: float) -> bool:
        rule = self.rule
        if rule.clear_at is None:
            return not self._holds(value)
        return value <= rule.clear_at if rule.above is not None else value >= rule.clear_at

    def feed(self, value: float, ts: float) -> AlertEvent | None:
        if ts <= self.last_ts:
            return None
        interval = self.device.interval_s
        gap = ts - self.last_ts > interval * GAP_FACTOR
        self.last_ts = ts
        if self.active:
            if self._ends(value):
                self.active = False
                self.run_start = None
                return self._event(Change.CLEARED, ts, value)
            return self._event(Change.UPDATED, ts, value)
        if not self._holds(value):
            self.run_start = None
            return None
        if self.run_start is None or gap:
            self.run_start = ts
        # A reading stands for the interval up to the next one.
        if ts - self.run_start + interval >= self.rule.hold_s:
            self.active = True
            self.started = self.run_start
            return self._event(Change.RAISED, ts, value)
        return None


class _StateChange(_State):
    __slots__ = ("last_value",)

    def __init__(self, rule: Rule, device: Device) -> None:
        super().__init__(rule, device)
        self.last_value: float | None = None

    def feed(self, value: float, ts: float) -> AlertEvent | None:
        if ts <= self.last_ts:
            return None
        self.last_ts = ts
        previous, self.last_value = self.last_value, value
        rule = self.rule
        if self.active:
            if value != rule.to:
                self.active = False
                return self._event(Change.CLEARED, ts, value)
            return self._event(Change.UPDATED, ts, value)
        if value == rule.to and (rule.from_ is None or previous == rule.from_):
            self.active = True
            self.started = ts
            return self._event(Change.RAISED, ts, value)
        return None


class _Rate(_State):
    """The change within a sliding window, from a monotonic deque of the window's extreme."""

    __slots__ = ("extreme", "window")

    def __init__(self, rule: Rule, device: Device) -> None:
        super().__init__(rule, device)
        self.window: deque[tuple[float, float]] = deque()  # (ts, value), all in the window
        self.extreme: deque[tuple[float, float]] = deque()  # minima (rise) or maxima (fall)

    def feed(self, value: float, ts: float) -> AlertEvent | None:
        if ts <= self.last_ts:
            return None
        self.last_ts = ts
        rule = self.rule
        change = rule.change or 0.0
        rising = change > 0
        start = ts - rule.within_s
        window, extreme = self.window, self.extreme
        while window and window[0][0] < start:
            window.popleft()
        while extreme and extreme[0][0] < start:
            extreme.popleft()
        while extreme and (extreme[-1][1] >= value if rising else extreme[-1][1] <= value):
            extreme.pop()
        window.append((ts, value))
        extreme.append((ts, value))
        moved = value - extreme[0][1]
        holds = moved >= change if rising else moved <= change
        if self.active:
            if not holds:
                self.active = False
                return self._event(Change.CLEARED, ts, value)
            return self._event(Change.UPDATED, ts, value)
        if holds:
            self.active = True
            self.started = extreme[0][0]
            return self._event(Change.RAISED, ts, value)
        return None


_STATES: dict[RuleKind, type[_State]] = {
    RuleKind.THRESHOLD: _Threshold,
    RuleKind.STATE_CHANGE: _StateChange,
    RuleKind.RATE_OF_CHANGE: _Rate,
}
_NOTHING: tuple[AlertEvent, ...] = ()


class _AreaState:
    __slots__ = ("active", "devices", "started")

    def __init__(self) -> None:
        self.devices: set[str] = set()
        self.active = False
        self.started = 0.0


class Engine:
    """Every enabled rule's state for every device and area it watches.

    ``combine_areas`` false: area rules are left to the store, which counts a rule's open device
    alerts per area in the database (several ingest processes each hold some of an area's
    devices, so none of them can count in memory)."""

    def __init__(self, rules: Sequence[Rule], *, combine_areas: bool = True) -> None:
        self.rules = [r for r in rules if r.enabled]
        self._by_quantity: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.quantity and rule.kind in _STATES:
                self._by_quantity.setdefault(rule.quantity, []).append(rule)
        self._silence_rules = [r for r in self.rules if r.kind is RuleKind.SILENT]
        self._area_rules: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.kind is RuleKind.AREA and rule.of and combine_areas:
                self._area_rules.setdefault(rule.of, []).append(rule)
        self._slots: dict[tuple[str, str], list[_State]] = {}
        self._last_seen: dict[str, float] = {}
        self._watched: dict[str, Device] = {}
        self._silent: dict[tuple[str, str], float] = {}  # (rule, device) → silent since
        self._areas: dict[tuple[str, str], _AreaState] = {}
        self._combined = {r.code for rules in self._area_rules.values() for r in rules}

    # -- devices ------------------------------------------------------------------------------

    def watch(self, devices: Iterable[Device], since: float) -> None:
        """Devices to check for silence; a device never heard from counts from ``since``."""
        for device in devices:
            previous = self._watched.get(device.id)
            self._watched[device.id] = device
            self._last_seen.setdefault(device.id, since)
            if previous is not None and previous != device:
                self._refresh(device)

    def _refresh(self, device: Device) -> None:
        """A device changed in the registry: its states keep their memory, with the new
        device; quantities it no longer reports lose theirs."""
        for (device_id, quantity), states in list(self._slots.items()):
            if device_id != device.id:
                continue
            if quantity not in device.quantities:
                del self._slots[(device_id, quantity)]
                continue
            for state in states:
                state.device = device

    def _states(self, device: Device, quantity: str) -> list[_State]:
        rules = self._by_quantity.get(quantity, [])
        states = [
            _STATES[r.kind](r, device)
            for r in rules
            if r.applies_to(device.kind, device.quantities)
        ]
        self._slots[(device.id, quantity)] = states
        return states

    # -- readings -----------------------------------------------------------------------------

    def observe(
        self, device: Device, quantity: str, value: float, ts: float
    ) -> Sequence[AlertEvent]:
        device_id = device.id
        if ts > self._last_seen.get(device_id, float("-inf")):
            self._last_seen[device_id] = ts
            if self._silent:
                cleared = self._end_silence(device, ts)
                if cleared:
                    return cleared + list(self._feed(device, quantity, value, ts))
        return self._feed(device, quantity, value, ts)

    def _feed(self, device: Device, quantity: str, value: float, ts: float) -> Sequence[AlertEvent]:
        if quantity not in self._by_quantity:  # most quantities have no rule: nothing to keep
            return _NOTHING
        states = self._slots.get((device.id, quantity))
        if states is None:
            states = self._states(device, quantity)
        if not states:
            return _NOTHING
        events: list[AlertEvent] | None = None
        for state in states:
            event = state.feed(value, ts)
            if event is not None:
                if events is None:
                    events = []
                events.append(event)
                if event.change is not Change.UPDATED and event.rule.code in self._area_rules:
                    events.extend(self._combine(event))
        return events or _NOTHING

    def _end_silence(self, device: Device, ts: float) -> list[AlertEvent]:
        out: list[AlertEvent] = []
        for rule in self._silence_rules:
            since = self._silent.pop((rule.code, device.id), None)
            if since is not None:
                event = AlertEvent(
                    Change.CLEARED, rule, device.id, SubjectKind.DEVICE, ts, since, None, device
                )
                out.append(event)
                out.extend(self._combine(event))
        return out

    # -- time ---------------------------------------------------------------------------------

    def tick(self, now: float) -> list[AlertEvent]:
        """Devices silent for longer than their rules allow, as of ``now``."""
        out: list[AlertEvent] = []
        for rule in self._silence_rules:
            for device in self._watched.values():
                if not device.active or not rule.applies_to(device.kind, device.quantities):
                    continue
                key = (rule.code, device.id)
                if key in self._silent:
                    continue
                last = self._last_seen.get(device.id, now)
                if now - last > rule.intervals * device.interval_s:
                    since = last + device.interval_s
                    self._silent[key] = since
                    event = AlertEvent(
                        Change.RAISED,
                        rule,
                        device.id,
                        SubjectKind.DEVICE,
                        now,
                        since,
                        None,
                        device,
                    )
                    out.append(event)
                    out.extend(self._combine(event))
        return out

    # -- areas ----------------------------------------------------------------------------------

    def _combine(self, event: AlertEvent) -> list[AlertEvent]:
        out: list[AlertEvent] = []
        device = event.device
        if device is None:
            return out
        for rule in self._area_rules.get(event.rule.code, ()):
            area = device.areas.get(rule.level or "")
            if not area:
                continue
            state = self._areas.setdefault((rule.code, area), _AreaState())
            if event.change is Change.RAISED:
                state.devices.add(device.id)
            else:
                state.devices.discard(device.id)
            count = len(state.devices)
            change: Change | None = None
            if not state.active and count >= rule.min_devices:
                state.active, state.started, change = True, event.at, Change.RAISED
            elif state.active and count < rule.min_devices:
                state.active, change = False, Change.CLEARED
            elif state.active:
                change = Change.UPDATED
            if change is not None:
                out.append(
                    AlertEvent(
                        change, rule, area, SubjectKind.AREA, event.at, state.started, float(count)
                    )
                )
        return out

    # -- restart --------------------------------------------------------------------------------

    def restore(self, active: Iterable[ActiveAlert], devices: Mapping[str, Device]) -> None:
        """Mark stored open alerts active, so their conditions update them instead of raising
        new ones (device alerts first: area memberships are rebuilt from them)."""
        rules = {r.code: r for r in self.rules}
        alerts = sorted(active, key=lambda a: a.subject_kind is SubjectKind.AREA)
        for alert in alerts:
            rule = rules.get(alert.rule_code)
            if rule is None:
                continue
            if alert.subject_kind is SubjectKind.AREA:
                if rule.code not in self._combined:
                    continue
                area = self._areas.setdefault((rule.code, alert.subject), _AreaState())
                area.active, area.started = True, alert.started_at
                continue
            device = devices.get(alert.subject)
            if device is not None:
                self._restore_device(rule, device, alert.started_at)

    def _restore_device(self, rule: Rule, device: Device, started: float) -> None:
        if rule.kind is RuleKind.SILENT:
            self._silent[(rule.code, device.id)] = started
        elif rule.quantity:
            states = self._slots.get((device.id, rule.quantity))
            if states is None:
                states = self._states(device, rule.quantity)
            for state in states:
                if state.rule.code == rule.code:
                    state.active, state.started = True, started
        for area_rule in self._area_rules.get(rule.code, ()):
            area = device.areas.get(area_rule.level or "")
            if area:
                member = self._areas.setdefault((area_rule.code, area), _AreaState())
                member.devices.add(device.id)

    def active_keys(self) -> set[str]:
        """Keys of every alert the engine holds open (for tests and diagnostics)."""
        keys = {
            alert_key(s.rule.code, s.device.id)
            for states in self._slots.values()
            for s in states
            if s.active
        }
        keys |= {alert_key(rule, device) for rule, device in self._silent}
        keys |= {alert_key(rule, area) for (rule, area), s in self._areas.items() if s.active}
        return keys
