"""cases: a partial index on the cases a department sent back, for the returned queue

Revision ID: cases_0008
Revises: cases_0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0008"
down_revision: str | Sequence[str] | None = "cases_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    returned = sa.text("returns > 0")
    op.create_index(
        "ix_cases_returned",
        "cases",
        ["status", "created_at", "id"],
        sqlite_where=returned,
        postgresql_where=returned,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_returned", table_name="cases")
