"""The photos of service requests, at the ``media_url`` GET requests gives for them.

Only images are served (never a department's PDF), and only under a name that carries part of
the file's hash, so addresses cannot be enumerated.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from onegrid.api.deps import AppSettings, DbSession
from onegrid.api.open311.errors import error_response, not_found
from onegrid.api.open311.media import EXTENSION_OF
from onegrid.cases.attachments import ATTACHMENTS, AttachmentStore

router = APIRouter()
_NAME = re.compile(r"^(\d{1,18})-([0-9a-f]{16})\.[a-z]{3,4}$")


@router.get(
    "/media/{name}",
    summary="Open311: a photo of a service request (its media_url)",
    response_class=Response,
    responses={200: {"content": {t: {} for t in EXTENSION_OF}}, 404: {"description": "none"}},
)
def media(name: str, session: DbSession, settings: AppSettings) -> Response:
    match = _NAME.match(name)
    row = None
    if match:
        a = ATTACHMENTS.c
        row = session.execute(
            select(a.sha256, a.media_type).where(
                a.id == int(match.group(1)), a.media_type.in_(tuple(EXTENSION_OF))
            )
        ).first()
    if row is None or not match or not row.sha256.startswith(match.group(2)):
        return error_response("xml", not_found(f"no media {name!r}"))
    path = AttachmentStore(settings.data_dir / "attachments").path_for(row.sha256)
    return FileResponse(path, media_type=row.media_type)
