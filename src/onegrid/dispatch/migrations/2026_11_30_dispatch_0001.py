"""dispatch: hotline calls, knowledge base, routes, callbacks, duplicate index and proposals

Revision ID: dispatch_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "dispatch_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("dispatch",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("suggested_department_code", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("response_due_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_routes")),
    )
    with op.batch_alter_table("case_routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_routes_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_routes_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_case_routes_dispatched_at"), ["dispatched_at"], unique=False
        )

    op.create_table(
        "duplicate_index",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("reported_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_duplicate_index")),
    )
    with op.batch_alter_table("duplicate_index", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duplicate_index_lookup", ["category_code", "cell", "reported_at"], unique=False
        )

    op.create_table(
        "duplicate_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("existing_case_id", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_proposals")),
    )
    with op.batch_alter_table("duplicate_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_proposals_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_duplicate_proposals_existing_case_id"),
            ["existing_case_id"],
            unique=False,
        )

    op.create_table(
        "hotline_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_callbacks")),
    )
    with op.batch_alter_table("hotline_callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotline_callbacks_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hotline_callbacks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hotline_callbacks_department_code"), ["department_code"], unique=False
        )

    op.create_table(
        "hotline_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("medium", sa.String(length=16), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("caller_name", sa.String(length=100), nullable=True),
        sa.Column("caller_phone", sa.String(length=40), nullable=True),
        sa.Column("caller_key", sa.String(length=64), nullable=True),
        sa.Column("nature", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("category_code", sa.String(length=8), nullable=True),
        sa.Column("suggested_category", sa.String(length=64), nullable=True),
        sa.Column("suggested_confidence", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("repeat_of_call_id", sa.Integer(), nullable=True),
        sa.Column("feedback_class", sa.String(length=16), nullable=True),
        sa.Column("feedback_due_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("response_due_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_calls")),
    )
    with op.batch_alter_table("hotline_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hotline_calls_caller_key"), ["caller_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hotline_calls_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hotline_calls_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hotline_calls_repeat_of_call_id"), ["repeat_of_call_id"], unique=False
        )

    op.create_table(
        "knowledge_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("updated_at", onegrid.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_answers")),
        sa.UniqueConstraint("code", name=op.f("uq_knowledge_answers_code")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_answers")
    with op.batch_alter_table("hotline_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_calls_repeat_of_call_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_calls_received_at"))
        batch_op.drop_index(batch_op.f("ix_hotline_calls_case_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_calls_caller_key"))

    op.drop_table("hotline_calls")
    with op.batch_alter_table("hotline_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotline_callbacks_department_code"))
        batch_op.drop_index(batch_op.f("ix_hotline_callbacks_case_id"))
        batch_op.drop_index(batch_op.f("ix_hotline_callbacks_at"))

    op.drop_table("hotline_callbacks")
    with op.batch_alter_table("duplicate_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_proposals_existing_case_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_proposals_case_id"))

    op.drop_table("duplicate_proposals")
    with op.batch_alter_table("duplicate_index", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_index_lookup")

    op.drop_table("duplicate_index")
    with op.batch_alter_table("case_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_routes_dispatched_at"))
        batch_op.drop_index(batch_op.f("ix_case_routes_department_code"))
        batch_op.drop_index(batch_op.f("ix_case_routes_case_id"))

    op.drop_table("case_routes")
