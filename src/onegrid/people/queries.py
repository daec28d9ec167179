"""The read side of the people context: users, departments, API keys and principals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from onegrid.core.errors import NotFound
from onegrid.people.domain import (
    Grant,
    Principal,
    PrincipalKind,
    Role,
    Scope,
    ScopeKind,
    implied_area_chain,
    normalize_username,
)
from onegrid.people.models import (
    ApiKey,
    AuthSession,
    Department,
    DepartmentMember,
    RoleGrant,
    User,
)
from onegrid.people.policy import can, reach


def grant_of(role: str, scope_kind: str, scope_code: str) -> Grant:
    return Grant(Role(role), Scope(ScopeKind(scope_kind), scope_code))


def grants_of(user: User) -> tuple[Grant, ...]:
    return tuple(sorted(grant_of(g.role, g.scope_kind, g.scope_code) for g in user.grants))


def principal_of(user: User, session_id: str | None = None) -> Principal:
    grants = grants_of(user)
    departments = {m.department_code for m in user.memberships}
    departments |= {g.scope.code for g in grants if g.scope.kind is ScopeKind.DEPARTMENT}
    return Principal(
        subject_id=user.id,
        name=user.username,
        kind=PrincipalKind.USER,
        grants=grants,
        department_codes=frozenset(departments),
        session_id=session_id,
    )


# Built once, with parameters: building the two statements on every request cost more than
# running them (about 1 ms of the request's CPU went to building and keying them).
_OPEN_SESSION = (
    select(User.username, AuthSession.user_id)
    .join(User, User.id == AuthSession.user_id)
    .where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.user_id == bindparam("user_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now", type_=AuthSession.__table__.c.expires_at.type),
        User.active.is_(True),
    )
)
_ACCESS = union_all(
    select(RoleGrant.role, RoleGrant.scope_kind, RoleGrant.scope_code).where(
        RoleGrant.user_id == bindparam("user_id")
    ),
    select(literal(""), literal(""), DepartmentMember.department_code).where(
        DepartmentMember.user_id == bindparam("user_id")
    ),
)


def principal_of_session(
    session: Session, session_id: str, user_id: int, now: datetime
) -> Principal | None:
    """The principal behind an open session of an active user, in two plain queries: this runs
    on every authenticated request, so it skips the ORM's identity map and lazy loading."""
    conn = session.connection()
    params = {"session_id": session_id, "user_id": user_id, "now": now}
    row = conn.execute(_OPEN_SESSION, params).first()
    if row is None:
        return None
    access = conn.execute(_ACCESS, {"user_id": user_id}).all()
    grants = tuple(sorted(grant_of(r, k, c) for r, k, c in access if r))
    departments = {c for r, _, c in access if not r}
    departments |= {g.scope.code for g in grants if g.scope.kind is ScopeKind.DEPARTMENT}
    return Principal(
        subject_id=user_id,
        name=row.username,
        kind=PrincipalKind.USER,
        grants=grants,
        department_codes=frozenset(departments),
        session_id=session_id,
    )


@dataclass(frozen=True)
class KeyOnFile:
    """What checking a presented API key needs of its row."""

    id: int
    name: str
    key_hash: str
    role: str
    scope_kind: str
    scope_code: str
    last_used_at: datetime | None
    revoked_at: datetime | None


# Read as plain columns, not an ORM entity: every Open311 post and keyed request reads it, and
# loading the entity cost about a sixth of a post's CPU.
_KEY_ON_FILE = select(
    ApiKey.id,
    ApiKey.name,
    ApiKey.key_hash,
    ApiKey.role,
    ApiKey.scope_kind,
    ApiKey.scope_code,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
).where(ApiKey.prefix == bindparam("prefix"))


def key_on_file(session: Session, prefix: str) -> KeyOnFile | None:
    row = session.connection().execute(_KEY_ON_FILE, {"prefix": prefix}).first()
    return None if row is None else KeyOnFile(*row)


def principal_of_key(key: KeyOnFile) -> Principal:
    grant = grant_of(key.role, key.scope_kind, key.scope_code)
    departments = {grant.scope.code} if grant.scope.kind is ScopeKind.DEPARTMENT else set()
    return Principal(
        subject_id=key.id,
        name=key.name,
        kind=PrincipalKind.API_KEY,
        grants=(grant,),
        department_codes=frozenset(departments),
    )


def _with_access(stmt: Select[User]) -> Select[User]:
    return stmt.options(selectinload(User.grants), selectinload(User.memberships))


def find_user(session: Session, user_id: int) -> User | None:
    stmt = select(User).where(User.id == user_id)
    return session.scalars(_with_access(stmt)).first()


