"""Use cases: who patrols which unit grid, and which department answers for what where."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.grid.models import DutyRuleRow, InspectorGridRow, UnitGridRow
from onegrid.grid.responsibility import TERRITORIAL_LEVELS, DutyKind, category_prefix_problem
from onegrid.grid.services.areas import levels_on
from onegrid.grid.storage import valid_on_clause

_MAX_DEPARTMENT_CODE = 64


def _grid_exists(session: Session, code: str, on: date) -> bool:
    found = session.scalar(
        select(UnitGridRow.id)
        .where(
            UnitGridRow.code == code,
            valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, on),
        )
        .limit(1)
    )
    return found is not None


def assign_inspector(
    session: Session, clock: Clock, *, user_id: int, unit_grid_code: str, valid_from: date
) -> int:
    """The inspector (a people-context user id) patrols the grid from ``valid_from``;
    assigning an existing open assignment again changes nothing. Returns the assignment id."""
    problems: list[FieldProblem] = []
    if user_id <= 0:
        problems.append(FieldProblem("user_id", "positive", "user ids are positive integers"))
    if not _grid_exists(session, unit_grid_code, valid_from):
        problems.append(
            FieldProblem(
                "unit_grid_code",
                "unit-grid-exists",
                f"no unit grid {unit_grid_code} is valid on {valid_from}",
            )
        )
    if problems:
        raise InvalidInput(problems)
    current = session.scalar(
        select(InspectorGridRow).where(
            InspectorGridRow.user_id == user_id,
            InspectorGridRow.unit_grid_code == unit_grid_code,
            InspectorGridRow.valid_to.is_(None),
        )
    )
    if current is not None:
        return current.id
    row = InspectorGridRow(
        user_id=user_id,
        unit_grid_code=unit_grid_code,
        valid_from=valid_from,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row.id


def assign_inspector_to_grids(
    session: Session,
    clock: Clock,
    *,
    user_id: int,
    unit_grid_codes: list[str],
    valid_from: date,
) -> int:
    """The inspector patrols every grid listed (e.g. a whole subdistrict's), checked in one
    query; grids already assigned are left alone. All or nothing. Returns how many were added."""
    wanted = sorted(set(unit_grid_codes))
    known = set(
        session.scalars(
            select(UnitGridRow.code).where(
                UnitGridRow.code.in_(wanted),
                valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, valid_from),
            )
        )
    )
    missing = [c for c in wanted if c not in known]
    if user_id <= 0 or missing:
        problems = [FieldProblem("user_id", "positive", "user ids are positive integers")] * (
            user_id <= 0
        )
        problems += [
            FieldProblem(
                "unit_grid_codes",
                "unit-grid-exists",
                f"no unit grid {c} is valid on {valid_from}",
                record=c,
            )
            for c in missing
        ]
        raise InvalidInput(problems)
    current = set(
        session.scalars(
            select(InspectorGridRow.unit_grid_code).where(
                InspectorGridRow.user_id == user_id, InspectorGridRow.valid_to.is_(None)
            )
        )
    )
    rows = [
        InspectorGridRow(
            user_id=user_id, unit_grid_code=c, valid_from=valid_from, created_at=clock.now()
        )
        for c in wanted
        if c not in current
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def end_inspector_assignment(
    session: Session, *, user_id: int, unit_grid_code: str, valid_to: date
) -> None:
    current = session.scalar(
        select(InspectorGridRow).where(
            InspectorGridRow.user_id == user_id,
            InspectorGridRow.unit_grid_code == unit_grid_code,
            InspectorGridRow.valid_to.is_(None),
        )
    )
    if current is None:
        raise NotFound(f"inspector {user_id} has no open assignment to grid {unit_grid_code}")
    if valid_to <= current.valid_from:
        raise InvalidInput.one(
            "valid_to", "after-start", f"the assignment started on {current.valid_from}"
        )
    current.valid_to = valid_to


def _duty_problems(
    session: Session,
    area_code: str,
    prefix: str,
    department_code: str,
    kind: DutyKind,
    on: date,
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    level = levels_on(session, [area_code], on).get(area_code)
    if level is None:
        problems.append(
            FieldProblem("area_code", "area-exists", f"no area {area_code} is valid on {on}")
        )
    elif kind is DutyKind.TERRITORIAL and level not in TERRITORIAL_LEVELS:
        problems.append(
            FieldProblem(
                "area_code",
                "territorial-level",
                f"{area_code} is a {level}; territorial units are set on a subdistrict, "
                "district or the city",
            )
        )
    prefix_problem = category_prefix_problem(prefix)
    if prefix_problem:
        problems.append(FieldProblem("category_prefix", "category-prefix", prefix_problem))
    if not department_code.strip() or len(department_code) > _MAX_DEPARTMENT_CODE:
        problems.append(
            FieldProblem(
                "department_code",
                "department-code",
                f"a department code is 1 to {_MAX_DEPARTMENT_CODE} characters",
            )
        )
    return problems


def set_duty_rule(
    session: Session,
    clock: Clock,
    *,
    area_code: str,
    category_prefix: str,
    department_code: str,
    kind: DutyKind | str = DutyKind.OWNER,
    valid_from: date,
) -> int:
    """From ``valid_from`` on, ``department_code`` answers for categories starting with
    ``category_prefix`` (``*``: all) in the area; it replaces the rule for the same area,
    prefix and kind. Returns the new rule's id."""
    try:
        kind = DutyKind(kind)
    except ValueError:
        raise InvalidInput.one("kind", "duty-kind", "kind is 'owner' or 'territorial'") from None
    problems = _duty_problems(
        session, area_code, category_prefix, department_code, kind, valid_from
    )
    if problems:
        raise InvalidInput(problems)
    previous = session.scalars(
        select(DutyRuleRow).where(
            DutyRuleRow.area_code == area_code,
            DutyRuleRow.category_prefix == category_prefix,
            DutyRuleRow.kind == str(kind),
            (DutyRuleRow.valid_to.is_(None)) | (DutyRuleRow.valid_to > valid_from),
        )
    ).all()
    for old in previous:
        if old.valid_from >= valid_from:
            session.delete(old)
        else:
            old.valid_to = valid_from
    row = DutyRuleRow(
        area_code=area_code,
        category_prefix=category_prefix,
        department_code=department_code.strip(),
        kind=str(kind),
        valid_from=valid_from,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row.id


def end_duty_rule(session: Session, *, rule_id: int, valid_to: date) -> None:
    row = session.get(DutyRuleRow, rule_id)
    if row is None:
        raise NotFound(f"no duty rule #{rule_id}")
    if valid_to <= row.valid_from:
        raise InvalidInput.one(
            "valid_to", "after-start", f"rule #{rule_id} starts {row.valid_from}"
        )
    row.valid_to = valid_to
