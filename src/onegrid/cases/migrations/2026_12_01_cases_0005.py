"""cases: a department's pending hold request (挂账申请) on the case

Revision ID: cases_0005
Revises: cases_0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "cases_0005"
down_revision: str | Sequence[str] | None = "cases_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No case stored before could have asked: none has a pending request.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("hold_requested_at", onegrid.db.base.UtcDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("hold_resume_on", sa.Date(), nullable=True))


def downgrade() -> None:
    # Never by rebuilding ``cases``: with foreign keys on, dropping the old table under
    # ``case_history`` fails once cases exist (and leaves ``_alembic_tmp_cases``). SQLite 3.35+
    # drops a column in place, as PostgreSQL does.
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("hold_resume_on")
        batch.drop_column("hold_requested_at")
