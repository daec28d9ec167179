"""cases: cases, append-only history, attachments, daily number counters, idempotency keys

Revision ID: cases_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "cases_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("cases",)
depends_on: str | Sequence[str] | None = None

# History is append-only: the database itself refuses an UPDATE, whatever code runs.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION case_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_history is append-only: rows are never updated';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER case_history_no_update BEFORE UPDATE ON case_history
FOR EACH ROW EXECUTE FUNCTION case_history_append_only()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER case_history_no_update BEFORE UPDATE ON case_history
BEGIN SELECT RAISE(ABORT, 'case_history is append-only: rows are never updated'); END
"""


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("category_code", sa.String(8), nullable=False),
        sa.Column("component_id", sa.String(16), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("nature", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("h3_10", sa.String(16), nullable=True),
        sa.Column("city_code", sa.String(32), nullable=True),
        sa.Column("district_code", sa.String(32), nullable=True),
        sa.Column("subdistrict_code", sa.String(32), nullable=True),
        sa.Column("community_code", sa.String(32), nullable=True),
        sa.Column("unit_grid_code", sa.String(32), nullable=True),
        sa.Column("region_class", sa.String(32), nullable=False),
        sa.Column("reporter_name", sa.String(100), nullable=True),
        sa.Column("reporter_phone", sa.String(40), nullable=True),
        sa.Column("reporter_email", sa.String(254), nullable=True),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("external_ref", sa.String(120), nullable=True),
        sa.Column("source_type", sa.String(120), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=True),
        sa.Column("suggested_department_code", sa.String(32), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("split_parent_id", sa.Integer(), nullable=True),
        sa.Column("limits_version", sa.String(32), nullable=False),
        sa.Column("step", sa.String(16), nullable=True),
        sa.Column("step_round", sa.Integer(), nullable=False),
        sa.Column("step_started_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("step_natural", sa.Boolean(), nullable=True),
        sa.Column("step_allowed_us", sa.BigInteger(), nullable=True),
        sa.Column("step_held_us", sa.BigInteger(), nullable=True),
        sa.Column("step_hold_started_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("step_deadline", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("step_warn_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("step_frozen_light", sa.String(8), nullable=True),
        sa.Column("overdue_steps", sa.Integer(), nullable=False),
        sa.Column("overdue_marked", sa.Boolean(), nullable=False),
        sa.Column("escalation_tier", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(32), nullable=True),
        sa.Column("extensions_granted", sa.Integer(), nullable=False),
        sa.Column("extension_pending", sa.String(40), nullable=True),
        sa.Column("check_passed", sa.Boolean(), nullable=True),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("reworks", sa.Integer(), nullable=False),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("updated_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("filed_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("dispatched_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.Column("closed_at", onegrid.db.base.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["cases.id"], name="fk_cases_merged_into_id_cases"
        ),
        sa.UniqueConstraint("number", name="uq_cases_number"),
        sa.ForeignKeyConstraint(
            ["split_parent_id"], ["cases.id"], name="fk_cases_split_parent_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("external_ref", name="uq_cases_external_ref"),
    )
    op.create_index("ix_cases_category_code", "cases", ["category_code"])
    op.create_index("ix_cases_community_code", "cases", ["community_code"])
    op.create_index("ix_cases_component_id", "cases", ["component_id"])
    op.create_index("ix_cases_created_at_id", "cases", ["created_at", "id"])
    op.create_index(
        "ix_cases_department_status", "cases", ["department_code", "status", "created_at"]
    )
    op.create_index("ix_cases_district_code", "cases", ["district_code"])
    op.create_index("ix_cases_h3_10", "cases", ["h3_10"])
    op.create_index("ix_cases_merged_into_id", "cases", ["merged_into_id"])
    op.create_index("ix_cases_reporter_user_id", "cases", ["reporter_user_id"])
    op.create_index("ix_cases_split_parent_id", "cases", ["split_parent_id"])
    op.create_index("ix_cases_status_created_at", "cases", ["status", "created_at", "id"])
    op.create_index("ix_cases_step_deadline", "cases", ["step_deadline"])
    op.create_index("ix_cases_subdistrict_code", "cases", ["subdistrict_code"])
    op.create_index("ix_cases_unit_grid_code", "cases", ["unit_grid_code"])
    op.create_index("ix_cases_updated_at_id", "cases", ["updated_at", "id"])
    op.create_table(
        "case_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_history"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_history_case_id_cases"),
    )
    op.create_index("ix_case_history_case_id", "case_history", ["case_id"])
    op.create_table(
        "case_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("uploaded_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_attachments"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_attachments_case_id_cases"
        ),
    )
    op.create_index("ix_case_attachments_case_id", "case_attachments", ["case_id"])
    op.create_index("ix_case_attachments_sha256", "case_attachments", ["sha256"])
    op.create_table(
        "case_number_counters",
        sa.Column("key", sa.String(16), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_case_number_counters"),
    )
    op.create_table(
        "case_idempotency_keys",
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_idempotency_keys_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("actor", "key", name="pk_case_idempotency_keys"),
    )
    op.create_index("ix_case_idempotency_keys_case_id", "case_idempotency_keys", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS case_history_no_update"
        + (" ON case_history" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS case_history_append_only()")
    for table in (
        "case_idempotency_keys",
        "case_number_counters",
        "case_attachments",
        "case_history",
        "cases",
    ):
        op.drop_table(table)
