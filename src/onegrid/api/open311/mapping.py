"""Our cases and taxonomy in Open311 terms: services, attributes, requests and statuses.

Open311 names live here and nowhere else. A service is a class of the taxonomy (its code is the
``service_code``); a service request is a case (its number is the ``service_request_id``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onegrid.assets.domain import Category, Kind
from onegrid.cases.domain.states import CLOSED_STATUSES, Nature, Status
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
_NATURE_NAMES: dict[Nature, str] = {
    Nature.CONSULTATION: "咨询 consultation",
    Nature.HELP: "求助 help",
    Nature.COMPLAINT: "投诉 complaint",
    Nature.REPORT: "举报 report",
    Nature.SUGGESTION: "建议 suggestion",
    Nature.THANKS: "感谢 thanks",
}


def open_or_closed(status: str) -> str:
    return CLOSED if Status(status) in CLOSED_STATUSES else OPEN


def statuses_for(wanted: str) -> tuple[str, ...]:
    """The internal statuses behind ``open`` or ``closed``."""
    closed = wanted == CLOSED
    return tuple(sorted(s.value for s in Status if (s in CLOSED_STATUSES) == closed))


@dataclass(frozen=True)
class Attribute:
    """One extra question of a service definition (OPEN311.md 1.4)."""

    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    description: str
    order: int
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list types

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
        }
        if self.datatype in ("singlevaluelist", "multivaluelist"):
            out["values"] = [{"key": k, "name": n} for k, n in self.values]
        return out


NATURE = Attribute(
    code="nature",
    datatype="singlevaluelist",
    required=False,
    description="What do you want: 您的诉求是? (default: report)",
    order=1,
    values=tuple((n.value, _NATURE_NAMES[n]) for n in Nature),
)
# A component class names the piece of street furniture; the case service requires it.
COMPONENT_ID = Attribute(
    code="component_id",
    datatype="string",
    required=True,
    description="The 16-digit ID on the component's plate (部件编码)",
    order=2,
    datatype_description="16 digits, e.g. 1101010101000001",
)


def attributes_of(category: Category) -> tuple[Attribute, ...]:
    if category.kind is Kind.COMPONENT:
        return (NATURE, COMPONENT_ID)
    return (NATURE,)


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


def check_attributes(
    category: Category, given: Mapping[str, Sequence[str]]
) -> tuple[dict[str, str], list[str]]:
    """The answers by attribute code, and a description per broken rule. An empty optional
    value counts as absent (OPEN311.md 1.1); unknown codes are ignored."""
    answers: dict[str, str] = {}
    problems: list[str] = []
    for attr in attributes_of(category):
        values = [v.strip() for v in given.get(attr.code, ()) if v.strip()]
        if not values:
            if attr.required:
                problems.append(f"attribute[{attr.code}] is required for {category.code}")
            continue
        if attr.datatype != "multivaluelist" and len(values) > 1:
            problems.append(f"attribute[{attr.code}] takes one value")
            continue
        keys = {k for k, _ in attr.values}
        outside = [v for v in values if attr.values and v not in keys]
        if outside:
            problems.append(
                f"attribute[{attr.code}]: {outside[0]!r} is not one of {', '.join(sorted(keys))}"
            )
            continue
        answers[attr.code] = ",".join(values)
    return answers, problems


def request_of(
    rec: CaseRecord,
    service_name: str,
    agency: str | None,
    media_urls: Sequence[str] = (),
) -> dict[str, Any]:
    """The public fields of a case as a GeoReport v2 request: never the reporter's data."""
    closed = open_or_closed(rec.status) == CLOSED
    return {
        "service_request_id": rec.number,
        "status": open_or_closed(rec.status),
        "status_notes": None,
        "service_name": service_name,
        "service_code": rec.category_code,
        "description": rec.description or None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": rec.created_at,
        "updated_datetime": (rec.closed_at or rec.updated_at) if closed else rec.updated_at,
        "expected_datetime": None if closed else rec.step_deadline,
        "address": rec.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": rec.lat,
        "long": rec.lon,
        "media_url": media_urls[0] if media_urls else None,
    }


def note_of(entry: HistoryEntry) -> dict[str, Any]:
    """One step of the workflow history as a Chicago-style note (no staff names)."""
    return {
        "datetime": entry.at,
        "type": entry.action,
        "summary": f"{entry.from_status or '-'} -> {entry.to_status}",
        "description": entry.reason or None,
    }


def extended_of(
    rec: CaseRecord, parent_number: str | None, notes: Sequence[HistoryEntry]
) -> dict[str, Any]:
    """What ``extensions=true`` adds to a request (OPEN311.md 2.2 and 3.3)."""
    return {
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
        },
        "notes": [note_of(e) for e in notes],
    }
