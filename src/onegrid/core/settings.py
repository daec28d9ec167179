"""One typed settings tree, read from ``ONEGRID_*`` variables and validated at start-up."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# An Open311 jurisdiction_id is sent in query strings and forms: a web domain or a code.
_JURISDICTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_AREA_CODE = re.compile(r"[0-9]{1,12}")


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the variable and the rule."""


class AuthSettings(BaseModel):
    """Signing in: the lockout after failed attempts and the cost of Argon2id password hashes.

    Read from ``ONEGRID_AUTH__LOCKOUT_FAILURES`` and so on. Raising the Argon2 cost takes effect for
    new hashes; stored ones are upgraded at their owner's next sign-in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lockout_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed sign-ins for one username within lockout_minutes that lock it.",
    )
    lockout_minutes: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="How long the failures count, and how long the lock lasts after the last.",
    )
    # argon2-cffi's defaults, RFC 9106's second recommended option: 3 passes over 64 MiB.
    argon2_time_cost: int = Field(default=3, ge=1, le=20, description="Argon2id passes.")
    argon2_memory_kib: int = Field(
        default=64 * 1024,
        ge=1024,
        le=4 * 1024 * 1024,
        description="Argon2id memory per hash, in KiB (at least 1 MiB, at most 4 GiB).",
    )
    argon2_parallelism: int = Field(default=4, ge=1, le=64, description="Argon2id lanes.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONEGRID_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("var"), description="Where the SQLite file and uploads live."
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file under data_dir.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    secret_key: str = Field(
        default="change-me-in-production-onegrid-dev-key",
        min_length=16,
        description="Signs web sessions and bearer tokens.",
    )
    token_ttl_minutes: int = Field(default=12 * 60, ge=1)
    city_code: str = Field(default="110000", pattern=r"^\d{6}$")
    # Pairs, not a dict, so that the settings stay hashable.
    open311_jurisdictions: tuple[tuple[str, str], ...] = Field(
        default=(),
        description=(
            "Cities sharing this Open311 server, as a JSON object: jurisdiction_id -> the code "
            "of the area it covers (a city, district or smaller area of this database). Empty: "
            "one jurisdiction, city_code. With two or more, every Open311 call must name one."
        ),
    )
    timezone: str = "Asia/Shanghai"
    require_services: bool = False
    shared_data: Path = Path("../shared/data")
    demo_seed: int = 20261122
    demo_history: bool = Field(
        default=True,
        description=(
            "The demo city comes with two years of case history: `onegrid run` loads it in the "
            "background after building the demo city, `onegrid demo` unless --no-history."
        ),
    )
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @field_validator("database_url")
    @classmethod
    def _known_dialect(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @field_validator("open311_jurisdictions", mode="before")
    @classmethod
    def _jurisdiction_pairs(cls, value: object) -> object:
        return tuple(value.items()) if isinstance(value, dict) else value

    @field_validator("open311_jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        if len({j for j, _ in value}) < len(value):
            raise ValueError("a jurisdiction_id is named twice")
        for jurisdiction_id, area_code in value:
            if not _JURISDICTION_ID.fullmatch(jurisdiction_id):
                raise ValueError(
                    f"jurisdiction_id {jurisdiction_id!r}: letters, digits, '.', '-' or '_' "
                    "(e.g. a web domain such as dongcheng.gov.cn), at most 100 characters"
                )
            if not _AREA_CODE.fullmatch(area_code):
                raise ValueError(f"{jurisdiction_id}: area code {area_code!r} is 1 to 12 digits")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'onegrid.sqlite3').as_posix()}"


def load_settings() -> Settings:
    """Read the environment; a wrong value becomes one readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "ONEGRID_" + "__".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
