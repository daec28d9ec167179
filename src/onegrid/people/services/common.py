"""What the people use cases share: collecting input problems, grant checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onegrid.core.errors import Conflict, FieldProblem, InvalidInput, PermissionDenied
from onegrid.people.domain import Grant, Principal, Role, Scope, check_grant, parse_role
from onegrid.people.policy import require
from onegrid.people.queries import target_of_scope

T = TypeVar("T")


class Problems:
    """Collects every broken rule of one request, so the caller can fix them all at once."""

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def check(self, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except InvalidInput as exc:
            self.items.extend(exc.problems)
            return None

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append(FieldProblem(field, rule, message))

    def raise_any(self) -> None:
        if self.items:
            raise InvalidInput(self.items)


def flush_or_conflict(session: Session, conflict: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None


def as_grant(role: Role | str, scope: Scope | str, field: str = "scope") -> Grant:
    role_ = role if isinstance(role, Role) else parse_role(role)
    scope_ = scope if isinstance(scope, Scope) else Scope.parse(scope, field)
    return check_grant(role_, scope_, field)


def require_grantable(session: Session, by: Principal | None, grant: Grant) -> None:
    """A grant may be given only inside the giver's own reach; city admins only by city admins."""
    if by is None:
        return
    target = target_of_scope(session, grant.scope)
    require(
        by, "people.admin", area_chain=target.area_chain, department_code=target.department_code
    )
    if grant.role is Role.CITY_ADMIN and Role.CITY_ADMIN not in by.roles:
        raise PermissionDenied(f"only a city_admin may grant city_admin ({by.name} is not one)")
