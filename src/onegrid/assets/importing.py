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
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Insert, Table, insert

from onegrid.assets.batches import BatchWriter, ReportFile
from onegrid.assets.models import ComponentHistoryRow, ComponentRow
from onegrid.assets.pipeline import ByteCounter, ImportContext, Importer
from onegrid.assets.report import (
    ComponentImportOptions,
    ComponentImportReport,
    ImportProgress,
    OnError,
)
from onegrid.assets.sources import RawBatch, detect_format, read_csv, read_geojson, read_records
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid.crs import parse_crs

COMPONENTS = cast(Table, ComponentRow.__table__)
REBUILD_MIN_ROWS = 10_000
"""Below this many stored components, a bulk import rebuilds the indexes whatever its size."""
BYTES_PER_ROW = 100
"""A low guess at a CSV/GeoJSON row's size, to tell a large file from a small one."""

__all__ = [
    "ComponentImportOptions",
    "ComponentImportReport",
    "ImportProgress",
    "OnError",
    "default_report_path",
    "import_component_records",
    "import_components_file",
]


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
    counter = ByteCounter()
    reader = read_csv if fmt == "csv" else read_geojson
    batches = reader(path, options.mapping, options.batch_size, counter)
    report_path = options.report_path or default_report_path(path)
    return _run(
        db,
        batches,
        clock,
        options,
        ImportContext(
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
        ImportContext(
            unit="record",
            report_path=options.report_path,
            data_source=options.data_source or "python",
            progress=None,
            counter=ByteCounter(),
        ),
    )


def _run(
    db: Database,
    batches: Iterator[RawBatch],
    clock: Clock,
    options: ComponentImportOptions,
    context: ImportContext,
) -> ComponentImportReport:
    problems = options.problems()
    if problems:
        raise InvalidInput(problems)
    crs = parse_crs(options.crs)
    started = time.perf_counter()
    report = ComponentImportReport(unit=context.unit)
    report_file = ReportFile(context.report_path, context.unit)
    # Reads (taxonomy, departments, the locator, stored IDs) go through their own session:
    # they only ever need what was stored before the import began, while the import's own rows
    # are tracked in memory. The write transaction belongs to the writer alone.
    try:
        with db.reader() as reader, db.engine.connect() as conn:
            importer = Importer(reader, clock, options, context, report, report_file, crs)
            rebuild = importer.stored_rows() < max(REBUILD_MIN_ROWS, context.expected_rows)
            with conn.begin() as transaction:
                importer.run(batches, BatchWriter(conn, COMPONENTS, rebuild_indexes=rebuild))
                if report.problem_count and options.on_error is OnError.REFUSE:
                    transaction.rollback()
                    report.refused = True
                    report.written = 0
                elif report.written:
                    conn.execute(_history_of(report, context, clock))
    finally:
        report_file.close()
    report.report_path = report_file.path if report.problem_count else None
    report.seconds = time.perf_counter() - started
    return report


def _history_of(report: ComponentImportReport, context: ImportContext, clock: Clock) -> Insert:
    """One history row for the whole import: a row per component would double the writes of a
    million-row load, and each component keeps the import's ``data_source`` to point back here."""
    return insert(ComponentHistoryRow).values(
        component_id=None,
        at=clock.now(),
        actor="console",
        action="imported",
        changes={
            "data_source": context.data_source,
            "rows": report.rows,
            "written": report.written,
            "rejected_rows": report.rejected_rows,
        },
    )
