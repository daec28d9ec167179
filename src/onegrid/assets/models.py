"""Tables of the assets context.

A taxonomy load never overwrites: it adds a ``taxonomy_versions`` row and its ``categories``, and
the newest active version is the one in use. Old versions stay, because cases keep the class codes
they were filed with. Components refer to areas, unit grids and departments by code (loose
references, no cross-context foreign keys).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime


class TaxonomyVersionRow(Base):
    __tablename__ = "taxonomy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64))
    category_count: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CategoryRow(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_versions.id"))
    code: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    major: Mapped[str] = mapped_column(String(2))
    minor: Mapped[str] = mapped_column(String(2))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    major_name_zh: Mapped[str] = mapped_column(String(200))
    major_name_en: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(16))
    emergency: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())


class ComponentRow(Base):
    """One component (部件). ``h3_10`` is the H3 resolution-10 cell as its 64-bit integer, for
    analytics and the nearby search; the API shows it as the usual hex string."""

    __tablename__ = "components"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    class_code: Mapped[str] = mapped_column(String(8), index=True)
    admin_code: Mapped[str] = mapped_column(String(6))
    competent_department: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    maintainer: Mapped[str | None] = mapped_column(String(64))
    unit_grid: Mapped[str | None] = mapped_column(String(32), index=True)
    community: Mapped[str | None] = mapped_column(String(32), index=True)
    subdistrict: Mapped[str | None] = mapped_column(String(32), index=True)
    district: Mapped[str | None] = mapped_column(String(32), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_10: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(16))
    first_recorded: Mapped[date] = mapped_column(Date)
    last_changed: Mapped[datetime] = mapped_column(UtcDateTime())
    data_source: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class ComponentHistoryRow(Base):
    """One change of the inventory, append-only: the database refuses UPDATE and DELETE.

    A row per change of one component (``changes`` maps each field to ``[old, new]``); a bulk
    import is one row without ``component_id`` (its rows carry the import's ``data_source``).
    """

    __tablename__ = "component_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str | None] = mapped_column(ForeignKey("components.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
