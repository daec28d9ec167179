"""Sensor commands: ``onegrid sensors ingest | simulate | replay | roll | rules load | bikes …``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from onegrid.cli.root import app, console, err, open_database, settings_or_exit
from onegrid.core.errors import DomainError, InvalidInput

sensors_app = typer.Typer(
    help="Sensors: MQTT ingest, simulation, replay, rules, the lake and shared bikes.",
    no_args_is_help=True,
)
app.add_typer(sensors_app, name="sensors")
rules_app = typer.Typer(help="Alert rules.", no_args_is_help=True)
sensors_app.add_typer(rules_app, name="rules")
bikes_app = typer.Typer(help="Shared bikes: operators, parking areas, the GBFS watch.")
sensors_app.add_typer(bikes_app, name="bikes")
areas_app = typer.Typer(help="Parking areas for shared bikes, with their capacity.")
bikes_app.add_typer(areas_app, name="areas")


def _fail(exc: DomainError) -> typer.Exit:
    err.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@sensors_app.command("ingest")
def ingest(
    url: Annotated[str | None, typer.Option(help="Broker URL (default: settings)")] = None,
    shard: Annotated[
        str,
        typer.Option(help="i/N: this process keeps the devices of shard i of N (run N of them)"),
    ] = "0/1",
) -> None:
    """Subscribe to the readings topics, store readings, evaluate rules and open cases,
    until interrupted (Ctrl-C)."""
    import gc

    from onegrid.cases.config import case_rules
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate
    from onegrid.sensing import queries
    from onegrid.sensing.alerting import SYSTEM_PRINCIPAL, CaseWorker
    from onegrid.sensing.domain.shards import Shard
    from onegrid.sensing.ingest.mqtt import MqttIngester
    from onegrid.sensing.ingest.pipeline import Pipeline
    from onegrid.sensing.settings import sensing_settings

    try:
        part = Shard.parse(shard)
    except DomainError as exc:
        raise _fail(exc) from None
    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    clock = SystemClock()
    sensing = sensing_settings()
    pipeline = Pipeline(db, clock, sensing, shard=part)
    cases = CaseWorker(db, SYSTEM_PRINCIPAL, clock, case_rules(settings.timezone))
    pipeline.alert_listeners.append(cases)
    ingester = MqttIngester(pipeline, sensing, url=url)
    # What is loaded by now (modules, registry, rule state) lives as long as the process: out
    # of the collector's sight, a full collection no longer walks it (0.4-0.6 s pauses, the
    # worst of the ingest's publish-to-alert delays, down to under 0.1 s).
    gc.collect()
    gc.freeze()
    cases.start()
    ingester.start()
    console.print(
        f"ingesting from {ingester.url} as {ingester.client_id} (shard {part}), "
        f"topics {', '.join(ingester.topics)}"
    )
    try:
        while True:
            time.sleep(30)
            with db.reader() as s:
                stats = queries.ingest_stats(s)
            console.print(
                f"received {ingester.received:,}, accepted {stats.accepted}, "
                f"refused {stats.rejected}, backlog {pipeline.backlog():,}"
            )
    except KeyboardInterrupt:
        console.print("stopping: storing what was taken…")
    finally:
        ingester.stop()
        cases.stop()


@sensors_app.command("simulate")
def simulate(
    backfill_hours: Annotated[
        float, typer.Option(min=0, help="Hours of past readings published at once")
    ] = 6.0,
    minutes: Annotated[float, typer.Option(min=0, help="Minutes of live readings after it")] = 0.0,
    rate: Annotated[float, typer.Option(min=0, help="Messages a second at most (0: no cap)")] = 0,
    seed: Annotated[int, typer.Option(help="The same seed gives the same readings")] = 1,
    url: Annotated[str | None, typer.Option(help="Broker URL (default: settings)")] = None,
) -> None:
    """Publish plausible readings for the registered devices (the demo city's) over MQTT."""
    from onegrid.sensing import queries
    from onegrid.sensing.ingest.publisher import Publisher, publish_all
    from onegrid.sensing.settings import sensing_settings
    from onegrid.sensing.simulate import Simulator, payload, topic

    settings = settings_or_exit()
    sensing = sensing_settings()
    db = open_database(settings)
    with db.reader() as s:
        devices = [d for d in queries.device_registry(s).values() if d.active]
    if not devices:
        err.print("no devices registered: run `onegrid demo` first")
        raise typer.Exit(1)
    now = time.time()
    sim = Simulator(
        devices, start=now - backfill_hours * 3600, seed=seed, timezone=settings.timezone
    )
    prefix = sensing.topic_prefix
    messages = (
        (ts, topic(prefix, device), payload(ts, values))
        for ts, device, values in sim.readings(now + minutes * 60)
    )
    publisher = Publisher(url or sensing.mqtt_url)
    console.print(f"{len(devices):,} devices, {backfill_hours:g} h back-filled, then live")
    try:
        count = publish_all(publisher, messages, live_from=now, rate=rate)
    except KeyboardInterrupt:
        count = publisher.sent
    finally:
        publisher.close()
    console.print(f"published {count:,} messages, {publisher.acked:,} acknowledged")


@sensors_app.command("replay")
def replay_cmd(
    file: Annotated[Path, typer.Argument(help="Recorded readings (CSV or .csv.gz)", exists=True)],
    format: Annotated[
        Path, typer.Option("--format", help="Replay format: YAML file, or a shipped name")
    ] = Path("long"),
    speed: Annotated[
        float, typer.Option(min=0, help="Recorded seconds per second (0: as fast as possible)")
    ] = 0.0,
    store: Annotated[bool, typer.Option(help="Keep the readings (alerts are kept anyway)")] = True,
    cases: Annotated[bool, typer.Option(help="Open cases for the alerts raised")] = False,
) -> None:
    """Feed a recorded time series through the same checks and rules as live readings."""
    from onegrid.cases.config import case_rules
    from onegrid.core.clock import FixedClock
    from onegrid.schema import migrate
    from onegrid.sensing import alerting
    from onegrid.sensing.ingest.pipeline import Pipeline
    from onegrid.sensing.replay import ReplayFormat, read_format, read_steps, replay
    from onegrid.sensing.settings import sensing_settings

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        fmt = ReplayFormat() if str(format) == "long" else read_format(format)
        steps = read_steps(file, fmt)
    except DomainError as exc:
        raise _fail(exc) from None
    if not steps:
        err.print(f"{file} holds no readings")
        raise typer.Exit(1)
    clock = FixedClock(datetime.fromtimestamp(steps[0].ts, UTC))
    pipeline = Pipeline(db, clock, sensing_settings(), store_readings=store)
    console.print(f"replaying {len(steps):,} time steps of {file.name}…")
    report = replay(pipeline, steps, clock, speed=speed)
    console.print(
        f"{report.readings:,} readings ({report.accepted:,} accepted) from {report.first} to "
        f"{report.last} in {report.seconds:.1f} s; refused: {dict(report.rejected) or 'none'}"
    )
    by_rule: dict[str, int] = {}
    for rule, _subject, _start in report.raised:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    for rule, n in sorted(by_rule.items()):
        console.print(f"  {rule}: {n:,} episodes")
    if cases:
        opened = alerting.settle(
            db, alerting.SYSTEM_PRINCIPAL, clock, case_rules(settings.timezone), limit=100_000
        )
        console.print(f"cases: {opened:,} alerts settled")


@sensors_app.command("roll")
def roll() -> None:
    """Move readings older than the kept days into the Parquet lake."""
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate
    from onegrid.sensing.scheduler import roll_once
    from onegrid.sensing.settings import sensing_settings

    settings = settings_or_exit()
    sensing = sensing_settings()
    db = open_database(settings)
    migrate(db.engine)
    lake = sensing.lake_root(settings.data_dir)
    report = roll_once(db, lake, SystemClock(), sensing.keep_days)
    console.print(
        f"rolled {report.rows:,} readings into {report.files:,} files "
        f"(before {report.horizon}) under {lake}"
    )


@rules_app.command("load")
def rules_load(
    file: Annotated[Path, typer.Argument(help="Rules (YAML, a list under 'rules')", exists=True)],
    replace: Annotated[bool, typer.Option(help="Disable stored rules the file leaves out")] = False,
) -> None:
    """Store alert rules (all checked first: one bad rule stores none)."""
    from onegrid.core.clock import SystemClock
    from onegrid.core.yamlfile import read_yaml
    from onegrid.schema import migrate
    from onegrid.sensing import services

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        specs = read_yaml(file).get("rules")
        if not isinstance(specs, list):
            raise DomainError("the file holds no list under 'rules'")
        with db.unit_of_work() as s:
            changed = services.load_rules(s, specs, SystemClock(), replace=replace)
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"{len(changed)} rules changed: {', '.join(changed) or '-'}")


