"""cases: an index on who created a case, for a staff member's own reports ("mine")

Revision ID: cases_0009
Revises: cases_0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "cases_0009"
down_revision: str | Sequence[str] | None = "cases_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_created_by", "cases", ["created_by"])


def downgrade() -> None:
    op.drop_index("ix_cases_created_by", table_name="cases")
