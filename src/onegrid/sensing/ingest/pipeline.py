"""The ingest pipeline: decode, check, evaluate rules, store in batches, then acknowledge.

A source (the MQTT client thread, an HTTP request, a replay) hands over raw messages. The worker
decodes them (orjson), checks them against the device registry it caches (reloaded when a device
changes), evaluates the rules in memory, and writes a batch every ``batch_max_ms`` or
``batch_max_rows`` readings in one transaction. Only then are the batch's messages acknowledged
(MQTT QoS 1 ``PUBACK``): a crash before the commit loses nothing, the broker delivers again, and
the readings' key makes the second delivery a no-op.

The worker stores a batch's alert changes in a transaction of their own before its readings
(``alert_listeners`` hear of them then, and cases open meanwhile): a raised alert waits for the
few rows of its own, not for the thousands of readings that came with it. The messages are
still acknowledged only after both commits; after a crash between the two the broker delivers
the batch again, the readings are stored then, and the engine, restored from the stored open
alerts, takes the repeated readings as the same alert going on.

Shards: with ``shard`` i/N the pipeline keeps only the readings of its devices (``Shard.owns``)
and leaves the rest to the other N − 1 processes; area rules are then counted in the database
(``store.area_events``), since no one process holds every device of an area.

Nothing a sender does stops the worker: a refused message or entry is counted, logged with its
reason (rate-limited) and kept as a dead letter; an error in the worker's own code is caught per
message and dead-lettered as ``internal_error``; a failed write is retried (messages stay
unacknowledged meanwhile).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import OperationalError

from onegrid.core.clock import Clock
from onegrid.core.logging import get_logger
from onegrid.db.session import Database
from onegrid.sensing import queries
from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.engine import ActiveAlert, AlertEvent, Engine, SubjectKind
from onegrid.sensing.domain.readings import Checked, ReadingChecker, Reason, Rejection
from onegrid.sensing.domain.rules import Rule, RuleKind
from onegrid.sensing.domain.shards import Shard
from onegrid.sensing.settings import SensingSettings
from onegrid.sensing.store import Batch, Written, open_alerts, write_batch

log = get_logger("onegrid.sensing.ingest")
PAYLOAD_MAX = 64 * 1024
INTERNAL_ERROR = "internal_error"
HTTP_ATTEMPTS = 4  # about 0.7 s of back-off before an HTTP batch is refused with a 503
STOP_ATTEMPTS = 8


class _Empty:
    """Nothing arrived in time (``Pipeline._take``)."""


EMPTY = _Empty()


class StoreUnavailable(RuntimeError):
    """The batch was not stored: nothing of it was written."""


@dataclass(frozen=True, slots=True)
class Message:
    source: str  # mqtt | http | replay
    topic: str | None
    payload: bytes
    received: float  # seconds since the epoch
    ack: Callable[[], Any] | None = None


@dataclass
class Outcome:
    """What a processed set of messages came to."""

    accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    written: Written = field(default_factory=Written)
    events: list[AlertEvent] = field(default_factory=list)


class _RateLimitedLog:
    """At most ``burst`` lines per reason per ``window`` seconds; the rest are counted."""

    def __init__(
        self, burst: int = 10, window: float = 10.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst, self.window = burst, window
        self._monotonic = monotonic  # a test's own, to cross the window without waiting
        self._seen: dict[str, tuple[float, int, int]] = {}

    def rejected(self, rejection: Rejection, topic: str | None) -> None:
        now = self._monotonic()
        start, shown, hidden = self._seen.get(rejection.reason, (now, 0, 0))
        if now - start > self.window:
            if hidden:
                log.warning(
                    "sensing.rejected.suppressed", reason=rejection.reason.value, count=hidden
                )
            start, shown, hidden = now, 0, 0
        if shown < self.burst:
            log.warning(
                "sensing.rejected",
                reason=rejection.reason.value,
                field=rejection.field,
                device=rejection.device_id,
                topic=topic,
                detail=rejection.detail,
            )
            shown += 1
        else:
            hidden += 1
        self._seen[rejection.reason] = (start, shown, hidden)


def topic_device(topic: str | None, prefix: str) -> tuple[str | None, str | None]:
    """(device id or None for a gateway, error) for ``<prefix>/devices/<id>/readings`` or
    ``<prefix>/gateways/<id>/readings``; no topic (HTTP) is a batch."""
    if topic is None:
        return None, None
    if topic.startswith(prefix) and topic[len(prefix) : len(prefix) + 1] == "/":
        parts = topic[len(prefix) + 1 :].split("/")
        if len(parts) == 3 and parts[2] == "readings" and parts[1]:
            if parts[0] == "devices":
                return parts[1], None
            if parts[0] == "gateways":
                return None, None
    return None, f"topic {topic[:120]!r} is not {prefix}/devices/<id>/readings or .../gateways/…"


def _refuse_forbidden(checked: Checked, allow: Callable[[Device], bool]) -> None:
    kept = []
    for r in checked.readings:
        if allow(r.device):
            kept.append(r)
        else:
            checked.rejections.append(
                Rejection(
                    Reason.FORBIDDEN_DEVICE,
                    f"the sender may not post readings of device {r.device.id}",
                    "device",
                    r.device.id,
                )
            )
    checked.readings = kept


class Pipeline:
    """Checks, evaluates and stores messages; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SensingSettings,
        *,
        rules: Sequence[Rule] | None = None,
        listeners: Sequence[Callable[[Written, Sequence[Message]], None]] = (),
        store_readings: bool = True,
        shard: Shard | None = None,
    ) -> None:
        self.db = db
        self.shard = shard or Shard()
        # False: readings are checked and evaluated, counted, but not kept (a replay of data
        # kept elsewhere); alerts and dead letters are stored all the same.
        self.store_readings = store_readings
        self.clock = clock
        self.settings = settings
        self.prefix = settings.topic_prefix.rstrip("/")
        self.listeners = list(listeners)
        # Told of alert changes as soon as they are stored (the worker stores them first).
        self.alert_listeners: list[Callable[[Written], None]] = []
        self._area_rules: dict[str, list[Rule]] = {}
        self._fixed_rules = rules
        self._lock = threading.RLock()
        # A deque and an event rather than a queue.Queue: a put and a get of the latter take a
        # lock and a condition each, per message, on both threads (a fifth of the ingest's CPU).
        self._inbox: deque[Message | None] = deque()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._log = _RateLimitedLog()
        self._registry_token: Any = None
        self._rules_token: Any = None
        self._next_refresh = 0.0
        self._next_tick = 0.0
        self.registry: dict[str, Device] = {}
        self.checker = ReadingChecker(self.registry, settings.future_tolerance_s)
        self.engine = self._engine(rules or [])
        self.refresh(force=True)

    # -- registry and rules ----------------------------------------------------------------------

    def _engine(self, rules: Sequence[Rule]) -> Engine:
        alone = self.shard.alone
        self._area_rules = {}
        if not alone:
            for rule in rules:
                if rule.enabled and rule.kind is RuleKind.AREA and rule.of:
                    self._area_rules.setdefault(rule.of, []).append(rule)
        return Engine(rules, combine_areas=alone)

    def _mine(self) -> list[Device]:
        owns = self.shard.owns
        return [d for d in self.registry.values() if owns(d.id)]

    def new_batch(self) -> Batch:
        return Batch(area_rules=self._area_rules)

    def refresh(self, force: bool = False) -> None:
        """Reload the device registry and the rules if they changed since the last look."""
        with self._lock, self.db.reader() as session:
            token = queries.registry_token(session)
            rules_token = None if self._fixed_rules is not None else queries.rules_token(session)
            if force or token != self._registry_token:
                self.registry = queries.device_registry(session)
                self.checker.registry = self.registry
                self._registry_token = token
                self.engine.watch(self._mine(), self.clock.now().timestamp())
            if force or rules_token != self._rules_token:
                rules = (
                    self._fixed_rules
                    if self._fixed_rules is not None
                    else queries.load_rules(session)
                )
                self.engine = self._engine(rules)
                self.engine.watch(self._mine(), self.clock.now().timestamp())
                owns = self.shard.owns
                self.engine.restore(
                    (
                        ActiveAlert(rule, subject, SubjectKind(kind), started.timestamp())
                        for rule, subject, kind, started in open_alerts(session)
                        if kind != SubjectKind.DEVICE.value or owns(subject)
                    ),
                    self.registry,
                )
                self._rules_token = rules_token

    # -- one batch --------------------------------------------------------------------------------

    def _decode(self, message: Message, now: float) -> Checked:
        device_id, topic_error = topic_device(message.topic, self.prefix)
        if topic_error:
            out = Checked()
            out.rejections.append(Rejection(Reason.UNKNOWN_TOPIC, topic_error, "topic"))
            return out
        try:
            doc = orjson.loads(message.payload)
        except orjson.JSONDecodeError as exc:
            out = Checked()
            out.rejections.append(
                Rejection(Reason.MALFORMED_JSON, f"not JSON: {exc}"[:300], "", device_id)
            )
            return out
        return self.checker.check(doc, topic_device=device_id, received=message.received, now=now)

    def _reject(self, batch: Batch, message: Message, rejection: Rejection, now: datetime) -> None:
        self._log.rejected(rejection, message.topic)
        batch.counters[(message.source, rejection.reason.value)] += 1
        payload = (
            message.payload
            if rejection.entry is None
            else orjson.dumps(rejection.entry, default=str)
        )
        batch.dead_letters.append(
            {
                "received_at": now,
                "source": message.source,
                "topic": (message.topic or "")[:255] or None,
                "device_id": rejection.device_id,
                "reason": rejection.reason.value,
                "field": rejection.field[:200],
                "detail": rejection.detail[:500],
                "payload": payload[:PAYLOAD_MAX],
            }
        )

    def _ours(self, message: Message) -> bool:
        """False for a device topic of another shard (read before the payload is decoded)."""
        if self.shard.alone:
            return True
        device_id, _ = topic_device(message.topic, self.prefix)
        return device_id is None or self.shard.owns(device_id)

    def _keep_ours(self, checked: Checked) -> None:
        """A gateway's message holds the devices of every shard: this one keeps its own, and
        refusals of its own devices (of none: the first shard's)."""
        owns = self.shard.owns
        checked.readings = [r for r in checked.readings if owns(r.device.id)]
        checked.rejections = [j for j in checked.rejections if owns(j.device_id)]

    def _checked(self, message: Message, now: float) -> Checked:
        try:
            checked = self._decode(message, now)
        except Exception as exc:
            log.exception("sensing.ingest_bug", topic=message.topic)
            checked = Checked()
            checked.rejections.append(
                Rejection(Reason.MALFORMED, f"{INTERNAL_ERROR}: {exc!r}"[:300], "")
            )
        if not self.shard.alone:
            self._keep_ours(checked)
        return checked

    def add(
        self,
        batch: Batch,
        message: Message,
        *,
        all_or_nothing: bool = False,
        allow: Callable[[Device], bool] | None = None,
    ) -> Outcome:
        """Check and evaluate one message into ``batch`` (not yet written). With
        ``all_or_nothing`` a message with any refused entry adds no reading; ``allow`` refuses
        the readings of devices the sender may not post for (reason ``forbidden_device``)."""
        now = self.clock.now()
        outcome = Outcome()
        if not self._ours(message):
            return outcome  # another shard's device: acknowledged with the batch all the same
        checked = self._checked(message, now.timestamp())
        if allow is not None:
            _refuse_forbidden(checked, allow)
        for rejection in checked.rejections:
            self._reject(batch, message, rejection, now)
        outcome.rejections = checked.rejections
        if all_or_nothing and checked.rejections:
            return outcome
        readings = checked.readings
        if not readings:
            return outcome
        rows = batch.readings
        events = batch.events
        observe = self.engine.observe
        keep = self.store_readings
        for r in readings:
            if keep:
                rows.append((r.device.id, r.quantity, r.ts, r.value))
            fired = observe(r.device, r.quantity, r.value, r.ts)
            if fired:
                events.extend(fired)
        batch.counters[(message.source, queries.ACCEPTED)] += len(readings)
        outcome.accepted = len(readings)
        return outcome

    def tick(self, batch: Batch) -> None:
        batch.events.extend(self.engine.tick(self.clock.now().timestamp()))

    def write(self, batch: Batch, *, attempts: int | None = None) -> Written:
        """Store the batch in one transaction. A busy or unreachable database (an operational
        error) is retried with a back-off: ``attempts`` times, or for as long as it takes (the
        worker: its messages stay unacknowledged meanwhile). Any other error is not retried:
        the same batch would fail the same way. Either failure raises ``StoreUnavailable``;
        the engine is then rebuilt from the stored alerts, since it had already seen the
        batch's readings."""
        delay = 0.1
        tried = 0
        while True:
            tried += 1
            try:
                with self.db.unit_of_work() as session:
                    return write_batch(session, batch, self.clock.now())
            except OperationalError as exc:
                log.error("sensing.write_failed", error=repr(exc)[:300], attempt=tried)
                out_of_time = attempts is not None and tried >= attempts
                if out_of_time or (self._stopping.is_set() and tried >= STOP_ATTEMPTS):
                    self._forget()
                    raise StoreUnavailable(
                        f"the database refused the batch: {exc!r}"[:300]
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception as exc:
                log.exception("sensing.write_bug", error=repr(exc)[:300])
                self._forget()
                raise StoreUnavailable(f"the batch could not be stored: {exc!r}"[:300]) from exc

    def _forget(self) -> None:
        try:
            self.refresh(force=True)
        except Exception as exc:  # noqa: BLE001 - the next housekeeping tries again
            log.error("sensing.refresh_failed", error=repr(exc)[:300])
            self._registry_token = self._rules_token = None

    def process(
        self,
        messages: Iterable[Message],
        *,
        all_or_nothing: bool = False,
        allow: Callable[[Device], bool] | None = None,
        attempts: int | None = None,
        tick: bool = False,
    ) -> Outcome:
        """Check, evaluate and store messages now, in one batch (HTTP batches, replays, tests).
        ``tick`` also looks for silent devices at the clock's time. Raises ``StoreUnavailable``
        when the batch could not be stored (see ``write``)."""
        with self._lock:
            batch = self.new_batch()
            if tick:
                self.tick(batch)
            total = Outcome()
            done = []
            for message in messages:
                outcome = self.add(batch, message, all_or_nothing=all_or_nothing, allow=allow)
                total.accepted += outcome.accepted
                total.rejections += outcome.rejections
                done.append(message)
            total.written = self._commit(batch, done, attempts)
            total.events = batch.events
            return total

    def commit(
        self, batch: Batch, messages: Sequence[Message], attempts: int | None = None
    ) -> Written:
        """Store a batch made with ``add`` and ``tick``, then acknowledge its messages."""
        with self._lock:
            return self._commit(batch, messages, attempts)

    def _commit(
        self,
        batch: Batch,
        messages: Sequence[Message],
        attempts: int | None = None,
        *,
        alerts_first: bool = False,
    ) -> Written:
        if not batch:
            written = Written()
        elif alerts_first and batch.events and (batch.readings or batch.dead_letters):
            alerts = Batch(events=batch.events, area_rules=batch.area_rules)
            written = self.write(alerts, attempts=attempts)
            self._tell_alerts(written)
            rest = Batch(
                readings=batch.readings, dead_letters=batch.dead_letters, counters=batch.counters
            )
            written.readings = self.write(rest, attempts=attempts).readings
        else:
            written = self.write(batch, attempts=attempts)
            self._tell_alerts(written)
        for message in messages:
            if message.ack is not None:
                try:
                    message.ack()
                except Exception as exc:  # noqa: BLE001 - a lost ack means a redelivery
                    log.warning("sensing.ack_failed", error=repr(exc)[:200])
        for listener in self.listeners:
            try:
                listener(written, messages)
            except Exception as exc:  # noqa: BLE001 - a listener cannot undo a stored batch
                log.error("sensing.listener_failed", error=repr(exc)[:300])
        return written

    def _tell_alerts(self, written: Written) -> None:
        if not (written.raised or written.reopened or written.cleared):
            return
        for listener in self.alert_listeners:
            try:
                listener(written)
            except Exception as exc:  # noqa: BLE001 - a listener cannot undo a stored batch
                log.error("sensing.listener_failed", error=repr(exc)[:300])

    # -- the worker thread ------------------------------------------------------------------------

    def submit(self, message: Message | None) -> None:
        self._inbox.append(message)
        if not self._wake.is_set():
            self._wake.set()

    def backlog(self) -> int:
        return len(self._inbox)

    def _take(self, timeout: float | None) -> Message | _Empty | None:
        """The next message (None: stop), or ``EMPTY`` after ``timeout`` seconds."""
        inbox = self._inbox
        if inbox:
            return inbox.popleft()
        self._wake.clear()
        # Looked at again after the clear: a message put in between did not set the event.
        while not inbox:
            if timeout is not None and timeout <= 0:
                return EMPTY
            if not self._wake.wait(timeout):
                return EMPTY
            self._wake.clear()
        return inbox.popleft()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sensing-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is queued, then stop."""
        if self._thread is None:
            return
        self._stopping.set()
        self.submit(None)
        self._thread.join(timeout)
        self._thread = None

    def _housekeeping(self, batch: Batch) -> None:
        mono = time.monotonic()
        if mono >= self._next_refresh:
            self._next_refresh = mono + self.settings.registry_refresh_s
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - keep the cached registry meanwhile
                log.error("sensing.refresh_failed", error=repr(exc)[:300])
        if mono >= self._next_tick:
            self._next_tick = mono + self.settings.silence_check_s
            self.tick(batch)

    def _idle(self) -> None:
        with self._lock:
            batch = self.new_batch()
            self._housekeeping(batch)
            if batch:
                try:
                    self._commit(batch, [])
                except StoreUnavailable as exc:
                    log.error("sensing.tick_not_stored", error=str(exc)[:300])

    def _run(self) -> None:
        max_rows = self.settings.batch_max_rows
        max_wait = self.settings.batch_max_ms / 1000.0
        take = self._take
        while True:
            first = take(1.0)
            if first is None:
                return
            if isinstance(first, _Empty):  # quiet: silent devices are still looked for
                self._idle()
                continue
            with self._lock:
                batch = self.new_batch()
                messages = [first]
                self._housekeeping(batch)
                self.add(batch, first)
                deadline = time.monotonic() + max_wait
                stop = False
                while len(batch.readings) < max_rows:
                    message = take(deadline - time.monotonic())
                    if isinstance(message, _Empty):
                        break
                    if message is None:
                        stop = True
                        break
                    messages.append(message)
                    self.add(batch, message)
                try:
                    self._commit(batch, messages, alerts_first=True)
                except StoreUnavailable as exc:
                    self._dead_letter(messages, str(exc))
            if stop:
                self._drain()
                return

    def _dead_letter(self, messages: Sequence[Message], why: str) -> None:
        """Keep a batch that cannot be stored as dead letters, so that one poisoned batch
        does not stop the stream; if even that fails the messages stay unacknowledged and the
        broker delivers them again after the next reconnection."""
        batch = Batch()
        now = self.clock.now()
        for message in messages:
            self._reject(
                batch,
                message,
                Rejection(Reason.MALFORMED, f"{INTERNAL_ERROR}: {why}"[:300], ""),
                now,
            )
        try:
            self._commit(batch, messages)
        except StoreUnavailable as exc:
            log.error("sensing.batch_dropped", messages=len(messages), error=str(exc)[:300])

    def _drain(self) -> None:
        rest = [m for m in self._inbox if m is not None]
        self._inbox.clear()
        if rest:
            self.process(rest)


__all__ = ["AlertEvent", "Message", "Outcome", "Pipeline", "StoreUnavailable", "topic_device"]