@bikes_app.command("operator")
def bikes_operator(
    code: Annotated[str, typer.Argument(help="The operator's code")],
    department: Annotated[str, typer.Argument(help="The department its cases go to")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    feed: Annotated[
        str | None, typer.Option(help="gbfs.json (or vehicle feed): URL or file")
    ] = None,
    quota: Annotated[int | None, typer.Option(min=0, help="Fleet quota (bikes)")] = None,
) -> None:
    """Add or change a shared-bike operator and its GBFS feed."""
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate
    from onegrid.sensing import bikewatch

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        with db.unit_of_work() as s:
            bikewatch.set_operator(
                s, code, name or code, department, SystemClock(), fleet_quota=quota, feed_url=feed
            )
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"operator {code}: cases to {department}, feed {feed or '-'}")


@areas_app.command("load")
def bikes_areas_load(
    file: Annotated[
        Path,
        typer.Argument(help="GeoJSON FeatureCollection, or YAML with a list 'areas'", exists=True),
    ],
    replace: Annotated[
        bool, typer.Option(help="Deactivate stored areas the file leaves out")
    ] = False,
) -> None:
    """Store parking areas (all checked first: one bad area stores none)."""
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate
    from onegrid.sensing import bikewatch

    settings = settings_or_exit()
    db = open_database(settings)
    migrate(db.engine)
    try:
        drafts, key = bikewatch.read_areas_file(file)
        with db.unit_of_work() as s:
            loaded = bikewatch.load_areas(
                s, drafts, SystemClock(), replace=replace, timezone=settings.timezone, key=key
            )
    except InvalidInput as exc:
        for p in exc.problems:
            err.print(f"[red]{p.field}: {p.message}[/red]")
        err.print(f"nothing stored ({len(exc.problems)} problems)")
        raise typer.Exit(1) from None
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(
        f"{len(drafts)} parking areas: {len(loaded.added)} added, {len(loaded.changed)} changed, "
        f"{len(loaded.deactivated)} deactivated"
    )


