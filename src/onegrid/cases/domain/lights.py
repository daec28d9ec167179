"""The clock of a timed step and its light: green (≤ 80 % used), yellow (≤ 100 %), red (overdue).

A step's clock counts working time (or wall time for natural-hour limits) from the moment the
step started. A hold stops it: the held stretch is added to the step's allowance when the case
resumes. Nothing here is stored as "time used": it is computed on read from the start, the
allowance, the holds and now.

An approved extension moves the step's deadline by what was granted, never by less:

- on a working-time step the grant is added as working time: working days as that many working
  days (each as long as one on the day of approval), working or natural hours as that many
  working hours;
- on a natural-hours step (an emergency, a utility's 24 h) a grant in natural hours is added as
  wall time, and a grant in working days or working hours is carried through the working
  calendar from the current deadline: "2 working days" from a Friday 16:00 deadline end on
  Tuesday 16:00, after the weekend (and after any holiday), not 15 wall hours later. The step's
  clock keeps running day and night; only the size of the grant is read on the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.states import Step
from onegrid.cases.domain.timelimits import Limit

WARN_RATIO = 0.8


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def light_at(when: datetime, warn_at: datetime, deadline: datetime) -> Light:
    """Red once the deadline has passed, yellow once 80 % of the allowance is used.

    Judged by instants (the stored deadline and warning time) so that a list filtered by light
    in SQL and a case read one at a time always agree.
    """
    if when > deadline:
        return Light.RED
    if when > warn_at:
        return Light.YELLOW
    return Light.GREEN


@dataclass(frozen=True)
class ClockReading:
    step: Step
    deadline: datetime
    used: timedelta
    left: timedelta
    allowed: timedelta
    light: Light
    paused: bool

    @property
    def ratio(self) -> float:
        return self.used / self.allowed if self.allowed else 0.0


@dataclass(frozen=True)
class StepClock:
    """The running (or held) clock of the current step of one case."""

    step: Step
    round: int  # counts steps over the case's life, so an escalation is tied to one step run
    started_at: datetime
    natural: bool
    allowed: timedelta
    held: timedelta
    hold_started_at: datetime | None
    deadline: datetime
    warn_at: datetime

    @classmethod
    def start(
        cls, calendar: WorkingCalendar, step: Step, round_: int, limit: Limit, now: datetime
    ) -> StepClock:
        allowed = limit.duration(calendar, now)
        return cls._fixed(calendar, step, round_, now, limit.natural, allowed, timedelta(), None)

    @classmethod
    def _fixed(
        cls,
        calendar: WorkingCalendar,
        step: Step,
        round_: int,
        started_at: datetime,
        natural: bool,
        allowed: timedelta,
        held: timedelta,
        hold_started_at: datetime | None,
    ) -> StepClock:
        def add(amount: timedelta) -> datetime:
            if natural:
                return started_at + amount
            return calendar.add_working(started_at, amount)

        return cls(
            step,
            round_,
            started_at,
            natural,
            allowed,
            held,
            hold_started_at,
            add(allowed + held),
            add(allowed * WARN_RATIO + held),
        )

    def _between(self, calendar: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
        return b - a if self.natural else calendar.working_between(a, b)

    def used(self, calendar: WorkingCalendar, now: datetime) -> timedelta:
        until = self.hold_started_at or now
        return max(self._between(calendar, self.started_at, until) - self.held, timedelta())

    def read(self, calendar: WorkingCalendar, now: datetime) -> ClockReading:
        used = self.used(calendar, now)
        deadline = self.deadline
        if self.hold_started_at is not None:
            # Shown as it would be if the case resumed now.
            pause = max(self._between(calendar, self.hold_started_at, now), timedelta())
            deadline = self._fixed(
                calendar,
                self.step,
                self.round,
                self.started_at,
                self.natural,
                self.allowed,
                self.held + pause,
                None,
            ).deadline
        return ClockReading(
            self.step,
            deadline,
            used,
            self.allowed - used,
            self.allowed,
            self.light(now),
            self.hold_started_at is not None,
        )

    def light(self, now: datetime) -> Light:
        """The light now; a held step keeps the light it had when it was held."""
        return light_at(self.hold_started_at or now, self.warn_at, self.deadline)

    def hold(self, now: datetime) -> StepClock:
        return replace(self, hold_started_at=now)

    def resume(self, calendar: WorkingCalendar, now: datetime) -> StepClock:
        if self.hold_started_at is None:
            return self
        pause = max(self._between(calendar, self.hold_started_at, now), timedelta())
        return self._fixed(
            calendar,
            self.step,
            self.round,
            self.started_at,
            self.natural,
            self.allowed,
            self.held + pause,
            None,
        )

    def extend(self, calendar: WorkingCalendar, granted: Limit, now: datetime) -> StepClock:
        """The clock once ``granted`` (approved at ``now``) is added; see the module's rule."""
        return self._fixed(
            calendar,
            self.step,
            self.round,
            self.started_at,
            self.natural,
            self.allowed + self._grant(calendar, granted, now),
            self.held,
            self.hold_started_at,
        )

    def _grant(self, calendar: WorkingCalendar, granted: Limit, now: datetime) -> timedelta:
        """What the grant adds to the allowance, in the time this clock counts."""
        span = granted.duration(calendar, now)
        if not self.natural or granted.natural:
            return span
        # Working time granted on a wall clock: its real length is where the calendar says that
        # much working time after the deadline ends, nights, weekends and holidays included.
        return calendar.add_working(self.deadline, span) - self.deadline

    def overdue(self, now: datetime) -> bool:
        return self.light(now) is Light.RED
