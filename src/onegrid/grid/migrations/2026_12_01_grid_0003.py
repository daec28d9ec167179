"""grid: the standard address register

Revision ID: grid_0003
Revises: grid_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "grid_0003"
down_revision: str | Sequence[str] | None = "grid_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.String(64), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("normalised", sa.String(500), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("unit_grid_code", sa.String(15), nullable=True),
        sa.Column("area_code", sa.String(32), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_addresses"),
        sa.UniqueConstraint("address_id", "valid_from", name="uq_addresses_address_id"),
    )
    op.create_index("ix_addresses_normalised", "addresses", ["normalised", "valid_from"])


def downgrade() -> None:
    op.drop_index("ix_addresses_normalised", table_name="addresses")
    op.drop_table("addresses")
