"""Our cases and taxonomy in Open311 terms: services, attributes, requests and statuses.

Open311 names live here and nowhere else. A service is a class of the taxonomy (its code is the
``service_code``); a service request is a case (its number is the ``service_request_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from onegrid.api.open311.attributes import answered, attributes_of
from onegrid.assets.domain import Category
from onegrid.cases.domain.states import CLOSED_STATUSES, Status
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import HistoryEntry
from onegrid.cases.records import CaseRecord

OPEN, CLOSED = "open", "closed"
# The fine status as FixMyStreet's extended statuses (OPEN311.md 2.4), for extensions=true.
FMS_STATUS: dict[Status, str] = {
    Status.TO_VERIFY: "INVESTIGATING",
    Status.TO_FILE: "FOR_TRIAGE",
    Status.TO_DISPATCH: "OPEN",
    Status.DISPATCHED: "ACTION_SCHEDULED",
    Status.HANDLING: "IN_PROGRESS",
    Status.ON_HOLD: "ACTION_SCHEDULED",
    Status.TO_CHECK: "IN_PROGRESS",
    Status.TO_CLOSE: "FIXED",
    Status.CLOSED: "CLOSED",
    Status.CANCELLED: "NO_FURTHER_ACTION",
    Status.MERGED: "DUPLICATE",
    Status.SPLIT: "INTERNAL_REFERRAL",
}


_CLOSED_VALUES = frozenset(s.value for s in CLOSED_STATUSES)

# What a department's own system means by the status it posts (lower case, "_" as a space).
# A department never closes a case: its "closed" or "fixed" reports the result back, and the
# inspector's check and the shift leader's close follow (DOMAIN.md 4).
UNDER_WAY = frozenset({"action scheduled", "in progress", "investigating"})
DONE = frozenset({"closed", "fixed"})
NOT_OURS = frozenset(
    {"not councils responsibility", "internal referral", "not responsible", "wrong department"}
)
# Where the department's update is already true: kept as a note, so a system that repeats
# its state (a "fixed" then a "closed") is not refused for it.
_PAST_ACCEPT = frozenset({Status.ON_HOLD, Status.TO_CHECK, Status.TO_CLOSE, Status.CLOSED})
_REPORTED = frozenset({Status.TO_CHECK, Status.TO_CLOSE, Status.CLOSED})


def department_steps(status: str, current: Status) -> tuple[Action, ...]:
    """The workflow steps a department system's posted ``status`` takes on a case in status
    ``current`` dispatched to its department, in order; none keeps the update as a note.

    A step the workflow does not allow from ``current`` (a return after the report back, a
    report back while held) is still named: the case service refuses it with its rule."""
    if status in UNDER_WAY:
        if current is Status.DISPATCHED:
            return (Action.ACCEPT,)
        return () if current in _PAST_ACCEPT else (Action.HANDLE,)
    if status in DONE:
        if current in _REPORTED:
            return ()
        if current is Status.DISPATCHED:
            return (Action.ACCEPT, Action.REPORT_BACK)
        return (Action.REPORT_BACK,)
    if status in NOT_OURS:
        return (Action.RETURN,)
    return ()


def open_or_closed(status: str) -> str:
    return CLOSED if status in _CLOSED_VALUES else OPEN


def statuses_for(wanted: str) -> tuple[str, ...]:
    """The internal statuses behind ``open`` or ``closed``."""
    closed = wanted == CLOSED
    return tuple(sorted(s.value for s in Status if (s in CLOSED_STATUSES) == closed))


def service_of(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name_zh or category.name_en,
        "description": category.name_en or None,
        "metadata": bool(attributes_of(category)),
        "type": "realtime",
        "keywords": ",".join((*category.keywords_zh, *category.keywords_en)) or None,
        "group": category.major_name_zh or category.major_name_en or category.major,
    }


def definition_of(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [a.as_dict() for a in attributes_of(category)],
    }


def request_of(
    rec: Any,
    service_name: str,
    agency: str | None,
    media_url: str | None = None,
    status_notes: str | None = None,
) -> dict[str, Any]:
    """The public fields of a case (a record or a row of them) as a GeoReport v2 request:
    never the reporter's data. Called for every row of a page: each field is read once."""
    closed = rec.status in _CLOSED_VALUES
    updated = rec.updated_at
    return {
        "service_request_id": rec.number,
        "status": CLOSED if closed else OPEN,
        "status_notes": status_notes,
        "service_name": service_name,
        "service_code": rec.category_code,
        "description": rec.description or None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": rec.created_at,
        "updated_datetime": (rec.closed_at or updated) if closed else updated,
        "expected_datetime": None if closed else rec.step_deadline,
        "address": rec.address or None,
        "address_id": rec.address_id,
        "zipcode": None,
        "lat": rec.lat,
        "long": rec.lon,
        "media_url": media_url,
    }


def merged_notes(into: str) -> str:
    """Why a merged duplicate is closed, and where its reporter follows the problem now."""
    return f"重复件，已合并到 {into}。 A duplicate: merged into request {into}; follow that one."


def note_of(entry: HistoryEntry) -> dict[str, Any]:
    """One step of the workflow history as a Chicago-style note (no staff names)."""
    return {
        "datetime": entry.at,
        "type": entry.action,
        "summary": f"{entry.from_status or '-'} -> {entry.to_status}",
        "description": entry.reason or None,
    }


def public_notes(entries: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    return [note_of(e) for e in entries]


@dataclass(frozen=True)
class Extras:
    """What a case has beyond its row: its Open311 answers, photos and media addresses."""

    answers: Mapping[str, str] = field(default_factory=dict)
    media_urls: Sequence[str] = ()
    photos: Sequence[Mapping[str, Any]] = ()  # {media_url, title, created_at}

    @property
    def media_url(self) -> str | None:
        """What ``media_url`` shows: the first photo, else the first address posted."""
        if self.photos:
            return str(self.photos[0]["media_url"])
        return self.media_urls[0] if self.media_urls else None


NO_EXTRAS = Extras()


def extended_of(
    rec: CaseRecord, parent_number: str | None, notes: Sequence[HistoryEntry], extras: Extras
) -> dict[str, Any]:
    """What ``extensions=true`` adds to a request (OPEN311.md 2.2 and 3.3)."""
    return {
        "attributes": answered(extras.answers),
        "extended_attributes": {
            "status": rec.status,
            "fms_status": FMS_STATUS[Status(rec.status)],
            "channel": rec.channel,
            "nature": rec.nature,
            "urgency": rec.urgency,
            "unit_grid": rec.unit_grid_code,
            "community": rec.community_code,
            "subdistrict": rec.subdistrict_code,
            "district": rec.district_code,
            "duplicate": rec.status == Status.MERGED.value,
            "parent_service_request_id": parent_number,
            "x": rec.lon,
            "y": rec.lat,
            "photos": list(extras.photos),
        },
        "notes": public_notes(notes),
    }
