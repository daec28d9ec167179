"""What following saved rule revisions costs the create path (cases.config).

Run: ``python bench/bench_rules_in_force.py [--reads 1000000]`` (a few seconds).
A create reads the rules four times (the limits once, the calendar three times). Printed:
- raw: the same reads as plain attributes of a frozen dataclass (what ``CaseRules`` was);
- ours: ``CaseRules.calendar`` / ``.limits`` with the process bound to a database and nothing
  saved since the last look (the common case: a clock reading, no query);
- look: one look at the newest revision numbers (what every read would cost if it queried),
  the statement each process runs at most once per ``ONEGRID_CASES_RULES_REFRESH_SECONDS``;
- the clock reading alone, which is most of a read on a busy virtual machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onegrid.cases.config import (
    CasesSettings,
    case_rules,
    release_rule_store,
    rules_saved,
    use_rule_store,
)
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import migrate


@dataclass(frozen=True)
class Plain:
    calendar: Any
    limits: Any


def _per_read(fn: Any, reads: int) -> float:
    start = time.perf_counter()
    fn(reads)
    return (time.perf_counter() - start) / reads * 1e9


def _clock_ns() -> float:
    start = time.perf_counter()
    for _ in range(100_000):
        time.monotonic()
    return (time.perf_counter() - start) / 100_000 * 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--looks", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        migrate(db.engine)
        use_rule_store(db)
        rules = case_rules("Asia/Shanghai", CasesSettings(rules_refresh_seconds=5))
        plain = Plain(rules.calendar, rules.limits)

        def raw(n: int) -> None:
            for _ in range(n // 4):
                plain.limits, plain.calendar, plain.calendar, plain.calendar  # noqa: B018

        def ours(n: int) -> None:
            for _ in range(n // 4):
                rules.limits, rules.calendar, rules.calendar, rules.calendar  # noqa: B018

        def look(n: int) -> None:
            for _ in range(n):
                rules_saved(db)  # what a save does: look at the newest numbers now

        # Best of five rounds, interleaved: the machine is shared, and the best round is the
        # one least disturbed.
        r = o = q = float("inf")
        for _ in range(5):
            r = min(r, _per_read(raw, args.reads))
            o = min(o, _per_read(ours, args.reads))
            q = min(q, _per_read(look, args.looks))
        release_rule_store(db)
        db.engine.dispose()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"raw  (plain attribute)         {r:8.0f} ns/read")
    print(f"ours (bound, between looks)    {o:8.0f} ns/read   ratio ours/raw {o / r:.2f}")
    print(f"look (newest revision numbers) {q:8.0f} ns/look   ratio look/ours {q / o:.0f}")
    print(f"time.monotonic() alone         {_clock_ns():8.0f} ns")
    added = 4 * (o - r) / 1000
    print(f"per create (4 reads): {4 * o / 1000:.2f} µs, of which {added:.2f} µs added")


if __name__ == "__main__":
    main()
