"""One component import, batch by batch: check, locate, number, de-duplicate, hand to the
writer. ``importing`` holds the public entry points; this module the work they share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onegrid.assets import queries
from onegrid.assets.batches import BatchWriter, ReportFile, SeenIds
from onegrid.assets.checks import CheckContext, CheckedBatch, check_batch
from onegrid.assets.domain import (
    MAX_SEQUENCE,
    Kind,
    admin_code_problem,
    allocate_ids,
    is_admin_code,
)
from onegrid.assets.models import ComponentRow
from onegrid.assets.report import (
    ComponentImportOptions,
    ComponentImportReport,
    ImportProgress,
    OnError,
)
from onegrid.assets.sources import RawBatch, RowProblem
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.grid.crs import to_wgs84
from onegrid.grid.locator import LocatedBatch
from onegrid.grid.queries import get_locator
from onegrid.people.queries import list_departments

KEPT_PROBLEMS = 1000
"""Problems kept in memory for the summary; the report file holds every one."""
_IN_CHUNK = 5000


class ByteCounter:
    def __init__(self) -> None:
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done


@dataclass
class ImportContext:
    unit: str
    report_path: Path | None
    data_source: str
    progress: ImportProgress | None
    counter: ByteCounter
    expected_rows: int = 0


class Importer:
    def __init__(
        self,
        session: Session,
        clock: Clock,
        options: ComponentImportOptions,
        context: ImportContext,
        report: ComponentImportReport,
        report_file: ReportFile,
        crs: Any,
    ) -> None:
        self.session = session
        self.options = options
        self.context = context
        self.report = report
        self.report_file = report_file
        self.crs = crs
        self.now: datetime = clock.now()
        today = self.now.astimezone(ZoneInfo(options.timezone)).date()
        categories = {
            c.code: c for c in queries.current_categories(session) if c.kind is Kind.COMPONENT
        }
        if not categories:
            raise InvalidInput.one(
                "taxonomy", "loaded", "no taxonomy is loaded: run `onegrid taxonomy load` first"
            )
        departments = (
            frozenset(d.code for d in list_departments(session))
            if options.check_departments
            else None
        )
        self.check_context = CheckContext(categories, today, context.data_source, departments)
        # Components are placed in the areas of the city's today, not a change scheduled later.
        self.locator = get_locator(session, today)
        self.seen = SeenIds()
        self.stored_max: dict[str, int] = {}
        self.db_has_rows = session.execute(select(ComponentRow.id).limit(1)).first() is not None
        self.writer: BatchWriter | None = None

    def stored_rows(self) -> int:
        if not self.db_has_rows:
            return 0
        return self.session.scalar(select(func.count()).select_from(ComponentRow)) or 0

    def run(self, batches: Iterator[RawBatch], writer: BatchWriter) -> None:
        self.writer = writer
        try:
            for raw in batches:
                self.report.rows += len(raw) + len(raw.problems)
                checked = check_batch(raw, self.check_context)
                self._problems(checked.problems)
                if len(checked):
                    self._located_batch(checked)
                if self.context.progress is not None:
                    self.context.progress(self.context.counter.done, self.report.rows)
        except BaseException:
            # The transaction is rolled back: stop the writer, rebuild nothing, keep the error.
            with contextlib.suppress(Exception):
                writer.close(discard=True)
            raise
        refused = bool(self.report.problem_count) and self.options.on_error is OnError.REFUSE
        self.report.written = writer.close(discard=refused)

    def _problems(self, problems: list[RowProblem]) -> None:
        if not problems:
            return
        self.report.problem_count += len(problems)
        self.report.rejected_rows += len({p.line for p in problems})
        self.report.by_rule.update(p.rule for p in problems)
        room = KEPT_PROBLEMS - len(self.report.problems)
        if room > 0:
            self.report.problems.extend(problems[:room])
        self.report_file.write(problems)

    def _located_batch(self, batch: CheckedBatch) -> None:
        if self.crs.is_wgs84:
            lon, lat = batch.lon, batch.lat
        else:
            lon, lat = to_wgs84(batch.lon, batch.lat, self.crs)
        # The components table keeps only the res-10 cell: the others would cost a pass each.
        located: LocatedBatch = self.locator.locate_many(lon, lat, cells=(10,))
        districts: list[str] = located.district.tolist()
        keep, admin, problems = self._place(batch, located.inside.tolist(), districts)
        keep, ids, more = self._unique_ids(batch, keep, admin)
        problems += more
        problems.sort(key=lambda p: p.line)
        self._problems(problems)
        if self.report.problem_count and self.options.on_error is OnError.REFUSE:
            return
        self._write(batch, keep, ids, lon, lat, located)

    def _place(
        self, batch: CheckedBatch, inside: list[bool], districts: list[str]
    ) -> tuple[list[int], list[str], list[RowProblem]]:
        """Rows inside the city whose ID fits the district; the admin code of each."""
        keep: list[int] = []
        admin: list[str] = []
        problems: list[RowProblem] = []
        fallback = self.options.admin_code or ""
        admin_districts = {d for d in set(districts) if is_admin_code(d)}
        for i, cid in enumerate(batch.ids):
            district = districts[i]
            # The common case, an ID numbered in the district it lies in, costs one compare.
            if cid and inside[i] and (district == cid[:6] or district not in admin_districts):
                keep.append(i)
                admin.append(cid[:6])
                continue
            line = batch.lines[i]
            if not inside[i]:
                problems.append(
                    RowProblem(
                        line,
                        cid,
                        "lon",
                        "inside_city",
                        f"point ({batch.lon[i]}, {batch.lat[i]}) lies outside the city's areas",
                    )
                )
                continue
            code, problem = _admin_code_for(cid, district or None, batch.admin_codes[i], fallback)
            if problem:
                rule = "id_matches_district" if cid else "admin_code_known"
                problems.append(RowProblem(line, cid, "id" if cid else "admin_code", rule, problem))
                continue
            keep.append(i)
            admin.append(code)
        return keep, admin, problems

    def _unique_ids(
        self, batch: CheckedBatch, keep: list[int], admin: list[str]
    ) -> tuple[list[int], list[str], list[RowProblem]]:
        given = [i for i in keep if batch.ids[i]]
        given_ids = [batch.ids[i] for i in given]
        rejected, problems = self._duplicates(batch, given, given_ids)
        out_keep: list[int] = []
        ids: list[str] = []
        wanting: dict[str, list[int]] = {}
        for i, code in zip(keep, admin, strict=True):
            cid = batch.ids[i]
            if not cid:
                wanting.setdefault(code + batch.class_codes[i][1:], []).append(i)
            elif i not in rejected:
                out_keep.append(i)
                ids.append(cid)
        self._remember(ids)
        allocated = self._allocate(wanting)
        for i, cid in allocated:
            out_keep.append(i)
            ids.append(cid)
        self._remember([cid for _, cid in allocated])
        return out_keep, ids, problems

    def _duplicates(
        self, batch: CheckedBatch, given: list[int], given_ids: list[str]
    ) -> tuple[set[int], list[RowProblem]]:
        """Rows (by batch index) whose ID is taken: by an earlier row of this batch or of the
        file, or by a component stored before the import."""
        unit = self.context.unit
        rejected: set[int] = set()
        problems: list[RowProblem] = []
        first: dict[str, int] = dict(zip(given_ids, given, strict=True))
        if len(first) < len(given):  # rare: the same ID twice in one batch
            first = {}
            for i, cid in zip(given, given_ids, strict=True):
                if cid not in first:
                    first[cid] = i
                    continue
                rejected.add(i)
                problems.append(
                    RowProblem(
                        batch.lines[i],
                        cid,
                        "id",
                        "unique_in_file",
                        f"ID {cid} is also on {unit} {batch.lines[first[cid]]}",
                    )
                )
        unique = list(first)
        hits = self.seen.contains(_as_ints(unique)) if unique else np.zeros(0, dtype=bool)
        earlier = {unique[k] for k in np.flatnonzero(hits).tolist()}
        stored = self._stored(set(unique) - earlier) if self.db_has_rows else set()
        for cid in earlier | stored:
            i = first[cid]
            rejected.add(i)
            rule, where = (
                ("unique_in_file", f"on an earlier {unit} of this file")
                if cid in earlier
                else ("unique_in_database", "already in the database")
            )
            problems.append(RowProblem(batch.lines[i], cid, "id", rule, f"ID {cid} is {where}"))
        return rejected, problems

    def _stored(self, ids: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            found.update(
                self.session.scalars(select(ComponentRow.id).where(ComponentRow.id.in_(chunk)))
            )
        return found

    def _remember(self, ids: list[str]) -> None:
        if ids:
            self.seen.add(_as_ints(ids))

    def _allocate(self, wanting: dict[str, list[int]]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for prefix, rows in wanting.items():
            base = int(prefix) * 1_000_000
            in_file = self.seen.max_between(base, base + MAX_SEQUENCE)
            last = max(in_file - base if in_file is not None else 0, self._stored_max(prefix))
            out += list(zip(rows, allocate_ids(prefix, last, len(rows)), strict=True))
        return out

    def _stored_max(self, prefix: str) -> int:
        if not self.db_has_rows:
            return 0
        if prefix not in self.stored_max:
            top = self.session.scalar(
                select(func.max(ComponentRow.id)).where(
                    ComponentRow.id.between(prefix + "000000", prefix + "999999")
                )
            )
            self.stored_max[prefix] = int(top[10:]) if top else 0
        return self.stored_max[prefix]

    def _write(
        self,
        batch: CheckedBatch,
        keep: list[int],
        ids: list[str],
        lon: Any,
        lat: Any,
        located: LocatedBatch,
    ) -> None:
        if keep and self.writer is not None:
            self.writer.submit(_columns(batch, keep, ids, lon, lat, located, self.now))


def _columns(
    batch: CheckedBatch,
    keep: list[int],
    ids: list[str],
    lon: Any,
    lat: Any,
    located: LocatedBatch,
    now: datetime,
) -> dict[str, Sequence[Any]]:
    """The kept rows of a batch, column by column, as the ``components`` table takes them."""
    index = np.asarray(keep, dtype=np.intp)

    def take(values: list[Any]) -> list[Any]:
        return [values[i] for i in keep]

    def codes(values: Any) -> list[str | None]:
        return [v or None for v in values[index].tolist()]

    return {
        "id": ids,
        "name": take(batch.names),
        "class_code": take(batch.class_codes),
        "admin_code": [cid[:6] for cid in ids],
        "competent_department": take(batch.competent_departments),
        "owner": take(batch.owners),
        "maintainer": take(batch.maintainers),
        "unit_grid": codes(located.unit_grid),
        "community": codes(located.community),
        "subdistrict": codes(located.subdistrict),
        "district": codes(located.district),
        "lon": lon[index].tolist(),
        "lat": lat[index].tolist(),
        "h3_10": located.h3_10[index].astype(np.int64).tolist(),
        "state": take(batch.states),
        "first_recorded": take(batch.first_recorded),
        "last_changed": [now] * len(keep),
        "data_source": take(batch.data_sources),
        "note": take(batch.notes),
    }


def _admin_code_for(
    cid: str, district: str | None, given: str, fallback: str
) -> tuple[str, str | None]:
    """The admin code a row is numbered under (its ID's, its district's, the one it gives, the
    import's), or why there is none that fits."""
    code = cid[:6] if cid else given
    if code:
        return code, admin_code_problem(code, district)
    if is_admin_code(district):
        assert district is not None
        return district, None
    if fallback:
        return fallback, None
    return "", (
        f"no ID, and district {district!r} is not a 6-digit admin code to number it "
        "under: give an ID or an admin_code"
    )


def _as_ints(ids: list[str]) -> Any:
    return np.fromiter(map(int, ids), dtype=np.int64, count=len(ids))
