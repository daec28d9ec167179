"""Text a person may send: any character but the C0 controls other than tab and line breaks.

PostgreSQL refuses NUL in a text value, and an unpaired UTF-16 surrogate (JSON's ``"\\ud800"``)
cannot be encoded to UTF-8 at all: either would fail at the database instead of being refused
as input. The other controls (bell, escape, form feed…) are never part of what anyone wrote
and would break a CSV export or a terminal, so every context refuses them all in the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from onegrid.core.errors import FieldProblem

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
CONTROL_RULE = "control_character"


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that no text field takes, as ``U+0000``, or None."""
    found = _REFUSED.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def control_message(character: str) -> str:
    return (
        f"{character} is a control character (or not Unicode text): send plain text "
        "(tabs and line breaks are allowed)"
    )


def control_problems(fields: Iterable[tuple[str, str | None]]) -> list[FieldProblem]:
    """One problem per field (name, value) holding a character no text field takes."""
    out = []
    for name, value in fields:
        character = refused_character(value) if value else None
        if character is not None:
            out.append(FieldProblem(name, CONTROL_RULE, control_message(character)))
    return out
