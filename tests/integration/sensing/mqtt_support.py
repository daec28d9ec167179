"""A publisher for the tests, waiting helpers, and a private Mosquitto that a test may stop."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support import need, port_open


def need_broker() -> None:
    need(port_open("127.0.0.1", 1883), "Mosquitto", "start it: mosquitto -d")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Publisher:
    """A QoS-1 publisher with a persistent session: it resends what the broker did not ack."""

    def __init__(self, port: int = 1883, client_id: str | None = None) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 2)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 120
        self.client.connect("127.0.0.1", port, clean_start=not client_id, properties=props)
        self.sent = 0
        self.acked: set[int] = set()
        self.client.on_publish = self._on_publish
        self.client.loop_start()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _reason: Any, _props: Any) -> None:
        self.acked.add(mid)

    def publish(self, topic: str, doc: Any, qos: int = 1) -> None:
        """Queue a message; while the broker is away paho keeps it and sends it later."""
        payload = doc if isinstance(doc, bytes) else orjson.dumps(doc)
        self.client.publish(topic, payload, qos=qos)
        self.sent += 1

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until the broker has acknowledged every message published."""
        wait_for(lambda: len(self.acked) >= self.sent, "the broker's acknowledgements", timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A Mosquitto of the test's own, with persistence, that the test may stop and start."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        need(Path(binary).exists(), "the mosquitto binary", "install mosquitto")
        self.binary = binary
        self.port = free_port()
        self.root = root
        (root / "data").mkdir(parents=True, exist_ok=True)
        self.config = root / "mosquitto.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    # Run as whoever runs the tests: as root, mosquitto would switch to its own
                    # user, which cannot write the test's directory.
                    f"user {getpass.getuser()}",
                    "allow_anonymous true",
                    "persistence true",
                    f"persistence_location {root / 'data'}/",
                    "max_queued_messages 0",
                    f"log_dest file {root / 'mosquitto.log'}",
                ]
            )
            + "\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)])
        wait_for(lambda: port_open("127.0.0.1", self.port, 0.2), "the private broker", 10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: mosquitto saves its state, then exits
            self.process.wait(10)
            self.process = None
