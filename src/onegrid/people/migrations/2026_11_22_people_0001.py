"""People: departments, users, role grants, memberships, sessions, sign-in failures, API keys.

Revision ID: people_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onegrid.db.base import UtcDateTime

revision = "people_0001"
down_revision = None
branch_labels = ("people",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("area_code", sa.String(32), nullable=True),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.UniqueConstraint("code", name="uq_departments_code"),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["departments.code"],
            name="fk_departments_parent_code_departments",
        ),
    )
    op.create_index("ix_departments_area_code", "departments", ["area_code"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("password_changed_at", UtcDateTime(), nullable=True),
        sa.Column("last_sign_in_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
    )

    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_code", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_role_grants"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_role_grants_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "user_id", "role", "scope_kind", "scope_code", name="uq_role_grants_user_id"
        ),
    )
    op.create_index("ix_role_grants_scope_code", "role_grants", ["scope_code"])

    op.create_table(
        "department_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "department_code", name="pk_department_members"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_department_members_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name="fk_department_members_department_code_departments",
        ),
    )
    op.create_index(
        "ix_department_members_department_code", "department_members", ["department_code"]
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("failed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index(
        "ix_login_failures_username_key_failed_at",
        "login_failures",
        ["username_key", "failed_at"],
    )
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_code", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_login_failures_failed_at", table_name="login_failures")
    op.drop_index("ix_login_failures_username_key_failed_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_sessions_expires_at", table_name="sessions")
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_department_members_department_code", table_name="department_members")
    op.drop_table("department_members")
    op.drop_index("ix_role_grants_scope_code", table_name="role_grants")
    op.drop_table("role_grants")
    op.drop_table("users")
    op.drop_index("ix_departments_area_code", table_name="departments")
    op.drop_table("departments")
