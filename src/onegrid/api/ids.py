"""Row ids in paths: an id no row can have is a thing not found, as 0 is.

The id columns are 32-bit integers: a larger value bound to a comparison with one is refused by
the database (PostgreSQL's out of range, SQLite's OverflowError past 64 bits), which would be a
500 instead of a 404. Raised in the validator rather than by a dependency, as for case ids
(``CaseId`` in ``api/v1/cases.py``): pydantic lets a domain error through, and the API answers it
as any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import NotFound


def row_id(not_found: Callable[[int], str]) -> AfterValidator:
    """A path id's check: outside 1..ID_MAX it is ``NotFound(not_found(id))``, the same answer
    the endpoint gives for an id in range that no row has."""

    def check(value: int) -> int:
        if not 1 <= value <= ID_MAX:
            raise NotFound(not_found(value))
        return value

    return AfterValidator(check)


# No list holds more rows than there are ids, and past 64 bits SQLite cannot bind an offset at
# all (a 500): larger is refused as the input it is.
Offset = Annotated[int, Query(ge=0, le=ID_MAX, description="How many rows to skip")]
