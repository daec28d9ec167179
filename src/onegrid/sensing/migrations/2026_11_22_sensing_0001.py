"""sensing: devices, readings, dead letters, counters, rules, alerts, bike operators and areas

Revision ID: sensing_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onegrid.db.base

revision: str = "sensing_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sensing",)
depends_on: str | Sequence[str] | None = None

UTC = onegrid.db.base.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "sensing_devices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("h3_10", sa.String(16), nullable=True),
        sa.Column("city_code", sa.String(32), nullable=True),
        sa.Column("district_code", sa.String(32), nullable=True),
        sa.Column("subdistrict_code", sa.String(32), nullable=True),
        sa.Column("community_code", sa.String(32), nullable=True),
        sa.Column("unit_grid_code", sa.String(32), nullable=True),
        sa.Column("component_id", sa.String(16), nullable=True),
        sa.Column("owner_department", sa.String(32), nullable=True),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensing_devices"),
    )
    for column in (
        "kind",
        "district_code",
        "subdistrict_code",
        "community_code",
        "unit_grid_code",
        "component_id",
    ):
        op.create_index(f"ix_sensing_devices_{column}", "sensing_devices", [column])

    op.create_table(
        "sensing_readings",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.String(32), nullable=False),
        sa.Column("observed_at", UTC(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "quantity", "observed_at", name="pk_sensing_readings"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "sensing_dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(255), nullable=True),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensing_dead_letters"),
    )
    op.create_index("ix_sensing_dead_letters_received_at", "sensing_dead_letters", ["received_at"])
    op.create_index("ix_sensing_dead_letters_reason", "sensing_dead_letters", ["reason"])

    op.create_table(
        "sensing_ingest_counters",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("source", "outcome", name="pk_sensing_ingest_counters"),
    )

    op.create_table(
        "sensing_rules",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_sensing_rules"),
    )

    op.create_table(
        "sensing_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("open_key", sa.String(160), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("started_at", UTC(), nullable=False),
        sa.Column("raised_at", UTC(), nullable=False),
        sa.Column("last_fired_at", UTC(), nullable=False),
        sa.Column("cleared_at", UTC(), nullable=True),
        sa.Column("fire_count", sa.Integer(), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("peak_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(16), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("area_code", sa.String(32), nullable=True),
        sa.Column("component_id", sa.String(16), nullable=True),
        sa.Column("category_code", sa.String(8), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("department_code", sa.String(32), nullable=True),
        sa.Column("case_state", sa.String(16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("case_note", sa.String(500), nullable=True),
        sa.Column("clear_noted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensing_alerts"),
        sa.UniqueConstraint("open_key", name="uq_sensing_alerts_open_key"),
    )
    op.create_index("ix_sensing_alerts_rule_code", "sensing_alerts", ["rule_code"])
    op.create_index("ix_sensing_alerts_status", "sensing_alerts", ["status"])
    op.create_index("ix_sensing_alerts_raised_at", "sensing_alerts", ["raised_at"])
    op.create_index("ix_sensing_alerts_case_state", "sensing_alerts", ["case_state"])
    op.create_index("ix_sensing_alerts_subject", "sensing_alerts", ["subject", "rule_code"])

    op.create_table(
        "sensing_bike_operators",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department_code", sa.String(32), nullable=False),
        sa.Column("fleet_quota", sa.Integer(), nullable=True),
        sa.Column("feed_url", sa.String(500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_sensing_bike_operators"),
    )
    op.create_table(
        "sensing_bike_areas",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_sensing_bike_areas"),
    )
    op.create_table(
        "sensing_bike_watch",
        sa.Column("area_code", sa.String(64), nullable=False),
        sa.Column("over_since", UTC(), nullable=True),
        sa.Column("alerted", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", name="pk_sensing_bike_watch"),
    )
    op.create_table(
        "sensing_bike_counts",
        sa.Column("area_code", sa.String(64), nullable=False),
        sa.Column("operator_code", sa.String(32), nullable=False),
        sa.Column("taken_at", UTC(), nullable=False),
        sa.Column("bikes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "area_code", "operator_code", "taken_at", name="pk_sensing_bike_counts"
        ),
    )


def downgrade() -> None:
    for table in (
        "sensing_bike_counts",
        "sensing_bike_watch",
        "sensing_bike_areas",
        "sensing_bike_operators",
        "sensing_alerts",
        "sensing_rules",
        "sensing_ingest_counters",
        "sensing_dead_letters",
        "sensing_readings",
        "sensing_devices",
    ):
        op.drop_table(table)
