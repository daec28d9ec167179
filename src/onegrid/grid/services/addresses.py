"""Use case: load the standard address register (标准地址库) from a CSV or GeoJSON file.

Every row is checked, converted to WGS84 and located in the grid of its first day before
anything is written; one bad row refuses the whole file. A re-import is an upsert by address
id: an unchanged address is left alone, a changed one is corrected (same first day) or gets a
new version (a later first day), as areas and unit grids do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.grid.addresses import StandardAddress
from onegrid.grid.importing.addresses import (
    AddressChange,
    AddressDraft,
    PlacedAddress,
    PlannedAddress,
    plan_addresses,
    to_wgs84_points,
)
from onegrid.grid.location import locate_many
from onegrid.grid.models import AddressRow
from onegrid.grid.queries import standard_address_of
from onegrid.grid.storage import chunks


@dataclass(frozen=True)
class AddressLoad:
    created: int
    corrected: int
    versioned: int
    unchanged: int

    def render(self) -> str:
        return (
            f"standard addresses: {self.created:,} new, {self.corrected:,} corrected, "
            f"{self.versioned:,} new versions, {self.unchanged:,} unchanged"
        )


def _place(
    session: Session, drafts: list[AddressDraft], on: date
) -> tuple[list[PlacedAddress], list[FieldProblem]]:
    """Each point in WGS84 and in the grid of ``on``; a point outside the city is refused."""
    if not drafts:
        return [], []
    lon, lat = to_wgs84_points(drafts)
    problems: list[FieldProblem] = []
    ok = (abs(lon) <= 180) & (abs(lat) <= 90)
    for bad in (~ok).nonzero()[0]:
        d = drafts[int(bad)]
        problems.append(
            FieldProblem(
                "lon",
                "wgs84-range",
                f"({d.x:.6g}, {d.y:.6g}) is not longitude/latitude after converting from "
                f"{d.crs.name}; is the crs right (a projected file needs its EPSG code)?",
                d.record,
            )
        )
    kept = [d for d, good in zip(drafts, ok, strict=True) if good]
    if not kept:
        return [], problems
    batch = locate_many(session, lon[ok], lat[ok], on, cells=())
    placed: list[PlacedAddress] = []
    for i, d in enumerate(kept):
        x, y = float(batch.lon[i]), float(batch.lat[i])
        if not batch.inside[i]:
            problems.append(
                FieldProblem(
                    "lon",
                    "inside-city",
                    f"the point ({x:.6f}, {y:.6f}) (WGS84) lies outside the city on {on}",
                    d.record,
                )
            )
            continue
        tiers = (batch.community[i], batch.subdistrict[i], batch.district[i], batch.city[i])
        area = next((str(c) for c in tiers if c), None)
        placed.append(PlacedAddress(d, x, y, str(batch.unit_grid[i]) or None, area))
    return placed, problems


def _stored(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, StandardAddress]]:
    """The latest stored version of each id."""
    out: dict[str, tuple[int, StandardAddress]] = {}
    for part in chunks(ids):
        rows = session.scalars(
            select(AddressRow)
            .where(AddressRow.address_id.in_(part))
            .order_by(AddressRow.valid_from)
        )
        for row in rows:
            out[row.address_id] = (row.id, standard_address_of(row))
    return out


def _taken(session: Session, texts: Sequence[str], ids: set[str], on: date) -> dict[str, str]:
    """Which other ids already have these normalised texts, on ``on`` or later."""
    out: dict[str, str] = {}
    for part in chunks(texts):
        rows = session.execute(
            select(AddressRow.normalised, AddressRow.address_id).where(
                AddressRow.normalised.in_(part),
                or_(AddressRow.valid_to.is_(None), AddressRow.valid_to > on),
            )
        )
        for normalised, address_id in rows:
            if address_id not in ids:
                out[normalised] = address_id
    return out


def load_addresses(
    session: Session,
    drafts: list[AddressDraft],
    problems: list[FieldProblem],
    clock: Clock,
    *,
    valid_from: date,
) -> AddressLoad:
    """Check every row against the grid and the register, then write all of them, or nothing
    if any (``problems``: those found reading the file) is bad."""
    placed, more = _place(session, drafts, valid_from)
    problems = [*problems, *more]
    ids = [p.draft.address_id for p in placed]
    plan, more = plan_addresses(
        placed,
        valid_from,
        _stored(session, ids),
        _taken(session, sorted({p.draft.normalised for p in placed}), set(ids), valid_from),
    )
    problems += more
    if problems:
        raise InvalidInput(problems)
    counts = dict.fromkeys(AddressChange, 0)
    for p in plan:
        counts[p.change] += 1
    _write(session, plan, valid_from, clock.now())
    session.flush()
    return AddressLoad(
        counts[AddressChange.CREATE],
        counts[AddressChange.CORRECT],
        counts[AddressChange.VERSION],
        counts[AddressChange.UNCHANGED],
    )


def _values(a: PlacedAddress) -> dict[str, object]:
    return {
        "text": a.draft.text,
        "normalised": a.draft.normalised,
        "lon": a.lon,
        "lat": a.lat,
        "unit_grid_code": a.unit_grid,
        "area_code": a.area_code,
    }


# Core statements run once with a list of parameters (an executemany): a re-import of a whole
# register corrects or ends thousands of rows, which one UPDATE each made a round trip apiece.
_ROWS = cast(Table, AddressRow.__table__)
_BY_ROW = _ROWS.c.id == bindparam("row_id")
_CORRECT = update(_ROWS).where(_BY_ROW)  # SET: the columns named in each parameter set
_END = update(_ROWS).where(_BY_ROW).values(valid_to=bindparam("ends_on"))


def _write(
    session: Session, plan: Sequence[PlannedAddress], valid_from: date, now: datetime
) -> None:
    """Correct rows in place, end the versions a new one follows, then add the new rows (the
    ended version's first day is earlier, so it never clashes with the new one's)."""
    corrected = [
        {"row_id": p.stored_row, **_values(p.placed)}
        for p in plan
        if p.change is AddressChange.CORRECT
    ]
    ended = [
        {"row_id": p.stored_row, "ends_on": valid_from}
        for p in plan
        if p.change is AddressChange.VERSION
    ]
    if corrected:
        session.execute(_CORRECT, corrected)
    if ended:
        session.execute(_END, ended)
    session.add_all(
        AddressRow(
            address_id=p.placed.draft.address_id,
            valid_from=valid_from,
            valid_to=None,
            created_at=now,
            **_values(p.placed),
        )
        for p in plan
        if p.change in (AddressChange.CREATE, AddressChange.VERSION)
    )
