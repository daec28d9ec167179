"""Discovery, the service list and service definitions: the taxonomy as Open311 services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onegrid.api.open311.deps import AppSettings, Db
from onegrid.api.open311.errors import not_found
from onegrid.api.open311.formats import JSON_TYPE, JSONP_TYPE, XML_TYPE, w3c
from onegrid.api.open311.mapping import definition_of, service_of
from onegrid.api.open311.params import Jurisdiction, jurisdictions, query_parameters
from onegrid.api.open311.reply import reply
from onegrid.assets.queries import current_categories, current_version, find_category

router = APIRouter()
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTACT = "The urban management command centre of this city (12345)"
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {XML_TYPE: {}, JSON_TYPE: {}, JSONP_TYPE: {}},
        "description": "XML or JSON by the suffix (JSONP with .json and callback=NAME)",
    },
    400: {"description": "an Open311 error list (bad parameter)"},
    404: {"description": "an Open311 error list (unknown resource or jurisdiction)"},
}


@router.get(
    "/discovery.{fmt}",
    summary="Open311 service discovery",
    response_class=Response,
    responses=RESPONSES,
)
def discovery(fmt: str, request: Request, db: Db, settings: AppSettings) -> Response:
    """Discovery is where a client starts, before it knows a jurisdiction, so a shared server
    answers it without one. Its format has no field for a jurisdiction (and the endpoint is
    the same for all): the contact names the ones served here, or the one asked for."""

    def body(scope: Jurisdiction | None) -> dict[str, Any]:
        with db.reader() as session:
            version = current_version(session)
        changeset = w3c(version.loaded_at) if version else "0"
        base = str(request.url).split("/discovery.", 1)[0]
        return {
            "changeset": changeset,
            "contact": CONTACT + _served(scope, jurisdictions(settings)),
            "key_service": (
                "Ask the city administrator for an API key with the open311_client role "
                "(onegrid people apikey create NAME --role open311_client)"
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }

    return reply(
        fmt, query_parameters(request), settings, body, "discovery", jurisdiction_required=False
    )


def _served(scope: Jurisdiction | None, served: tuple[Jurisdiction, ...]) -> str:
    if scope is not None:
        return f". Jurisdiction {scope.id} (area {scope.area_code})."
    if len(served) == 1:
        return ""
    listed = ", ".join(f"{j.id} (area {j.area_code})" for j in served)
    return f". This endpoint serves several jurisdictions; send jurisdiction_id, one of: {listed}."


@router.get(
    "/services.{fmt}",
    summary="Open311 service list: the active classes of the taxonomy in use",
    response_class=Response,
    responses=RESPONSES,
)
def services(fmt: str, request: Request, db: Db, settings: AppSettings) -> Response:
    # Every jurisdiction here uses the one taxonomy, so they all get the same list.
    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        with db.reader() as session:
            return [service_of(c) for c in current_categories(session) if c.active]

    return reply(fmt, query_parameters(request), settings, body, "services", "service")


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Open311 service definition: the extra attributes of one service",
    response_class=Response,
    responses=RESPONSES,
)
def service_definition(
    service_code: str, fmt: str, request: Request, db: Db, settings: AppSettings
) -> Response:
    def body(scope: Jurisdiction | None) -> dict[str, Any]:
        with db.reader() as session:
            category = find_category(session, service_code)
        if category is None:
            raise not_found(f"unknown service_code {service_code!r}")
        return definition_of(category)

    return reply(fmt, query_parameters(request), settings, body, "service_definition")
