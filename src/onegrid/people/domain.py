"""Who may act: roles, scopes, grants and principals, and the rules for their values.

Plain Python: no framework. Permission checks themselves live in ``people.policy``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from onegrid.core.errors import FieldProblem, InvalidInput, NotAuthenticated


class Role(StrEnum):
    """What a person or a system client does; a grant pairs one with a scope."""

    CITIZEN = "citizen"
    INSPECTOR = "inspector"  # 监督员 / 网格员
    REGISTRAR = "registrar"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT_HANDLER = "department_handler"  # 承办人
    DISTRICT_ADMIN = "district_admin"
    CITY_ADMIN = "city_admin"
    ANALYST = "analyst"
    HOTLINE_OPERATOR = "hotline_operator"  # 12345 话务员
    OPEN311_CLIENT = "open311_client"
    SENSOR_GATEWAY = "sensor_gateway"


SYSTEM_ROLES = frozenset({Role.OPEN311_CLIENT, Role.SENSOR_GATEWAY})


class ScopeKind(StrEnum):
    CITY = "city"
    AREA = "area"
    DEPARTMENT = "department"


# Which scopes make sense for a role: a department handler works for one department, a
# district admin for one area, a city admin for the city; a citizen acts only on their own things.
ROLE_SCOPES: dict[Role, frozenset[ScopeKind]] = {
    Role.CITIZEN: frozenset({ScopeKind.CITY}),
    Role.INSPECTOR: frozenset({ScopeKind.CITY, ScopeKind.AREA}),
    Role.REGISTRAR: frozenset({ScopeKind.CITY, ScopeKind.AREA}),
    Role.SHIFT_LEADER: frozenset({ScopeKind.CITY, ScopeKind.AREA}),
    Role.DISPATCHER: frozenset({ScopeKind.CITY, ScopeKind.AREA}),
    Role.DEPARTMENT_HANDLER: frozenset({ScopeKind.DEPARTMENT}),
    Role.DISTRICT_ADMIN: frozenset({ScopeKind.AREA}),
    Role.CITY_ADMIN: frozenset({ScopeKind.CITY}),
    Role.ANALYST: frozenset(ScopeKind),
    Role.HOTLINE_OPERATOR: frozenset({ScopeKind.CITY, ScopeKind.AREA}),
    Role.OPEN311_CLIENT: frozenset(ScopeKind),
    Role.SENSOR_GATEWAY: frozenset(ScopeKind),
}

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_USERNAME = re.compile(r"^[\w.@+-]{3,64}$")

PASSWORD_MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing one cannot be used to burn CPU.
PASSWORD_MAX_LENGTH = 256


def parse_role(value: str, field_name: str = "role") -> Role:
    try:
        return Role(value.strip())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput.one(
            field_name, "known_role", f"unknown role {value!r}; known roles: {known}"
        ) from None


def check_code(value: str, field_name: str, what: str) -> str:
    code = value.strip()
    if not _CODE.match(code):
        raise InvalidInput.one(
            field_name,
            "code_format",
            f"{what} code must be 1–32 letters, digits, '_', '.' or '-', starting with a "
            f"letter or digit (got {value!r})",
        )
    return code


@dataclass(frozen=True, order=True)
class Scope:
    """Where a grant applies: the whole city, one area (and everything in it), or a department."""

    kind: ScopeKind
    code: str = ""

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.CITY) != (self.code == ""):
            raise ValueError(f"scope {self.kind} with code {self.code!r}")

    @classmethod
    def city(cls) -> Scope:
        return cls(ScopeKind.CITY)

    @classmethod
    def area(cls, code: str) -> Scope:
        return cls(ScopeKind.AREA, check_code(code, "scope", "area"))

    @classmethod
    def department(cls, code: str) -> Scope:
        return cls(ScopeKind.DEPARTMENT, check_code(code, "scope", "department"))

    @classmethod
    def parse(cls, text: str, field_name: str = "scope") -> Scope:
        """``city``, ``AREA_CODE`` or ``area:AREA_CODE``, ``dept:CODE`` or ``department:CODE``."""
        value = text.strip()
        head, sep, tail = value.partition(":")
        try:
            if value.lower() == "city":
                return cls.city()
            if sep and head.lower() in ("dept", "department"):
                return cls.department(tail)
            if sep and head.lower() == "area":
                return cls.area(tail)
            if not sep:
                return cls.area(value)
        except InvalidInput as exc:
            raise InvalidInput(
                [FieldProblem(field_name, p.rule, p.message) for p in exc.problems]
            ) from None
        raise InvalidInput.one(
            field_name,
            "scope_format",
            f"scope must be 'city', an area code, 'area:CODE' or 'dept:CODE' (got {text!r})",
        )

    def __str__(self) -> str:
        if self.kind is ScopeKind.CITY:
            return "city"
        return f"dept:{self.code}" if self.kind is ScopeKind.DEPARTMENT else self.code


@dataclass(frozen=True, order=True)
class Grant:
    role: Role
    scope: Scope

    def __str__(self) -> str:
        return f"{self.role}@{self.scope}"


def check_grant(role: Role, scope: Scope, field_name: str = "scope") -> Grant:
    allowed = ROLE_SCOPES[role]
    if scope.kind not in allowed:
        kinds = " or ".join(sorted(k.value for k in allowed))
        raise InvalidInput.one(
            field_name,
            "scope_kind_for_role",
            f"a {role} grant needs a {kinds} scope, not {scope.kind} ({scope})",
        )
    return Grant(role, scope)


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    ANONYMOUS = "anonymous"
    SYSTEM = "system"  # the server itself (the sensing ingester); never a person or a key


@dataclass(frozen=True)
class Principal:
    """Who is acting, with every grant they hold; what every permission check is asked about."""

    subject_id: int | None
    name: str
    kind: PrincipalKind
    grants: tuple[Grant, ...] = ()
    department_codes: frozenset[str] = field(default_factory=frozenset)
    # The server-side session behind a bearer token, so that signing out can end it.
    session_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind is PrincipalKind.ANONYMOUS

    @property
    def user_id(self) -> int | None:
        return self.subject_id if self.kind is PrincipalKind.USER else None

    @property
    def actor(self) -> str:
        """A stable reference for history rows: ``user:12``, ``api_key:3`` or ``anonymous``."""
        if self.subject_id is None:
            return self.kind.value
        return f"{self.kind.value}:{self.subject_id}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)


ANONYMOUS = Principal(subject_id=None, name="anonymous", kind=PrincipalKind.ANONYMOUS)


class DepartmentKind(StrEnum):
    BUREAU = "bureau"
    SUBDISTRICT_OFFICE = "subdistrict_office"
    DISTRICT_GOVERNMENT = "district_government"
    CITY_GOVERNMENT = "city_government"
    UTILITY = "utility"
    OPERATOR = "operator"
    OTHER = "other"


def parse_department_kind(value: str) -> DepartmentKind:
    try:
        return DepartmentKind(value.strip())
    except ValueError:
        known = ", ".join(k.value for k in DepartmentKind)
        raise InvalidInput.one(
            "kind", "known_department_kind", f"unknown kind {value!r}; known kinds: {known}"
        ) from None


def normalize_username(username: str) -> str:
    """The key usernames are unique by: ``Wang.Li`` and ``wang.li`` are the same person."""
    return username.strip().casefold()


def check_username(username: str) -> str:
    name = username.strip()
    if not _USERNAME.match(name):
        raise InvalidInput.one(
            "username",
            "username_format",
            "username must be 3–64 letters, digits or the characters . _ @ + - (no spaces)",
        )
    return name


def check_password(password: str, field_name: str = "password") -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput.one(
            field_name,
            "min_length",
            f"password must be at least {PASSWORD_MIN_LENGTH} characters long",
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput.one(
            field_name,
            "max_length",
            f"password must be at most {PASSWORD_MAX_LENGTH} characters long",
        )
    if not password.strip():
        raise InvalidInput.one(field_name, "not_blank", "password must not be only spaces")
    return password


def check_text(value: str | None, field_name: str, max_length: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput.one(field_name, "required", f"{field_name} must not be empty")
    if len(text) > max_length:
        raise InvalidInput.one(
            field_name, "max_length", f"{field_name} must be at most {max_length} characters"
        )
    return text


_PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_phone(value: str | None, field_name: str = "phone") -> str | None:
    if value is None or not value.strip():
        return None
    phone = value.strip()
    if not _PHONE.match(phone):
        raise InvalidInput.one(
            field_name, "phone_format", "phone must be digits, spaces or '-', optionally after '+'"
        )
    return phone


def check_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput.one("email", "email_format", f"not an e-mail address: {email!r}")
    return email


def implied_area_chain(code: str) -> tuple[str, ...]:
    """The ancestors an area code implies by its own structure, coarsest first.

    Chinese codes nest by prefix: 6-digit county/district (GB/T 2260), + 3 subdistrict
    (GB/T 10114), + 3 community, + 3 unit-grid sequence (DB11/T 2157). Any other code implies
    only itself; callers that know the real chain from the grid pass it instead.
    """
    if code.isdigit() and len(code) in (9, 12, 15):
        return tuple(code[:n] for n in range(6, len(code) + 1, 3))
    return (code,)


class SignInLocked(NotAuthenticated):
    """Too many failed sign-ins for one username within the window."""

    kind = "sign-in-locked"


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed sign-ins for a username within ``window``, the username is
    refused for ``window`` after the last of them (``settings.auth.lockout_*``).

    Counted per submitted username whether or not such a user exists, so the lock tells an
    attacker nothing about which accounts are real. Attempts refused by the lock are not
    counted: the lock ends on time however often a locked-out client retries.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    @property
    def lookback(self) -> timedelta:
        """How far back failures matter: the window before the last one, and its lock after."""
        return 2 * self.window

    def locked_until(self, failures: Sequence[datetime], now: datetime) -> datetime | None:
        """When the lock lifts, or ``None`` if not locked; ``failures`` are failure times.

        Only the last failure can hold a lock: while locked, no failure is recorded, so the one
        that locked is the last, and once its lock has lifted a new count starts.
        """
        if not failures:
            return None
        last = max(failures)
        if now - last >= self.window:
            return None
        counted = sum(1 for t in failures if last - t < self.window)
        return last + self.window if counted >= self.max_failures else None


DEFAULT_LOCKOUT = LockoutPolicy()
