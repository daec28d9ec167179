"""Reads for the admin pages: the duty-rule catalogue, inspectors' assignments, and the area
chain of any area or unit grid (what scope checks compare a grant against).

Kept apart from ``queries.py``, whose location functions are on the hot path of every report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from onegrid.grid.models import AreaRow, DutyRuleRow, InspectorGridRow, UnitGridRow
from onegrid.grid.storage import chunks, valid_on_clause

MAX_ROWS = 5000


@dataclass(frozen=True)
class DutyRuleView:
    id: int
    area_code: str
    category_prefix: str
    department_code: str
    kind: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class AssignmentView:
    id: int
    user_id: int
    unit_grid_code: str
    valid_from: date
    valid_to: date | None


def _parents(session: Session, codes: Iterable[str]) -> dict[str, str | None]:
    """The parent of each area code on the chains of ``codes``, from its newest version: a
    code's place in the tree is what a grant over it reaches today. Read one tier at a time
    upwards, so a request costs its chain's depth in queries, not the whole areas table."""
    parents: dict[str, str | None] = {}
    asked: set[str] = set()
    wanted = set(codes)
    while wanted:
        asked |= wanted
        found = _newest_parents(session, wanted)
        parents.update(found)
        wanted = {p for p in found.values() if p and p not in asked}
    return parents


def _newest_parents(session: Session, codes: set[str]) -> dict[str, str | None]:
    newest: dict[str, tuple[date, str | None]] = {}
    for part in chunks(sorted(codes)):
        for code, parent, start in session.execute(
            select(AreaRow.code, AreaRow.parent_code, AreaRow.valid_from).where(
                AreaRow.code.in_(part)
            )
        ):
            if code not in newest or start > newest[code][0]:
                newest[code] = (start, parent)
    return {code: parent for code, (_, parent) in newest.items()}


def _chain(code: str, parents: dict[str, str | None]) -> tuple[str, ...]:
    chain = [code]
    seen = {code}
    parent = parents.get(code)
    while parent and parent not in seen:
        chain.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return tuple(reversed(chain))


def area_chains(session: Session, codes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The area chain (city first) of each area code; a code not stored is its own chain, so
    only a city grant covers it."""
    wanted = set(codes)
    parents = _parents(session, wanted)
    return {code: _chain(code, parents) for code in wanted}


def chains_below(session: Session, parent_of: dict[str, str | None]) -> dict[str, tuple[str, ...]]:
    """The chain of things not stored yet (an area in an import, a unit grid) from the code of
    the area they will sit in: ``{code: parent code}``."""
    parents = _parents(session, (p for p in parent_of.values() if p))
    return {
        code: (*(_chain(parent, parents) if parent else ()), code)
        for code, parent in parent_of.items()
    }


def grid_communities(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The community of each unit grid code (its newest version)."""
    newest: dict[str, tuple[date, str]] = {}
    for part in chunks(sorted(set(codes))):
        for code, community, start in session.execute(
            select(UnitGridRow.code, UnitGridRow.community_code, UnitGridRow.valid_from).where(
                UnitGridRow.code.in_(part)
            )
        ):
            if code not in newest or start > newest[code][0]:
                newest[code] = (start, community)
    return {code: community for code, (_, community) in newest.items()}


def grid_shapes(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Stored unit grid rows' shapes by row id (e.g. the grids an import would retire)."""
    out: dict[int, Any] = {}
    for part in chunks(list(ids)):
        for row_id, wkb in session.execute(
            select(UnitGridRow.id, UnitGridRow.geometry).where(UnitGridRow.id.in_(part))
        ):
            out[row_id] = shapely.from_wkb(wkb)
    return out


def _current(
    valid_from: Any, valid_to: Any, on: date | None, not_ended_on: date | None
) -> ColumnElement[bool]:
    # A list "as of today" shows what holds today and what is scheduled after it: a rule with a
    # successor from next month still holds today although its valid_to is set.
    if on is None and not_ended_on is not None:
        return or_(valid_to.is_(None), valid_to > not_ended_on)
    return valid_on_clause(valid_from, valid_to, on)


def find_duty_rules(
    session: Session,
    *,
    area_code: str | None = None,
    area_codes: Sequence[str] | None = None,
    category_prefix: str | None = None,
    department_code: str | None = None,
    on: date | None = None,
    not_ended_on: date | None = None,
    include_ended: bool = False,
) -> list[DutyRuleView]:
    """The catalogue, filtered: rules on one area, for a category prefix and its subcategories
    (``E01`` lists ``E01`` and ``E0101``), naming one department; valid on ``on``, or else in
    force on ``not_ended_on`` or starting later, or else still open; all if ``include_ended``."""
    query = select(DutyRuleRow)
    if not include_ended:
        query = query.where(
            _current(DutyRuleRow.valid_from, DutyRuleRow.valid_to, on, not_ended_on)
        )
    if area_code:
        query = query.where(DutyRuleRow.area_code == area_code)
    if area_codes is not None:
        query = query.where(DutyRuleRow.area_code.in_(list(area_codes)))
    if category_prefix:
        query = query.where(
            DutyRuleRow.category_prefix.startswith(category_prefix, autoescape=True)
        )
    if department_code:
        query = query.where(DutyRuleRow.department_code == department_code)
    rows = session.scalars(
        query.order_by(DutyRuleRow.area_code, DutyRuleRow.category_prefix, DutyRuleRow.id).limit(
            MAX_ROWS
        )
    )
    return [
        DutyRuleView(
            r.id,
            r.area_code,
            r.category_prefix,
            r.department_code,
            r.kind,
            r.valid_from,
            r.valid_to,
        )
        for r in rows
    ]


def get_duty_rule(session: Session, rule_id: int) -> DutyRuleView | None:
    r = session.get(DutyRuleRow, rule_id)
    if r is None:
        return None
    return DutyRuleView(
        r.id, r.area_code, r.category_prefix, r.department_code, r.kind, r.valid_from, r.valid_to
    )


def find_assignments(
    session: Session,
    *,
    user_id: int | None = None,
    unit_grid_code: str | None = None,
    grid_prefix: str | None = None,
    on: date | None = None,
    not_ended_on: date | None = None,
    include_ended: bool = False,
) -> list[AssignmentView]:
    """Inspectors' grids, filtered by inspector, grid, or a code prefix (a community's or a
    subdistrict's grids share their code's first 12 or 9 digits); which of them as for
    ``find_duty_rules``."""
    query = select(InspectorGridRow)
    if not include_ended:
        query = query.where(
            _current(InspectorGridRow.valid_from, InspectorGridRow.valid_to, on, not_ended_on)
        )
    if user_id is not None:
        query = query.where(InspectorGridRow.user_id == user_id)
    if unit_grid_code:
        query = query.where(InspectorGridRow.unit_grid_code == unit_grid_code)
    if grid_prefix:
        query = query.where(
            InspectorGridRow.unit_grid_code.startswith(grid_prefix, autoescape=True)
        )
    rows = session.scalars(
        query.order_by(
            InspectorGridRow.user_id, InspectorGridRow.unit_grid_code, InspectorGridRow.id
        ).limit(MAX_ROWS)
    )
    return [
        AssignmentView(r.id, r.user_id, r.unit_grid_code, r.valid_from, r.valid_to) for r in rows
    ]
