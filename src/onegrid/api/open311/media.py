"""Photos sent with a request (multipart ``media`` / ``photoN``, OPEN311.md 2.3 and 3.5),
and the public address each is served at.

A file is what its bytes are (``onegrid.cases.attachments.sniff``): the name's extension and
the declared content type must both agree with the content, or the request is a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from starlette.datastructures import UploadFile

from onegrid.api.open311.errors import bad_request
from onegrid.api.open311.recording import Upload
from onegrid.cases.attachments import FILENAME_MAX, sniff
from onegrid.core.errors import InvalidInput

UPLOADS_MAX = 5
# Open311 media are photos; a declared type names the extension a nameless file gets.
EXTENSION_OF = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
_GENERIC_TYPES = ("", "application/octet-stream")


def _read(upload: UploadFile, max_bytes: int) -> bytes:
    upload.file.seek(0)
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise bad_request(f"a media file is at most {max_bytes:,} bytes")
    return data


def check_upload(upload: UploadFile, max_bytes: int, index: int) -> Upload:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    name = PurePath((upload.filename or "").replace("\\", "/")).name.strip()[-FILENAME_MAX:]
    named = bool(PurePath(name).suffix)
    if not named:
        name = f"{name or f'photo{index}'}{EXTENSION_OF.get(declared, '')}"
    data = _read(upload, max_bytes)
    try:
        media_type = sniff(data, name)
    except InvalidInput as exc:
        if not named and declared in EXTENSION_OF:
            raise bad_request(f"media: {name!r} claims to be {declared} but it is not") from None
        raise bad_request(*(f"media: {p.message}" for p in exc.problems)) from None
    if media_type not in EXTENSION_OF:
        raise bad_request(f"media: {name!r} is a {media_type} document; send photos only")
    if declared not in _GENERIC_TYPES and declared != media_type:
        raise bad_request(
            f"media: {name!r} claims to be {declared} but its content is {media_type}"
        )
    return Upload(name, data, media_type)


def check_uploads(uploads: Sequence[UploadFile], max_bytes: int) -> tuple[Upload, ...]:
    if len(uploads) > UPLOADS_MAX:
        raise bad_request(f"at most {UPLOADS_MAX} media files")
    return tuple(check_upload(u, max_bytes, i) for i, u in enumerate(uploads, 1))
