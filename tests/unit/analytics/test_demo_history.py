"""The demo city's synthetic history has the patterns the analyses are meant to find."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from onegrid.cases.domain.states import Channel
from onegrid.cases.domain.workflow import Action
from onegrid.demo.history import SLOW, expected_daily, synthetic_history

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def test_history_has_seasons_weekdays_slow_departments_and_repeat_callers() -> None:
    cases = list(synthetic_history(11, NOW, days=365))
    assert 0.8 * 365 * expected_daily(6, False) * 5 / 7 < len(cases) < 1.2 * 365 * 16
    by = Counter((c.category_code, c.created_at.month) for c in cases)
    assert by[("E0601", 1)] > 5 * by[("E0601", 7)]  # heating in winter
    assert by[("E0406", 7)] > 10 * max(by[("E0406", 1)], 1)  # waterlogging in the rains
    weekday = Counter(c.created_at.weekday() >= 5 for c in cases)
    assert weekday[True] / 2 < 0.85 * weekday[False] / 5
    assert min(c.created_at for c in cases) >= NOW - timedelta(days=366)
    assert max(c.created_at for c in cases) < NOW

    def handling(c: object) -> float:
        steps = c.steps  # type: ignore[attr-defined]
        at = {s.command.action: s.at for s in steps}
        return (at[Action.REPORT_BACK] - at[Action.ACCEPT]).total_seconds()

    done = [c for c in cases if any(s.command.action is Action.CLOSE for s in c.steps)]
    assert len(done) > 0.95 * len(cases) - 20
    dept = {
        c: next(s.command.department_code for s in c.steps if s.command.action is Action.DISPATCH)
        for c in done
    }
    slow = [handling(c) for c in done if dept[c] in SLOW]
    fast = [handling(c) for c in done if dept[c] not in SLOW]
    assert sum(slow) / len(slow) > 2 * sum(fast) / len(fast)
    phones = Counter(c.reporter.phone for c in cases if c.channel is Channel.HOTLINE)
    assert phones.most_common(1)[0][1] >= 5
    # The same seed makes the same history.
    first = [c.external_ref for c in synthetic_history(11, NOW, days=20)]
    assert first == [c.external_ref for c in synthetic_history(11, NOW, days=20)]
