"""Grid commands: ``onegrid import areas|unitgrids``, ``onegrid grid generate|locate|stats|…``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from onegrid.cli.root import (
    app,
    console,
    err,
    import_app,
    open_database,
    settings_or_exit,
    show_report,
)
from onegrid.core.clock import SystemClock, city_today
from onegrid.core.errors import DomainError, FieldProblem, InvalidInput
from onegrid.grid import queries, services
from onegrid.grid.crs import parse_crs, to_wgs84
from onegrid.grid.domain import Level
from onegrid.grid.importing.addresses import read_address_file
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.checks import OnError
from onegrid.grid.importing.reading import read_features
from onegrid.grid.importing.unit_grids import UnitGridImportOptions
from onegrid.grid.responsibility import DutyKind
from onegrid.schema import migrate

grid_app = typer.Typer(help="The city grid: unit grids, point location, duty rules.")
duty_app = typer.Typer(help="Duty rules: which department owns which category where.")
inspector_app = typer.Typer(help="Which inspectors patrol which unit grids.")
app.add_typer(grid_app, name="grid")
grid_app.add_typer(duty_app, name="duty")
grid_app.add_typer(inspector_app, name="inspector")

CrsOpt = Annotated[
    str | None,
    typer.Option(
        help="Coordinates of the file: wgs84, gcj02 (AMap/Tencent), bd09 (Baidu) or "
        "EPSG:<code>; default: what the file declares, else wgs84."
    ),
]
ValidFromOpt = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="First day the data is valid; default today."),
]
OnErrorOpt = Annotated[
    OnError,
    typer.Option(help="refuse: write nothing if any feature is bad; skip: write the good ones."),
]
RepairOpt = Annotated[
    bool,
    typer.Option(
        help="Make invalid polygons valid (GEOS make_valid) instead of refusing them; "
        "every repair is listed."
    ),
]
EncodingOpt = Annotated[
    str | None, typer.Option(help="Text encoding of a Shapefile without a .cpg, e.g. GB18030.")
]
OnOpt = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The day to answer for.")
]


def _today() -> date:
    settings = settings_or_exit()
    return city_today(SystemClock(), settings.timezone)


def _day(value: datetime | None) -> date:
    return value.date() if value else _today()


def _print_problems(problems: Sequence[FieldProblem], title: str) -> None:
    table = Table(title=title, show_lines=False)
    for column in ("record", "field", "rule", "problem"):
        table.add_column(column, overflow="fold")
    for p in problems[:200]:
        table.add_row(p.record or "", p.field, p.rule, p.message)
    err.print(table)
    if len(problems) > 200:
        err.print(f"… and {len(problems) - 200} more")


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """A migrated database and one transaction; a domain error is printed and exits 1."""
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        with db.unit_of_work() as session:
            yield session
    except InvalidInput as exc:
        _print_problems(exc.problems, "refused: nothing was written")
        raise typer.Exit(1) from None
    except DomainError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.engine.dispose()


def _report(summary: services.ImportSummary) -> None:
    show_report(summary.render())
    if summary.repaired:
        _print_problems(summary.repaired, "repaired features")
    if summary.rejected:
        _print_problems(summary.rejected, "skipped features")


@import_app.command("areas")
def import_areas_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile or GeoPackage.")],
    level: Annotated[Level, typer.Option(help="city, district, subdistrict or community.")],
    code_field: Annotated[str, typer.Option(help="Property holding the area code.")],
    name_field: Annotated[
        str | None, typer.Option(help="Property holding the official (Chinese) name.")
    ] = None,
    name_en_field: Annotated[
        str | None, typer.Option(help="Property with the English name.")
    ] = None,
    parent_code: Annotated[str | None, typer.Option(help="One parent code for all.")] = None,
    parent_field: Annotated[str | None, typer.Option(help="Property with the parent code.")] = None,
    parent_from_code_prefix: Annotated[
        int | None,
        typer.Option(help="Parent = the first N characters of the code (6 for 110101001)."),
    ] = None,
    population_field: Annotated[str | None, typer.Option(help="Property: residents.")] = None,
    crs: CrsOpt = None,
    encoding: EncodingOpt = None,
    valid_from: ValidFromOpt = None,
    on_error: OnErrorOpt = OnError.REFUSE,
    repair: RepairOpt = False,
) -> None:
    """Import areas of one level; a changed shape becomes a new version, history is kept."""
    options = AreaImportOptions(
        level=level,
        code_field=code_field,
        valid_from=_day(valid_from),
        name_field=name_field,
        name_en_field=name_en_field,
        parent_code=parent_code,
        parent_field=parent_field,
        parent_from_code_prefix=parent_from_code_prefix,
        population_field=population_field,
        crs=crs,
        on_error=on_error,
        repair=repair,
    )
    with _unit_of_work() as session, console.status(f"checking {file.name}…"):
        source = read_features(file, encoding)
        summary = services.import_areas(session, source, options, SystemClock())
    _report(summary)
    if summary.versioned or summary.corrected:
        console.print(
            "areas changed shape: run `onegrid grid generate` to refit their generated unit grids"
        )


@import_app.command("populations")
def import_populations_cmd(
    file: Annotated[
        Path, typer.Argument(help="CSV (UTF-8) with columns area_code,valid_from,population.")
    ],
    source: Annotated[
        str | None,
        typer.Option(
            help="Where the figures come from, for rows without a source column; "
            "default the file's name."
        ),
    ] = None,
    correct: Annotated[
        bool,
        typer.Option(
            help="Replace a stored figure of the same area and date (it changes "
            "every ranking divided by it); without it such a row is refused."
        ),
    ] = False,
) -> None:
    """Load dated populations: each holds from its valid_from until the area's next one, and a
    month's rate per 10,000 residents uses the one in force on its first day."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _print_problems(
            [FieldProblem("file", "readable-utf-8", f"cannot read {file}: {exc}")],
            "refused: nothing was written",
        )
        raise typer.Exit(1) from None
    with _unit_of_work() as session:
        loaded = services.load_populations(
            session,
            text.splitlines(),
            SystemClock(),
            source=source or file.name,
            correct=correct,
        )
    show_report(loaded.render())


