"""The duplicate index: open cases by (category, H3 res-9 cell, time), and the check against it.

A check reads the rows of one category in the few cells around the report (an index range per
cell), so its cost does not grow with the number of cases stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.dispatch.duplicates.domain import (
    INDEX_RESOLUTION,
    DuplicateRules,
    bigrams,
    distance_m,
    similarity,
)
from onegrid.dispatch.models import DuplicateIndexRow

INDEX: Table = DuplicateIndexRow.__table__  # type: ignore[assignment]
TEXT_KEPT = 400
# The newest ``most`` rows only: a hot spot with hundreds of open reports of one kind (or a
# benchmark posting one report over and over) must not make every check score them all.
_LOOKUP = (
    select(INDEX.c.case_id, INDEX.c.lon, INDEX.c.lat, INDEX.c.text)
    .where(
        INDEX.c.category_code == bindparam("category"),
        INDEX.c.cell.in_(bindparam("cells", expanding=True)),
        INDEX.c.reported_at >= bindparam("since"),
    )
    .order_by(INDEX.c.reported_at.desc())
    .limit(bindparam("most"))
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


def _upsert(insert: Callable[[Table], Any]) -> Any:
    ins = insert(INDEX)
    kept = ("category_code", "cell", "lon", "lat", "reported_at", "text")
    return ins.on_conflict_do_update(
        index_elements=[INDEX.c.case_id], set_={k: ins.excluded[k] for k in kept}
    )


# Built once per dialect: building and keying the statement for every new case cost more than
# running it.
_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


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
    values = {
        "case_id": case_id,
        "category_code": category_code,
        "cell": cell_of(lon, lat),
        "lon": lon,
        "lat": lat,
        "reported_at": reported_at,
        "text": text[:TEXT_KEPT],
    }
    session.execute(_UPSERT[session.get_bind().dialect.name], values)


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
    still_open: Callable[[Sequence[int]], Collection[int]] | None = None,
) -> list[Candidate]:
    """Open cases this report may duplicate, best first, each scoring at least the threshold.

    ``still_open`` tells which of some candidates are still open (the index may lag a case
    closed elsewhere); it is asked only about the few best, a batch at a time.
    """
    rows = session.execute(
        _LOOKUP,
        {
            "category": category_code,
            "cells": cells_around(lon, lat, rules.ring),
            "since": now - timedelta(hours=rules.window_hours),
            "most": rules.max_scanned,
        },
    ).all()
    grams = bigrams(text)
    radius, w_d, w_t, threshold = (
        rules.radius_m,
        rules.distance_weight,
        rules.text_weight,
        rules.threshold,
    )
    found = []
    for case_id, c_lon, c_lat, c_text in rows:  # unpacked: a row's attributes cost more
        if case_id == exclude:
            continue
        d = distance_m(lon, lat, c_lon, c_lat)
        nearness = 1.0 - d / radius
        # Out of reach even with the same words: skip the text, the costly part.
        if d > radius or w_d * nearness + w_t < threshold:
            continue
        sim = similarity(grams, bigrams(c_text))
        s = w_d * nearness + w_t * sim
        if s >= threshold:
            found.append(Candidate(case_id, round(d, 1), round(sim, 4), round(s, 4)))
    found.sort(key=lambda c: (-c.score, c.distance_m, c.case_id))
    if still_open is None:
        return found[: rules.max_candidates]
    out: list[Candidate] = []
    while found and len(out) < rules.max_candidates:
        batch, found = found[: rules.max_candidates], found[rules.max_candidates :]
        alive = still_open([c.case_id for c in batch])
        for c in batch:
            if c.case_id in alive:
                out.append(c)
            else:
                unindex_case(session, c.case_id)
    return out[: rules.max_candidates]
