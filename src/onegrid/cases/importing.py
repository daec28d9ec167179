"""Bulk loading of historical cases: from another system's CSV export, or built by a program.

Two ways a historical case arrives:
- with ``steps``: its workflow is *replayed* through the domain (``decide``) at the recorded
  times, so its history, clock, lateness and counters are what the live system would have made
  (the demo city builds its past this way);
- without: a plain record from a foreign system (NYC 311 has only opened/closed), stored as
  dispatched to its department, or closed, with a ``create`` and a ``close`` history entry and
  no clock.

Rows are written in batches with multi-row inserts, and numbered with one counter bump per
(category, day). ``external_ref`` is unique, so loading the same file twice adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import Any

import h3
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from onegrid.assets.domain import Category
from onegrid.assets.queries import current_categories
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import CaseState, Command, Context, decide
from onegrid.cases.domain.intake import Reporter
from onegrid.cases.domain.lights import StepClock
from onegrid.cases.domain.states import Channel, Nature, Status, Step, Urgency, initial_status
from onegrid.cases.history import HISTORY, IMPORTER, Actor, entry_values
from onegrid.cases.records import CASES, clock_values, state_values
from onegrid.cases.services.common import local_day, reserve_numbers
from onegrid.core.errors import FieldProblem, ImportReport, InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.grid.domain import Location
from onegrid.grid.location import change_days, locate_many, stretch_start

BATCH = 5000


@dataclass(frozen=True)
class HistoricalStep:
    """One recorded transition: what was done, when, by whom."""

    command: Command
    at: datetime
    actor: Actor


@dataclass(frozen=True)
class HistoricalCase:
    category_code: str
    created_at: datetime
    lon: float
    lat: float
    description: str
    channel: Channel = Channel.HOTLINE
    nature: Nature = Nature.REPORT
    urgency: Urgency | None = None
    address: str = ""
    reporter: Reporter = field(default_factory=Reporter)
    external_ref: str | None = None
    source_type: str | None = None  # the source system's own type (NYC complaint_type)
    created_by: Actor = IMPORTER
    steps: tuple[HistoricalStep, ...] = ()
    verify_first: bool | None = None
    department_code: str | None = None  # without steps: the department it went to
    closed_at: datetime | None = None  # without steps: when it was closed


@dataclass
class LoadReport(ImportReport):
    skipped_existing: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        lines = [
            f"{self.accepted:,} case(s) loaded, {self.skipped_existing:,} already there, "
            f"{len(self.rejected):,} refused"
        ]
        lines += [f"  {k}: {v:,}" for k, v in sorted(self.by_status.items())]
        lines += [
            f"  refused {p.record}: {p.field}: {p.message} [{p.rule}]" for p in self.rejected[:20]
        ]
        if len(self.rejected) > 20:
            lines.append(f"  … and {len(self.rejected) - 20:,} more")
        return "\n".join(lines)


@dataclass
class _Place:
    codes: dict[str, str | None]
    h3_10: str


def _days(
    session: Session, batch: Sequence[HistoricalCase], tz: tzinfo
) -> dict[date | None, list[int]]:
    """The batch's cases by the grid they were reported in: each on its own day, and a case
    older than the first recorded grid in that first grid (an import of old cases usually
    comes after the boundaries, recorded from their import day)."""
    days = change_days(session)
    groups: dict[date | None, list[int]] = defaultdict(list)
    for i, c in enumerate(batch):
        day = c.created_at.astimezone(tz).date()
        groups[stretch_start(days, max(day, days[0])) if days else None].append(i)
    return groups


def _places(
    session: Session, batch: Sequence[HistoricalCase], use_grid: bool, tz: tzinfo
) -> list[_Place | None]:
    if not use_grid:
        return [_Place({}, h3.latlng_to_cell(c.lat, c.lon, 10)) for c in batch]
    found: list[Location | None] = [None] * len(batch)
    for day, rows in _days(session, batch, tz).items():
        located = locate_many(
            session, [batch[i].lon for i in rows], [batch[i].lat for i in rows], day
        )
        for k, i in enumerate(rows):
            found[i] = located.location(k)
    out: list[_Place | None] = []
    for loc in found:
        if loc is None:
            out.append(None)
            continue
        out.append(
            _Place(
                {
                    "city_code": loc.city,
                    "district_code": loc.district,
                    "subdistrict_code": loc.subdistrict,
                    "community_code": loc.community,
                    "unit_grid_code": loc.unit_grid,
                },
                loc.h3_10,
            )
        )
    return out


def _replay(
    c: HistoricalCase, rules: CaseRules, limits_args: tuple[str, str, str, str]
) -> tuple[CaseState, list[tuple[HistoricalStep, CaseState, dict[str, Any]]]]:
    limits = rules.limits.limits(*limits_args)
    clock = StepClock.start(rules.calendar, Step.DISPATCH, 1, limits.dispatch, c.created_at)
    state = CaseState(
        initial_status(c.channel, verify_first=c.verify_first), clock=clock, step_round=1
    )
    done = []
    for step in c.steps:
        ctx = Context(
            step.at, rules.calendar, limits, rules.limits.max_extensions, require_attachments=False
        )
        outcome = decide(state, step.command, ctx)
        details = dict(outcome.details)
        if outcome.step_ended_late:
            details["step_ended_late"] = True
        state = outcome.after
        done.append((step, state, details))
    return state, done


def _row(
    c: HistoricalCase, category: Category, place: _Place, rules: CaseRules
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case's columns (without its number) and its history entries (without the case id)."""
    urgency = (c.urgency or Urgency(category.urgency.value)).value
    book = rules.limits
    chain = tuple(v for v in place.codes.values() if v)
    region = book.region_class(chain)
    version = book.version_on(local_day(rules.calendar, c.created_at)).version
    first = initial_status(c.channel, verify_first=c.verify_first)
    entries = [
        dict(
            at=c.created_at,
            actor=c.created_by,
            action="create",
            from_status=None,
            to_status=(first if c.steps else Status.DISPATCHED).value,
            version=1,
            reason="",
            attachments=(),
            details={"channel": c.channel.value},
        )
    ]
    if c.steps:
        state, done = _replay(c, rules, (version, category.code, urgency, region))
        for step, after, details in done:
            entries.append(
                dict(
                    at=step.at,
                    actor=step.actor,
                    action=step.command.action.value,
                    from_status=entries[-1]["to_status"],
                    to_status=after.status.value,
                    version=after.version,
                    reason=details.pop("reason", ""),
                    attachments=step.command.attachments,
                    details=details,
                )
            )
        values = state_values(state)
        updated = c.steps[-1].at
    else:
        closed = c.closed_at is not None
        status = Status.CLOSED if closed else Status.DISPATCHED
        state = CaseState(
            status,
            version=2 if closed else 1,
            department_code=c.department_code,
            filed_at=c.created_at,
            dispatched_at=c.created_at,
            closed_at=c.closed_at,
        )
        values = state_values(state)
        if closed:
            entries.append(
                dict(
                    at=c.closed_at,
                    actor=c.created_by,
                    action="close",
                    from_status=Status.DISPATCHED.value,
                    to_status=Status.CLOSED.value,
                    version=2,
                    reason="",
                    attachments=(),
                    details={},
                )
            )
        updated = c.closed_at or c.created_at
    row = {
        "category_code": category.code,
        "component_id": None,
        "channel": c.channel.value,
        "nature": c.nature.value,
        "urgency": urgency,
        "description": c.description[:4000],
        "address": c.address[:500],
        "tags": [],
        "lon": c.lon,
        "lat": c.lat,
        "h3_10": place.h3_10,
        "city_code": None,
        "district_code": None,
        "subdistrict_code": None,
        "community_code": None,
        "unit_grid_code": None,
        **place.codes,
        "region_class": region,
        "reporter_name": c.reporter.name,
        "reporter_phone": c.reporter.phone,
        "reporter_email": c.reporter.email,
        "reporter_user_id": c.reporter.user_id,
        "created_by": c.created_by.ref,
        "external_ref": c.external_ref,
        "source_type": c.source_type,
        "suggested_department_code": None,
        "merged_into_id": None,
        "split_parent_id": None,
        "limits_version": version,
        "escalated_to": None,
        "created_at": c.created_at,
        "updated_at": updated,
        **(clock_values(None, 0) if not c.steps else {}),
        **values,
    }
    return row, entries


