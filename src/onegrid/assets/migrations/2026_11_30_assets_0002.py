"""assets: append-only component history

Revision ID: assets_0002
Revises: assets_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "assets_0002"
down_revision: str | Sequence[str] | None = "assets_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The history is append-only whatever code runs: the database refuses UPDATE and DELETE.
# On PostgreSQL these are ordinary triggers, so a session with session_replication_role =
# replica (a restore, or the test fixture that empties every table) skips them, and TRUNCATE
# (a table-level statement, not a row DELETE) is not refused either.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION component_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'component_history is append-only: rows are never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""
_OPERATIONS = (("update", "updated"), ("delete", "deleted"))


def _pg_trigger(operation: str) -> str:
    return (
        f"CREATE TRIGGER component_history_no_{operation} BEFORE {operation.upper()} "
        "ON component_history FOR EACH ROW EXECUTE FUNCTION component_history_append_only()"
    )


def _sqlite_trigger(operation: str, participle: str) -> str:
    return (
        f"CREATE TRIGGER component_history_no_{operation} BEFORE {operation.upper()} "
        "ON component_history BEGIN SELECT RAISE(ABORT, "
        f"'component_history is append-only: rows are never {participle}'); END"
    )


def upgrade() -> None:
    op.create_table(
        "component_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(16), nullable=True),
        sa.Column("at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name="fk_component_history_component_id_components",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_component_history"),
    )
    op.create_index("ix_component_history_component_id", "component_history", ["component_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for operation, _ in _OPERATIONS:
            op.execute(_pg_trigger(operation))
    else:
        for operation, participle in _OPERATIONS:
            op.execute(_sqlite_trigger(operation, participle))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for operation, _ in _OPERATIONS:
        op.execute(
            f"DROP TRIGGER IF EXISTS component_history_no_{operation}"
            + (" ON component_history" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS component_history_append_only()")
    op.drop_index("ix_component_history_component_id", table_name="component_history")
    op.drop_table("component_history")
