"""People commands: ``onegrid department …``, ``onegrid user …``, ``onegrid apikey …``.

The console is the trusted operator: these commands act without a principal (``by=None``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from onegrid.cli.root import app, console, err, open_database, settings_or_exit
from onegrid.core.clock import SystemClock
from onegrid.core.errors import DomainError, InvalidInput
from onegrid.people import credentials, queries, services
from onegrid.people.domain import ROLE_SCOPES, Grant, Role, Scope, ScopeKind, parse_role
from onegrid.schema import migrate

department_app = typer.Typer(help="Departments (organisations that handle cases).")
user_app = typer.Typer(help="Users, their roles and scopes.")
apikey_app = typer.Typer(help="API keys for system clients (Open311, sensor gateways…).")
app.add_typer(department_app, name="department")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")

ScopeOpt = Annotated[
    str | None,
    typer.Option(help="city, an area code (or area:CODE), or dept:CODE."),
]


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """A migrated database and one transaction; domain errors become a message and exit 1."""
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        with db.unit_of_work() as session:
            yield session
    except InvalidInput as exc:
        for p in exc.problems:
            err.print(f"[red]{p.field}: {p.message}[/red] ({p.rule})")
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.engine.dispose()


# --- departments ------------------------------------------------------------------------------


@department_app.command("create")
def department_create(
    code: str,
    name_zh: Annotated[str, typer.Option("--name-zh", help="Chinese name.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name.")] = "",
    kind: Annotated[
        str,
        typer.Option(
            help="bureau, subdistrict_office, district_government, city_government, "
            "utility, operator or other."
        ),
    ] = "other",
    area: Annotated[str | None, typer.Option(help="Code of the area it serves.")] = None,
    parent: Annotated[str | None, typer.Option(help="Code of the parent department.")] = None,
    phone: Annotated[str | None, typer.Option(help="Contact phone.")] = None,
) -> None:
    """Create a department."""
    with _unit_of_work() as session:
        d = services.create_department(
            session,
            code,
            name_zh,
            SystemClock(),
            name_en=name_en,
            kind=kind,
            area_code=area,
            parent_code=parent,
            phone=phone,
        )
        console.print(f"created department {d.code} ({d.name_zh} / {d.name_en}, {d.kind})")


@department_app.command("update")
def department_update(
    code: str,
    name_zh: Annotated[str | None, typer.Option("--name-zh")] = None,
    name_en: Annotated[str | None, typer.Option("--name-en")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    area: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
    parent: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
    phone: Annotated[str | None, typer.Option(help="'' clears it.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
) -> None:
    """Change a department."""
    patch = services.DepartmentPatch(
        name_zh=name_zh,
        name_en=name_en,
        kind=kind,
        area_code=area,
        parent_code=parent,
        phone=phone,
        active=active,
    )
    with _unit_of_work() as session:
        d = services.update_department(session, code, patch, SystemClock())
        console.print(f"updated department {d.code}")


@department_app.command("list")
def department_list(
    active_only: Annotated[bool, typer.Option("--active-only")] = False,
) -> None:
    """List departments."""
    table = Table("code", "name_zh", "name_en", "kind", "area", "parent", "phone", "active")
    with _unit_of_work() as session:
        for d in queries.list_departments(session, active_only=active_only):
            table.add_row(
                d.code,
                d.name_zh,
                d.name_en,
                d.kind,
                d.area_code or "",
                d.parent_code or "",
                d.phone or "",
                "yes" if d.active else "no",
            )
    console.print(table)


# --- users ------------------------------------------------------------------------------------


def _default_scope(role: Role, department: str | None) -> Scope:
    kinds = ROLE_SCOPES[role]
    if department and ScopeKind.DEPARTMENT in kinds:
        return Scope.department(department)
    if ScopeKind.CITY in kinds:
        return Scope.city()
    needed = " or ".join(sorted(k.value for k in kinds))
    raise InvalidInput.one("scope", "required", f"a {role} grant needs --scope ({needed})")


def _grant(role: str, scope: str | None, department: str | None) -> Grant:
    role_ = parse_role(role)
    return services.as_grant(role_, scope if scope else _default_scope(role_, department))


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str | None, typer.Option(help="Role to grant: " + ", ".join(Role))] = None,
    scope: ScopeOpt = None,
    department: Annotated[
        str | None,
        typer.Option(
            help="Department the user works for (and, for a department_handler, the default scope)."
        ),
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 10 characters; asked for when not given.",
        ),
    ] = "",
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user, optionally with one grant (add more with ``user grant``)."""
    with _unit_of_work() as session:
        grants = [_grant(role, scope, department)] if role else []
        user = services.create_user(
            session,
            username,
            password,
            SystemClock(),
            display_name=display_name,
            phone=phone,
            email=email,
            grants=grants,
            department_codes=[department] if department else [],
        )
        held = ", ".join(str(g) for g in queries.grants_of(user)) or "no grants"
        console.print(f"created user {user.username} (id {user.id}): {held}")


