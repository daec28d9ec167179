"""dispatch: index case_routes.contacted_at (the lake's incremental export reads by it)

Revision ID: dispatch_0002
Revises: dispatch_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dispatch_0002"
down_revision: str | Sequence[str] | None = "dispatch_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_routes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_routes_contacted_at"), ["contacted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_routes_contacted_at"))
