"""Errors as ``application/problem+json`` (RFC 9457), naming the field and the rule."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from onegrid.api.open311.errors import OWN_PATHS, Open311Error, error_response
from onegrid.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from onegrid.core.logging import get_logger

PROBLEM = "application/problem+json"
log = get_logger("onegrid.api")

_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    NotAuthenticated: 401,
}


def problem(
    status: int, title: str, detail: str, kind: str, instance: str, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://onegrid.dev/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _status_for(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def _validation_error(e: Any) -> dict[str, str]:
    loc = tuple(e["loc"])
    if e["type"] == "json_invalid":
        # Its location is the body and the character offset where parsing stopped.
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return {"field": "body", "rule": "json_invalid", "message": f"{e['msg']}{at}"}
    return {"field": _field_of(loc), "rule": e["type"], "message": e["msg"]}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = _status_for(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput):
            extra["errors"] = [p.as_dict() for p in exc.problems]
        if isinstance(exc, Conflict) and exc.current:
            extra["current"] = exc.current
        return problem(
            status,
            exc.kind.replace("-", " ").capitalize(),
            exc.message,
            exc.kind,
            request.url.path,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_validation_error(e) for e in exc.errors()]
        first = errors[0] if errors else {"field": "?", "message": "invalid"}
        return problem(
            422,
            "Invalid input",
            f"{first['field']}: {first['message']}",
            "invalid-input",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if path.startswith(OWN_PATHS):
            # Refused before an Open311 route ran (a form field past its size, too many
            # fields): still the spec's error list, in the format the path asks for.
            status = exc.status_code if exc.status_code in (403, 404) else 400
            fmt = "xml" if path.endswith(".xml") else "json"
            return error_response(fmt, Open311Error(status, str(exc.detail)))
        return problem(exc.status_code, str(exc.detail), str(exc.detail), "http", path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled", path=request.url.path, error=repr(exc), exc_info=exc)
        return problem(
            500, "Internal error", "an unexpected error was logged", "internal", request.url.path
        )
