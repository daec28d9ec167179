"""Bulk import of components: stream, check, locate in batches, write in one transaction.

An import is one unit of work. With ``on_error=skip`` the good rows are written and the bad ones
reported; with ``on_error=refuse`` one bad row means nothing is written (the transaction is
rolled back at the end, after every row has been checked, so the report is complete either way).
Rows are located with the grid's vectorised ``Locator.locate_many`` one batch at a time and
written by ``batches.BatchWriter`` (Core ``insert()``, driver executemany, on its own thread so
that storing one batch overlaps checking the next); the report (every problem, by line) goes to
a CSV file beside the input unless another path is given.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Table, func, select
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
from onegrid.assets.sources import (
    RawBatch,
    RowProblem,
    detect_format,
    read_csv,
    read_geojson,
    read_records,
)
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid.crs import parse_crs, to_wgs84
from onegrid.grid.locator import LocatedBatch
from onegrid.grid.queries import get_locator
from onegrid.people.queries import list_departments

COMPONENTS = cast(Table, ComponentRow.__table__)
REBUILD_MIN_ROWS = 10_000
"""Below this many stored components, a bulk import rebuilds the indexes whatever its size."""
BYTES_PER_ROW = 100
"""A low guess at a CSV/GeoJSON row's size, to tell a large file from a small one."""
KEPT_PROBLEMS = 1000
"""Problems kept in memory for the summary; the report file holds every one."""
_IN_CHUNK = 5000


class OnError(StrEnum):
    SKIP = "skip"
    REFUSE = "refuse"


@dataclass(frozen=True)
class ComponentImportOptions:
    on_error: OnError = OnError.SKIP
    batch_size: int = 10_000
    mapping: Mapping[str, str] = field(default_factory=dict)
    fmt: str | None = None
    crs: str = "wgs84"
    admin_code: str | None = None
    """For rows without an ID in a city whose district codes are not 6-digit admin codes."""
    data_source: str | None = None
    check_departments: bool = True
    report_path: Path | None = None
    timezone: str = "Asia/Shanghai"

    def problems(self) -> list[InvalidInput]:
        out: list[InvalidInput] = []
        if not 1 <= self.batch_size <= 100_000:
            out.append(InvalidInput.one("batch_size", "range", "batch size must be 1 to 100,000"))
        if self.admin_code is not None and not is_admin_code(self.admin_code):
            out.append(
                InvalidInput.one("admin_code", "admin_code_format", "admin code must be 6 digits")
            )
        return out


@dataclass
class ComponentImportReport:
    """What an import did. ``problems`` keeps the first problems; the report file has all."""

    rows: int = 0
    written: int = 0
    rejected_rows: int = 0
    problem_count: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    refused: bool = False
    report_path: Path | None = None
    unit: str = "line"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        head = (
            f"{self.rows:,} rows read, {self.written:,} components written, "
            f"{self.rejected_rows:,} rows rejected"
        )
        if self.refused:
            head += " — import REFUSED, nothing written (on-error=refuse)"
        lines = [head, f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"]
        if self.by_rule:
            rules = ", ".join(f"{rule} {n:,}" for rule, n in self.by_rule.most_common())
            lines.append(f"problems by rule: {rules}")
        for p in self.problems[:10]:
            lines.append(f"  {self.unit} {p.line}: {p.field} [{p.rule}] {p.message}")
        if self.problem_count > 10:
            lines.append(f"  … {self.problem_count - 10:,} more")
        if self.report_path is not None and self.problem_count:
            lines.append(f"full report: {self.report_path}")
        return "\n".join(lines)


ImportProgress = Callable[[int, int], None]
"""Called after each batch with the bytes read so far and the rows done."""


def default_report_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.errors.csv")


def import_components_file(
    db: Database,
    path: Path,
    clock: Clock,
    options: ComponentImportOptions | None = None,
    progress: ImportProgress | None = None,
) -> ComponentImportReport:
    """``onegrid import components FILE``: a CSV or GeoJSON file of components."""
    options = options or ComponentImportOptions()
    fmt = detect_format(path, options.fmt)
    if not path.is_file():
        raise InvalidInput.one("file", "exists", f"no file {path}")
    counter = _ByteCounter()
    reader = read_csv if fmt == "csv" else read_geojson
    batches = reader(path, options.mapping, options.batch_size, counter)
    report_path = options.report_path or default_report_path(path)
    return _run(
        db,
        batches,
        clock,
        options,
        _Context(
            unit="line" if fmt == "csv" else "feature",
            report_path=report_path,
            data_source=options.data_source or path.name,
            progress=progress,
            counter=counter,
            expected_rows=path.stat().st_size // BYTES_PER_ROW,
        ),
    )


def import_component_records(
    db: Database,
    records: Iterable[Mapping[str, Any]],
    clock: Clock,
    options: ComponentImportOptions | None = None,
) -> ComponentImportReport:
    """Components from Python dicts keyed by field name (``id`` optional: allocated when
    missing; ``class_code``, ``lon``, ``lat``, ``owner`` …), e.g. for building a demo city."""
    options = options or ComponentImportOptions()
    batches = read_records(records, options.batch_size)
    return _run(
        db,
        batches,
        clock,
        options,
        _Context(
            unit="record",
            report_path=options.report_path,
            data_source=options.data_source or "python",
            progress=None,
            counter=_ByteCounter(),
        ),
    )


class _ByteCounter:
    def __init__(self) -> None:
        self.done = 0

    def __call__(self, done: int) -> None:
        self.done = done


@dataclass
class _Context:
    unit: str
    report_path: Path | None
    data_source: str
    progress: ImportProgress | None
    counter: _ByteCounter
    expected_rows: int = 0


def _run(
    db: Database,
    batches: Iterator[RawBatch],
    clock: Clock,
    options: ComponentImportOptions,
    context: _Context,
) -> ComponentImportReport:
    problems = options.problems()
    if problems:
        raise InvalidInput([p for e in problems for p in e.problems])
    crs = parse_crs(options.crs)
    started = time.perf_counter()
    report = ComponentImportReport(unit=context.unit)
    report_file = ReportFile(context.report_path, context.unit)
    # Reads (taxonomy, departments, the locator, stored IDs) go through their own session:
    # they only ever need what was stored before the import began, while the import's own rows
    # are tracked in memory. The write transaction belongs to the writer alone.
    try:
        with db.reader() as reader, db.engine.connect() as conn:
            importer = _Importer(reader, clock, options, context, report, report_file, crs)
            rebuild = importer.stored_rows() < max(REBUILD_MIN_ROWS, context.expected_rows)
            with conn.begin() as transaction:
                importer.run(batches, BatchWriter(conn, COMPONENTS, rebuild_indexes=rebuild))
                if report.problem_count and options.on_error is OnError.REFUSE:
                    transaction.rollback()
                    report.refused = True
                    report.written = 0
    finally:
        report_file.close()
    report.report_path = report_file.path if report.problem_count else None
    report.seconds = time.perf_counter() - started
    return report


class _Importer:
    def __init__(
        self,
        session: Session,
        clock: Clock,
        options: ComponentImportOptions,
        context: _Context,
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
        self.locator = get_locator(session)
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
        finally:
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
        located: LocatedBatch = self.locator.locate_many(lon, lat)
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
