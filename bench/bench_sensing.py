"""Sensing: MQTT ingest with rules evaluated, beside a bare paho subscriber, through Mosquitto.

    python bench/bench_sensing.py                    # 200,000 readings a shape, SQLite and PG
    python bench/bench_sensing.py --readings 1000000 --no-pg

A private Mosquitto (no persistence, unlimited queues) and a fresh database (SQLite in a
temporary file; PostgreSQL in a database of its own, dropped after, unless ``--no-pg`` or none
answers at ``ONEGRID_TEST_PG_URL``) with a small located city and 2,000 registered devices. For
each shape of message the readings are first queued at the broker for a persistent session, then
the subscriber connects and drains them:

* raw: a bare paho-mqtt subscriber (QoS 1) that decodes each message with orjson and inserts
  its readings with ``executemany`` in batches of 5,000 into a keyed table like
  ``sensing_readings`` in the same database engine (the raw limit);
* onegrid: the ingester (``MqttIngester`` + ``Pipeline``): checks, unit conversion, every rule
  evaluated, readings, counters and alerts stored, messages acknowledged after the commit.

Shapes: ``device`` (one message per device and time, 4 values: a micro air station) and
``gateway`` (a gateway message of 50 devices × 4 values). Then latency: device messages
published live at a fixed rate by a process of its own, 200 of them opening a manhole cover
spread over the run; publish → cover alert stored (p50/p95/p99), with 1 and with 2 ingest
processes (``--shard 0/2`` and ``1/2``), each a process of its own, beside the raw limit of the
same run: a bare subscriber's (mosquitto_sub) publish → receive of the same stream.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import math
import multiprocessing
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import paho.mqtt.client as mqtt
import psycopg
import shapely
from _pg import drop_database, fresh_database
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from onegrid.assets import services as assets
from onegrid.core.clock import SystemClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid import services as grid
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.schema import migrate
from onegrid.sensing import services as sensing
from onegrid.sensing.domain.devices import DeviceDraft
from onegrid.sensing.domain.shards import Shard
from onegrid.sensing.ingest.mqtt import MqttIngester
from onegrid.sensing.ingest.pipeline import Pipeline
from onegrid.sensing.settings import SensingSettings
from onegrid.sensing.store import Written

WEST, EAST, SOUTH, NORTH = 116.30, 116.34, 39.90, 39.93
DEVICES = 2000
COVERS = 200
GATEWAY_ENTRIES = 50


TIMEOUT_S = 600.0


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = root / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\nallow_anonymous true\n"
        "persistence false\nmax_queued_messages 0\nmax_inflight_messages 0\n"
        f"log_dest file {root / 'mosquitto.log'}\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def build_city(db: Database, root: Path) -> list[str]:
    clock = SystemClock()
    box = shapely.box(WEST, SOUTH, EAST, NORTH)
    levels = {
        "city": ("B0", None),
        "district": ("B001", "B0"),
        "subdistrict": ("B001001", "B001"),
        "community": ("B001001001", "B001001"),
    }
    with db.unit_of_work() as s:
        for level, (code, parent) in levels.items():
            feature = {
                "type": "Feature",
                "properties": {"code": code, "parent": parent},
                "geometry": shapely.geometry.mapping(box),
            }
            path = root / f"{level}.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
            options = AreaImportOptions(
                level=Level(level),
                code_field="code",
                valid_from=date(2024, 1, 1),
                parent_field="parent" if parent else None,
            )
            grid.import_areas(s, read_features(path), options, clock)
        assets.ensure_taxonomy(s, clock)
        sensing.ensure_default_rules(s, clock)
    rng = np.random.default_rng(7)
    ids = []
    with db.unit_of_work() as s:
        for i in range(DEVICES + COVERS):
            kind = "air_micro" if i < DEVICES else "manhole_cover"
            device_id = f"{'AQ' if i < DEVICES else 'MC'}-{i:05d}"
            lon, lat = float(rng.uniform(WEST, EAST)), float(rng.uniform(SOUTH, NORTH))
            sensing.register_device(s, DeviceDraft(device_id, kind, lon, lat), clock)
            ids.append(device_id)
    return ids


def device_messages(prefix: str, readings: int, start: float) -> list[tuple[str, bytes]]:
    out = []
    for n in range(readings // 4):
        device = f"AQ-{n % DEVICES:05d}"
        ts = start + (n // DEVICES) * 60.0
        values = {"pm2_5": 30.0 + n % 40, "pm10": 50.0, "temperature": 12.5, "humidity": 40.0}
        out.append(
            (f"{prefix}/devices/{device}/readings", orjson.dumps({"ts": ts, "values": values}))
        )
    return out


def gateway_messages(prefix: str, readings: int, start: float) -> list[tuple[str, bytes]]:
    out = []
    per = GATEWAY_ENTRIES * 4
    for m in range(readings // per):
        entries = []
        for k in range(GATEWAY_ENTRIES):
            n = m * GATEWAY_ENTRIES + k
            ts = start + (n // DEVICES) * 60.0
            values = {"pm2_5": 30.0 + n % 40, "pm10": 50.0, "temperature": 12.5, "humidity": 40.0}
            entries.append({"device": f"AQ-{n % DEVICES:05d}", "ts": ts, "values": values})
        out.append((f"{prefix}/gateways/gw-{m % 8}/readings", orjson.dumps({"readings": entries})))
    return out


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    acked = [0]

    def on_publish(*_a: Any) -> None:
        acked[0] += 1

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    for n, (topic, payload) in enumerate(messages):
        # Never more in paho's hands than it may have in flight: its own queue beyond that
        # stalls now and then (acknowledgements stop coming back) under a burst.
        if n - acked[0] >= 1500:
            wait_until(lambda n=n: n - acked[0] < 1000, "the broker's acknowledgements")
        client.publish(topic, payload, qos=1)
    wait_until(lambda: acked[0] >= len(messages), "the broker's acknowledgements")
    client.disconnect()
    client.loop_stop()


def session_props() -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 65535
    return props


class RawSubscriber:
    """The raw limit: paho QoS 1 → orjson → executemany, 5,000 rows a batch, into SQLite (a
    file beside the database) or into a table of the PostgreSQL bench database."""

    def __init__(self, port: int, prefix: str, target: Path | str) -> None:
        self.port, self.prefix = port, prefix
        self.client_id = f"raw-{uuid.uuid4().hex[:8]}"
        self.rows = 0
        self.pending: list[tuple[str, str, float, float]] = []
        self.lock = threading.Lock()
        self.conn: Any
        if isinstance(target, Path):
            self.conn = sqlite3.connect(target, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS raw (device_id TEXT, quantity TEXT, "
                "observed_at REAL, value REAL, PRIMARY KEY (device_id, quantity, observed_at))"
            )
            self.insert = "INSERT OR IGNORE INTO raw VALUES (?, ?, ?, ?)"
        else:
            self.conn = psycopg.connect(target.replace("postgresql+psycopg", "postgresql"))
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS raw (device_id TEXT, quantity TEXT, "
                "observed_at TIMESTAMPTZ, value DOUBLE PRECISION, "
                "PRIMARY KEY (device_id, quantity, observed_at))"
            )
            self.conn.commit()
            self.insert = (
                "INSERT INTO raw VALUES (%s, %s, to_timestamp(%s), %s) ON CONFLICT DO NOTHING"
            )

    def _connect(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        client.on_message = self._on_message
        client.connect("127.0.0.1", self.port, clean_start=False, properties=session_props())
        client.subscribe(
            [(f"{self.prefix}/devices/+/readings", 1), (f"{self.prefix}/gateways/+/readings", 1)]
        )
        return client

    def register(self) -> None:
        client = self._connect()
        client.loop_start()
        time.sleep(0.5)
        client.disconnect()
        client.loop_stop()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        doc = orjson.loads(msg.payload)
        parts = msg.topic.split("/")
        entries = doc.get("readings", [doc])
        rows = [
            (e.get("device", parts[-2]), q, float(e["ts"]), float(v))
            for e in entries
            for q, v in e["values"].items()
        ]
        self.pending.extend(rows)
        if len(self.pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.conn.cursor().executemany(self.insert, self.pending)
            self.conn.commit()
            self.rows += len(self.pending)
            self.pending = []

    def drain(self, expected: int) -> float:
        started = time.perf_counter()
        client = self._connect()
        client.loop_start()
        wait_until(lambda: self.rows + len(self.pending) >= expected, "the raw subscriber")
        client.loop_stop()  # the network thread is stopped: no message races the last flush
        self.flush()
        took = time.perf_counter() - started
        client.disconnect()
        return took


def stored(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.exec_driver_sql("SELECT count(*) FROM sensing_readings").scalar_one())


def onegrid_drain(
    db: Database, port: int, prefix: str, messages: list[tuple[str, bytes]], expected: int
) -> float:
    settings = SensingSettings(
        topic_prefix=prefix,
        mqtt_client_id=f"og-{uuid.uuid4().hex[:8]}",
        session_expiry_s=3600,
        future_tolerance_s=10**9,
    )
    url = f"mqtt://127.0.0.1:{port}"
    first = MqttIngester(Pipeline(db, SystemClock(), settings), settings, url=url)
    first.start()
    first.subscribed.wait(10)
    first.stop()
    publish(port, messages)
    before = stored(db)
    pipeline = Pipeline(db, SystemClock(), settings)
    # Counted as batches commit, as the raw subscriber counts its rows: polling count(*) on a
    # table of several hundred thousand rows every 10 ms took a core from the ingester.
    committed = [0]

    def count(written: Written, _messages: Any) -> None:
        committed[0] += written.readings

    pipeline.listeners.append(count)
    ingester = MqttIngester(pipeline, settings, url=url)
    started = time.perf_counter()
    ingester.start()
    wait_until(lambda: committed[0] >= expected, "the ingester")
    took = time.perf_counter() - started
    ingester.stop()
    if stored(db) - before != expected:
        raise SystemExit(f"stored {stored(db) - before:,} readings of {expected:,}")
    return took


def _live_publisher(port: int, prefix: str, rate: float, seconds: float, out: Any) -> None:
    """In a process of its own (no GIL shared with the ingester): device messages at ``rate``
    readings/s; a cover opens every ``messages / COVERS`` messages, spread over the run so that
    a backlog building up is seen. Sends back {cover: publish time}, the rate and the number of
    messages."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    acked = [0]

    def on_publish(*_a: Any) -> None:
        acked[0] += 1

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    published: dict[str, float] = {}
    messages = int(rate * seconds / 4)
    every = max(1, messages // COVERS)
    started = time.perf_counter()
    cover = DEVICES
    for n in range(messages):
        wait = started + n * 4 / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        elif n - acked[0] >= 1000:
            # Behind and 1,000 unacknowledged: paho's own queue would hide the delay before
            # the broker (the stamp is taken here); the offered rate falls instead.
            wait_until(lambda n=n: n - acked[0] < 500, "the broker's acknowledgements")
        now = time.time()
        if n % every == every // 2 and cover < DEVICES + COVERS:
            device = f"MC-{cover:05d}"
            cover += 1
            body: dict[str, Any] = {"ts": now, "values": {"cover_open": 1, "tilt": 40.0}}
            published[device] = now
        else:
            device = f"AQ-{n % DEVICES:05d}"
            values = {"pm2_5": 20.0, "pm10": 30.0, "temperature": 12.0, "humidity": 40.0}
            body = {"ts": now, "values": values}
        client.publish(f"{prefix}/devices/{device}/readings", orjson.dumps(body), qos=1)
    offered = messages * 4 / (time.perf_counter() - started)
    # Every message at the broker before the count is trusted (a disconnect drops the rest).
    wait_until(lambda: acked[0] >= messages, "the broker's acknowledgements")
    client.disconnect()
    client.loop_stop()
    out.put((published, offered, messages))


def close_covers(port: int, prefix: str) -> int:
    now = time.time()
    body = orjson.dumps({"ts": now, "values": {"cover_open": 0, "tilt": 1.0}})
    publish(
        port,
        [(f"{prefix}/devices/MC-{i:05d}/readings", body) for i in range(DEVICES, DEVICES + COVERS)],
    )
    return COVERS


def _ingest_child(
    url: str,
    port: int,
    prefix: str,
    client_id: str,
    shard: tuple[int, int],
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    """One ingest process (``onegrid sensors ingest --shard i/N`` as the CLI builds it): reports
    when each cover's alert was stored, from the pipeline's alert listener."""
    db = Database(make_engine(url))
    settings = SensingSettings(topic_prefix=prefix, mqtt_client_id=client_id, session_expiry_s=60)
    pipeline = Pipeline(db, SystemClock(), settings, shard=Shard(*shard))
    raised_at: dict[str, float] = {}

    def on_alerts(written: Written) -> None:
        now = time.time()
        # An earlier run's cover alerts are reopened, not raised, when a cover opens again.
        changed = written.raised + written.reopened
        if not changed:
            return
        with db.engine.connect() as c:
            marks = ",".join(str(i) for i in changed)
            subjects = c.exec_driver_sql(
                "SELECT subject FROM sensing_alerts "
                f"WHERE id IN ({marks}) AND rule_code = 'cover.open'"
            ).scalars()
            for subject in subjects:
                raised_at.setdefault(subject, now)

    pipeline.alert_listeners.append(on_alerts)
    ingester = MqttIngester(pipeline, settings, url=f"mqtt://127.0.0.1:{port}")
    gc.collect()
    gc.freeze()  # as the CLI does
    ingester.start()
    ingester.subscribed.wait(20)
    ready.put(shard)
    expected = go.get()  # messages published (each shard is sent all of them)
    wait_until(lambda: ingester.received >= expected and pipeline.backlog() == 0, "the ingester")
    time.sleep(1)
    ingester.stop()
    out.put(raised_at)
    db.engine.dispose()


def _percentiles(delays: list[float]) -> dict[str, float]:
    ordered = sorted(delays)
    if not ordered:
        return {"n": 0.0, "p50": math.nan, "p95": math.nan, "p99": math.nan, "max": math.nan}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    return {
        "n": float(len(ordered)),
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
    }


def raw_latency(port: int, rate: float, seconds: float) -> dict[str, float]:
    """The raw limit: a bare subscriber of the same live stream (mosquitto_sub, C, QoS 1),
    publish → message received, as stamped by the subscriber itself (``%U``). A bare paho
    subscriber is no limit here: its per-message cost makes it lag at 6,000 messages/s."""
    prefix = f"bench/{uuid.uuid4().hex[:8]}"
    binary = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
    args = [binary, "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1"]
    args += ["-t", f"{prefix}/devices/+/readings", "-F", "%U %t %p"]
    sub = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
    )
    delays: list[float] = []
    received = [0]

    def read() -> None:
        assert sub.stdout is not None
        for line in sub.stdout:
            received[0] += 1
            at, topic, payload = line.split(b" ", 2)
            if b"/MC-" in topic:
                delays.append(float(at) - orjson.loads(payload)["ts"])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1)
    spawn = multiprocessing.get_context("spawn")
    out: Any = spawn.Queue()
    child = spawn.Process(target=_live_publisher, args=(port, prefix, rate, seconds, out))
    child.start()
    _published, offered, sent = out.get(timeout=TIMEOUT_S)
    child.join(30)
    wait_until(lambda: received[0] >= sent, "the bare subscriber")
    sub.terminate()
    sub.wait(10)
    return {"offered": offered, **_percentiles(delays)}


