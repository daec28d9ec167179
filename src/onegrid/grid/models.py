"""Tables of the grid context.

Geometries are WGS84 WKB with their bounding box beside them, so SQLite and PostgreSQL store them
alike and a bbox filter needs no spatial extension. Every row has a validity period
``[valid_from, valid_to)``; ``valid_to`` NULL means "still valid". A change never overwrites a
shape: it closes the old row and adds a new one, so an old case still resolves to the area of its
day. Other contexts refer to areas and grids by code, never by a foreign key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime


class AreaRow(Base):
    __tablename__ = "areas"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        Index("ix_areas_level_valid", "level", "valid_from", "valid_to"),
        Index("ix_areas_parent_code", "parent_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    geometry: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AreaPopulationRow(Base):
    """Residents of an area from a date on (a census or a yearly estimate): a figure holds from
    its ``valid_from`` until the area's next one, so a past month is divided by the population
    in force then, not by a later correction of ``AreaRow.population``."""

    __tablename__ = "area_populations"
    __table_args__ = (UniqueConstraint("area_code", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    population: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    # Set again when a figure is corrected, so the lake sees the change.
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnitGridRow(Base):
    __tablename__ = "unit_grids"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        Index("ix_unit_grids_community_code", "community_code", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15))
    community_code: Mapped[str] = mapped_column(String(32))
    geometry: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    h3_cell: Mapped[str | None] = mapped_column(String(16))
    land_use: Mapped[str | None] = mapped_column(String(64))
    management_level: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InspectorGridRow(Base):
    """Which inspector (a user of the people context, by id) patrols which unit grid, when."""

    __tablename__ = "inspector_grids"
    __table_args__ = (
        Index("ix_inspector_grids_unit_grid_code", "unit_grid_code", "valid_from"),
        Index("ix_inspector_grids_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    unit_grid_code: Mapped[str] = mapped_column(String(15))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DutyRuleRow(Base):
    """Which department owns which category prefix in which area; or, with kind
    ``territorial``, which department is the area's territorial unit (属地兜底)."""

    __tablename__ = "duty_rules"
    __table_args__ = (Index("ix_duty_rules_area_code", "area_code", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(32))
    category_prefix: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GridChangeRow(Base):
    """One row per change to areas or unit grids; the newest row's token keys locator caches."""

    __tablename__ = "grid_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    note: Mapped[str] = mapped_column(String(500))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AddressRow(Base):
    """One version of a standard address (标准地址): the city's id for it, its text, the form a
    lookup matches, its WGS84 point and the unit grid and area it was located in on import.
    Versioned like the rest of the grid: a moved or renamed door plate closes the old row and
    adds a new one, so a case of an earlier day still names the address of its day."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("address_id", "valid_from"),
        Index("ix_addresses_normalised", "normalised", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(500))
    normalised: Mapped[str] = mapped_column(String(500))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    unit_grid_code: Mapped[str | None] = mapped_column(String(15))
    area_code: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
