"""cases: saved revisions of the city's time limits and working calendar, append-only

Revision ID: cases_0004
Revises: cases_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "cases_0004"
down_revision: str | Sequence[str] | None = "cases_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Cases filed under a revision keep its rules, so a revision, like case history, is never
# rewritten or taken out, whatever code runs. As in cases_0002, PostgreSQL's ordinary triggers
# are skipped by a replica session (a restore, the test fixture that empties every table).
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION case_rule_revisions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_rule_revisions is append-only: rows are never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""
_OPS = ("update", "delete")


def upgrade() -> None:
    op.create_table(
        "case_rule_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("saved_by", sa.String(64), nullable=False),
        sa.Column("saved_by_name", sa.String(100), nullable=False),
        sa.Column("saved_at", onegrid.db.base.UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_rule_revisions"),
        sa.UniqueConstraint("kind", "revision", name="uq_case_rule_revisions_kind"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(_PG_FUNCTION)
    for what in _OPS:
        name = f"case_rule_revisions_no_{what}"
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {what.upper()} ON case_rule_revisions "
                "FOR EACH ROW EXECUTE FUNCTION case_rule_revisions_append_only()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {what.upper()} ON case_rule_revisions "
                f"BEGIN SELECT RAISE(ABORT, 'case_rule_revisions is append-only: rows are "
                f"never {what}d'); END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for what in _OPS:
        op.execute(
            f"DROP TRIGGER IF EXISTS case_rule_revisions_no_{what}"
            + (" ON case_rule_revisions" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS case_rule_revisions_append_only()")
    op.drop_table("case_rule_revisions")
