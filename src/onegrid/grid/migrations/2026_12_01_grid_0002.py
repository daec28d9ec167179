"""grid: dated populations of areas

Revision ID: grid_0002
Revises: grid_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "grid_0002"
down_revision: str | Sequence[str] | None = "grid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # areas.population stays: it is the figure used where no dated one applies.
    op.create_table(
        "area_populations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("population", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("recorded_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_area_populations"),
        sa.UniqueConstraint("area_code", "valid_from", name="uq_area_populations_area_code"),
    )


def downgrade() -> None:
    op.drop_table("area_populations")
