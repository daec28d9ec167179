"""Use cases for users, their grants, memberships and passwords."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import column, select, table, union, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onegrid.people.domain import (
    Grant,
    Principal,
    Role,
    Scope,
    ScopeKind,
    check_email,
    check_password,
    check_phone,
    check_text,
    check_username,
    normalize_username,
)
from onegrid.people.models import AuthSession, DepartmentMember, RoleGrant, User
from onegrid.people.passwords import hash_password, verify_password
from onegrid.people.queries import find_department, get_user, grants_of, may_manage
from onegrid.people.services.common import (
    Problems,
    as_grant,
    flush_or_conflict,
    require_grantable,
)


def _require_manage(session: Session, by: Principal | None, user: User) -> None:
    if by is not None and not may_manage(session, by, user):
        raise PermissionDenied(
            f"not allowed to people.admin for user {user.username!r}: their grants or "
            f"departments reach beyond {by.name}'s administrative scope"
        )


def _check_grant_departments(session: Session, grants: Iterable[Grant], problems: Problems) -> None:
    for g in grants:
        if g.scope.kind is ScopeKind.DEPARTMENT and find_department(session, g.scope.code) is None:
            problems.add("grants", "exists", f"no department with code {g.scope.code!r}")


# The grid's tables, read by name: people sits beside grid in the layers and may not import it.
_AREA_CODES = (table("areas", column("code")), table("unit_grids", column("code")))
_CITY_ADMIN = Grant(Role.CITY_ADMIN, Scope.city())


def _check_grant_areas(session: Session, grants: Iterable[Grant], problems: Problems) -> None:
    """An area grant names an area or unit grid of the city. Before any area is imported there
    is nothing to check against (people may be set up first), and a code stands for the chain
    its own digits imply."""
    codes = sorted({g.scope.code for g in grants if g.scope.kind is ScopeKind.AREA})
    if not codes or session.scalar(select(_AREA_CODES[0].c.code).limit(1)) is None:
        return
    known = set(
        session.scalars(union(*(select(t.c.code).where(t.c.code.in_(codes)) for t in _AREA_CODES)))
    )
    for code in codes:
        if code not in known:
            problems.add("grants", "known_area", f"no area or unit grid with code {code!r}")


def _check_new_grants(session: Session, grants: Iterable[Grant], problems: Problems) -> None:
    grants_ = list(grants)
    _check_grant_departments(session, grants_, problems)
    _check_grant_areas(session, grants_, problems)


def _another_city_admin(session: Session, user_id: int) -> bool:
    """Whether an active user other than ``user_id`` holds city_admin over the city."""
    found = session.scalar(
        select(RoleGrant.id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == _CITY_ADMIN.role.value,
            RoleGrant.scope_kind == _CITY_ADMIN.scope.kind.value,
            User.active.is_(True),
            User.id != user_id,
        )
        .limit(1)
    )
    return found is not None


def _check_city_admin_kept(
    session: Session,
    user: User,
    problems: Problems,
    *,
    grants: Collection[Grant],
    active: bool,
    field: str,
) -> None:
    """Refuses taking the city_admin grant (or the account holding it, when ``active`` is
    False) from the last active user with one: only a city_admin may grant city_admin, so
    nobody could give it back."""
    if not user.active or _CITY_ADMIN not in grants_of(user) or (active and _CITY_ADMIN in grants):
        return
    if not _another_city_admin(session, user.id):
        problems.add(
            field,
            "last_city_admin",
            f"{user.username!r} is the last active city_admin: grant city_admin to another "
            "user first",
        )


def _refuse_own_grants(by: Principal | None, user: User, problems: Problems) -> None:
    # Nobody widens or narrows their own access: another administrator must, so a mistake (or a
    # stolen session) cannot strip the city of its administrator.
    if by is not None and by.user_id == user.id:
        problems.add("grants", "not_self", "you cannot change your own grants")


def _check_memberships(session: Session, codes: Iterable[str], problems: Problems) -> list[str]:
    out = []
    for code in dict.fromkeys(c.strip() for c in codes):
        if find_department(session, code) is None:
            problems.add("department_codes", "exists", f"no department with code {code!r}")
        out.append(code)
    return out


def _new_grant_row(grant: Grant, clock: Clock, by: Principal | None) -> RoleGrant:
    return RoleGrant(
        role=grant.role.value,
        scope_kind=grant.scope.kind.value,
        scope_code=grant.scope.code,
        created_at=clock.now(),
        granted_by=by.actor if by else "console",
    )


def create_user(
    session: Session,
    username: str,
    password: str | None,
    clock: Clock,
    *,
    display_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    grants: Iterable[Grant] = (),
    department_codes: Iterable[str] = (),
    active: bool = True,
    by: Principal | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """A new user; ``password=None`` makes an account that cannot sign in until one is set."""
    grants_ = sorted(set(grants))
    problems = Problems()
    name = problems.check(lambda: check_username(username))
    if password is not None:
        problems.check(lambda: check_password(password))
    shown = problems.check(
        lambda: check_text(display_name or username, "display_name", 200, required=True)
    )
    phone_ = problems.check(lambda: check_phone(phone))
    email_ = problems.check(lambda: check_email(email))
    _check_new_grants(session, grants_, problems)
    memberships = _check_memberships(session, department_codes, problems)
    problems.raise_any()
    assert name is not None and shown is not None
    for g in grants_:
        require_grantable(session, by, g)
    for code in memberships:
        require_grantable(session, by, Grant(Role.DEPARTMENT_HANDLER, Scope.department(code)))
    key = normalize_username(name)
    if session.scalar(select(User.id).where(User.username_key == key)) is not None:
        raise Conflict(f"username {name!r} is taken")
    now = clock.now()
    user = User(
        username=name,
        username_key=key,
        display_name=shown,
        phone=phone_,
        email=email_,
        password_hash=hash_password(password, hasher) if password is not None else None,
        active=active,
        created_at=now,
        updated_at=now,
        password_changed_at=now if password is not None else None,
    )
    user.grants = [_new_grant_row(g, clock, by) for g in grants_]
    user.memberships = [DepartmentMember(department_code=c) for c in memberships]
    session.add(user)
    flush_or_conflict(session, f"username {name!r} is taken")
    return user


def add_grant(
    session: Session,
    user_id: int,
    role: Role | str,
    scope: Scope | str,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> RoleGrant:
    """Give a user a role over a scope; giving one they already hold changes nothing."""
    grant = as_grant(role, scope)
    user = get_user(session, user_id)
    problems = Problems()
    _refuse_own_grants(by, user, problems)
    if grant not in grants_of(user):
        _check_new_grants(session, [grant], problems)
    problems.raise_any()
    require_grantable(session, by, grant)
    for row in user.grants:
        if (row.role, row.scope_kind, row.scope_code) == (
            grant.role.value,
            grant.scope.kind.value,
            grant.scope.code,
        ):
            return row
    row = _new_grant_row(grant, clock, by)
    user.grants.append(row)
    user.updated_at = clock.now()
    session.flush()
    return row


def remove_grant(
    session: Session,
    user_id: int,
    role: Role | str,
    scope: Scope | str,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> None:
    grant = as_grant(role, scope)
    user = get_user(session, user_id)
    problems = Problems()
    _refuse_own_grants(by, user, problems)
    problems.raise_any()
    require_grantable(session, by, grant)
    left = [g for g in grants_of(user) if g != grant]
    _check_city_admin_kept(session, user, problems, grants=left, active=True, field="grants")
    problems.raise_any()
    for row in list(user.grants):
        if (row.role, row.scope_kind, row.scope_code) == (
            grant.role.value,
            grant.scope.kind.value,
            grant.scope.code,
        ):
            user.grants.remove(row)
            user.updated_at = clock.now()
            session.flush()
            return
    raise NotFound(f"user {user.username!r} holds no grant {grant}")


@dataclass(frozen=True)
class UserPatch:
    """Fields to change; ``None`` leaves a field alone, ``""`` clears phone or e-mail;
    ``grants`` and ``department_codes`` replace the whole list when given."""

    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    active: bool | None = None
    grants: tuple[Grant, ...] | None = None
    department_codes: tuple[str, ...] | None = None


def _replace_access(
    session: Session,
    user: User,
    patch: UserPatch,
    clock: Clock,
    by: Principal | None,
    problems: Problems,
) -> None:
    if patch.grants is not None:
        wanted = set(patch.grants)
        held = set(grants_of(user))
        _check_new_grants(session, wanted - held, problems)
        problems.raise_any()
        for g in sorted(wanted ^ held):
            require_grantable(session, by, g)
        user.grants = [r for r in user.grants if grants_of_row(r) in wanted]
        user.grants += [_new_grant_row(g, clock, by) for g in sorted(wanted - held)]
    if patch.department_codes is not None:
        codes = _check_memberships(session, patch.department_codes, problems)
        problems.raise_any()
        for code in set(codes) ^ set(user.department_codes):
            require_grantable(session, by, Grant(Role.DEPARTMENT_HANDLER, Scope.department(code)))
        kept = [m for m in user.memberships if m.department_code in codes]
        have = {m.department_code for m in kept}
        user.memberships = kept + [
            DepartmentMember(department_code=c) for c in codes if c not in have
        ]


def grants_of_row(row: RoleGrant) -> Grant:
    return Grant(Role(row.role), Scope(ScopeKind(row.scope_kind), row.scope_code))


def update_user(
    session: Session,
    user_id: int,
    patch: UserPatch,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> User:
    user = get_user(session, user_id)
    _require_manage(session, by, user)
    problems = Problems()
    if patch.display_name is not None:
        user.display_name = (
            problems.check(
                lambda: check_text(patch.display_name, "display_name", 200, required=True)
            )
            or user.display_name
        )
    if patch.phone is not None:
        user.phone = problems.check(lambda: check_phone(patch.phone))
    if patch.email is not None:
        user.email = problems.check(lambda: check_email(patch.email))
    if patch.active is False and by is not None and by.user_id == user.id:
        problems.add("active", "not_self", "you cannot deactivate your own account")
    if patch.grants is not None and set(patch.grants) != set(grants_of(user)):
        _refuse_own_grants(by, user, problems)
    _check_city_admin_kept(
        session,
        user,
        problems,
        grants=grants_of(user) if patch.grants is None else patch.grants,
        active=patch.active is not False,
        field="active" if patch.active is False else "grants",
    )
    problems.raise_any()
    _replace_access(session, user, patch, clock, by, problems)
    if patch.active is not None and patch.active != user.active:
        user.active = patch.active
        if not patch.active:
            end_sessions(session, user.id, clock)
    user.updated_at = clock.now()
    flush_or_conflict(session, f"user {user.username!r} changed concurrently")
    return user


def set_password(
    session: Session,
    user_id: int,
    new_password: str,
    clock: Clock,
    *,
    by: Principal | None = None,
    current_password: str | None = None,
    keep_session_id: str | None = None,
    hasher: PasswordHasher | None = None,
) -> User:
    """Change a password: the user themselves with their current one, or an administrator.
    Every other session of the user ends, so a stolen token stops working."""
    user = get_user(session, user_id)
    check_password(new_password)
    if by is not None and by.user_id == user.id:
        if (
            current_password is None
            or not verify_password(user.password_hash, current_password, hasher).ok
        ):
            raise InvalidInput.one(
                "current_password", "matches", "the current password is not correct"
            )
    else:
        _require_manage(session, by, user)
    now = clock.now()
    user.password_hash = hash_password(new_password, hasher)
    user.password_changed_at = now
    user.updated_at = now
    end_sessions(session, user.id, clock, keep=keep_session_id)
    session.flush()
    return user


def end_sessions(session: Session, user_id: int, clock: Clock, *, keep: str | None = None) -> int:
    """Revoke every open session of a user (but ``keep``); returns how many ended."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)
