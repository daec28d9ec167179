"""cases: partial indexes on the pending hold and extension requests, for the shift leader's queues

Revision ID: cases_0006
Revises: cases_0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0006"
down_revision: str | Sequence[str] | None = "cases_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported from the models: a revision keeps what it created.
_INDEXES = {
    "ix_cases_hold_pending": "hold_requested_at",
    "ix_cases_extension_pending": "extension_pending",
}


def upgrade() -> None:
    for name, column in _INDEXES.items():
        waiting = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "cases", [column], sqlite_where=waiting, postgresql_where=waiting)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="cases")
