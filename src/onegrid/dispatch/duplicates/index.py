"""The duplicate index: open cases by (category, H3 res-9 cell, time), and the check against it.

A check reads the rows of one category in the few cells around the report (an index range per
cell), so its cost does not grow with the number of cases stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.dispatch.duplicates.domain import (
    INDEX_RESOLUTION,
    DuplicateRules,
    bigrams,
    distance_m,
    score,
    similarity,
)
from onegrid.dispatch.models import DuplicateIndexRow

INDEX: Table = DuplicateIndexRow.__table__  # type: ignore[assignment]
TEXT_KEPT = 400
_LOOKUP = select(
    INDEX.c.case_id, INDEX.c.lon, INDEX.c.lat, INDEX.c.reported_at, INDEX.c.text
).where(
    INDEX.c.category_code == bindparam("category"),
    INDEX.c.cell.in_(bindparam("cells", expanding=True)),
    INDEX.c.reported_at >= bindparam("since"),
)


@dataclass(frozen=True)
class Candidate:
    case_id: int
    distance_m: float
    similarity: float
    score: float


def cell_of(lon: float, lat: float) -> int:
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, INDEX_RESOLUTION)))


def cells_around(lon: float, lat: float, ring: int) -> list[int]:
    centre = h3.latlng_to_cell(lat, lon, INDEX_RESOLUTION)
    return [int(h3.str_to_int(c)) for c in h3.grid_disk(centre, ring)]


def index_case(
    session: Session,
    case_id: int,
    category_code: str,
    lon: float,
    lat: float,
    reported_at: datetime,
    text: str,
) -> None:
    """Add (or refresh) an open case in the index."""
    dialect = session.get_bind().dialect.name
    values = {
        "case_id": case_id,
        "category_code": category_code,
        "cell": cell_of(lon, lat),
        "lon": lon,
        "lat": lat,
        "reported_at": reported_at,
        "text": text[:TEXT_KEPT],
    }
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(INDEX).values(values)
    keys = {k: v for k, v in values.items() if k != "case_id"}
    session.execute(ins.on_conflict_do_update(index_elements=[INDEX.c.case_id], set_=keys))


def unindex_case(session: Session, case_id: int) -> None:
    """A case no longer open (closed, cancelled, merged) leaves the index."""
    session.execute(delete(INDEX).where(INDEX.c.case_id == case_id))


def find_candidates(
    session: Session,
    rules: DuplicateRules,
    category_code: str,
    lon: float,
    lat: float,
    text: str,
    now: datetime,
    *,
    exclude: int | None = None,
    still_open: Callable[[int], bool] | None = None,
) -> list[Candidate]:
    """Open cases this report may duplicate, best first, each scoring at least the threshold.

    ``still_open`` confirms a candidate against the case itself (the index may lag a case
    closed elsewhere); it is asked only for the few that score high enough.
    """
    rows = session.execute(
        _LOOKUP,
        {
            "category": category_code,
            "cells": cells_around(lon, lat, rules.ring),
            "since": now - timedelta(hours=rules.window_hours),
        },
    ).all()
    grams = bigrams(text)
    found = []
    for row in rows:
        if row.case_id == exclude:
            continue
        d = distance_m(lon, lat, row.lon, row.lat)
        if d > rules.radius_m:
            continue
        sim = similarity(grams, bigrams(row.text))
        s = score(rules, d, sim)
        if s >= rules.threshold:
            found.append(Candidate(row.case_id, round(d, 1), round(sim, 4), round(s, 4)))
    found.sort(key=lambda c: (-c.score, c.distance_m, c.case_id))
    out = []
    for c in found:
        if still_open is None or still_open(c.case_id):
            out.append(c)
        else:
            unindex_case(session, c.case_id)
        if len(out) >= rules.max_candidates:
            break
    return out
