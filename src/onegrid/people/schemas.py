"""HTTP shapes of the people context.

Rules with a name of their own (password length, username format) are checked by the domain so
that the API, the CLI and the demo builder report them the same way; the shapes here only cap
sizes and types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onegrid.people.domain import Grant, Role, ScopeKind


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_at: datetime


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(max_length=32, examples=["dispatcher"])
    scope: str = Field(
        max_length=48,
        description="'city', an area code (or 'area:CODE'), or 'dept:CODE'",
        examples=["city", "110105", "dept:SANITATION"],
    )


class GrantOut(BaseModel):
    role: Role
    scope_kind: ScopeKind
    scope_code: str
    scope: str = Field(description="The scope as written in the CLI: city, CODE or dept:CODE")

    @classmethod
    def of(cls, grant: Grant) -> GrantOut:
        return cls(
            role=grant.role,
            scope_kind=grant.scope.kind,
            scope_code=grant.scope.code,
            scope=str(grant.scope),
        )


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    phone: str | None
    email: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    last_sign_in_at: datetime | None
    grants: list[GrantOut]
    department_codes: list[str]


class UserPageOut(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, examples=["wang.li"])
    password: str = Field(max_length=1024, description="At least 10 characters.")
    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    grants: list[GrantIn] = Field(default_factory=list, max_length=100)
    department_codes: list[str] = Field(default_factory=list, max_length=50)


class UserPatchIn(BaseModel):
    """Only the fields sent change. ``grants`` and ``department_codes`` replace the lists."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32, description="'' clears it")
    email: str | None = Field(default=None, max_length=254, description="'' clears it")
    active: bool | None = None
    grants: list[GrantIn] | None = Field(default=None, max_length=100)
    department_codes: list[str] | None = Field(default=None, max_length=50)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=1024, description="The new password (≥ 10 characters).")
    current_password: str | None = Field(
        default=None, max_length=1024, description="Required when changing your own password."
    )


class MeOut(BaseModel):
    """Who the caller is, what they hold, and which actions they may take somewhere."""

    kind: Literal["user", "api_key"]
    id: int
    name: str
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None
    grants: list[GrantOut]
    department_codes: list[str]
    actions: list[str]


class SessionStateOut(BaseModel):
    """Who is signed in: null for an anonymous caller."""

    me: MeOut | None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    kind: str
    area_code: str | None
    parent_code: str | None
    active: bool
    phone: str | None
    created_at: datetime
    updated_at: datetime


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32, examples=["SANITATION"])
    name_zh: str = Field(max_length=200, examples=["区环境卫生服务中心"])
    name_en: str = Field(default="", max_length=200)
    kind: str = Field(
        default="other",
        max_length=32,
        description="bureau, subdistrict_office, district_government, city_government, "
        "utility, operator or other",
    )
    area_code: str | None = Field(default=None, max_length=32)
    parent_code: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True


class DepartmentPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, max_length=32)
    area_code: str | None = Field(default=None, max_length=32, description="'' clears it")
    parent_code: str | None = Field(default=None, max_length=32, description="'' clears it")
    phone: str | None = Field(default=None, max_length=32, description="'' clears it")
    active: bool | None = None


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, examples=["open311 gateway"])
    role: str = Field(
        max_length=32,
        description="A role a program may hold: not city_admin, district_admin or citizen",
        examples=["open311_client", "sensor_gateway"],
    )
    scope: str = Field(
        default="city",
        max_length=48,
        description="'city', an area code (or 'area:CODE'), or 'dept:CODE'",
        examples=["city", "110105", "dept:SANITATION"],
    )


class ApiKeyOut(BaseModel):
    """An API key as listed: never the key itself, only the public prefix that finds it."""

    id: int
    prefix: str = Field(description="The public part of the key: og_<prefix>_…")
    name: str
    role: Role
    scope_kind: ScopeKind
    scope_code: str
    scope: str = Field(description="The scope as written in the CLI: city, CODE or dept:CODE")
    owner: str = Field(description="Who created it: a username, or 'console' for the CLI")
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute")
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(
        description="The whole key. Shown only in this response: it is stored as a hash "
        "and cannot be shown again."
    )