@import_app.command("addresses")
def import_addresses_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8) with columns id,address,lon,lat[,crs], or GeoJSON points with "
            "id and address properties."
        ),
    ],
    crs: CrsOpt = None,
    valid_from: ValidFromOpt = None,
    id_field: Annotated[str, typer.Option(help="GeoJSON: property with the address id.")] = "id",
    address_field: Annotated[
        str, typer.Option(help="GeoJSON: property with the full address.")
    ] = "address",
) -> None:
    """Load the standard address register (标准地址库): every door plate with its point, located
    in the grid. All rows or none; a re-import updates addresses by id."""
    day = _day(valid_from)
    with _unit_of_work() as session, console.status(f"checking {file.name}…"):
        drafts, problems = read_address_file(
            file, crs, id_field=id_field, address_field=address_field
        )
        loaded = services.load_addresses(session, drafts, problems, SystemClock(), valid_from=day)
    show_report(loaded.render())


@import_app.command("unitgrids")
def import_unit_grids_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile or GeoPackage.")],
    code_field: Annotated[str, typer.Option(help="Property with the 15-digit grid code.")],
    community_field: Annotated[str, typer.Option(help="Property with the community code.")],
    land_use_field: Annotated[str | None, typer.Option(help="Property: land-use class.")] = None,
    management_level_field: Annotated[
        str | None, typer.Option(help="Property: management level.")
    ] = None,
    crs: CrsOpt = None,
    encoding: EncodingOpt = None,
    valid_from: ValidFromOpt = None,
    on_error: OnErrorOpt = OnError.REFUSE,
    repair: RepairOpt = False,
) -> None:
    """Import official unit grids; they replace generated ones in their communities."""
    options = UnitGridImportOptions(
        code_field=code_field,
        community_field=community_field,
        valid_from=_day(valid_from),
        land_use_field=land_use_field,
        management_level_field=management_level_field,
        crs=crs,
        on_error=on_error,
        repair=repair,
    )
    with _unit_of_work() as session, console.status(f"checking {file.name}…"):
        source = read_features(file, encoding)
        summary = services.import_unit_grids(session, source, options, SystemClock())
    _report(summary)


@grid_app.command("generate")
def generate_cmd(
    res: Annotated[int, typer.Option(help="H3 resolution (10 ≈ 10,700 m² in Beijing).")] = 10,
    level: Annotated[
        Level | None, typer.Option(help="Areas to fill; default the finest level present.")
    ] = None,
    within: Annotated[
        list[str] | None, typer.Option(help="Only areas inside this area code (repeatable).")
    ] = None,
    valid_from: ValidFromOpt = None,
) -> None:
    """Generate H3-based unit grids for areas that have no official ones."""
    with _unit_of_work() as session, Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating unit grids", total=None)

        def progress(done: int, total: int, code: str) -> None:
            bar.update(task, completed=done, total=total, description=f"area {code}")

        report = services.generate_unit_grids(
            session,
            SystemClock(),
            valid_from=_day(valid_from),
            res=res,
            level=level,
            within=within or (),
            progress=progress,
        )
    show_report(report.render())


