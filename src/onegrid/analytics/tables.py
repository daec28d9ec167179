"""The lake's tables: their Arrow schemas and how each is read from the operational database.

Personal data never enters the lake: a case keeps a salted hash of its reporter's phone (enough
to count repeat callers), never the name, phone or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class LakeTable:
    name: str
    schema: pa.Schema
    # How the table moves forward: "mutable" rows are re-exported when updated (deduplicated
    # by key inside their partition), "append" rows only ever arrive, "snapshot" is rewritten
    # whole when its signature changes (small reference tables).
    mode: str
    key: str
    partition: str | None  # the timestamp column whose month names the partition
    # Each buffered batch is written grouped by this column, one run of row groups per value,
    # in time order within it: a filter on the column then skips the other values' row groups
    # by their statistics. The history is read by action (the returns of every month, the dispatches
    # and accepts of one), and without it every scan read the whole history.
    cluster: str | None = None


CASES = LakeTable(
    "cases",
    pa.schema(
        [
            ("id", pa.int64()),
            ("number", pa.string()),
            ("category_code", pa.string()),
            ("component_id", pa.string()),
            ("channel", pa.string()),
            ("nature", pa.string()),
            ("urgency", pa.string()),
            ("h3_10", pa.string()),
            ("lon", pa.float64()),
            ("lat", pa.float64()),
            ("city_code", pa.string()),
            ("district_code", pa.string()),
            ("subdistrict_code", pa.string()),
            ("community_code", pa.string()),
            ("unit_grid_code", pa.string()),
            ("region_class", pa.string()),
            ("source_type", pa.string()),
            ("status", pa.string()),
            ("department_code", pa.string()),
            ("created_by", pa.string()),
            ("merged_into_id", pa.int64()),
            ("overdue_steps", pa.int32()),
            ("extensions_granted", pa.int32()),
            ("returns", pa.int32()),
            ("reworks", pa.int32()),
            ("reopens", pa.int32()),
            ("created_at", TS),
            ("updated_at", TS),
            ("filed_at", TS),
            ("dispatched_at", TS),
            ("closed_at", TS),
            ("reporter_key", pa.string()),
        ]
    ),
    "mutable",
    "id",
    "created_at",
)

CASE_HISTORY = LakeTable(
    "case_history",
    pa.schema(
        [
            ("id", pa.int64()),
            ("case_id", pa.int64()),
            ("at", TS),
            ("actor", pa.string()),
            ("role", pa.string()),
            ("action", pa.string()),
            ("from_status", pa.string()),
            ("to_status", pa.string()),
            ("department_code", pa.string()),
            ("step_ended_late", pa.bool_()),
        ]
    ),
    "append",
    "id",
    "at",
    cluster="action",
)

COMPONENTS = LakeTable(
    "components",
    pa.schema(
        [
            ("id", pa.string()),
            ("class_code", pa.string()),
            ("owner", pa.string()),
            ("maintainer", pa.string()),
            ("unit_grid", pa.string()),
            ("community", pa.string()),
            ("subdistrict", pa.string()),
            ("district", pa.string()),
            ("lon", pa.float64()),
            ("lat", pa.float64()),
            ("state", pa.string()),
            ("last_changed", TS),
        ]
    ),
    "mutable",
    "id",
    None,
)

AREAS = LakeTable(
    "areas",
    pa.schema(
        [
            ("code", pa.string()),
            ("level", pa.string()),
            ("parent_code", pa.string()),
            ("name_zh", pa.string()),
            ("name_en", pa.string()),
            ("area_m2", pa.float64()),
            ("population", pa.int64()),
        ]
    ),
    "snapshot",
    "code",
    None,
)

# Residents of an area from a date on: a month's rate per 10,000 residents divides by the figure
# in force on its first day (areas.population where an area has none yet).
AREA_POPULATIONS = LakeTable(
    "area_populations",
    pa.schema(
        [
            ("id", pa.int64()),
            ("area_code", pa.string()),
            ("valid_from", pa.date32()),
            ("population", pa.int64()),
            ("source", pa.string()),
        ]
    ),
    "snapshot",
    "id",
    None,
)

# Which inspector patrolled which unit grid, when (valid_to exclusive, null while it lasts):
# an inspector's missed-report rate counts the public's first reports in their grids.
INSPECTOR_GRIDS = LakeTable(
    "inspector_grids",
    pa.schema(
        [
            ("id", pa.int64()),
            ("user_id", pa.int64()),
            ("unit_grid_code", pa.string()),
            ("valid_from", pa.date32()),
            ("valid_to", pa.date32()),
        ]
    ),
    "snapshot",
    "id",
    None,
)

# The hotline's callbacks (回访) belong to the hotline desk; until its table exists the lake
# holds an empty table of this shape, so every query runs and the rates it needs read as null.
CALLBACKS = LakeTable(
    "callbacks",
    pa.schema(
        [
            ("id", pa.int64()),
            ("case_id", pa.int64()),
            ("at", TS),
            ("resolved", pa.bool_()),
            ("satisfaction", pa.string()),
            # The unit the desk credited the answer to when it recorded it (null where the
            # source keeps none): the department ranking counts it there, as the desk does.
            ("department_code", pa.string()),
        ]
    ),
    "append",
    "id",
    "at",
)

# Where the hotline desk sent each case and when the unit contacted the requester (先行联系):
# the response rate reads the recorded contact time against the route's response deadline.
CASE_ROUTES = LakeTable(
    "case_routes",
    pa.schema(
        [
            ("id", pa.int64()),
            ("case_id", pa.int64()),
            ("department_code", pa.string()),
            ("rule", pa.string()),
            ("decided_at", TS),
            ("dispatched_at", TS),
            ("response_due_at", TS),
            ("contacted_at", TS),
        ]
    ),
    "mutable",
    "id",
    "decided_at",
)

TABLES = (
    CASES,
    CASE_HISTORY,
    COMPONENTS,
    AREAS,
    AREA_POPULATIONS,
    INSPECTOR_GRIDS,
    CALLBACKS,
    CASE_ROUTES,
)
BY_NAME = {t.name: t for t in TABLES}
