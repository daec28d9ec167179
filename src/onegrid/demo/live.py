"""The demo city's work in progress: a few days of cases caught at every step of the workflow.

A fresh demo should look like a city on a working day: cases waiting to be verified, filed,
dispatched, accepted, checked and closed, some of them already late, so that the workbench, the
hotline desk and the command-centre map have something to show before anyone files a case. The
cases come from the same generator as the two-year history (``demo/history.py``) and are
loaded through the same replay of the workflow; each is stopped at a random step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import numpy as np
from sqlalchemy import select

from onegrid.cases.config import case_rules
from onegrid.cases.importing import HistoricalCase, LoadReport, load_historical
from onegrid.cases.models import CaseRow
from onegrid.core.clock import Clock, SystemClock
from onegrid.db.session import Database
from onegrid.demo.history import refs_from, synthetic_history
from onegrid.demo.words import words_for

LIVE_DAYS = 4
LIVE_PER_DAY = 80
OPEN_SHARE = 0.9  # of today's cases stopped before they are closed; fewer of each older day's
REF_PREFIX = "demo-live:"


def live_cases(
    seed: int, now: datetime, *, days: int = LIVE_DAYS, per_day: float = LIVE_PER_DAY
) -> Iterator[HistoricalCase]:
    """The demo's open work (the same for the same seed and ``now``), oldest first."""
    rng = np.random.default_rng(seed + 7)
    for case in synthetic_history(seed, now, days, per_day, stream=7):
        words = words_for(case.category_code)
        steps = case.steps
        # Most of what is still open came in recently: a city that left most of last week's
        # cases open would be all red, and the command centre would show nothing else.
        age_days = (now - case.created_at).total_seconds() / 86400
        if steps and rng.random() < OPEN_SHARE * math.exp(-age_days / 1.5):
            steps = steps[: int(rng.integers(0, len(steps)))]
        yield replace(
            case,
            description=words[int(rng.integers(0, len(words)))],
            external_ref=REF_PREFIX + (case.external_ref or "").split(":", 1)[-1],
            steps=steps,
        )


def load_live_cases(db: Database, seed: int, clock: Clock | None = None) -> LoadReport | None:
    """Once per database: ``None`` when the demo's work in progress is already there."""
    with db.reader() as s:
        if s.scalar(select(CaseRow.id).where(refs_from(REF_PREFIX)).limit(1)):
            return None
    now = (clock or SystemClock()).now()
    return load_historical(db, live_cases(seed, now), rules=case_rules(), use_grid=True)


def load_knowledge_base(db: Database, clock: Clock | None = None) -> int:
    """The shipped example answers, so the hotline desk can close consultations from day one."""
    from onegrid.dispatch.config import dispatch_settings
    from onegrid.dispatch.hotline.knowledge import load_answers

    with db.unit_of_work() as session:
        return load_answers(
            session, dispatch_settings().knowledge_base_file, clock or SystemClock()
        )