def _ids_of(session: Session, numbers: list[str]) -> list[int]:
    """The ids of just-inserted cases, in order (multi-row inserts return none on SQLite)."""
    found: dict[str, int] = {}
    for i in range(0, len(numbers), 900):
        part = numbers[i : i + 900]
        rows = session.execute(select(CASES.c.number, CASES.c.id).where(CASES.c.number.in_(part)))
        found.update((str(n), int(i)) for n, i in rows)
    return [found[n] for n in numbers]


def _existing_refs(session: Session, refs: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(refs), 900):
        part = refs[i : i + 900]
        found.update(
            session.scalars(select(CASES.c.external_ref).where(CASES.c.external_ref.in_(part)))
        )
    return found


def _admit(
    session: Session,
    batch: list[HistoricalCase],
    categories: dict[str, Category],
    report: LoadReport,
    offset: int,
) -> list[tuple[str, HistoricalCase, Category]]:
    """The rows to load: known categories, not loaded before; with their record names."""
    refs = [c.external_ref for c in batch if c.external_ref]
    existing = _existing_refs(session, refs) if refs else set()
    seen: set[str] = set()
    keep: list[tuple[str, HistoricalCase, Category]] = []
    for i, c in enumerate(batch):
        record = c.external_ref or f"row {offset + i + 1}"
        category = categories.get(c.category_code)
        if c.external_ref and (c.external_ref in existing or c.external_ref in seen):
            report.skipped_existing += 1
        elif category is None:
            report.rejected.append(
                FieldProblem(
                    "category_code",
                    "known_category",
                    f"unknown category {c.category_code!r}",
                    record,
                )
            )
        else:
            seen.add(c.external_ref or "")
            keep.append((record, c, category))
    return keep


