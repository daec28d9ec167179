"""The working calendar's cost with changes of working periods (cases.domain.calendar).

Run: ``python bench/bench_calendar.py [--calls 20000] [--changes 20]`` (a few seconds).
Printed for the shipped calendar (one set of periods) and for one with ``--changes`` changes
(summer and winter hours alternating):
- build: the day table from 2000 to 2099, done once per rule revision a process sees;
- add_working (a deadline; the create path computes two per case) and working_between (a
  clock reading), per call;
- raw: one bare ``bisect`` over a list as long as the day table, the step both calls rest on.
"""

from __future__ import annotations

import argparse
import bisect
import os
import platform
import time
from datetime import date, datetime, timedelta
from datetime import time as tod
from zoneinfo import ZoneInfo

from _common import timed

from onegrid.cases.config import case_rules
from onegrid.cases.domain.calendar import PeriodChange, WorkingCalendar

BJ = ZoneInfo("Asia/Shanghai")
SUMMER = ((tod(8), tod(12)), (tod(14), tod(18)))
WINTER = ((tod(8, 30), tod(12)), (tod(13, 30), tod(17, 30)))


def _with_changes(base: WorkingCalendar, n: int) -> WorkingCalendar:
    changes = [
        PeriodChange(
            date(2026 + i // 2, 5 if i % 2 == 0 else 10, 1), SUMMER if i % 2 == 0 else WINTER
        )
        for i in range(n)
    ]
    return WorkingCalendar(
        BJ, holidays=base.holidays, make_up_days=base.make_up_days, period_changes=changes
    )


def _per_call(fn: object, calls: int) -> float:
    assert callable(fn)

    def run() -> None:
        for _ in range(calls):
            fn()

    return timed(run, repeat=5) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    shipped = case_rules("Asia/Shanghai").calendar
    print(
        f"# {platform.machine()} {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}, {time.ctime()}"
    )
    ends = list(range(0, 36_525 * 27_000_000, 27_000_000))
    raw = _per_call(lambda: bisect.bisect_left(ends, 20_000 * 27_000_000 + 5), args.calls)
    print(f"raw: bisect over {len(ends):,} days {raw * 1e6:.2f} µs")
    start = datetime(2026, 6, 1, 10, tzinfo=BJ)
    for name, build in (
        (
            "shipped",
            lambda: WorkingCalendar(
                BJ, holidays=shipped.holidays, make_up_days=shipped.make_up_days
            ),
        ),
        (f"{args.changes} changes", lambda: _with_changes(shipped, args.changes)),
    ):
        built = timed(build, repeat=5)
        cal = build()
        add = _per_call(lambda c=cal: c.add_working(start, timedelta(hours=20)), args.calls)
        between = _per_call(
            lambda c=cal: c.working_between(start, start + timedelta(days=9)), args.calls
        )
        print(
            f"{name}: build {built * 1e3:.1f} ms; add_working {add * 1e6:.2f} µs "
            f"({add / raw:.0f}× raw); working_between {between * 1e6:.2f} µs "
            f"({between / raw:.0f}× raw)"
        )


if __name__ == "__main__":
    main()
