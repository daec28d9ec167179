"""The admin's edits of the taxonomy: save a whole document as a new version, put an older
version back in use.

Both are city-wide changes (only a city grant of ``assets.admin``), and both keep what was filed
before working: a class that cases or components name may be renamed or deactivated
(``active: false``) but not dropped, and an older version that lacks such a class cannot come
back. Which codes records outside this context name is asked through ``ClassUse`` (the cases
context sits above this one). Versions are written only by ``services.load_taxonomy`` and
``services.set_taxonomy_active``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.assets import queries, services
from onegrid.assets.domain import Kind
from onegrid.assets.models import ComponentRow, TaxonomyVersionRow
from onegrid.assets.taxonomy import parse_taxonomy
from onegrid.core.clock import Clock
from onegrid.core.errors import Conflict, FieldProblem, InvalidInput
from onegrid.people.domain import Principal
from onegrid.people.policy import require

NOTE_MAX = 500
# Given class codes, those that records of other contexts (cases) still name.
ClassUse = Callable[[Session, Collection[str]], set[str]]


def _no_other_use(session: Session, codes: Collection[str]) -> set[str]:
    return set()


def _note(note: str) -> str:
    text = note.strip()
    if not text:
        raise InvalidInput.one("note", "required", "say what changed and why")
    if len(text) > NOTE_MAX:
        raise InvalidInput.one("note", "max_length", f"at most {NOTE_MAX} characters")
    return text


def _named(session: Session, codes: Collection[str], elsewhere: ClassUse) -> set[str]:
    """The codes among ``codes`` that a component or a record elsewhere names."""
    wanted = sorted(set(codes))
    if not wanted:
        return set()
    components = set(
        session.scalars(
            select(ComponentRow.class_code).where(ComponentRow.class_code.in_(wanted)).distinct()
        )
    )
    return components | elsewhere(session, wanted)


def _kept_problems(missing: set[str], why: str) -> list[FieldProblem]:
    return [
        FieldProblem(
            "components" if code.startswith(Kind.COMPONENT.prefix) else "events",
            "class_in_use",
            f"class {code} is named by filed cases or components: {why}",
            code,
        )
        for code in sorted(missing)
    ]


def _current_locked(session: Session) -> queries.TaxonomyVersion | None:
    """The version in use, read again after locking its row: a save or switch that committed
    while this one waited is seen (PostgreSQL reads each statement afresh)."""
    current = queries.current_version(session)
    if current is None:
        return None
    session.execute(
        select(TaxonomyVersionRow.id).where(TaxonomyVersionRow.id == current.id).with_for_update()
    )
    return queries.current_version(session)


def _stale(current: queries.TaxonomyVersion | None) -> Conflict:
    number = current.id if current else 0
    return Conflict(
        f"the taxonomy changed meanwhile: version {number} is in use; reload it and apply "
        "your change again",
        current={
            "version": number,
            "label": current.label if current else None,
            "note": current.note if current else None,
        },
    )


def save_taxonomy(
    session: Session,
    data: Any,
    clock: Clock,
    *,
    note: str,
    base_version: int,
    by: Principal,
    elsewhere: ClassUse = _no_other_use,
) -> services.LoadedTaxonomy:
    """Validate a whole taxonomy document (the file's shape) and store it as the version in use.

    ``base_version`` is the version the admin edited (0: none was loaded); a newer one in the
    meantime is a conflict, never a silent overwrite. Saving the version in use unchanged
    stores nothing (``created`` is False)."""
    require(by, services.ADMIN)
    text = _note(note)
    current = _current_locked(session)
    if base_version != (current.id if current else 0):
        raise _stale(current)
    document = parse_taxonomy(data)
    if current is not None:
        dropped = {c.code for c in queries.categories_of(session, current.id)} - set(
            document.by_code()
        )
        problems = _kept_problems(
            _named(session, dropped, elsewhere), "deactivate it (active: false) instead"
        )
        if problems:
            raise InvalidInput(problems)
    source = f"{by.actor} {by.name}".strip()
    return services.load_taxonomy(
        session, replace(document, note=text), clock, source=source, by=by
    )


def use_taxonomy_version(
    session: Session, version_id: int, *, by: Principal, elsewhere: ClassUse = _no_other_use
) -> queries.TaxonomyVersion:
    """Put a stored version in use (roll back, or forward again): it is switched on and every
    newer version off; nothing is deleted, so the versions switched off can come back the same
    way. A version lacking a class that filed records name is refused, naming the class."""
    require(by, services.ADMIN)
    target = queries.get_taxonomy_version(session, version_id)
    current = _current_locked(session)
    if current is not None and current.id == target.id:
        return target
    if current is not None:
        missing = {c.code for c in queries.categories_of(session, current.id)} - {
            c.code for c in queries.categories_of(session, target.id)
        }
        problems = _kept_problems(
            _named(session, missing, elsewhere), f"version {target.id} does not have it"
        )
        if problems:
            raise InvalidInput(problems)
    newer = session.scalars(
        select(TaxonomyVersionRow.id).where(
            TaxonomyVersionRow.id > target.id, TaxonomyVersionRow.active.is_(True)
        )
    ).all()
    services.set_taxonomy_active(session, target.id, True, by=by)
    for newer_id in newer:
        services.set_taxonomy_active(session, newer_id, False, by=by)
    return queries.get_taxonomy_version(session, target.id)
