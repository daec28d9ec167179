"""Who gave a case its unit, and which unit sent it back, read from the case's history.

Plain functions over history entries: the route of a case dispatched by the command centre (or
split to a lead unit) is explained from these, and a case a unit returned as not its own is not
sent back to that unit by the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from onegrid.cases.history import HistoryEntry

_DISPATCH, _SPLIT, _RETURN = "dispatch", "split", "return"


@dataclass(frozen=True)
class Assignment:
    department_code: str
    actor: str
    at: datetime


def _unit_set_by(entry: HistoryEntry) -> str | None:
    """The unit an entry gave the case: a dispatch's, or a split's lead unit."""
    if entry.action == _DISPATCH:
        return entry.details.get("department_code")
    if entry.action == _SPLIT:
        return entry.details.get("lead_department_code")
    return None


def current_assignment(
    entries: Sequence[HistoryEntry], department_code: str | None, split_child: bool
) -> Assignment | None:
    """The newest entry that gave the case its current unit; for a child of a split, which
    starts with its unit, the entry that made it."""
    if department_code is None:
        return None
    for entry in reversed(entries):
        if _unit_set_by(entry) == department_code:
            return Assignment(department_code, entry.actor, entry.at)
    if split_child and entries:
        return Assignment(department_code, entries[0].actor, entries[0].at)
    return None


def returned_by(entries: Sequence[HistoryEntry]) -> str | None:
    """The unit that sent the case back, while the case waits to be dispatched again: the unit
    of the assignment the newest return undid."""
    returned = False
    for entry in reversed(entries):
        if entry.action == _RETURN:
            if returned:
                continue  # an earlier return: the unit before it is not the one that matters
            returned = True
        elif (unit := _unit_set_by(entry)) is not None:
            return unit if returned else None
    return None