@areas_app.command("list")
def bikes_areas_list(
    inactive: Annotated[bool, typer.Option(help="Show deactivated areas too")] = False,
) -> None:
    """The parking areas and their capacity."""
    from onegrid.sensing import bikewatch

    settings = settings_or_exit()
    db = open_database(settings)
    with db.reader() as s:
        areas = bikewatch.list_areas(s, include_inactive=inactive)
    for a in areas:
        state = "" if a.active else " (inactive)"
        console.print(
            f"{a.code:<31} {a.capacity:>5}  {a.lon:.6f},{a.lat:.6f}  {a.name}{state}", markup=False
        )
    console.print(f"{len(areas)} parking areas")


@bikes_app.command("watch")
def bikes_watch(
    interval: Annotated[float | None, typer.Option(min=1, help="Seconds between rounds")] = None,
    rounds: Annotated[int | None, typer.Option(min=1, help="Stop after this many rounds")] = None,
) -> None:
    """Read every operator's GBFS feed on a schedule, count bikes per parking area and cell,
    and open (and close) oversaturation cases."""
    from onegrid.cases.config import case_rules
    from onegrid.core.clock import SystemClock
    from onegrid.schema import migrate
    from onegrid.sensing import alerting, bikewatch
    from onegrid.sensing.settings import sensing_settings

    settings = settings_or_exit()
    sensing = sensing_settings()
    db = open_database(settings)
    migrate(db.engine)
    clock = SystemClock()
    rules = case_rules(settings.timezone)

    def after(report: bikewatch.WatchReport) -> None:
        for alert_id in report.written.raised:
            alerting.after_raise(db, alert_id, alerting.SYSTEM_PRINCIPAL, clock, rules)
        for alert_id in report.written.cleared:
            alerting.after_clear(db, alert_id, clock, rules)
        failed = f", failed feeds: {report.failed}" if report.failed else ""
        quota = ", ".join(f"{op} {n}/{q}" for op, n, q in report.over_quota)
        console.print(
            f"{report.at:%H:%M:%S} {report.bikes:,} bikes of {report.operators} operators in "
            f"{report.areas:,} areas, {report.over} over capacity; over fleet quota: "
            f"{quota or 'none'}; alerts raised {len(report.written.raised)}, cleared "
            f"{len(report.written.cleared)}{failed}"
        )

    try:
        bikewatch.run_watch(
            db,
            clock,
            cell_capacity=sensing.bike_cell_capacity,
            grace_s=sensing.bike_grace_s,
            interval_s=interval or sensing.bike_interval_s,
            timeout_s=sensing.http_timeout_s,
            after=after,
            rounds=rounds,
            timezone=settings.timezone,
        )
    except KeyboardInterrupt:
        console.print("stopped")
