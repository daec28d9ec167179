"""The transition table, tried over every (status, action) pair."""

from __future__ import annotations

import itertools

import pytest

from onegrid.cases.domain.states import CLOSED_STATUSES, Status
from onegrid.cases.domain.workflow import TRANSITIONS, Action, allowed_actions, transition_for
from onegrid.core.errors import InvalidInput
from onegrid.people.policy import ACTIONS

S, A = Status, Action

# The table as the issue states it, written out independently of the code: (from, action) → to.
EXPECTED: dict[tuple[Status, Action], Status] = {
    (S.TO_VERIFY, A.VERIFY): S.TO_FILE,
    (S.TO_VERIFY, A.CANCEL): S.CANCELLED,
    (S.TO_VERIFY, A.MERGE): S.MERGED,
    (S.TO_FILE, A.FILE): S.TO_DISPATCH,
    (S.TO_FILE, A.CANCEL): S.CANCELLED,
    (S.TO_FILE, A.MERGE): S.MERGED,
    (S.TO_DISPATCH, A.DISPATCH): S.DISPATCHED,
    (S.TO_DISPATCH, A.MERGE): S.MERGED,
    (S.TO_DISPATCH, A.SPLIT): S.SPLIT,
    (S.DISPATCHED, A.ACCEPT): S.HANDLING,
    (S.DISPATCHED, A.RETURN): S.TO_DISPATCH,
    (S.HANDLING, A.RETURN): S.TO_DISPATCH,
    (S.HANDLING, A.HANDLE): S.HANDLING,
    (S.HANDLING, A.REPORT_BACK): S.TO_CHECK,
    (S.HANDLING, A.EXTEND_REQUEST): S.HANDLING,
    (S.HANDLING, A.EXTEND_APPROVE): S.HANDLING,
    (S.HANDLING, A.EXTEND_REFUSE): S.HANDLING,
    (S.HANDLING, A.HOLD_REQUEST): S.HANDLING,
    (S.HANDLING, A.HOLD): S.ON_HOLD,
    (S.HANDLING, A.HOLD_REFUSE): S.HANDLING,
    (S.ON_HOLD, A.RESUME): S.HANDLING,
    (S.TO_CHECK, A.CHECK): S.TO_CLOSE,
    (S.TO_CHECK, A.REWORK): S.HANDLING,
    (S.TO_CLOSE, A.CLOSE): S.CLOSED,
    (S.TO_CLOSE, A.REWORK): S.HANDLING,
    (S.SPLIT, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.HANDLING,
    # The system closes a sensor case whose condition cleared, before the on-site check.
    **{
        (s, A.AUTO_CLOSE): S.CLOSED
        for s in (S.TO_FILE, S.TO_DISPATCH, S.DISPATCHED, S.HANDLING, S.ON_HOLD)
    },
}
PAIRS = list(itertools.product(Status, Action))


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_pair_is_allowed_exactly_as_specified(status: Status, action: Action) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(InvalidInput) as caught:
            transition_for(status, action)
        problem = caught.value.problems[0]
        assert (problem.field, problem.rule) == ("action", "allowed_transition")
        assert status.value in problem.message
    else:
        assert transition_for(status, action).to is expected


def test_the_table_has_nothing_more_than_specified() -> None:
    assert {k: v.to for k, v in TRANSITIONS.items()} == EXPECTED


def test_every_permission_is_a_policy_action() -> None:
    for transition in TRANSITIONS.values():
        assert transition.permission in ACTIONS


def test_cancelled_and_merged_are_final_and_closed_only_reopens() -> None:
    assert allowed_actions(S.CANCELLED) == [] and allowed_actions(S.MERGED) == []
    assert allowed_actions(S.CLOSED) == [A.REOPEN]
    assert S.CLOSED in CLOSED_STATUSES


@pytest.mark.parametrize(
    "pair",
    [
        (S.TO_FILE, A.CANCEL),
        (S.DISPATCHED, A.RETURN),
        (S.HANDLING, A.HOLD),
        (S.HANDLING, A.HOLD_REQUEST),
        (S.HANDLING, A.HOLD_REFUSE),
        (S.TO_CHECK, A.REWORK),
        (S.CLOSED, A.REOPEN),
        (S.HANDLING, A.REPORT_BACK),
    ],
)
def test_exceptions_need_a_reason(pair: tuple[Status, Action]) -> None:
    assert TRANSITIONS[pair].reason_required


def test_report_back_needs_photos_and_only_it() -> None:
    needing = {k for k, t in TRANSITIONS.items() if t.attachments_required}
    assert needing == {(S.HANDLING, A.REPORT_BACK)}


def test_the_refusal_lists_what_is_allowed() -> None:
    with pytest.raises(InvalidInput, match="allowed from to_file: file, cancel, merge"):
        transition_for(S.TO_FILE, A.CLOSE)
