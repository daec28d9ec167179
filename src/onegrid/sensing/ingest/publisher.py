"""A QoS-1 publisher for simulated or recorded readings (``onegrid sensors simulate``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from onegrid.sensing.ingest.mqtt import broker_address

INFLIGHT = 1000


class Publisher:
    """Publishes at QoS 1 with up to ``INFLIGHT`` messages awaiting the broker's ``PUBACK``."""

    def __init__(self, url: str, client_id: str = "") -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.max_queued_messages_set(0)
        self.acked = 0
        self.sent = 0
        self._lock = threading.Lock()
        self.client.on_publish = self._on_publish
        host, port, tls, user, password = broker_address(url)
        if tls:
            self.client.tls_set()
        if user:
            self.client.username_pw_set(user, password)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def _on_publish(self, *_args: Any) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        # Keep at most what may be in flight in paho's hands: its queue beyond that has been
        # seen to stall under a burst (acknowledgements stop coming back).
        while self.sent - self.acked >= INFLIGHT:
            time.sleep(0.002)
        self.client.publish(topic, payload, qos=1)
        self.sent += 1

    def flush(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.acked < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self.flush()
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(
    publisher: Publisher,
    messages: Iterable[tuple[float, str, bytes]],
    *,
    live_from: float | None = None,
    rate: float = 0.0,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Publish (ts, topic, payload) in order. Messages stamped after ``live_from`` wait for
    their time to come; ``rate`` caps messages a second (0: no cap). Returns the count."""
    count = 0
    started = time.monotonic()
    for ts, topic, payload in messages:
        if live_from is not None and ts > live_from:
            wait = ts - now()
            if wait > 0:
                sleep(wait)
        elif rate > 0:
            ahead = count / rate - (time.monotonic() - started)
            if ahead > 0:
                sleep(ahead)
        publisher.publish(topic, payload)
        count += 1
    return count
