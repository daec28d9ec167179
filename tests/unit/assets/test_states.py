"""The component state table, tested over every pair of states."""

from __future__ import annotations

import itertools

import pytest

from onegrid.assets.domain import (
    TRANSITIONS,
    ComponentState,
    check_transition,
    parse_state,
)
from onegrid.core.errors import Conflict, InvalidInput

S = ComponentState
ALLOWED = {
    (S.NORMAL, S.DAMAGED),
    (S.NORMAL, S.LOST),
    (S.NORMAL, S.UNDER_REPAIR),
    (S.NORMAL, S.REMOVED),
    (S.DAMAGED, S.NORMAL),
    (S.DAMAGED, S.LOST),
    (S.DAMAGED, S.UNDER_REPAIR),
    (S.DAMAGED, S.REMOVED),
    (S.LOST, S.NORMAL),
    (S.LOST, S.UNDER_REPAIR),
    (S.LOST, S.REMOVED),
    (S.UNDER_REPAIR, S.NORMAL),
    (S.UNDER_REPAIR, S.DAMAGED),
    (S.UNDER_REPAIR, S.REMOVED),
}


@pytest.mark.parametrize(("old", "new"), list(itertools.product(S, S)))
def test_every_pair_of_states(old: ComponentState, new: ComponentState) -> None:
    assert (new in TRANSITIONS[old]) == ((old, new) in ALLOWED)
    if (old, new) in ALLOWED:
        check_transition("1101010101000001", old, new)
        return
    expected = Conflict if old is S.REMOVED else InvalidInput
    with pytest.raises(expected) as exc:
        check_transition("1101010101000001", old, new)
    assert "1101010101000001" in exc.value.message


def test_a_refused_change_names_what_is_allowed() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_transition("1101010101000001", S.LOST, S.DAMAGED)
    problem = exc.value.problems[0]
    assert (problem.field, problem.rule) == ("state", "allowed_transition")
    assert "normal, removed, under_repair" in problem.message


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("normal", S.NORMAL),
        ("Damaged", S.DAMAGED),
        ("破损", S.DAMAGED),
        ("丢失", S.LOST),
        ("维修中", S.UNDER_REPAIR),
        ("under repair", S.UNDER_REPAIR),
        ("已拆除", S.REMOVED),
    ],
)
def test_state_words(text: str, state: ComponentState) -> None:
    assert parse_state(text) is state


def test_unknown_state_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_state("broken-ish")
    assert exc.value.problems[0].rule == "known_state"
