"""The values a case is made of: its status, channel, nature, urgency and timed step."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from onegrid.assets.domain import Kind, Urgency
from onegrid.core.errors import InvalidInput

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "PUBLIC_CHANNELS",
    "Channel",
    "Kind",
    "Nature",
    "Status",
    "Step",
    "Urgency",
    "initial_status",
    "parse_enum",
]


class Status(StrEnum):
    """Where a case stands in the workflow (DOMAIN.md section 4)."""

    TO_VERIFY = "to_verify"  # 待核实: a public report waits for an inspector on site
    TO_FILE = "to_file"  # 待立案: the shift leader files or cancels it
    TO_DISPATCH = "to_dispatch"  # 待派遣: filed (or returned), the command centre dispatches
    DISPATCHED = "dispatched"  # 已派遣: the department accepts or returns it
    HANDLING = "handling"  # 处置中: the department works on it
    ON_HOLD = "on_hold"  # 挂账: parked with approval; the clock stops
    TO_CHECK = "to_check"  # 待核查: reported back; an inspector checks on site
    TO_CLOSE = "to_close"  # 待结案: checked; the shift leader closes or orders rework
    CLOSED = "closed"  # 结案 (may be reopened if the requester says it is not solved)
    CANCELLED = "cancelled"  # 作废: not a valid case
    MERGED = "merged"  # a duplicate folded into another case
    SPLIT = "split"  # divided into child cases for several departments; a lead unit coordinates


CLOSED_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED, Status.MERGED})
OPEN_STATUSES = frozenset(Status) - CLOSED_STATUSES


class Channel(StrEnum):
    """Where a case came from (来源)."""

    INSPECTOR = "inspector"
    HOTLINE = "hotline"
    WEB_APP = "web_app"
    OPEN311 = "open311"
    SENSOR = "sensor"
    VIDEO = "video"
    INSTRUCTION = "instruction"
    MEDIA = "media"


# Reports from the public are verified on site by an inspector before they are filed; an
# inspector's own report, a sensor, a camera or a higher-level instruction can be filed directly.
PUBLIC_CHANNELS = frozenset({Channel.HOTLINE, Channel.WEB_APP, Channel.OPEN311, Channel.MEDIA})


class Nature(StrEnum):
    """What the requester wants (诉求性质)."""

    CONSULTATION = "consultation"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    THANKS = "thanks"


class Step(StrEnum):
    """A timed step: each has its own limit from the time-limit table."""

    DISPATCH = "dispatch"
    HANDLE = "handle"
    CHECK = "check"


def initial_status(channel: Channel, *, verify_first: bool | None = None) -> Status:
    """A new case waits for on-site verification when the public reported it, else for filing."""
    verify = channel in PUBLIC_CHANNELS if verify_first is None else verify_first
    return Status.TO_VERIFY if verify else Status.TO_FILE


E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: str, field_name: str) -> E:
    """``value`` as a member of ``kind``, or a 422 naming the field and listing what is known."""
    try:
        return kind(value.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise InvalidInput.one(
            field_name, f"known_{field_name}", f"unknown {field_name} {value!r}; known: {known}"
        ) from None
