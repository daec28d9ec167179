"""Open311 errors: always a list of ``{code, description}`` under ``<errors><error>``.

The HTTP status follows OPEN311.md 1.8: 404 when a resource does not exist, 403 for a missing
or wrong ``api_key``, 400 for anything else. The code in the body is the HTTP status.
"""

from __future__ import annotations

from fastapi.responses import Response

from onegrid.api.open311.formats import render
from onegrid.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied

# Open311's paths (any version): refusals there come as its error lists, whoever makes them.
OWN_PATHS = ("/open311/", "/georeport/")


class Open311Error(Exception):
    """A refusal to send back as an Open311 error list."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions or ("error",)


def bad_request(*descriptions: str) -> Open311Error:
    return Open311Error(400, *descriptions)


def not_found(*descriptions: str) -> Open311Error:
    return Open311Error(404, *descriptions)


def forbidden(*descriptions: str) -> Open311Error:
    return Open311Error(403, *descriptions)


# The cases context's field names where Open311 calls them otherwise.
_FIELDS = {
    "lon": "long",
    "address": "address_string",
    "category_code": "service_code",
    "reporter.email": "email",
    "reporter.phone": "phone",
    "reason": "description",  # a posted update's description is the workflow step's reason
    # A department system's update: its status names the workflow step, its media (files or
    # this server's media_url) are the step's attachments.
    "action": "status",
    "attachments": "media",
}


def from_domain(exc: DomainError) -> Open311Error:
    """A service's refusal in Open311 terms (every field problem becomes one error)."""
    if isinstance(exc, InvalidInput):
        return bad_request(*(f"{_FIELDS.get(p.field, p.field)}: {p.message}" for p in exc.problems))
    if isinstance(exc, NotFound):
        return not_found(exc.message)
    if isinstance(exc, PermissionDenied):
        return forbidden(exc.message)
    return bad_request(exc.message)


def error_response(fmt: str, error: Open311Error, callback: str | None = None) -> Response:
    """The error list, with the spec's status; wrapped in a JSONP ``callback`` when the request
    asked for one, so a script client can read it too."""
    body = [{"code": error.status, "description": d} for d in error.descriptions]
    json = fmt == "json"
    return render(
        "json" if json else "xml",
        body,
        "errors",
        "error",
        status=error.status,
        callback=callback if json else None,
    )