def latency(url: str, port: int, rate: float, seconds: float, procs: int) -> dict[str, float]:
    """Publish → cover alert stored, with ``procs`` ingest processes (shards) and the
    publisher each in a process of its own."""
    prefix = f"bench/{uuid.uuid4().hex[:8]}"
    spawn = multiprocessing.get_context("spawn")
    ready: Any = spawn.Queue()
    gos, outs, children = [], [], []
    for i in range(procs):
        go: Any = spawn.Queue()
        out: Any = spawn.Queue()
        child = spawn.Process(
            target=_ingest_child,
            args=(url, port, prefix, f"og-{uuid.uuid4().hex[:8]}", (i, procs), ready, go, out),
        )
        child.start()
        gos.append(go)
        outs.append(out)
        children.append(child)
    for _ in range(procs):
        ready.get(timeout=TIMEOUT_S)
    closed = close_covers(port, prefix)
    time.sleep(2)
    pub_out: Any = spawn.Queue()
    publisher = spawn.Process(target=_live_publisher, args=(port, prefix, rate, seconds, pub_out))
    publisher.start()
    published, offered, sent = pub_out.get(timeout=TIMEOUT_S)
    publisher.join(30)
    for go in gos:
        go.put(closed + sent)
    raised_at: dict[str, float] = {}
    for out in outs:
        raised_at.update(out.get(timeout=TIMEOUT_S))
    for child in children:
        child.join(30)
    delays = [raised_at[d] - t for d, t in published.items() if d in raised_at]
    return {
        "offered": offered,
        "missing": float(len(published) - len(delays)),
        **_percentiles(delays),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def run_backend(name: str, url: str, root: Path, port: int, args: argparse.Namespace) -> None:
    db = Database(make_engine(url))
    migrate(db.engine)
    t = time.perf_counter()
    build_city(db, root)
    print(f"[{name}] city and {DEVICES + COVERS:,} devices in {time.perf_counter() - t:.1f} s")
    start = time.time() - 86_400 * 3
    shapes = (
        () if args.latency_only else (("device", device_messages), ("gateway", gateway_messages))
    )
    for shape, make in shapes:
        prefix = f"bench/{uuid.uuid4().hex[:8]}"
        messages = make(prefix, args.readings, start)
        expected = sum(
            sum(len(e["values"]) for e in d.get("readings", [d]))
            for d in (orjson.loads(p) for _t, p in messages)
        )
        target: Path | str = root / f"raw-{shape}.sqlite3" if name == "sqlite" else url
        raw = RawSubscriber(port, prefix, target)
        raw.register()
        publish(port, messages)
        raw_s = raw.drain(expected)
        raw.conn.close()
        og_s = onegrid_drain(db, port, prefix, messages, expected)
        raw_rate, og_rate = expected / raw_s, expected / og_s
        print(
            f"[{name}] {shape:8} {len(messages):>7,} msgs {expected:>9,} readings | raw paho→"
            f"{name} {raw_rate:>9,.0f}/s | onegrid {og_rate:>9,.0f}/s | ratio "
            f"{og_rate / raw_rate:.2f} | {load()}"
        )
        start += 86_400 / 3
    db.engine.dispose()
    for rate in (float(r) for r in args.rates.split(",") if r):
        bare = raw_latency(port, rate, args.seconds)
        print(
            f"[{name}] raw limit at {bare['offered']:,.0f} readings/s: bare subscriber "
            "(mosquitto_sub) publish → "
            f"receive p50 {ms(bare['p50'])}, p95 {ms(bare['p95'])}, p99 {ms(bare['p99'])} "
            f"| {load()}"
        )
        for procs in (int(p) for p in args.procs.split(",") if p):
            lat = latency(url, port, rate, args.seconds, procs)
            print(
                f"[{name}] {procs} ingest process{'es' if procs > 1 else ''} at "
                f"{lat['offered']:,.0f} readings/s: publish → alert stored "
                f"p50 {ms(lat['p50'])}, p95 {ms(lat['p95'])}, p99 {ms(lat['p99'])}, "
                f"max {ms(lat['max'])} ({lat['n']:.0f} alerts, {lat['missing']:.0f} not raised)"
                f" | ratio to raw p50 {lat['p50'] / bare['p50']:.1f}, p99 "
                f"{lat['p99'] / bare['p99']:.1f} | {load()}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument(
        "--rates", default="5000,25000", help="latency runs: readings/s offered, comma-separated"
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--latency-only", action="store_true", help="skip the drain rates")
    parser.add_argument(
        "--procs", default="1,2", help="latency runs: ingest processes (shards), comma-separated"
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-sensing-"))
    broker, port = start_broker(root)
    print(
        f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load()}"
    )
    try:
        run_backend("sqlite", f"sqlite:///{root / 'onegrid.sqlite3'}", root, port, args)
        pg = None if args.no_pg else fresh_database("onegrid_bench_sensing")
        if pg:
            try:
                run_backend("postgresql", pg, root, port, args)
            finally:
                drop_database(pg)
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
