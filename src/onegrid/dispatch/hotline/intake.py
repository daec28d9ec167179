"""What an operator records for a call, checked all at once so every field is fixed in one go."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from onegrid.cases.domain.intake import ADDRESS_MAX, DESCRIPTION_MAX, NAME_MAX
from onegrid.cases.domain.states import Nature
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.text import control_problems
from onegrid.dispatch.hotline.domain import Medium
from onegrid.grid.addresses import ADDRESS_ID_MAX

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,31}$")
_SUGGESTION_MAX = 64  # what the call and the classifier's corrections keep of a suggestion


@dataclass(frozen=True)
class CallDraft:
    """A call or message as the operator records it, with the category and unit they confirm."""

    nature: Nature
    text: str
    medium: Medium = Medium.CALL
    caller_name: str | None = None
    caller_phone: str | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    # Where, said the other way: a door plate of the standard address register (标准地址库),
    # whose point and text place the call instead of lon and lat.
    address_id: str | None = None
    category_code: str | None = None  # confirmed or corrected; required unless answered
    department_code: str | None = None  # None: the unit the rules name
    answer_id: int | None = None  # the knowledge-base answer given to a consultation
    complex_: bool = False  # the operator marks a complex problem (15-day limit)
    component_id: str | None = None
    about_case_id: int | None = None  # the caller calls again about this case
    dispatch_now: bool = True  # 直派 at once when the desk may dispatch
    # What the classifier suggested (from the preview), kept beside the operator's choice.
    suggested_category: str | None = None
    suggested_confidence: float | None = None
    model_version: str | None = None


def _point(draft: CallDraft, out: list[FieldProblem]) -> None:
    if (draft.lon is None) != (draft.lat is None):
        missing = "lat" if draft.lat is None else "lon"
        out.append(FieldProblem(missing, "point_pair", "give both lon and lat, or neither"))
    for name_, value, limit in (("lon", draft.lon, 180), ("lat", draft.lat, 90)):
        if value is not None and not (math.isfinite(value) and -limit <= value <= limit):
            out.append(FieldProblem(name_, "range", f"{name_} is within ±{limit}"))


def _address_id(draft: CallDraft, out: list[FieldProblem]) -> str | None:
    """The register id trimmed, or None. One way to say where: a point clicked on the map and
    a door plate typed beside it could disagree, and the desk must not pick one silently."""
    address_id = (draft.address_id or "").strip() or None
    if address_id is None:
        return None
    if len(address_id) > ADDRESS_ID_MAX:
        out.append(FieldProblem("address_id", "max_length", f"at most {ADDRESS_ID_MAX} characters"))
    if draft.lon is not None or draft.lat is not None:
        out.append(
            FieldProblem(
                "address_id",
                "one_place",
                "say where with lon and lat, or with a standard address's address_id, not both",
            )
        )
    return address_id


def check_draft(draft: CallDraft) -> CallDraft:
    out = control_problems(
        [
            ("text", draft.text),
            ("caller_name", draft.caller_name),
            ("caller_phone", draft.caller_phone),
            ("address", draft.address),
            ("address_id", draft.address_id),
            ("category_code", draft.category_code),
            ("department_code", draft.department_code),
            ("component_id", draft.component_id),
            ("suggested_category", draft.suggested_category),
            ("model_version", draft.model_version),
        ]
    )
    text = draft.text.strip()
    if not text:
        out.append(FieldProblem("text", "required", "write down what the caller said"))
    if len(text) > DESCRIPTION_MAX:
        out.append(FieldProblem("text", "max_length", f"at most {DESCRIPTION_MAX} characters"))
    address = draft.address.strip()
    if len(address) > ADDRESS_MAX:
        out.append(FieldProblem("address", "max_length", f"at most {ADDRESS_MAX} characters"))
    name = (draft.caller_name or "").strip() or None
    if name and len(name) > NAME_MAX:
        out.append(FieldProblem("caller_name", "max_length", f"at most {NAME_MAX} characters"))
    phone = (draft.caller_phone or "").strip() or None
    if phone and not _PHONE.match(phone):
        out.append(
            FieldProblem("caller_phone", "phone_format", "digits, spaces or '-', maybe after '+'")
        )
    _point(draft, out)
    address_id = _address_id(draft, out)
    if draft.suggested_confidence is not None and not 0 <= draft.suggested_confidence <= 1:
        out.append(FieldProblem("suggested_confidence", "range", "between 0 and 1"))
    for name_, value in (
        ("suggested_category", draft.suggested_category),
        ("model_version", draft.model_version),
    ):
        if value is not None and len(value) > _SUGGESTION_MAX:
            out.append(FieldProblem(name_, "max_length", f"at most {_SUGGESTION_MAX} characters"))
    if out:
        raise InvalidInput(out)
    return replace(
        draft,
        text=text,
        caller_name=name,
        caller_phone=phone,
        address=address,
        address_id=address_id,
        category_code=(draft.category_code or "").strip().upper() or None,
        department_code=(draft.department_code or "").strip() or None,
        component_id=(draft.component_id or "").strip() or None,
    )


def placed_at(draft: CallDraft, lon: float, lat: float, text: str) -> CallDraft:
    """The call placed at a registered address: its point, and its text unless the operator
    wrote the address down."""
    return replace(draft, lon=lon, lat=lat, address=draft.address or text)


def needs_case_fields(draft: CallDraft) -> None:
    """A call that becomes a case needs a category and a place."""
    out = []
    if not draft.category_code:
        out.append(FieldProblem("category_code", "required", "confirm or choose a category"))
    if draft.lon is None or draft.lat is None:
        out.append(
            FieldProblem(
                "lon", "required", "locate the problem (lon and lat, or a standard address_id)"
            )
        )
    if out:
        raise InvalidInput(out)
