"""assets: a class of the taxonomy may be deactivated

Revision ID: assets_0003
Revises: assets_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "assets_0003"
down_revision: str | Sequence[str] | None = "assets_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every class stored before could not be deactivated: all of them are active.
    with op.batch_alter_table("categories") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("categories") as batch:
        batch.drop_column("active")
