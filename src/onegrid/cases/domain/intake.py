"""What a new case must hold, checked all at once so a caller fixes every field in one go."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from onegrid.assets.domain import class_mismatch_problem, component_id_problem
from onegrid.cases.domain.states import Channel, Nature, Urgency
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.text import control_problems
from onegrid.grid.addresses import ADDRESS_ID_MAX

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 500
NAME_MAX = 100
TAG_MAX = 32
TAGS_MAX = 20
_TAG = re.compile(r"^[\w.:-]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Reporter:
    """Who reported the problem: personal data, shown unmasked only to those who call back."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class NewCase:
    category_code: str
    channel: Channel
    description: str
    lon: float
    lat: float
    nature: Nature = Nature.REPORT
    urgency: Urgency | None = None  # None: the category's default
    address: str = ""
    reporter: Reporter = Reporter()
    tags: tuple[str, ...] = ()
    component_id: str | None = None
    external_ref: str | None = None  # the id in the system it came from (hotline, Open311…)
    verify_first: bool | None = None  # None: public channels are verified on site first
    # The standard address register's id (标准地址库) of ``address``; the case service keeps it
    # only if the register holds it.
    address_id: str | None = None


def _text(value: str, name: str, limit: int, required: bool, out: list[FieldProblem]) -> str:
    text = value.strip()
    if required and not text:
        out.append(FieldProblem(name, "required", f"{name} must not be empty"))
    if len(text) > limit:
        out.append(FieldProblem(name, "max_length", f"{name} is at most {limit} characters"))
    return text


def _point(lon: float, lat: float, out: list[FieldProblem]) -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        out.append(FieldProblem("lon", "longitude", "lon is a longitude in -180..180"))
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        out.append(FieldProblem("lat", "latitude", "lat is a latitude in -90..90"))


def _reporter(r: Reporter, out: list[FieldProblem]) -> Reporter:
    name = (r.name or "").strip() or None
    phone = (r.phone or "").strip() or None
    email = (r.email or "").strip() or None
    if name and len(name) > NAME_MAX:
        out.append(
            FieldProblem("reporter.name", "max_length", f"a name is at most {NAME_MAX} characters")
        )
    if phone and not _PHONE.match(phone):
        out.append(
            FieldProblem(
                "reporter.phone",
                "phone_format",
                "a phone is digits, spaces or '-', optionally after '+'",
            )
        )
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        out.append(FieldProblem("reporter.email", "email_format", "not an e-mail address"))
    return Reporter(name, phone, email, r.user_id)


def _tags(tags: Sequence[str], out: list[FieldProblem]) -> tuple[str, ...]:
    clean = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if len(clean) > TAGS_MAX:
        out.append(FieldProblem("tags", "max_items", f"at most {TAGS_MAX} tags"))
    for t in clean:
        if len(t) > TAG_MAX or not _TAG.match(t):
            out.append(
                FieldProblem(
                    "tags",
                    "tag_format",
                    f"tag {t!r}: letters, digits, '_', '.', ':' or '-', at most {TAG_MAX}",
                )
            )
    return clean


def check_new_case(case: NewCase, *, component_case: bool | None) -> NewCase:
    """The case with its text trimmed, or ``InvalidInput`` listing every broken rule.

    ``component_case`` says whether the category is a component class; None (the category is
    unknown, itself a problem the caller reports) checks only the component ID's form."""
    r = case.reporter
    # First, so that no later check (or lookup) reads a value the database would refuse.
    out = control_problems(
        [
            ("category_code", case.category_code),
            ("description", case.description),
            ("address", case.address),
            ("reporter.name", r.name),
            ("reporter.phone", r.phone),
            ("reporter.email", r.email),
            *(("tags", tag) for tag in case.tags),
            ("component_id", case.component_id),
            ("external_ref", case.external_ref),
            ("address_id", case.address_id),
        ]
    )
    description = _text(case.description, "description", DESCRIPTION_MAX, True, out)
    address = _text(case.address, "address", ADDRESS_MAX, False, out)
    address_id = _text(case.address_id or "", "address_id", ADDRESS_ID_MAX, False, out) or None
    _point(case.lon, case.lat, out)
    reporter = _reporter(case.reporter, out)
    tags = _tags(case.tags, out)
    component = (case.component_id or "").strip() or None
    if component is None and component_case is True:
        out.append(
            FieldProblem(
                "component_id",
                "component_required",
                f"{case.category_code} is a component class: name the component (its 16-digit ID)",
            )
        )
    elif component is not None and component_case is False:
        out.append(
            FieldProblem(
                "component_id",
                "component_for_component_class",
                f"{case.category_code} is an event class; it links no component",
            )
        )
    elif component is not None:
        problem = component_id_problem(component) or (
            class_mismatch_problem(component, case.category_code) if component_case else None
        )
        if problem:
            out.append(FieldProblem("component_id", "component_id", problem))
    if out:
        raise InvalidInput(out)
    return NewCase(
        case.category_code,
        case.channel,
        description,
        case.lon,
        case.lat,
        case.nature,
        case.urgency,
        address,
        reporter,
        tags,
        component,
        (case.external_ref or "").strip() or None,
        case.verify_first,
        address_id,
    )