@grid_app.command("locate")
def locate_cmd(
    lon: Annotated[float, typer.Argument(help="Longitude.")],
    lat: Annotated[float, typer.Argument(help="Latitude.")],
    on: OnOpt = None,
    crs: Annotated[str, typer.Option(help="Coordinates given in: wgs84, gcj02, bd09…")] = "wgs84",
) -> None:
    """Where a point lies. Before a negative longitude put ``--``: ``locate -- -73.98 40.75``."""
    with _unit_of_work() as session:
        x, y = to_wgs84(lon, lat, parse_crs(crs))
        where = queries.locate(session, float(x), float(y), _day(on))
    if where is None:
        console.print(f"({float(x):.6f}, {float(y):.6f}) is outside the city")
        raise typer.Exit(3)
    for level in Level:
        console.print(f"{level:<12} {where.code_at(level) or '-'}")
    console.print(f"{'h3 res 10':<12} {where.h3_10}")


@grid_app.command("stats")
def stats_cmd(on: OnOpt = None) -> None:
    """What the grid holds."""
    with _unit_of_work() as session:
        stats = queries.grid_stats(session, on.date() if on else None)
        addresses = queries.count_addresses(session, on.date() if on else None)
    table = Table(title="grid")
    table.add_column("what")
    table.add_column("count", justify="right")
    for level, n in sorted(stats.areas_by_level.items(), key=lambda kv: Level(kv[0]).depth):
        table.add_row(f"areas: {level}", f"{n:,}")
    for source, n in sorted(stats.unit_grids_by_source.items()):
        table.add_row(f"unit grids: {source}", f"{n:,}")
    table.add_row("unit-grid area (km²)", f"{stats.unit_grid_area_m2 / 1e6:,.2f}")
    table.add_row("inspector assignments", f"{stats.inspector_assignments:,}")
    table.add_row("duty rules", f"{stats.duty_rules:,}")
    table.add_row("standard addresses", f"{addresses:,}")
    console.print(table)
    if stats.last_change:
        console.print(f"last change {stats.last_change_at:%Y-%m-%d %H:%M} UTC: {stats.last_change}")


@duty_app.command("set")
def duty_set_cmd(
    area_code: str,
    category_prefix: str,
    department_code: str,
    kind: Annotated[DutyKind, typer.Option(help="owner or territorial.")] = DutyKind.OWNER,
    valid_from: ValidFromOpt = None,
) -> None:
    """Make a department answer for a category prefix (or '*') in an area."""
    with _unit_of_work() as session:
        rule_id = services.set_duty_rule(
            session,
            SystemClock(),
            area_code=area_code,
            category_prefix=category_prefix,
            department_code=department_code,
            kind=kind,
            valid_from=_day(valid_from),
        )
    console.print(f"duty rule #{rule_id}")


@duty_app.command("end")
def duty_end_cmd(rule_id: int, valid_to: ValidFromOpt = None) -> None:
    """End a duty rule (the last valid day is the day before ``--valid-to``)."""
    with _unit_of_work() as session:
        services.end_duty_rule(session, rule_id=rule_id, valid_to=_day(valid_to))
    console.print(f"duty rule #{rule_id} ended")


@duty_app.command("list")
def duty_list_cmd(area: Annotated[list[str] | None, typer.Option()] = None) -> None:
    """Duty rules in force."""
    with _unit_of_work() as session:
        rules = queries.duty_rules(session, area_codes=area, on=_today())
    table = Table(title="duty rules")
    for column in ("id", "area", "prefix", "department", "kind"):
        table.add_column(column)
    for r in rules:
        table.add_row(str(r.id), r.area_code, r.category_prefix, r.department_code, r.kind)
    console.print(table)


@grid_app.command("responsible")
def responsible_cmd(category: str, lon: float, lat: float, on: OnOpt = None) -> None:
    """Which department a problem of this category at this WGS84 point goes to, and why."""
    day = on.date() if on else _today()
    with _unit_of_work() as session:
        where = queries.locate(session, lon, lat, day)
        match = queries.responsible_department(session, category, where, on=day) if where else None
    if where is None:
        console.print("outside the city")
        raise typer.Exit(3)
    if match is None:
        console.print(f"no duty rule or territorial unit covers {category} at {where.area_chain}")
        raise typer.Exit(4)
    console.print(f"{match.department_code} ({match.kind}): {match.explanation}")


@inspector_app.command("assign")
def inspector_assign_cmd(
    user_id: int, unit_grid_code: str, valid_from: ValidFromOpt = None
) -> None:
    """An inspector (user id) patrols a unit grid."""
    with _unit_of_work() as session:
        services.assign_inspector(
            session,
            SystemClock(),
            user_id=user_id,
            unit_grid_code=unit_grid_code,
            valid_from=_day(valid_from),
        )
    console.print(f"inspector {user_id} patrols {unit_grid_code}")


@inspector_app.command("end")
def inspector_end_cmd(user_id: int, unit_grid_code: str, valid_to: ValidFromOpt = None) -> None:
    """End an inspector's assignment to a unit grid."""
    with _unit_of_work() as session:
        services.end_inspector_assignment(
            session, user_id=user_id, unit_grid_code=unit_grid_code, valid_to=_day(valid_to)
        )
    console.print(f"inspector {user_id} no longer patrols {unit_grid_code}")
