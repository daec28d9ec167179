"""The overdue job: mark steps that ran past their deadline and escalate them one tier up.

Run every minute inside the server (``run_forever``, started with the app) and on demand with
``onegrid jobs run-once`` (for cron). It is idempotent: the tier a step should be at is a function
of time, and a case is written only when it must move up, guarded by its version and step round,
so two runs (or two servers) at once change nothing more than one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import ESCALATION_TIERS, escalation_due
from onegrid.cases.domain.states import OPEN_STATUSES
from onegrid.cases.history import SCHEDULER, append, entry_values
from onegrid.cases.records import CASES, CaseRecord
from onegrid.core.clock import Clock
from onegrid.core.logging import get_logger
from onegrid.db.session import Database

log = get_logger("onegrid.cases.scheduler")
C = CASES.c
BATCH = 500


@dataclass
class JobReport:
    checked: int = 0
    escalated: int = 0
    skipped: int = 0  # changed by someone else meanwhile; the next run looks again

    def render(self) -> str:
        return (
            f"overdue job: {self.checked} overdue step(s) checked, {self.escalated} escalated, "
            f"{self.skipped} skipped (changed meanwhile)"
        )


def escalation_target(rec: CaseRecord, tier: int) -> str | None:
    """The area that supervises the case at ``tier``: subdistrict, district, then city."""
    codes = {
        "subdistrict": rec.subdistrict_code,
        "district": rec.district_code,
        "city": rec.city_code,
    }
    for name in ESCALATION_TIERS[tier:]:
        if codes[name]:
            return codes[name]
    return None


def _escalate(session: Session, rec: CaseRecord, rules: CaseRules, now: datetime) -> bool | None:
    """True if escalated, False if nothing to do, None if the case changed meanwhile."""
    tier = escalation_due(rec.state(), rules.calendar, now)
    if tier is None:
        return False
    target = escalation_target(rec, tier)
    values = {
        "overdue_marked": True,
        "overdue_steps": rec.overdue_steps + (0 if rec.overdue_marked else 1),
        "escalation_tier": tier,
        "escalated_to": target,
        "version": rec.version + 1,
        "updated_at": now,
    }
    result = session.execute(
        update(CASES)
        .where(C.id == rec.id, C.version == rec.version, C.step_round == rec.step_round)
        .values(values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    append(
        session,
        **entry_values(
            rec.id,
            now,
            SCHEDULER,
            "escalate",
            rec.status,
            rec.status,
            rec.version + 1,
            f"the {rec.step} step passed its deadline {rec.step_deadline:%Y-%m-%d %H:%M} UTC",
            details={
                "step": rec.step,
                "round": rec.step_round,
                "tier": ESCALATION_TIERS[tier],
                "escalated_to": target,
            },
        ),
    )
    return True


def run_overdue_job(db: Database, clock: Clock, rules: CaseRules) -> JobReport:
    """One pass over every running step past its deadline."""
    now = clock.now()
    report = JobReport()
    last_id = 0
    while True:
        with db.unit_of_work() as session:
            rows = (
                session.execute(
                    select(CASES)
                    .where(
                        C.id > last_id,
                        C.step_deadline < now,
                        C.step_frozen_light.is_(None),
                        C.status.in_([s.value for s in OPEN_STATUSES]),
                        C.escalation_tier < len(ESCALATION_TIERS) - 1,
                    )
                    .order_by(C.id)
                    .limit(BATCH)
                )
                .mappings()
                .all()
            )
            for row in rows:
                rec = CaseRecord.of(row)
                done = _escalate(session, rec, rules, now)
                report.checked += 1
                report.escalated += done is True
                report.skipped += done is None
        if len(rows) < BATCH:
            return report
        last_id = rows[-1]["id"]


async def run_forever(db: Database, clock: Clock, rules: CaseRules, interval: float) -> None:
    """Run the job every ``interval`` seconds until cancelled; a failed run is logged and the
    next one tries again."""
    while True:
        await asyncio.sleep(interval)
        try:
            report = await asyncio.to_thread(run_overdue_job, db, clock, rules)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must survive a bad run
            log.error("overdue job failed", error=repr(exc))
            continue
        if report.escalated:
            log.info("overdue job", checked=report.checked, escalated=report.escalated)
