"""The MQTT source: paho-mqtt 2 over MQTT 5, a persistent session, QoS 1, manual acknowledgement.

* The client id is fixed and the session outlives the connection (``clean_start`` false and a
  session expiry interval), so the broker keeps the subscription and queues readings while the
  ingester is away or the broker restarts (with persistence on).
* Messages are acknowledged only after the batch holding them is committed (paho's
  ``manual_ack``); until then the broker redelivers them after any break.
* The client's Receive Maximum is 65,535: the broker may have that many messages in flight to
  it, enough for the worker's batches at full speed (MQTT 3.1.1 has no such setting and brokers
  default to 20 in flight, which would throttle the batching to a few hundred messages a second).
* Reconnection is paho's own loop, with a back-off from 1 s to 30 s.

The client thread only enqueues; everything else happens on the pipeline's worker.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from onegrid.core.logging import get_logger
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.settings import SensingSettings

log = get_logger("onegrid.sensing.mqtt")
QOS = 1
RECEIVE_MAXIMUM = 65535


def broker_address(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """(host, port, tls, user, password) from ``mqtt[s]://[user:password@]host[:port]``."""
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl")
    port = parts.port or (8883 if tls else 1883)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname or "127.0.0.1", port, tls, user, password


def subscriptions(prefix: str) -> list[str]:
    prefix = prefix.rstrip("/")
    return [f"{prefix}/devices/+/readings", f"{prefix}/gateways/+/readings"]


class MqttIngester:
    """Subscribes to the readings topics and feeds the pipeline; see the module docstring."""

    def __init__(
        self,
        pipeline: Pipeline,
        settings: SensingSettings,
        *,
        client_id: str | None = None,
        url: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.url = url or settings.mqtt_url
        self.topics = subscriptions(settings.topic_prefix)
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed the subscriptions
        self.connections = 0
        self.resumed = 0  # connections on which the broker still had our session
        self.received = 0
        self._closing = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        host, port, tls, user, password = broker_address(self.url)
        self._host, self._port = host, port
        if tls:
            self.client.tls_set()
        if user:
            self.client.username_pw_set(user, password)

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        return props

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("sensing.mqtt_refused", reason=str(reason))
            return
        self.connections += 1
        present = bool(getattr(flags, "session_present", False))
        self.resumed += present
        log.info(
            "sensing.mqtt_connected", broker=f"{self._host}:{self._port}", session_present=present
        )
        client.subscribe([(t, QOS) for t in self.topics])
        self.connected.set()

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _props: Any,
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("sensing.mqtt_subscribe_refused", reasons=refused)
            return
        self.subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        log.warning("sensing.mqtt_disconnected", reason=str(reason))

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self._closing:
            return
        self.received += 1
        ack = functools.partial(client.ack, msg.mid, msg.qos) if msg.qos else None
        self.pipeline.submit(
            Message(
                "mqtt", msg.topic, bytes(msg.payload), self.pipeline.clock.now().timestamp(), ack
            )
        )

    def start(self) -> None:
        """Connect (retrying in the background until the broker answers) and start receiving."""
        self.pipeline.start()
        self.client.connect_async(
            self._host,
            self._port,
            keepalive=30,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Stop taking messages, store and acknowledge what was taken, then disconnect.
        Messages that arrive meanwhile stay unacknowledged: the broker keeps them for the next
        start."""
        self._closing = True
        self.pipeline.stop()
        time.sleep(0.2)  # let the network loop send the last acknowledgements
        self.client.disconnect()
        self.client.loop_stop()
