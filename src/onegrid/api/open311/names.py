"""Service and agency names for request lists, kept for a short while.

A page of requests names each case's service and department; reading the taxonomy and the
departments for every page cost more than the page itself. A rename shows within ``TTL``.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onegrid.assets.queries import current_categories
from onegrid.people.queries import list_departments

TTL = 30.0  # seconds


@dataclass(frozen=True)
class Names:
    services: dict[str, str]
    agencies: dict[str, str]
    read_at: float


# Per engine (a test's database goes with its engine).
_cache: weakref.WeakKeyDictionary[Engine, Names] = weakref.WeakKeyDictionary()


def names(session: Session) -> Names:
    key = session.get_bind().engine
    now = time.monotonic()
    found = _cache.get(key)
    if found is None or now - found.read_at > TTL:
        found = Names(
            services={c.code: c.name_zh or c.name_en for c in current_categories(session)},
            agencies={d.code: d.name_zh or d.name_en or d.code for d in list_departments(session)},
            read_at=now,
        )
        _cache[key] = found
    return found
