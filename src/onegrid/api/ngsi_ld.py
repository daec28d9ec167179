"""A read-only NGSI-LD context broker face over the device registry and latest readings.

``GET /ngsi-ld/v1/entities?type=AirQualityObserved`` lists devices of that type with their latest
values, as a FIWARE client expects them; see ``sensing.ngsi`` and docs/ngsi-ld.md for how far the
compatibility goes. Errors use the NGSI-LD problem types (``BadRequestData``,
``ResourceNotFound``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from onegrid.api.deps import DbSession
from onegrid.api.v1.sensing import Reader
from onegrid.core.errors import InvalidInput
from onegrid.sensing import ngsi, queries
from onegrid.sensing.config import device_kinds
from onegrid.sensing.domain.devices import DeviceKind

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"])
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
MAX_LIMIT = 1000
PAGE = 200


def _error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": ERRORS + kind, "title": kind, "detail": detail},
        status_code=status,
        media_type="application/json",
    )


def _respond(request: Request, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    ld = "application/ld+json" in request.headers.get("accept", "")
    out = dict(headers or {})
    if not ld:
        out["Link"] = ngsi.LINK_HEADER
    return JSONResponse(
        body, media_type="application/ld+json" if ld else "application/json", headers=out
    )


def _kinds_of_type(ngsi_type: str) -> list[DeviceKind]:
    short = ngsi_type.rsplit("/", 1)[-1].rsplit("#", 1)[-1]  # a full URI names the same type
    return [k for k in device_kinds().values() if k.ngsi_type == short]


def _split(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@router.get("/types", summary="NGSI-LD entity types available (one per device kind family)")
def list_types(request: Request, _who: Reader) -> JSONResponse:
    names = sorted({k.ngsi_type for k in device_kinds().values()})
    body = {
        "id": "urn:ngsi-ld:EntityTypeList:onegrid",
        "type": "EntityTypeList",
        "typeList": names,
    }
    return _respond(request, body)


def _entities_page(
    session: DbSession,
    kinds: list[DeviceKind],
    ids: set[str] | None,
    pattern: re.Pattern[str] | None,
    params: dict[str, Any],
) -> tuple[list[dict[str, Any]], int]:
    """Entities matching every filter, from ``offset``, at most ``limit``; and how many match
    (counted only as far as needed unless ``count``)."""
    conditions = params["conditions"]
    matched: list[dict[str, Any]] = []
    total = 0
    for kind in kinds:
        offset = 0
        while True:
            devices = queries.list_devices(session, kind=kind.code, limit=PAGE, offset=offset)
            if not devices:
                break
            offset += len(devices)
            devices = [
                d
                for d in devices
                if (ids is None or ngsi.entity_id(kind.ngsi_type, d.id) in ids)
                and (pattern is None or pattern.search(ngsi.entity_id(kind.ngsi_type, d.id)))
            ]
            latest = queries.latest_values(session, devices)
            for device in devices:
                values = latest.get(device.id, {})
                if conditions and not ngsi.matches(
                    ngsi.to_entity(device, kind, values, key_values=True), conditions
                ):
                    continue
                total += 1
                if params["offset"] < total <= params["offset"] + params["limit"]:
                    matched.append(
                        ngsi.to_entity(
                            device,
                            kind,
                            values,
                            attrs=params["attrs"],
                            key_values=params["key_values"],
                            with_context=params["ld"],
                        )
                    )
                if total >= params["offset"] + params["limit"] and not params["count"]:
                    return matched, total
    return matched, total


@router.get("/entities", summary="Query entities: devices with their latest values")
def query_entities(
    request: Request,
    session: DbSession,
    _who: Reader,
    type: Annotated[str | None, Query(description="Entity type, e.g. AirQualityObserved")] = None,
    id: Annotated[str | None, Query(description="Comma-separated entity ids")] = None,
    idPattern: Annotated[str | None, Query(description="Regular expression on ids")] = None,  # noqa: N803
    attrs: Annotated[str | None, Query(description="Comma-separated attribute names")] = None,
    q: Annotated[str | None, Query(description="e.g. pm25>75;temperature<0")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    options: Annotated[str | None, Query(description="keyValues and/or count")] = None,
    count: Annotated[bool, Query()] = False,
) -> JSONResponse:
    opts = set(_split(options) or [])
    if not (type or id or idPattern or attrs or q):
        return _error(400, "BadRequestData", "give at least one of type, id, idPattern, attrs, q")
    try:
        conditions = ngsi.parse_q(q)
        pattern = re.compile(idPattern) if idPattern else None
    except (InvalidInput, re.error) as exc:
        return _error(400, "BadRequestData", str(exc))
    ids = set(_split(id) or []) or None
    if type:
        kinds = _kinds_of_type(type)
    else:
        parsed = [ngsi.device_of(e) for e in ids or ()]
        wanted = {p[0] for p in parsed if p is not None}
        kinds = [k for k in device_kinds().values() if not wanted or k.ngsi_type in wanted]
    params = {
        "conditions": conditions,
        "offset": offset,
        "limit": limit,
        "attrs": _split(attrs),
        "key_values": "keyValues" in opts or request.query_params.get("format") == "simplified",
        "ld": "application/ld+json" in request.headers.get("accept", ""),
        "count": count or "count" in opts,
    }
    entities, total = _entities_page(session, kinds, ids, pattern, params)
    headers = {"NGSILD-Results-Count": str(total)} if params["count"] else None
    return _respond(request, entities, headers)


@router.get("/entities/{entity_id}", summary="One entity: a device with its latest values")
def get_entity(
    request: Request,
    session: DbSession,
    _who: Reader,
    entity_id: str,
    attrs: Annotated[str | None, Query()] = None,
    options: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    found = ngsi.device_of(entity_id)
    device = queries.find_device(session, found[1]) if found else None
    kind = device_kinds().get(device.kind) if device else None
    if device is None or kind is None or found is None or kind.ngsi_type != found[0]:
        return _error(404, "ResourceNotFound", f"no entity {entity_id}")
    latest = queries.latest_values(session, [device])[device.id]
    body = ngsi.to_entity(
        device,
        kind,
        latest,
        attrs=_split(attrs),
        key_values="keyValues" in set(_split(options) or []),
        with_context="application/ld+json" in request.headers.get("accept", ""),
    )
    return _respond(request, body)
