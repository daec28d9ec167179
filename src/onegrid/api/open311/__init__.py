"""The Open311 GeoReport v2 server (OPEN311.md), mounted under /open311/v2 and /georeport/v2.

``jurisdiction_id`` is the city's administrative code (``Settings.city_code``, e.g. 110000):
absent or equal is accepted, anything else is an unknown jurisdiction (404). Cities sharing the
server are configured in ``Settings.open311_jurisdictions`` (id -> area code); with two or more,
every call names one and sees only the requests in its area (``params.check_jurisdiction``).
"""

from __future__ import annotations

from fastapi import APIRouter

from onegrid.api.open311 import media_route, requests, services, updates

PREFIXES = ("/open311/v2", "/georeport/v2")

router = APIRouter(tags=["open311"])
router.include_router(services.router)
router.include_router(requests.router)
router.include_router(updates.router)
router.include_router(media_route.router)

__all__ = ["PREFIXES", "router"]