@user_app.command("list")
def user_list(
    role: Annotated[str | None, typer.Option(help="Only users holding this role.")] = None,
) -> None:
    """List users with their grants and departments."""
    table = Table("id", "username", "display name", "active", "grants", "departments")
    with _unit_of_work() as session:
        role_ = parse_role(role) if role else None
        page = queries.list_users(session, None, limit=100_000, role=role_)
        for u in page.users:
            table.add_row(
                str(u.id),
                u.username,
                u.display_name,
                "yes" if u.active else "no",
                ", ".join(str(g) for g in queries.grants_of(u)),
                ", ".join(u.department_codes),
            )
    console.print(table)


@user_app.command("grant")
def user_grant(
    username: str,
    role: Annotated[str, typer.Option(help="Role to grant.")],
    scope: ScopeOpt = None,
    department: Annotated[str | None, typer.Option(help="Shorthand for --scope dept:CODE.")] = None,
) -> None:
    """Give a user a role over a scope."""
    with _unit_of_work() as session:
        user = queries.get_user_by_username(session, username)
        grant = _grant(role, scope, department)
        services.add_grant(session, user.id, grant.role, grant.scope, SystemClock())
        console.print(f"{user.username} now holds {grant}")


@user_app.command("revoke")
def user_revoke(
    username: str,
    role: Annotated[str, typer.Option(help="Role to take away.")],
    scope: ScopeOpt = None,
    department: Annotated[str | None, typer.Option(help="Shorthand for --scope dept:CODE.")] = None,
) -> None:
    """Take a grant away from a user."""
    with _unit_of_work() as session:
        user = queries.get_user_by_username(session, username)
        grant = _grant(role, scope, department)
        services.remove_grant(session, user.id, grant.role, grant.scope, SystemClock())
        console.print(f"{user.username} no longer holds {grant}")


@user_app.command("deactivate")
def user_deactivate(username: str) -> None:
    """Stop a user from signing in and end their sessions."""
    with _unit_of_work() as session:
        user = queries.get_user_by_username(session, username)
        services.update_user(session, user.id, services.UserPatch(active=False), SystemClock())
        console.print(f"deactivated {user.username}")


@user_app.command("activate")
def user_activate(username: str) -> None:
    """Let a deactivated user sign in again."""
    with _unit_of_work() as session:
        user = queries.get_user_by_username(session, username)
        services.update_user(session, user.id, services.UserPatch(active=True), SystemClock())
        console.print(f"activated {user.username}")


@user_app.command("password")
def user_password(
    username: str,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Set a user's password and end their sessions."""
    with _unit_of_work() as session:
        user = queries.get_user_by_username(session, username)
        services.set_password(session, user.id, password, SystemClock())
        console.print(f"password of {user.username} changed; their sessions ended")


# --- API keys ---------------------------------------------------------------------------------


@apikey_app.command("create")
def apikey_create(
    name: str,
    role: Annotated[str, typer.Option(help="e.g. open311_client or sensor_gateway.")],
    scope: ScopeOpt = "city",
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    with _unit_of_work() as session:
        key, raw = credentials.create_api_key(session, name, role, scope or "city", SystemClock())
        console.print(f"API key {key.name!r} ({key.role} @ {scope or 'city'}), prefix {key.prefix}")
        console.print("store it now; it cannot be shown again:")
        # Printed on its own line without markup so that scripts can capture it.
        console.print(raw, markup=False, highlight=False, soft_wrap=True)


@apikey_app.command("list")
def apikey_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List API keys (never the keys themselves)."""
    table = Table("prefix", "name", "role", "scope", "owner", "created", "last used", "revoked")
    with _unit_of_work() as session:
        keys = queries.list_api_keys(session, include_revoked=include_revoked)
        owners = queries.owner_names(session, (k.created_by for k in keys))
        for k in keys:
            grant = queries.grant_of(k.role, k.scope_kind, k.scope_code)
            table.add_row(
                k.prefix,
                k.name,
                k.role,
                str(grant.scope),
                owners.get(k.created_by or "", ""),
                f"{k.created_at:%Y-%m-%d %H:%M}",
                f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "",
                f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
            )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(prefix: str) -> None:
    """Revoke a key by its prefix; clients using it are refused from now on."""
    with _unit_of_work() as session:
        key = credentials.revoke_api_key(session, prefix, SystemClock())
        console.print(f"revoked API key {key.prefix} ({key.name})")
