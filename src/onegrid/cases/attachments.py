"""Attachments: photos and files, checked by content, stored on disk under their SHA-256.

A file's type is what its bytes are, not what its name says: images are opened and verified
with Pillow, PDFs checked for their header and trailer, and the name's extension must agree. The
bytes are written once per content (``ab/cd/<sha256>``), atomically, before the metadata row is
committed, so a row never points at a missing file; a file whose row was rolled back is an
orphan that the next upload of the same content reuses.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from onegrid.cases.history import Actor
from onegrid.cases.models import CaseAttachmentRow
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.common import authorize, load_case
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotFound, PermissionDenied
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.people.domain import Principal
from onegrid.people.tokens import UPLOAD_GRANT_TTL, UploadGrant

ATTACHMENTS: Table = CaseAttachmentRow.__table__  # type: ignore[assignment]
FILENAME_MAX = 255
# Pillow's format name → the media type we store and the extensions a name may have.
_IMAGE_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
    "PNG": ("image/png", (".png",)),
    "WEBP": ("image/webp", (".webp",)),
    "GIF": ("image/gif", (".gif",)),
}
_PDF = ("application/pdf", (".pdf",))
ALLOWED_EXTENSIONS = tuple(
    sorted({e for _, exts in (*_IMAGE_FORMATS.values(), _PDF) for e in exts})
)
# What an upload grant allows: photos, as Open311 takes with a request, and as many as it takes.
GRANT_FILES_MAX = 5
GRANT_MEDIA_TYPES = frozenset(t for t, _ in _IMAGE_FORMATS.values())


@dataclass(frozen=True)
class Attachment:
    id: int
    case_id: int
    sha256: str
    media_type: str
    size: int
    filename: str
    uploaded_at: datetime
    uploaded_by: str


def _refuse(rule: str, message: str) -> InvalidInput:
    return InvalidInput.one("file", rule, message)


def _image_type(data: bytes) -> tuple[str, tuple[str, ...]] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return None
    except (OSError, SyntaxError, ValueError):
        # Recognised as an image by its header but broken inside: not an image we keep.
        return None
    return _IMAGE_FORMATS.get(fmt)


def _is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def sniff(data: bytes, filename: str) -> str:
    """The media type of ``data``, or a 422 naming the rule it breaks."""
    ext = PurePath(filename).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise _refuse(
            "attachment_extension",
            f"{filename!r}: only {', '.join(ALLOWED_EXTENSIONS)} files are accepted",
        )
    if not data:
        raise _refuse("attachment_empty", f"{filename!r} is empty")
    found = _PDF if _is_pdf(data) else _image_type(data)
    if found is None:
        raise _refuse(
            "attachment_content_type",
            f"{filename!r} is not a readable JPEG, PNG, WebP, GIF image or PDF document",
        )
    media_type, extensions = found
    if ext not in extensions:
        raise _refuse(
            "attachment_content_type",
            f"{filename!r} is named {ext} but its content is {media_type}",
        )
    return media_type


class AttachmentStore:
    """Content-addressed files under ``root`` (``settings.data_dir / "attachments"``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha)
        if path.exists() and path.stat().st_size == len(data):
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise _refuse(
            "attachment_size", f"a file is at most {max_bytes:,} bytes (this one is larger)"
        )


def _clean_name(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name.strip()
    if not name:
        raise _refuse("attachment_filename", "the file needs a name")
    return name[-FILENAME_MAX:]


def add_attachment(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    filename: str,
    data: bytes,
    clock: Clock,
    store: AttachmentStore,
    max_bytes: int,
) -> Attachment:
    """Attach a file to a case (before the transition that cites it)."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        return add_attachment_in(
            session,
            principal,
            case_id,
            filename=filename,
            data=data,
            clock=clock,
            store=store,
            max_bytes=max_bytes,
        )


def add_attachment_in(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    filename: str,
    data: bytes,
    clock: Clock,
    store: AttachmentStore,
    max_bytes: int,
    grant: UploadGrant | None = None,
) -> Attachment:
    """Attach a file as ``principal`` may (``case.comment``), or under an upload grant for
    this case (its reporter's photos, sent after the create reply that carried the grant)."""
    check_size(len(data), max_bytes)
    name = _clean_name(filename)
    # Under a grant the case row is locked, so that concurrent uploads count each other.
    rec = load_case(session, case_id, lock=grant is not None)
    if grant is None:
        actor = authorize(principal, "case.comment", rec)
    else:
        actor = _granted(session, principal, rec, grant, clock)
    media_type = sniff(data, name)
    if grant is not None and media_type not in GRANT_MEDIA_TYPES:
        raise _refuse("upload_grant_photos", f"{name!r}: an upload grant is for photos only")
    sha = store.put(data)
    values = {
        "case_id": case_id,
        "sha256": sha,
        "media_type": media_type,
        "size": len(data),
        "filename": name,
        "uploaded_at": clock.now(),
        "uploaded_by": actor.ref,
    }
    new_id = session.execute(
        insert(ATTACHMENTS).values(values).returning(ATTACHMENTS.c.id)
    ).scalar_one()
    return Attachment(id=int(new_id), **values)  # type: ignore[arg-type]


def _granted(
    session: Session, principal: Principal, rec: CaseRecord, grant: UploadGrant, clock: Clock
) -> Actor:
    if grant.case_id != rec.id:
        raise PermissionDenied(
            f"Upload-Token refused (upload_grant_case): it is for another case, not case {rec.id}"
        )
    if clock.now() >= grant.expires_at:
        raise PermissionDenied(
            f"Upload-Token refused (upload_grant_expired): it ended at "
            f"{grant.expires_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(a grant lasts {UPLOAD_GRANT_TTL.seconds // 60} minutes from the report)"
        )
    a = ATTACHMENTS.c
    sent = select(func.count()).where(a.case_id == rec.id, a.uploaded_by == principal.actor)
    if session.execute(sent).scalar_one() >= GRANT_FILES_MAX:
        raise _refuse(
            "upload_grant_files",
            f"an upload grant adds at most {GRANT_FILES_MAX} photos to a case",
        )
    return Actor(principal.actor, principal.name, None)


def attachments_of(session: Session, case_id: int) -> list[Attachment]:
    rows = session.execute(
        select(ATTACHMENTS).where(ATTACHMENTS.c.case_id == case_id).order_by(ATTACHMENTS.c.id)
    ).mappings()
    return [Attachment(**dict(r)) for r in rows]


def get_attachment(session: Session, case_id: int, attachment_id: int) -> Attachment:
    row = (
        session.execute(
            select(ATTACHMENTS).where(
                ATTACHMENTS.c.case_id == case_id, ATTACHMENTS.c.id == attachment_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"case {case_id} has no attachment {attachment_id}")
    return Attachment(**dict(row))
