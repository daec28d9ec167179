"""Case numbers: ``E``/``C`` + major + minor + YYYYMMDD + daily sequence (``E0102202603020007``).

The sequence counts per category and local day (one implementation's ``C01012019041101`` uses two
digits; OneGrid pads to four and widens past 9,999 so a busy day never wraps). The prefix has a
fixed width, so a number stays unique and parseable whatever the sequence's width.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

SEQUENCE_WIDTH = 4
_NUMBER = re.compile(r"^([CE])(\d{2})(\d{2})(\d{8})(\d{4,})$")


@dataclass(frozen=True)
class CaseNumber:
    category_code: str  # E0102
    day: date
    sequence: int

    def __str__(self) -> str:
        return f"{self.category_code}{self.day:%Y%m%d}{self.sequence:0{SEQUENCE_WIDTH}d}"

    @property
    def counter_key(self) -> str:
        """What the daily counter is kept under: the category and the day."""
        return counter_key(self.category_code, self.day)


def counter_key(category_code: str, day: date) -> str:
    return f"{category_code}{day:%Y%m%d}"


def format_number(category_code: str, day: date, sequence: int) -> str:
    if sequence < 1:
        raise ValueError("case sequences start at 1")
    return str(CaseNumber(category_code, day, sequence))


def parse_number(text: str) -> CaseNumber | None:
    m = _NUMBER.match(text.strip())
    if m is None:
        return None
    kind, major, minor, ymd, seq = m.groups()
    try:
        day = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
    except ValueError:
        return None
    if int(seq) < 1:
        return None
    return CaseNumber(f"{kind}{major}{minor}", day, int(seq))
