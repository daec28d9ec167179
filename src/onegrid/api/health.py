"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from onegrid import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database answers and the schema is migrated")
def readyz(request: Request) -> JSONResponse:
    db = request.app.state.db
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            heads = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        return JSONResponse({"status": "unavailable", "reason": str(exc)[:200]}, status_code=503)
    if not heads:
        return JSONResponse({"status": "unavailable", "reason": "not migrated"}, status_code=503)
    return JSONResponse({"status": "ready", "database": db.dialect})
