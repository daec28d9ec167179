"""Use cases for departments (organisations that handle cases)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import Conflict, FieldProblem
from onegrid.people.domain import (
    Principal,
    check_code,
    check_phone,
    check_text,
    parse_department_kind,
)
from onegrid.people.models import Department
from onegrid.people.policy import require
from onegrid.people.queries import find_department, get_department, target_of_department
from onegrid.people.services.common import Problems, flush_or_conflict


def _require_department_admin(by: Principal | None, area_code: str | None, code: str) -> None:
    if by is None:
        return
    target = target_of_department(area_code, code)
    require(
        by, "people.admin", area_chain=target.area_chain, department_code=target.department_code
    )


def create_department(
    session: Session,
    code: str,
    name_zh: str,
    clock: Clock,
    *,
    name_en: str = "",
    kind: str = "other",
    area_code: str | None = None,
    parent_code: str | None = None,
    phone: str | None = None,
    active: bool = True,
    by: Principal | None = None,
) -> Department:
    problems = Problems()
    code_ = problems.check(lambda: check_code(code, "code", "department"))
    zh = problems.check(lambda: check_text(name_zh, "name_zh", 200, required=True))
    en = problems.check(lambda: check_text(name_en, "name_en", 200, required=False))
    kind_ = problems.check(lambda: parse_department_kind(kind))
    area = problems.check(lambda: check_code(area_code, "area_code", "area")) if area_code else None
    phone_ = problems.check(lambda: check_phone(phone))
    if parent_code and find_department(session, parent_code) is None:
        problems.add("parent_code", "exists", f"no department with code {parent_code!r}")
    problems.raise_any()
    assert code_ is not None and zh is not None and kind_ is not None
    _require_department_admin(by, area, code_)
    if find_department(session, code_) is not None:
        raise Conflict(f"department {code_!r} already exists")
    now = clock.now()
    department = Department(
        code=code_,
        name_zh=zh,
        name_en=en or zh,
        kind=kind_.value,
        area_code=area,
        parent_code=parent_code or None,
        active=active,
        phone=phone_,
        created_at=now,
        updated_at=now,
    )
    session.add(department)
    flush_or_conflict(session, f"department {code_!r} already exists")
    return department


@dataclass(frozen=True)
class DepartmentPatch:
    """Fields to change; ``None`` leaves a field alone, ``""`` clears a nullable one."""

    name_zh: str | None = None
    name_en: str | None = None
    kind: str | None = None
    area_code: str | None = None
    parent_code: str | None = None
    phone: str | None = None
    active: bool | None = None


def _check_parent(session: Session, code: str, parent_code: str) -> FieldProblem | None:
    seen = {code}
    current: str | None = parent_code
    while current is not None:
        if current in seen:
            return FieldProblem("parent_code", "no_cycle", f"{parent_code!r} is under {code!r}")
        seen.add(current)
        parent = find_department(session, current)
        if parent is None:
            return FieldProblem("parent_code", "exists", f"no department with code {current!r}")
        current = parent.parent_code
    return None


def update_department(
    session: Session,
    code: str,
    patch: DepartmentPatch,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> Department:
    department = get_department(session, code)
    _require_department_admin(by, department.area_code, code)
    problems = Problems()
    if patch.name_zh is not None:
        department.name_zh = (
            problems.check(lambda: check_text(patch.name_zh, "name_zh", 200, required=True))
            or department.name_zh
        )
    if patch.name_en is not None:
        department.name_en = (
            problems.check(lambda: check_text(patch.name_en, "name_en", 200, required=False))
            or department.name_zh
        )
    if patch.kind is not None:
        kind = problems.check(lambda: parse_department_kind(patch.kind or ""))
        department.kind = kind.value if kind else department.kind
    if patch.area_code is not None:
        area = patch.area_code.strip()
        if area:
            problems.check(lambda: check_code(area, "area_code", "area"))
        department.area_code = area or None
    if patch.parent_code is not None:
        parent = patch.parent_code.strip()
        problem = _check_parent(session, code, parent) if parent else None
        if problem:
            problems.items.append(problem)
        department.parent_code = parent or None
    if patch.phone is not None:
        department.phone = problems.check(lambda: check_phone(patch.phone))
    if patch.active is not None:
        department.active = patch.active
    problems.raise_any()
    # The new area must lie in the administrator's reach too.
    _require_department_admin(by, department.area_code, code)
    department.updated_at = clock.now()
    session.flush()
    return department
