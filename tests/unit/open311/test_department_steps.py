"""What a department system's posted status does to a case dispatched to its department."""

from __future__ import annotations

import pytest

from onegrid.api.open311.mapping import department_steps
from onegrid.cases.domain.states import Status
from onegrid.cases.domain.workflow import TRANSITIONS, Action

S, A = Status, Action
HANDS = (S.DISPATCHED, S.HANDLING, S.ON_HOLD, S.TO_CHECK, S.TO_CLOSE, S.CLOSED)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("in progress", {S.DISPATCHED: (A.ACCEPT,), S.HANDLING: (A.HANDLE,)}),
        ("action scheduled", {S.DISPATCHED: (A.ACCEPT,), S.HANDLING: (A.HANDLE,)}),
        ("investigating", {S.DISPATCHED: (A.ACCEPT,), S.HANDLING: (A.HANDLE,)}),
        (
            "closed",
            {
                S.DISPATCHED: (A.ACCEPT, A.REPORT_BACK),
                S.HANDLING: (A.REPORT_BACK,),
                S.ON_HOLD: (A.REPORT_BACK,),
            },
        ),
        (
            "fixed",
            {
                S.DISPATCHED: (A.ACCEPT, A.REPORT_BACK),
                S.HANDLING: (A.REPORT_BACK,),
                S.ON_HOLD: (A.REPORT_BACK,),
            },
        ),
        *(
            (status, {s: (A.RETURN,) for s in HANDS})
            for status in (
                "not councils responsibility",
                "internal referral",
                "not responsible",
                "wrong department",
            )
        ),
        *((status, {}) for status in ("open", "reopen", "no further action", "duplicate")),
    ],
)
def test_steps_by_status(status: str, expected: dict[Status, tuple[Action, ...]]) -> None:
    assert {s: department_steps(status, s) for s in HANDS} == {
        s: expected.get(s, ()) for s in HANDS
    }


def test_a_department_never_closes() -> None:
    for status in ("closed", "fixed", "in progress", "not responsible"):
        for current in Status:
            steps = department_steps(status, current)
            assert A.CLOSE not in steps and A.AUTO_CLOSE not in steps
            # Every step but the last is one the workflow allows from where it starts.
            if len(steps) > 1:
                assert (current, steps[0]) in TRANSITIONS
