"""cases: the standard address register's id (标准地址库) of a case's address

Revision ID: cases_0007
Revises: cases_0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0007"
down_revision: str | Sequence[str] | None = "cases_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A case stored before kept only the address's text and point: its id stays unknown.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("address_id", sa.String(64), nullable=True))


def downgrade() -> None:
    # In place, never by rebuilding ``cases`` (see cases_0005): SQLite 3.35+ drops a column.
    with op.batch_alter_table("cases", recreate="never") as batch:
        batch.drop_column("address_id")
