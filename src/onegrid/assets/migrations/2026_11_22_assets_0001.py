"""assets: taxonomy versions, categories, components

Revision ID: assets_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "assets_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("assets",)
depends_on: str | Sequence[str] | None = None

_COMPONENT_INDEXES = (
    "class_code",
    "owner",
    "unit_grid",
    "community",
    "subdistrict",
    "district",
    "h3_10",
)


def upgrade() -> None:
    op.create_table(
        "taxonomy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("category_count", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taxonomy_versions"),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("major", sa.String(2), nullable=False),
        sa.Column("minor", sa.String(2), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("major_name_zh", sa.String(200), nullable=False),
        sa.Column("major_name_en", sa.String(200), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["taxonomy_versions.id"],
            name="fk_categories_version_id_taxonomy_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_categories"),
        sa.UniqueConstraint("version_id", "code", name="uq_categories_version_id"),
    )
    op.create_table(
        "components",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("class_code", sa.String(8), nullable=False),
        sa.Column("admin_code", sa.String(6), nullable=False),
        sa.Column("competent_department", sa.String(64), nullable=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("maintainer", sa.String(64), nullable=True),
        sa.Column("unit_grid", sa.String(32), nullable=True),
        sa.Column("community", sa.String(32), nullable=True),
        sa.Column("subdistrict", sa.String(32), nullable=True),
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("h3_10", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("first_recorded", sa.Date(), nullable=False),
        sa.Column("last_changed", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("data_source", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_components"),
    )
    for column in _COMPONENT_INDEXES:
        op.create_index(f"ix_components_{column}", "components", [column])


def downgrade() -> None:
    for column in reversed(_COMPONENT_INDEXES):
        op.drop_index(f"ix_components_{column}", table_name="components")
    op.drop_table("components")
    op.drop_table("categories")
    op.drop_table("taxonomy_versions")