def get_user(session: Session, user_id: int) -> User:
    user = find_user(session, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def user_by_username(session: Session, username: str) -> User | None:
    stmt = select(User).where(User.username_key == normalize_username(username)[:64])
    return session.scalars(_with_access(stmt)).first()


def get_user_by_username(session: Session, username: str) -> User:
    user = user_by_username(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def find_department(session: Session, code: str) -> Department | None:
    return session.scalars(select(Department).where(Department.code == code)).first()


def get_department(session: Session, code: str) -> Department:
    department = find_department(session, code)
    if department is None:
        raise NotFound(f"no department with code {code!r}")
    return department


def list_departments(
    session: Session, *, active_only: bool = False, area_code: str | None = None
) -> list[Department]:
    stmt = select(Department).order_by(Department.code)
    if active_only:
        stmt = stmt.where(Department.active.is_(True))
    if area_code is not None:
        stmt = stmt.where(Department.area_code == area_code)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Target:
    """Where a scope sits, in the terms policy checks take."""

    area_chain: tuple[str, ...] = ()
    department_code: str | None = None


def target_of_department(area_code: str | None, code: str) -> Target:
    return Target(implied_area_chain(area_code) if area_code else (), code)


def _target_of_department_code(session: Session, code: str) -> Target:
    department = find_department(session, code)
    return target_of_department(department.area_code if department else None, code)


def target_of_scope(session: Session, scope: Scope) -> Target:
    if scope.kind is ScopeKind.CITY:
        return Target()
    if scope.kind is ScopeKind.AREA:
        return Target(implied_area_chain(scope.code))
    return _target_of_department_code(session, scope.code)


def targets_of_user(session: Session, user: User) -> list[Target]:
    """Every place a user's access reaches: what an administrator must cover to manage them."""
    targets = [target_of_scope(session, g.scope) for g in grants_of(user)]
    targets += [_target_of_department_code(session, code) for code in user.department_codes]
    return targets or [Target()]


def may_manage(session: Session, admin: Principal, user: User) -> bool:
    """An administrator manages a user only if every grant and membership of the user lies in
    the administrator's own reach, so that nobody can take over a wider account."""
    return all(
        can(admin, "people.admin", area_chain=t.area_chain, department_code=t.department_code)
        for t in targets_of_user(session, user)
    )


def may_view(session: Session, viewer: Principal, user: User) -> bool:
    """An administrator sees a user if any of the user's access lies in the admin's reach."""
    reach_ = reach(viewer, "people.admin")
    return any(
        reach_.covers(t.area_chain, t.department_code) for t in targets_of_user(session, user)
    )


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int


def list_users(
    session: Session,
    viewer: Principal | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
    search: str | None = None,
    role: Role | None = None,
) -> UserPage:
    """Users ordered by username; a scoped viewer sees users with access inside their scope."""
    stmt = select(User).order_by(User.username_key)
    if search:
        stmt = stmt.where(User.username_key.contains(normalize_username(search)[:64]))
    if role is not None:
        stmt = stmt.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    if viewer is None or reach(viewer, "people.admin").everywhere:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(_with_access(stmt.limit(limit).offset(offset)))
        return UserPage(list(rows), total)
    # Scoped administrators are few and their cities' users in the thousands: filter here.
    visible = [u for u in session.scalars(_with_access(stmt)) if may_view(session, viewer, u)]
    return UserPage(visible[offset : offset + limit], len(visible))


def list_api_keys(
    session: Session, viewer: Principal | None = None, *, include_revoked: bool = False
) -> list[ApiKey]:
    """Keys ordered by name; a scoped administrator sees the keys whose scope lies in reach."""
    stmt = select(ApiKey).order_by(ApiKey.name, ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    keys = list(session.scalars(stmt))
    if viewer is None or reach(viewer, "people.admin").everywhere:
        return keys
    return [k for k in keys if may_view_key(session, viewer, k)]


def may_view_key(session: Session, viewer: Principal, key: ApiKey) -> bool:
    """An administrator sees (and may revoke) a key whose scope lies within its reach."""
    target = target_of_scope(session, grant_of(key.role, key.scope_kind, key.scope_code).scope)
    return reach(viewer, "people.admin").covers(target.area_chain, target.department_code)


def owner_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Readable names for ``created_by`` actors: ``user:12`` becomes the username; others
    (``console``, ``api_key:3``) stay as they are."""
    wanted = {a for a in actors if a}
    ids = {int(a[5:]): a for a in wanted if a.startswith("user:") and a[5:].isdigit()}
    names = {a: a for a in wanted}
    for user_id, username in usernames(session, ids).items():
        names[ids[user_id]] = username
    return names


# Built once: every request with an API key (each Open311 post) looks its key up, and building
# and keying the statement each time cost about as much as the ORM load.
_KEY_BY_PREFIX = select(ApiKey).where(ApiKey.prefix == bindparam("prefix"))


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(_KEY_BY_PREFIX, {"prefix": prefix}).first()


def users_in_department(session: Session, code: str) -> Sequence[User]:
    """Users who work for a department or hold a grant over it."""
    granted = select(RoleGrant.user_id).where(
        RoleGrant.scope_kind == ScopeKind.DEPARTMENT, RoleGrant.scope_code == code
    )
    members = select(DepartmentMember.user_id).where(DepartmentMember.department_code == code)
    stmt = select(User).where(or_(User.id.in_(granted), User.id.in_(members)))
    return list(session.scalars(_with_access(stmt).order_by(User.username_key)))


def usernames(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {row.id: row.username for row in rows}
