"""grid: areas, unit grids, inspector coverage, duty rules, change counter

Revision ID: grid_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "grid_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("grid",)
depends_on: str | Sequence[str] | None = None


def _shape_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("name_zh", sa.String(200), nullable=True),
        sa.Column("name_en", sa.String(200), nullable=True),
        *_shape_columns(),
        sa.Column("population", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_areas"),
        sa.UniqueConstraint("code", "valid_from", name="uq_areas_code"),
    )
    op.create_index("ix_areas_level_valid", "areas", ["level", "valid_from", "valid_to"])
    op.create_index("ix_areas_parent_code", "areas", ["parent_code"])

    op.create_table(
        "unit_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("community_code", sa.String(32), nullable=False),
        *_shape_columns(),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("h3_cell", sa.String(16), nullable=True),
        sa.Column("land_use", sa.String(64), nullable=True),
        sa.Column("management_level", sa.String(64), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unit_grids"),
        sa.UniqueConstraint("code", "valid_from", name="uq_unit_grids_code"),
    )
    op.create_index("ix_unit_grids_community_code", "unit_grids", ["community_code", "valid_from"])

    op.create_table(
        "inspector_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_grid_code", sa.String(15), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspector_grids"),
    )
    op.create_index(
        "ix_inspector_grids_unit_grid_code",
        "inspector_grids",
        ["unit_grid_code", "valid_from"],
    )
    op.create_index("ix_inspector_grids_user_id", "inspector_grids", ["user_id"])

    op.create_table(
        "duty_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("category_prefix", sa.String(16), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_duty_rules"),
    )
    op.create_index("ix_duty_rules_area_code", "duty_rules", ["area_code", "valid_from"])

    op.create_table(
        "grid_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("changed_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_grid_versions"),
        sa.UniqueConstraint("token", name="uq_grid_versions_token"),
    )


def downgrade() -> None:
    op.drop_table("grid_versions")
    op.drop_index("ix_duty_rules_area_code", table_name="duty_rules")
    op.drop_table("duty_rules")
    op.drop_index("ix_inspector_grids_user_id", table_name="inspector_grids")
    op.drop_index("ix_inspector_grids_unit_grid_code", table_name="inspector_grids")
    op.drop_table("inspector_grids")
    op.drop_index("ix_unit_grids_community_code", table_name="unit_grids")
    op.drop_table("unit_grids")
    op.drop_index("ix_areas_parent_code", table_name="areas")
    op.drop_index("ix_areas_level_valid", table_name="areas")
    op.drop_table("areas")
