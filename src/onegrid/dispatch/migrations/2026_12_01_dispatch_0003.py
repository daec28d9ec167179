"""dispatch: classifier_corrections (operators' choices of category, kept as training data)

Revision ID: dispatch_0003
Revises: dispatch_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "dispatch_0003"
down_revision: str | Sequence[str] | None = "dispatch_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "classifier_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("decided_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chosen_category", sa.String(length=64), nullable=False),
        sa.Column("suggested_category", sa.String(length=64), nullable=True),
        sa.Column("suggested_confidence", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("import_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_corrections")),
        sa.UniqueConstraint("import_key", name=op.f("uq_classifier_corrections_import_key")),
    )
    with op.batch_alter_table("classifier_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_classifier_corrections_call_id"), ["call_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_classifier_corrections_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_classifier_corrections_decided_at"), ["decided_at"], unique=False
        )
        batch_op.create_index("ix_classifier_corrections_model_id", ["model", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("classifier_corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_classifier_corrections_model_id")
        batch_op.drop_index(batch_op.f("ix_classifier_corrections_decided_at"))
        batch_op.drop_index(batch_op.f("ix_classifier_corrections_case_id"))
        batch_op.drop_index(batch_op.f("ix_classifier_corrections_call_id"))

    op.drop_table("classifier_corrections")
