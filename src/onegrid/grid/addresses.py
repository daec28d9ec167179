"""The standard address register (标准地址库) as plain values: a door-plate address, its point,
and the one form two spellings of it must share to be the same address.

A lookup by text is an exact match on that form and nothing looser: a register answers "this
address is that point" or "not in the register", never "probably this one". A prefix is
not accepted either: ``示范路1号`` is a prefix of ``示范路10号`` and of ``示范路1号院``, and a
prefix that is unique today stops being unique when the next door plate is registered, so
the same post would land somewhere else next month.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

ADDRESS_ID_MAX = 64
ADDRESS_TEXT_MAX = 500


@dataclass(frozen=True)
class StandardAddress:
    """One registered address: the city's id for it, its text, its WGS84 point and where it
    lies (located when it was registered)."""

    id: str
    text: str
    lon: float
    lat: float
    unit_grid: str | None
    area_code: str | None
    valid_from: date
    valid_to: date | None


def _is_separator(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch.isspace() or category.startswith("P") or category in ("Sm", "Sc", "Sk", "So")


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def normalise_address(text: str) -> str:
    """The form two spellings of one address share.

    NFKC folds full-width letters, digits and punctuation to their half-width forms (``１２号``
    → ``12号``, ``（``  → ``(``); letters are case-folded. Whitespace and punctuation carry
    nothing next to a Chinese character (``示范路 12 号``, ``示范路12号``, ``示范路，12号`` are one
    address), so they are dropped there; between two Latin letters or digits they separate
    words and numbers (``Block 3 Room 12`` is not ``Block 31 Room 2``), so a run of them becomes
    one ``-`` there.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    gap = False
    for ch in folded:
        if _is_separator(ch):
            gap = True
            continue
        if gap and out and _latin(out[-1]) and _latin(ch):
            out.append("-")
        out.append(ch)
        gap = False
    return "".join(out)
