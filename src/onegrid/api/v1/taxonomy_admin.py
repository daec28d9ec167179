"""The taxonomy as the admin page edits it: its versions, each with its document, a save of a
whole document as a new version, and putting an older version back in use.

A save is checked like ``onegrid taxonomy load`` (every broken rule named by its path in the
document, ``components[0].classes[3].name_en``) and, like the time-limit and calendar editors,
names the version it was made to (stale → 409). Only a city grant may write: the taxonomy is
city-wide. Readers keep ``GET /taxonomy`` and ``GET /categories``, which follow the version in
use.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, DbSession
from onegrid.api.ids import row_id
from onegrid.assets import queries
from onegrid.assets.taxonomy import taxonomy_as_document
from onegrid.assets.taxonomy_admin import NOTE_MAX, save_taxonomy, use_taxonomy_version
from onegrid.cases.queries import categories_in_use
from onegrid.people.domain import Principal

router = APIRouter(prefix="/taxonomy", tags=["assets"])
Admin = Annotated[Principal, requires("assets.admin")]
VersionId = Annotated[
    int,
    Path(description="A taxonomy version id"),
    row_id(lambda n: f"no taxonomy version {n}"),
]


class VersionOut(BaseModel):
    id: int
    name: str
    label: str
    note: str = Field(description="What changed and why (a file's own note when loaded)")
    source: str = Field(description="The file loaded, or who saved it (user:12 Name)")
    category_count: int
    active: bool
    in_use: bool = Field(description="The newest active version: the one every form follows")
    loaded_at: datetime

    @classmethod
    def of(cls, v: queries.TaxonomyVersion, in_use: bool) -> VersionOut:
        return cls(
            id=v.id,
            name=v.name,
            label=v.label,
            note=v.note,
            source=v.source,
            category_count=v.category_count,
            active=v.active,
            in_use=in_use,
            loaded_at=v.loaded_at,
        )


class VersionDocumentOut(VersionOut):
    document: dict[str, Any] = Field(description="The taxonomy file's shape; it loads back")


class SavedOut(VersionOut):
    created: bool = Field(description="False: the document equals the version in use")


class SaveIn(BaseModel):
    document: dict[str, Any] = Field(description="The whole taxonomy, of the YAML file's shape")
    note: str = Field(max_length=NOTE_MAX, description="What changed and why (kept)")
    base_version: int = Field(
        ge=0, description="The version in use the change was made to (0: none); stale → 409"
    )


_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only a city-wide grant may change the taxonomy"},
    409: {"description": "base_version is stale: `current` names the version in use"},
    422: {"description": "Every broken rule, its field path and record in errors[]"},
}


def _cases_naming(session: Session, codes: Collection[str]) -> set[str]:
    return categories_in_use(session, codes)


def _in_use_id(session: Session) -> int | None:
    current = queries.current_version(session)
    return current.id if current else None


@router.get(
    "/versions",
    summary="Every stored taxonomy version, newest first; the newest active one is in use",
    response_model=list[VersionOut],
)
def list_versions(session: DbSession, principal: Admin) -> list[VersionOut]:
    in_use = _in_use_id(session)
    return [VersionOut.of(v, v.id == in_use) for v in queries.taxonomy_versions(session)]


@router.get(
    "/versions/{version_id}",
    summary="One taxonomy version with its whole document (deactivated classes included)",
    response_model=VersionDocumentOut,
)
def get_version(session: DbSession, principal: Admin, version_id: VersionId) -> VersionDocumentOut:
    v = queries.get_taxonomy_version(session, version_id)
    document = taxonomy_as_document(
        v.name, v.label, v.note, queries.categories_of(session, version_id)
    )
    return VersionDocumentOut(
        **VersionOut.of(v, v.id == _in_use_id(session)).model_dump(), document=document
    )


@router.post(
    "/versions",
    summary="Save a whole taxonomy document as the version in use (checked as a file load is; "
    "a class filed records name may be deactivated, not removed)",
    response_model=SavedOut,
    status_code=201,
    responses=_WRITE_ERRORS,
)
def save_version(session: DbSession, clock: AppClock, principal: Admin, body: SaveIn) -> SavedOut:
    saved = save_taxonomy(
        session,
        body.document,
        clock,
        note=body.note,
        base_version=body.base_version,
        by=principal,
        elsewhere=_cases_naming,
    )
    return SavedOut(**VersionOut.of(saved.version, True).model_dump(), created=saved.created)


@router.post(
    "/versions/{version_id}/activate",
    summary="Put a stored version in use (roll back): newer versions are switched off, not deleted",
    response_model=VersionOut,
    responses=_WRITE_ERRORS,
)
def activate_version(session: DbSession, principal: Admin, version_id: VersionId) -> VersionOut:
    version = use_taxonomy_version(session, version_id, by=principal, elsewhere=_cases_naming)
    return VersionOut.of(version, True)
