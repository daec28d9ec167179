"""One topic a month (每月一题): the topic chosen for each month, and its tracking since.

The analytics context keeps no database tables (ADR 0006, 0010): its state lives in the lake
directory as files published by rename. The choices are one small JSON file,
``<data_dir>/lake/topics/chosen.json``, rewritten whole under a lock (a temporary file renamed
onto it), so a reader sees the file before or after a choice, never half of one. Choosing again
for a month replaces the month's choice; the replaced one stays in the file's history.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from onegrid.analytics.findings import topic_tracking
from onegrid.analytics.period import Period
from onegrid.assets.queries import find_category
from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.grid.queries import get_area

FORMAT = 1
NOTE_MAX = 2000


@dataclass(frozen=True)
class TopicChoice:
    month: str  # YYYY-MM
    category_code: str
    area_code: str | None
    note: str
    chosen_by: str
    chosen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "category_code": self.category_code,
            "area_code": self.area_code,
            "note": self.note,
            "chosen_by": self.chosen_by,
            "chosen_at": self.chosen_at.isoformat(),
        }

    @classmethod
    def of(cls, raw: dict[str, Any]) -> TopicChoice:
        return cls(
            raw["month"],
            raw["category_code"],
            raw.get("area_code"),
            raw.get("note", ""),
            raw["chosen_by"],
            datetime.fromisoformat(raw["chosen_at"]),
        )


def _empty() -> dict[str, Any]:
    return {"format": FORMAT, "version": 0, "chosen": [], "replaced": []}


class TopicChoices:
    """The chosen topics of every month, in one versioned JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def under(cls, data_dir: Path) -> TopicChoices:
        return cls(data_dir / "lake" / "topics" / "chosen.json")

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return _empty()
        raw: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return raw

    def chosen(self) -> list[TopicChoice]:
        """The choice in force for each month, by month."""
        return sorted((TopicChoice.of(c) for c in self._read()["chosen"]), key=lambda c: c.month)

    def replaced(self) -> list[TopicChoice]:
        """Earlier choices that a later one for the same month replaced, oldest first."""
        return [TopicChoice.of(c) for c in self._read()["replaced"]]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def choose(
        self,
        month: str,
        category_code: str,
        *,
        known_category: Callable[[str], bool],
        chosen_by: str,
        clock: Clock,
        area_code: str | None = None,
        known_area: Callable[[str], bool] = lambda _: True,
        note: str = "",
    ) -> TopicChoice:
        """Record ``category_code`` (optionally in one area) as ``month``'s topic."""
        problems: list[FieldProblem] = []
        try:
            Period.month(month)
        except InvalidInput as bad:
            problems += bad.problems
        code = category_code.strip().upper()
        if not code or not known_category(code):
            problems.append(
                FieldProblem(
                    "category_code",
                    "known_category",
                    f"no category {category_code!r} in the taxonomy in use",
                )
            )
        area = (area_code or "").strip() or None
        if area is not None and not known_area(area):
            problems.append(FieldProblem("area_code", "known_area", f"no area {area!r}"))
        if len(note) > NOTE_MAX:
            problems.append(
                FieldProblem("note", "max_length", f"the note is over {NOTE_MAX} characters")
            )
        if problems:
            raise InvalidInput(problems)
        choice = TopicChoice(month, code, area, note, chosen_by, clock.now())
        with self._locked():
            data = self._read()
            before = [c for c in data["chosen"] if c["month"] == month]
            data["chosen"] = [c for c in data["chosen"] if c["month"] != month]
            data["chosen"].append(choice.as_dict())
            data["chosen"].sort(key=lambda c: c["month"])
            data["replaced"].extend(
                {**c, "replaced_at": choice.chosen_at.isoformat()} for c in before
            )
            data["version"] += 1
            data["format"] = FORMAT
            self._write(data)
        return choice

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
        finally:
            tmp.unlink(missing_ok=True)


def tracked(con: duckdb.DuckDBPyConnection, choice: TopicChoice, today: date, tz: str) -> pa.Table:
    """The chosen topic's month-on-month tracking from its month to ``today``; empty while its
    month has not begun."""
    first = Period.month(choice.month, tz).first
    if first > today:
        return topic_tracking(con, choice.category_code, Period(first, first, tz)).slice(0, 0)
    return topic_tracking(con, choice.category_code, Period(first, today, tz), choice.area_code)


@dataclass(frozen=True)
class CityNames:
    """Whether a category and an area are the city's, as a choice is checked (each asked in a
    short read of its own: the choice is written to the lake, not the database)."""

    db: Database

    def category(self, code: str) -> bool:
        with self.db.reader() as s:
            return find_category(s, code) is not None

    def area(self, code: str) -> bool:
        with self.db.reader() as s:
            try:
                get_area(s, code)
            except NotFound:
                return False
            return True