@dataclass
class _Prepared:
    """A batch worked out outside the write transaction: the rows to insert (numbered in it)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    histories: list[list[dict[str, Any]]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


def _prepare(
    session: Session,
    batch: list[HistoricalCase],
    rules: CaseRules,
    categories: dict[str, Category],
    use_grid: bool,
    report: LoadReport,
    offset: int,
) -> _Prepared:
    """What to insert: the refusals, the places and the replayed workflow only read, so they are
    done before the write transaction and a server beside the load waits only for the writes."""
    keep = _admit(session, batch, categories, report, offset)
    places = _places(session, [c for _, c, _ in keep], use_grid, rules.calendar.tz)
    out = _Prepared()
    for (record, c, category), place in zip(keep, places, strict=True):
        if place is None:
            report.rejected.append(
                FieldProblem(
                    "lon", "inside_city", "the point lies outside every area of the city", record
                )
            )
            continue
        try:
            row, entries = _row(c, category, place, rules)
        except InvalidInput as exc:
            p = exc.problems[0]
            report.rejected.append(FieldProblem(p.field, p.rule, p.message, record))
            continue
        out.rows.append(row)
        out.histories.append(entries)
        out.days.append(local_day(rules.calendar, c.created_at))
    return out


def _number(session: Session, prepared: _Prepared) -> None:
    """One counter bump per (category, day) for the batch's rows."""
    groups: dict[tuple[str, date], list[int]] = defaultdict(list)
    for k, (row, day) in enumerate(zip(prepared.rows, prepared.days, strict=True)):
        groups[(row["category_code"], day)].append(k)
    for (code, day), members in groups.items():
        for k, number in zip(
            members, reserve_numbers(session, code, day, len(members)), strict=True
        ):
            prepared.rows[k]["number"] = number


def _write(session: Session, prepared: _Prepared, report: LoadReport) -> None:
    _number(session, prepared)
    rows = prepared.rows
    session.execute(insert(CASES), rows)
    ids = _ids_of(session, [r["number"] for r in rows])
    session.execute(
        insert(HISTORY),
        [
            entry_values(
                case_id,
                e["at"],
                e["actor"],
                e["action"],
                e["from_status"],
                e["to_status"],
                e["version"],
                e["reason"],
                e["attachments"],
                e["details"],
            )
            for case_id, entries in zip(ids, prepared.histories, strict=True)
            for e in entries
        ],
    )
    report.accepted += len(rows)
    for row in rows:
        report.by_status[row["status"]] = report.by_status.get(row["status"], 0) + 1


def load_historical(
    db: Database,
    cases: Iterable[HistoricalCase],
    *,
    rules: CaseRules,
    use_grid: bool = True,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load cases in batches, each batch one transaction. ``use_grid=False`` keeps points the
    city's grid does not cover (a foreign city's data), indexed by H3 only.

    Each batch's write holds the process's one writer (SQLite), like every case write, so a
    server loading beside its requests makes them wait for one batch's inserts at most: a
    small ``batch_size`` keeps that wait short."""
    report = LoadReport()
    with db.reader() as s:
        categories = {c.code: c for c in current_categories(s)}
    offset = 0
    for batch in _chunks(cases, batch_size):
        with db.reader() as session:
            prepared = _prepare(session, batch, rules, categories, use_grid, report, offset)
        if prepared.rows:
            with one_writer(db.dialect), db.unit_of_work() as session:
                _write(session, prepared, report)
        offset += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return report


def _chunks(items: Iterable[HistoricalCase], size: int) -> Iterator[list[HistoricalCase]]:
    chunk: list[HistoricalCase] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def with_steps(case: HistoricalCase, *steps: HistoricalStep) -> HistoricalCase:
    return replace(case, steps=(*case.steps, *steps))
