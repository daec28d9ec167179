"""People and access over HTTP: sign-in, the caller, users and departments."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from onegrid.api.auth import AnyPrincipal, CurrentPrincipal, clear_session_cookie, requires
from onegrid.api.deps import AppClock, AppSettings, DbSession, get_database
from onegrid.api.ids import Offset, row_id
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.people import credentials, queries, services
from onegrid.people.domain import Grant, Principal, Role
from onegrid.people.models import ApiKey, Department, User
from onegrid.people.policy import ACTIONS, allowed_actions, require_somewhere, roles_for
from onegrid.people.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatchIn,
    GrantIn,
    GrantOut,
    MeOut,
    PasswordIn,
    SessionStateOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPageOut,
    UserPatchIn,
)

router = APIRouter()

PeopleAdmin = Annotated[Principal, requires("people.admin")]
PeopleReader = Annotated[Principal, requires("people.read")]
UserId = Annotated[int, Path(description="A user's id"), row_id(lambda n: f"no user with id {n}")]


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        phone=user.phone,
        email=user.email,
        active=user.active,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_sign_in_at=user.last_sign_in_at,
        grants=[GrantOut.of(g) for g in queries.grants_of(user)],
        department_codes=user.department_codes,
    )


def _department_out(department: Department) -> DepartmentOut:
    return DepartmentOut.model_validate(department, from_attributes=True)


def _grants_in(items: list[GrantIn]) -> tuple[Grant, ...]:
    grants: list[Grant] = []
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        try:
            grants.append(services.as_grant(item.role, item.scope))
        except InvalidInput as exc:
            problems += [
                FieldProblem(f"grants.{i}.{p.field}", p.rule, p.message) for p in exc.problems
            ]
    if problems:
        raise InvalidInput(problems)
    return tuple(grants)


# --- signing in and out -----------------------------------------------------------------------


@router.post(
    "/auth/token",
    tags=["auth"],
    summary="Sign in with a username and password (OAuth2 password form); get a bearer token",
    response_model=TokenOut,
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[Database, Depends(get_database)],
    clock: AppClock,
    settings: AppSettings,
) -> TokenOut:
    issued = credentials.sign_in(
        db,
        form.username,
        form.password,
        clock,
        secret_key=settings.secret_key,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
        lockout=credentials.lockout_policy(settings.auth),
    )
    return TokenOut(access_token=issued.access_token, expires_at=issued.expires_at)


@router.post(
    "/auth/logout",
    tags=["auth"],
    summary="End the session behind the bearer token (or the web cookie)",
    status_code=204,
    response_class=Response,
)
def logout(principal: CurrentPrincipal, session: DbSession, clock: AppClock) -> Response:
    if principal.session_id is not None:
        credentials.sign_out(session, principal.session_id, clock)
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.get(
    "/me",
    tags=["auth"],
    summary="Who is calling: the user or API key, its grants, departments and allowed actions",
    response_model=MeOut,
)
def me(principal: CurrentPrincipal, session: DbSession) -> MeOut:
    return _me_out(principal, session)


@router.get(
    "/auth/session",
    tags=["auth"],
    summary="Who is signed in, if anyone",
    description="As `/me`, but an anonymous caller gets 200 with `me` null rather than 401: "
    "the web asks on every page, and a citizen reporting without an account is not an error. "
    "An expired or revoked credential still gets 401.",
)
def session_state(principal: AnyPrincipal, session: DbSession) -> SessionStateOut:
    return SessionStateOut(me=None if principal.is_anonymous else _me_out(principal, session))


def _me_out(principal: Principal, session: Session) -> MeOut:
    user = queries.find_user(session, principal.user_id) if principal.user_id else None
    assert principal.subject_id is not None
    return MeOut(
        kind="user" if user is not None else "api_key",
        id=principal.subject_id,
        name=principal.name,
        display_name=user.display_name if user else None,
        phone=user.phone if user else None,
        email=user.email if user else None,
        grants=[GrantOut.of(g) for g in principal.grants],
        department_codes=sorted(principal.department_codes),
        actions=allowed_actions(principal),
    )


@router.get(
    "/access/actions",
    tags=["auth"],
    summary="The permission table: every action, what it means and which roles may do it",
    response_model=dict[str, list[str]],
)
def access_actions() -> dict[str, list[str]]:
    return {a: sorted(r.value for r in roles_for(a)) for a in ACTIONS}


# --- users ------------------------------------------------------------------------------------


@router.get(
    "/users",
    tags=["people"],
    summary="List users whose access lies in the caller's administrative scope",
    response_model=UserPageOut,
)
def list_users(
    principal: PeopleAdmin,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
    search: Annotated[str | None, Query(max_length=64)] = None,
    role: Role | None = None,
) -> UserPageOut:
    page = queries.list_users(
        session, principal, limit=limit, offset=offset, search=search, role=role
    )
    return UserPageOut(
        items=[_user_out(u) for u in page.users], total=page.total, limit=limit, offset=offset
    )


@router.post(
    "/users",
    tags=["people"],
    summary="Create a user with grants and department memberships",
    response_model=UserOut,
    status_code=201,
)
def create_user(
    body: UserIn, principal: PeopleAdmin, session: DbSession, clock: AppClock
) -> UserOut:
    user = services.create_user(
        session,
        body.username,
        body.password,
        clock,
        display_name=body.display_name,
        phone=body.phone,
        email=body.email,
        grants=_grants_in(body.grants),
        department_codes=body.department_codes,
        by=principal,
    )
    return _user_out(user)


def _visible_user(session: DbSession, principal: Principal, user_id: int) -> User:
    user = queries.find_user(session, user_id)
    if user is not None and principal.user_id == user_id:
        return user
    require_somewhere(principal, "people.admin")
    if user is None or not queries.may_view(session, principal, user):
        # Out of scope looks the same as missing: ids must not reveal who exists elsewhere.
        raise NotFound(f"no user with id {user_id}")
    return user


@router.get("/users/{user_id}", tags=["people"], summary="One user", response_model=UserOut)
def get_user(user_id: UserId, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    return _user_out(_visible_user(session, principal, user_id))


@router.patch(
    "/users/{user_id}",
    tags=["people"],
    summary="Change a user: details, active flag, grants or departments",
    response_model=UserOut,
)
def patch_user(
    user_id: UserId, body: UserPatchIn, principal: PeopleAdmin, session: DbSession, clock: AppClock
) -> UserOut:
    _visible_user(session, principal, user_id)
    patch = services.UserPatch(
        display_name=body.display_name,
        phone=body.phone,
        email=body.email,
        active=body.active,
        grants=_grants_in(body.grants) if body.grants is not None else None,
        department_codes=tuple(body.department_codes)
        if body.department_codes is not None
        else None,
    )
    return _user_out(services.update_user(session, user_id, patch, clock, by=principal))


@router.post(
    "/users/{user_id}/password",
    tags=["people"],
    summary="Set a password: your own (with the current one) or, as an administrator, anyone's",
    status_code=204,
    response_class=Response,
)
def set_password(
    user_id: UserId,
    body: PasswordIn,
    principal: CurrentPrincipal,
    session: DbSession,
    clock: AppClock,
) -> Response:
    _visible_user(session, principal, user_id)
    services.set_password(
        session,
        user_id,
        body.password,
        clock,
        by=principal,
        current_password=body.current_password,
        keep_session_id=principal.session_id,
    )
    return Response(status_code=204)


# --- departments ------------------------------------------------------------------------------


@router.get(
    "/departments",
    tags=["people"],
    summary="List departments (organisations that handle cases)",
    response_model=list[DepartmentOut],
)
def list_departments(
    principal: PeopleReader,
    session: DbSession,
    active_only: bool = False,
    area_code: Annotated[str | None, Query(max_length=32)] = None,
) -> list[DepartmentOut]:
    rows = queries.list_departments(session, active_only=active_only, area_code=area_code)
    return [_department_out(d) for d in rows]


@router.get(
    "/departments/{code}",
    tags=["people"],
    summary="One department",
    response_model=DepartmentOut,
)
def get_department(code: str, principal: PeopleReader, session: DbSession) -> DepartmentOut:
    return _department_out(queries.get_department(session, code))


@router.post(
    "/departments",
    tags=["people"],
    summary="Create a department",
    response_model=DepartmentOut,
    status_code=201,
)
def create_department(
    body: DepartmentIn, principal: PeopleAdmin, session: DbSession, clock: AppClock
) -> DepartmentOut:
    department = services.create_department(
        session,
        body.code,
        body.name_zh,
        clock,
        name_en=body.name_en,
        kind=body.kind,
        area_code=body.area_code,
        parent_code=body.parent_code,
        phone=body.phone,
        active=body.active,
        by=principal,
    )
    return _department_out(department)


@router.patch(
    "/departments/{code}",
    tags=["people"],
    summary="Change a department: names, kind, area, parent, phone or active flag",
    response_model=DepartmentOut,
)
def patch_department(
    code: str,
    body: DepartmentPatchIn,
    principal: PeopleAdmin,
    session: DbSession,
    clock: AppClock,
) -> DepartmentOut:
    patch = services.DepartmentPatch(**body.model_dump(exclude_unset=True))
    return _department_out(services.update_department(session, code, patch, clock, by=principal))


# --- API keys ---------------------------------------------------------------------------------


def _api_key_fields(key: ApiKey, owners: dict[str, str]) -> dict[str, object]:
    grant = queries.grant_of(key.role, key.scope_kind, key.scope_code)
    return {
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "role": grant.role,
        "scope_kind": grant.scope.kind,
        "scope_code": grant.scope.code,
        "scope": str(grant.scope),
        "owner": owners.get(key.created_by or "", key.created_by or ""),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def _api_key_out(session: DbSession, key: ApiKey) -> ApiKeyOut:
    owners = queries.owner_names(session, [key.created_by])
    return ApiKeyOut.model_validate(_api_key_fields(key, owners))


@router.get(
    "/api-keys",
    tags=["people"],
    summary="List the API keys whose scope lies in the caller's administrative scope "
    "(never the keys themselves)",
    response_model=list[ApiKeyOut],
)
def list_api_keys(
    principal: PeopleAdmin, session: DbSession, include_revoked: bool = False
) -> list[ApiKeyOut]:
    keys = queries.list_api_keys(session, principal, include_revoked=include_revoked)
    owners = queries.owner_names(session, (k.created_by for k in keys))
    return [ApiKeyOut.model_validate(_api_key_fields(k, owners)) for k in keys]


@router.post(
    "/api-keys",
    tags=["people"],
    summary="Create an API key for a system client; the key is in this response only",
    response_model=ApiKeyCreatedOut,
    status_code=201,
)
def create_api_key(
    body: ApiKeyIn, principal: PeopleAdmin, session: DbSession, clock: AppClock
) -> ApiKeyCreatedOut:
    key, raw = credentials.create_api_key(
        session, body.name, body.role, body.scope, clock, by=principal
    )
    owners = queries.owner_names(session, [key.created_by])
    return ApiKeyCreatedOut.model_validate({**_api_key_fields(key, owners), "key": raw})


def _visible_key(session: DbSession, principal: Principal, prefix: str) -> ApiKey:
    key = queries.api_key_by_prefix(session, prefix)
    if key is None or not queries.may_view_key(session, principal, key):
        # Out of scope looks the same as missing, as for users.
        raise NotFound(f"no API key with prefix {prefix!r}")
    return key


@router.get(
    "/api-keys/{prefix}",
    tags=["people"],
    summary="One API key, by its public prefix",
    response_model=ApiKeyOut,
)
def get_api_key(
    prefix: Annotated[str, Path(max_length=16)], principal: PeopleAdmin, session: DbSession
) -> ApiKeyOut:
    return _api_key_out(session, _visible_key(session, principal, prefix))


@router.delete(
    "/api-keys/{prefix}",
    tags=["people"],
    summary="Revoke an API key: clients using it are refused from the next request on",
    response_model=ApiKeyOut,
)
def revoke_api_key(
    prefix: Annotated[str, Path(max_length=16)],
    principal: PeopleAdmin,
    session: DbSession,
    clock: AppClock,
) -> ApiKeyOut:
    _visible_key(session, principal, prefix)
    key = credentials.revoke_api_key(session, prefix, clock, by=principal)
    return _api_key_out(session, key)
