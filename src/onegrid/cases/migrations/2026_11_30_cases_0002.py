"""cases: history refuses DELETE too; indexes for history by time and the map's open-case counts

Revision ID: cases_0002
Revises: cases_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "cases_0002"
down_revision: str | Sequence[str] | None = "cases_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# History is append-only whatever code runs: the database refuses UPDATE (since cases_0001)
# and now DELETE. On PostgreSQL these are ordinary triggers, so a session with
# session_replication_role = replica (a restore, or the test fixture that empties every table)
# skips them; TRUNCATE, a table-level statement, is not a row delete either.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION case_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_history is append-only: rows are never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""
_PG_FUNCTION_0001 = """
CREATE OR REPLACE FUNCTION case_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_history is append-only: rows are never updated';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER case_history_no_delete BEFORE DELETE ON case_history
FOR EACH ROW EXECUTE FUNCTION case_history_append_only()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER case_history_no_delete BEFORE DELETE ON case_history
BEGIN SELECT RAISE(ABORT, 'case_history is append-only: rows are never deleted'); END
"""
# The command centre's map counts open cases per H3 cell and district with their lights
# (web.tallies, ADR 0008): with every column it reads in one index, the GROUP BY never visits
# the table rows.
_OPEN_CELLS = (
    "status",
    "h3_10",
    "district_code",
    "step_frozen_light",
    "step_deadline",
    "step_warn_at",
)


def upgrade() -> None:
    # Open311 updated_after and service request updates read history by time.
    op.create_index("ix_case_history_at_id", "case_history", ["at", "id"])
    op.create_index("ix_cases_open_cells", "cases", list(_OPEN_CELLS))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(
        "DROP TRIGGER IF EXISTS case_history_no_delete" + (" ON case_history" if postgresql else "")
    )
    if postgresql:
        op.execute(_PG_FUNCTION_0001)
    op.drop_index("ix_cases_open_cells", table_name="cases")
    op.drop_index("ix_case_history_at_id", table_name="case_history")
