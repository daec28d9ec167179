"""The duplicate index: open cases by (category, H3 res-9 cell, time), and the check against it.

A check reads the rows of one category in the few cells around the report (an index range per
cell), so its cost does not grow with the number of cases stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import h3.api.basic_int as h3i
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.cases.domain.states import CLOSED_STATUSES
from onegrid.cases.records import CASES
from onegrid.dispatch.duplicates.domain import (
    EARTH_RADIUS_M,
    INDEX_RESOLUTION,
    DuplicateRules,
    bigrams,
    distance_m,
    similarity,
)
from onegrid.dispatch.models import DuplicateIndexRow

INDEX: Table = DuplicateIndexRow.__table__  # type: ignore[assignment]
TEXT_KEPT = 400
_I = INDEX.c
_METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


@lru_cache(maxsize=16)
def _scan_statement(cells: int, with_cases: bool) -> Any:
    """The lookup for a ring of ``cells`` cells (one parameter each: an expanding list is
    rendered anew for every execution, which cost more than the query on SQLite).

    The newest ``most`` rows only: a hot spot with hundreds of open reports of one kind (or a
    benchmark posting one report over and over) must not make every check score them all. The
    cells find the rows through the index; the box around the radius drops in SQL the rows of
    those cells that are too far to count (the ring covers ~30 times the circle's area), so
    Python scores only the few that may.

    ``with_cases`` adds each row's case status and number, in the same round trip: whether it
    is still open (the index may lag a case closed elsewhere) and what its reporter is told.
    The limit applies before the join, so a hot spot joins ``most`` rows, not all of them; they
    are not sorted again after it (the scoring orders what it keeps, by score, distance, id).
    """
    scan = (
        select(_I.case_id, _I.lon, _I.lat, _I.text, _I.reported_at)
        .where(
            _I.category_code == bindparam("category"),
            _I.cell.in_([bindparam(f"cell{i}") for i in range(cells)]),
            _I.reported_at >= bindparam("since"),
            _I.lon.between(bindparam("west"), bindparam("east")),
            _I.lat.between(bindparam("south"), bindparam("north")),
        )
        .order_by(_I.reported_at.desc())
        .limit(bindparam("most"))
    )
    if not with_cases:
        return scan
    newest = scan.subquery("newest")
    return select(
        newest.c.case_id,
        newest.c.lon,
        newest.c.lat,
        newest.c.text,
        CASES.c.status,
        CASES.c.number,
    ).join(CASES, CASES.c.id == newest.c.case_id)


_CLOSED = frozenset(s.value for s in CLOSED_STATUSES)


@dataclass(frozen=True)
class Candidate:
    case_id: int
    distance_m: float
    similarity: float
    score: float


def cell_of(lon: float, lat: float) -> int:
    return int(h3i.latlng_to_cell(lat, lon, INDEX_RESOLUTION))


# Every report near a hot spot asks for the same few rings: the disk is computed once per cell,
# already as the scan's parameters (a ring has 1 + 3k(k + 1) cells, a few fewer next to one of
# H3's pentagons: padded with the centre, so one statement per ring size serves every place).
# 1,024 rings of 19 cells, ~1 MB, cover a district's busy streets; a wider radius (the rules
# allow 5 km, a ring of 34, 3,571 cells) is computed each time rather than held 1,024 times.
CACHED_RING = 7  # 169 cells: at most ~9 MB cached


def _ring_params(centre: int, ring: int) -> dict[str, int]:
    return _cached_ring(centre, ring) if ring <= CACHED_RING else _ring(centre, ring)


def _ring(centre: int, ring: int) -> dict[str, int]:
    cells = [int(c) for c in h3i.grid_disk(centre, ring)]
    cells += [centre] * (1 + 3 * ring * (ring + 1) - len(cells))
    return dict(zip(_cell_names(len(cells)), cells, strict=True))


_cached_ring = lru_cache(maxsize=1024)(_ring)


@lru_cache(maxsize=16)
def _cell_names(count: int) -> tuple[str, ...]:
    return tuple(f"cell{i}" for i in range(count))


def cells_around(lon: float, lat: float, ring: int) -> list[int]:
    return [int(c) for c in h3i.grid_disk(cell_of(lon, lat), ring)]


_KEPT = ("category_code", "cell", "lon", "lat", "reported_at", "text")  # refreshed on conflict


def _upsert(insert: Callable[[Table], Any]) -> Any:
    ins = insert(INDEX)
    return ins.on_conflict_do_update(
        index_elements=[INDEX.c.case_id], set_={k: ins.excluded[k] for k in _KEPT}
    )


# Built once per dialect: building and keying the statement for every new case cost more than
# running it.
_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def index_values(
    case_id: int, category_code: str, lon: float, lat: float, reported_at: datetime, text: str
) -> dict[str, Any]:
    """The index row of an open case."""
    return {
        "case_id": case_id,
        "category_code": category_code,
        "cell": cell_of(lon, lat),
        "lon": lon,
        "lat": lat,
        "reported_at": reported_at,
        "text": text[:TEXT_KEPT],
    }


def pg_index_cte(prefix: str) -> Any:
    """The PostgreSQL upsert of ``index_case`` as a CTE, for a statement that writes more with
    it; its values are the parameters ``prefix + column``."""
    ins = postgresql.insert(INDEX)
    values = {c.key: bindparam(prefix + c.key, type_=c.type) for c in INDEX.c}
    return (
        ins.values(values)
        .on_conflict_do_update(
            index_elements=[INDEX.c.case_id], set_={k: ins.excluded[k] for k in _KEPT}
        )
        .cte("indexed")
    )


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
    values = index_values(case_id, category_code, lon, lat, reported_at, text)
    session.connection().execute(_UPSERT[session.get_bind().dialect.name], values)


_UNINDEX = delete(INDEX).where(INDEX.c.case_id == bindparam("case_id"))


def unindex_case(session: Session, case_id: int) -> None:
    """A case no longer open (closed, cancelled, merged) leaves the index."""
    session.connection().execute(_UNINDEX, {"case_id": case_id})


def search_box(lon: float, lat: float, radius_m: float) -> dict[str, float]:
    """Longitudes and latitudes no point within ``radius_m`` lies outside (1 % wider: the box
    only saves work, the distance decides)."""
    d_lat = 1.01 * radius_m / _METRES_PER_DEGREE
    widest = math.cos(math.radians(min(89.0, abs(lat) + d_lat)))
    d_lon = min(180.0, d_lat / widest)
    return {"west": lon - d_lon, "east": lon + d_lon, "south": lat - d_lat, "north": lat + d_lat}


def _scan(
    session: Session,
    rules: DuplicateRules,
    category_code: str,
    lon: float,
    lat: float,
    now: datetime,
    *,
    with_cases: bool,
) -> Sequence[Any]:
    cells = _ring_params(cell_of(lon, lat), rules.ring)
    params: dict[str, Any] = dict(cells)
    params.update(
        category=category_code,
        since=now - timedelta(hours=rules.window_hours),
        most=rules.max_scanned,
        **search_box(lon, lat, rules.radius_m),
    )
    return session.connection().execute(_scan_statement(len(cells), with_cases), params).all()


def _scored(
    rows: Sequence[Any],
    rules: DuplicateRules,
    lon: float,
    lat: float,
    text: str,
    exclude: int | None,
) -> list[Candidate]:
    """The rows scoring at least the threshold, best first."""
    grams = bigrams(text)
    radius, w_d, w_t, threshold = (
        rules.radius_m,
        rules.distance_weight,
        rules.text_weight,
        rules.threshold,
    )
    found = []
    for row in rows:
        case_id, c_lon, c_lat, c_text = row[0], row[1], row[2], row[3]
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
    return found


def _best_open(
    session: Session,
    found: list[Candidate],
    rules: DuplicateRules,
    still_open: Callable[[Sequence[int]], Collection[int]],
) -> list[Candidate]:
    """The best candidates still open, asked a batch at a time; a closed one leaves the index."""
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
    rows = _scan(session, rules, category_code, lon, lat, now, with_cases=False)
    found = _scored(rows, rules, lon, lat, text, exclude)
    if still_open is None:
        return found[: rules.max_candidates]
    return _best_open(session, found, rules, still_open)


def find_open_candidates(
    session: Session,
    rules: DuplicateRules,
    category_code: str,
    lon: float,
    lat: float,
    text: str,
    now: datetime,
    *,
    exclude: int | None = None,
) -> list[tuple[Candidate, str]]:
    """``find_candidates`` asking the cases table in the same statement whether each is still
    open; each candidate comes with its case's number."""
    rows = _scan(session, rules, category_code, lon, lat, now, with_cases=True)
    cases = {row[0]: (row[4], row[5]) for row in rows}
    found = _scored(rows, rules, lon, lat, text, exclude)

    def still_open(case_ids: Sequence[int]) -> set[int]:
        return {i for i in case_ids if cases[i][0] not in _CLOSED}

    return [(c, str(cases[c.case_id][1])) for c in _best_open(session, found, rules, still_open)]
