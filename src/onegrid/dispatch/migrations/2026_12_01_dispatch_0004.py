"""dispatch: the duplicate index's lookup by category, cell and box (lon, lat), then time

The check reads the reports of one category in the cells around a point and keeps those in the
box around the radius. With the box's columns in the index, it keeps them without reading a
table row for each report of the cells (a hot spot held hundreds).

Revision ID: dispatch_0004
Revises: dispatch_0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dispatch_0004"
down_revision: str | Sequence[str] | None = "dispatch_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("duplicate_index", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_index_lookup")
        batch_op.create_index(
            "ix_duplicate_index_box",
            ["category_code", "cell", "lon", "lat", "reported_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("duplicate_index", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_index_box")
        batch_op.create_index(
            "ix_duplicate_index_lookup", ["category_code", "cell", "reported_at"], unique=False
        )
