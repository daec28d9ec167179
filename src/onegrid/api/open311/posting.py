"""POST requests: check the form in the order clients expect, then create the case.

Order (OPEN311.md 3.5), after a body that is not a UTF-8 form, a control character in any field
(400: the form is not plain text, and PostgreSQL would refuse it at the first lookup) and a
field sent twice with different values (400, once read): api_key (403), jurisdiction (404
unknown, 400 missing on a shared server), service_code missing (400) or unknown (404), location
(400), attributes (400), description length and HTML (400, OPEN311.md 1.5: "HTML is not"),
then the media, and on a shared server the point's jurisdiction (400). Without a point, the
location step places the request at an address of the city's standard address register
(``address_id``, ``address_string``). Only then is the case created, by the case service in one
transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from onegrid.api.open311.attributes import check_attributes
from onegrid.api.open311.errors import Open311Error, bad_request, forbidden, not_found
from onegrid.api.open311.forms import PostedBody
from onegrid.api.open311.media import check_uploads
from onegrid.api.open311.params import Jurisdiction, Parameters, decimal
from onegrid.api.open311.recording import Submission
from onegrid.assets.domain import Category
from onegrid.cases.domain.intake import DESCRIPTION_MAX, NewCase, Reporter
from onegrid.cases.domain.states import Channel, Nature
from onegrid.core.text import control_message, refused_character
from onegrid.grid.addresses import StandardAddress
from onegrid.grid.domain import Location
from onegrid.grid.queries import find_address, find_address_by_id

_ATTRIBUTE = re.compile(r"^attribute\[([^\]\[]+)\](\[\])?$")
_UPLOAD = re.compile(r"^(media|photo\d+)$")
MEDIA_URLS_MAX = 10
# What an HTML parser reads as markup: a tag (<b>, </p>, <img src=…>), a comment or doctype
# (<!-- -->, <!DOCTYPE html>) or a processing instruction, closed by ">". A "<" before a space,
# a digit or a CJK character opens none of them ("温度 < 5 度", "<5 m", "<标题>").
MARKUP = re.compile(r"<(?:/?[A-Za-z]|[!?])[^<>]*>")


@dataclass(frozen=True)
class PostForm:
    """The form of a POST, with the query string's values beside it (api_key may come either
    way); a field sent twice with different values is refused when read."""

    values: Parameters
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media_urls: tuple[str, ...] = ()
    uploads: tuple[UploadFile, ...] = ()  # the multipart files sent as media or photoN

    def get(self, name: str) -> str | None:
        return (self.values.get(name) or "").strip() or None


def _plain(name: str, value: str) -> str:
    """The value, or a 400 naming the field: PostgreSQL refuses NUL in text, so a control
    character would otherwise fail at the first lookup or insert instead of being refused."""
    bad_name = refused_character(name)
    character = bad_name or refused_character(value)
    if character is not None:
        raise bad_request(f"{repr(name[:100]) if bad_name else name}: {control_message(character)}")
    return value


def read_form(body: PostedBody, query: Iterable[tuple[str, str]]) -> PostForm:
    """The form's fields and the query string's, every value plain text (a body that is not a
    UTF-8 form, or a control character anywhere, is a 400 naming the field, before anything is
    looked up)."""
    if body.refusal is not None:
        raise body.refusal
    values = [(key, _plain(key, value)) for key, value in query]
    attributes: dict[str, list[str]] = {}
    media: list[str] = []
    uploads: list[UploadFile] = []
    for key, value in body.form.multi_items():
        if isinstance(value, UploadFile):
            if _UPLOAD.match(key) and (value.filename or value.size):
                uploads.append(value)
            continue
        _plain(key, value)
        match = _ATTRIBUTE.match(key)
        if match:
            attributes.setdefault(match.group(1), []).append(value)
        elif key == "media_url":
            if value.strip():
                media.append(value.strip())
        else:
            values.append((key, value))
    return PostForm(Parameters(values), attributes, tuple(media), tuple(uploads))


def require_key(form: PostForm) -> str:
    key = form.get("api_key")
    if key is None:
        raise forbidden("api_key is required to post a service request")
    return key


def require_service_code(form: PostForm) -> str:
    code = form.get("service_code")
    if code is None:
        raise bad_request("service_code is required")
    return code


def unknown_service(code: str) -> Open311Error:
    return not_found(f"unknown service_code {code!r}: see services.xml")


@dataclass(frozen=True)
class Place:
    """Where a request is: its WGS84 point, the address kept with the case and, when the
    register holds it, the address's id there."""

    lon: float
    lat: float
    address: str
    address_id: str | None = None


class AddressRegister:
    """The city's standard address register (标准地址库) as it is on the day of the post."""

    def __init__(self, session: Session, on: date) -> None:
        self._session, self._on = session, on

    def by_id(self, address_id: str) -> StandardAddress | None:
        return find_address_by_id(self._session, address_id, self._on)

    def by_text(self, text: str) -> StandardAddress | None:
        return find_address(self._session, text, self._on)


def _point(form: PostForm) -> tuple[float, float]:
    lat, lon = form.get("lat"), form.get("long")
    if lat is None or lon is None:
        raise bad_request("lat and long go together: send both")
    lat_value, lon_value = decimal(lat), decimal(lon)
    if lat_value is None or lon_value is None:
        raise bad_request("lat and long are decimal degrees (WGS84), such as 39.90923")
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        raise bad_request("lat is -90..90 and long is -180..180 (WGS84)")
    return lon_value, lat_value


