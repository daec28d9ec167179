"""cases: an index covering the open cases per unit grid (an inspector's "my grids")

Revision ID: cases_0003
Revises: cases_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "cases_0003"
down_revision: str | Sequence[str] | None = "cases_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An inspector's grids are counted and listed per grid, status and light (api.v1.map): with
# every column those reads need in one index, they touch only the open cases of those grids,
# never the table rows nor the grids' closed cases. Its first column serves every lookup the
# single-column unit grid index did, so that one goes: a case write keeps the same index count.
_OPEN_GRIDS = (
    "unit_grid_code",
    "status",
    "step_deadline",
    "step_frozen_light",
    "step_warn_at",
    "id",
)


def upgrade() -> None:
    op.create_index("ix_cases_open_grids", "cases", list(_OPEN_GRIDS))
    op.drop_index("ix_cases_unit_grid_code", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_unit_grid_code", "cases", ["unit_grid_code"])
    op.drop_index("ix_cases_open_grids", table_name="cases")