def place_of(form: PostForm, register: AddressRegister) -> Place:
    """The request's place (OPEN311.md 1.5: ``lat`` and ``long``, or ``address_string``, or
    ``address_id``). A point wins over an address, as sent; without one, ``address_id`` and
    then ``address_string`` are looked up in the register, and only an exact match places the
    request (its registered text becomes the case's address, its id the case's
    ``address_id``): an address it does not hold is refused, never placed near a guess.

    Beside a point, an ``address_id`` the register holds is kept (its text is the address when
    no ``address_string`` is sent), wherever it lies; one it does not hold is dropped, as
    before the case kept ids, since the point alone places the request."""
    address_id, text = form.get("address_id"), form.get("address_string")
    if form.get("lat") is not None or form.get("long") is not None:
        lon, lat = _point(form)
        named = register.by_id(address_id) if address_id is not None else None
        if named is None:
            return Place(lon, lat, text or "")
        return Place(lon, lat, text or named.text, named.id)
    if address_id is None and text is None:
        raise bad_request(
            "a location is required: lat and long (WGS84), or address_id, or address_string"
        )
    by_text = register.by_text(text) if text is not None else None
    if address_id is None:
        if by_text is None:
            raise bad_request(
                f"address_string: {(text or '')[:200]!r} is not in the city's standard address "
                "register (标准地址库; an address matches only as registered, ignoring "
                "full/half width, case, spaces and punctuation): send lat and long, or the "
                "address_id"
            )
        return Place(by_text.lon, by_text.lat, by_text.text, by_text.id)
    found = register.by_id(address_id)
    if found is None:
        raise bad_request(
            f"address_id: {address_id[:100]!r} is not an address id of the city's standard address "
            "register (标准地址库): send a registered id, or lat and long"
        )
    if by_text is not None and by_text.id != found.id:
        raise bad_request(
            f"address_id, address_string: address_id {address_id[:100]!r} is {found.text!r}, but "
            f"address_string names the registered address {by_text.id!r}: send one of them"
        )
    return Place(found.lon, found.lat, found.text, found.id)


def located_by(form: PostForm) -> str:
    """The fields a request's place came from, to name them in a refusal of the place."""
    if form.get("lat") is not None or form.get("long") is not None:
        return "lat, long"
    return "address_id" if form.get("address_id") is not None else "address_string"


def check_in_area(
    scope: Jurisdiction, new: NewCase, location: Location | None, field: str = "lat, long"
) -> None:
    """On a shared server a request belongs to the jurisdiction it lies in: a point in another
    one's area (or in none) is refused, for the client to post it there."""
    if location is None or scope.area_code not in location.area_chain:
        raise bad_request(
            f"{field}: the point ({new.lat}, {new.lon}) lies outside jurisdiction "
            f"{scope.id} (area {scope.area_code}); post it to the jurisdiction it lies in"
        )


def check_media_urls(urls: Sequence[str]) -> None:
    """Each ``media_url`` an http(s) URL of at most 1000 characters (a request's or an
    update's): kept and shown again to every client, so never a ``javascript:`` link."""
    if len(urls) > MEDIA_URLS_MAX:
        raise bad_request(f"at most {MEDIA_URLS_MAX} media_url values")
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[::1" and the like: not a URL at all
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(url) > 1000
        ):
            raise bad_request(f"media_url {url[:100]!r} is not an http(s) URL")


def _answer_lines(answers: dict[str, str]) -> list[str]:
    """The answers staff should read with the report (nature and component have columns)."""
    return [f"[{k}] {v}" for k, v in answers.items() if k not in ("nature", "component_id")]


def submission_of(
    form: PostForm,
    category: Category,
    now: datetime,
    max_bytes: int,
    register: AddressRegister,
) -> Submission:
    """The case to create with what comes with it, or an Open311 error (the location,
    attribute, description and media steps of the order); the case service checks the rest
    (reporter fields, the city's boundary)."""
    place = place_of(form, register)
    answers, problems = check_attributes(category, form.attributes, now)
    if problems:
        raise bad_request(*problems)
    description = (form.values.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise bad_request(f"description is at most {DESCRIPTION_MAX} characters")
    if MARKUP.search(description):
        raise bad_request("description: HTML is not allowed (line breaks are): send plain text")
    check_media_urls(form.media_urls)
    uploads = check_uploads(form.uploads, max_bytes)
    # Staff read the report as one text: the answers and photo addresses go with it.
    lines = (description or category.name_zh or category.code, *_answer_lines(answers))
    text = "\n".join((*lines, *form.media_urls))
    if len(text) > DESCRIPTION_MAX:
        raise bad_request(
            f"description, answers and media_url together are at most {DESCRIPTION_MAX} characters"
        )
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p) or None
    new = NewCase(
        category_code=category.code,
        channel=Channel.OPEN311,
        description=text,
        lon=place.lon,
        lat=place.lat,
        nature=Nature(answers.get("nature", Nature.REPORT.value)),
        address=place.address,
        reporter=Reporter(name=name, phone=form.get("phone"), email=form.get("email")),
        component_id=answers.get("component_id"),
        address_id=place.address_id,
    )
    return Submission(new, answers, form.media_urls, uploads)
