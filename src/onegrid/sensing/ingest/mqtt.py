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

Several ingest processes: each runs with a shard i/N of its own (``Shard``) and connects with
the client id ``<id>-<i>of<N>``, so each has a persistent session and is sent every reading; its
pipeline keeps its own devices' and acknowledges the rest with its batch. A shared subscription
(``$share/…``) would hand a device's readings to whichever process is free and split its rule
state; devices keep publishing to the same topics whatever N is.

Throughput: paho reads a packet with three or four ``recv`` calls and a ``select`` per packet,
and queues each ``PUBACK`` as a packet of its own with a wake-up of the network thread. Every
one of those syscalls hands the GIL over to the worker, and the network thread then waits for
it back: at 25,000 messages a second the client thread, not the database, was the limit.
``_BufferedClient`` reads the socket in 256 KiB chunks and parses every packet already read
before it selects again, and writes the acknowledgements of a committed batch as one send. It
also reads a QoS 0/1 ``PUBLISH`` itself (topic, packet id, payload; the MQTT 5 properties are
skipped, since the client allows no topic aliases and reads no other property) and hands it to
the ingester without paho's per-message ``MQTTMessage``, ``Properties`` and callback matching,
which cost more than the checks and rules of the message. Anything else goes to paho.
Acknowledgements of messages received on an earlier connection are dropped: the broker
delivers those again on the new one (and the readings' key stores them once).
"""

from __future__ import annotations

import functools
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from onegrid.core.logging import get_logger
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.settings import SensingSettings

log = get_logger("onegrid.sensing.mqtt")
QOS = 1
RECEIVE_MAXIMUM = 65535
READ_CHUNK = 256 * 1024
_PUBACK = 0x40


class _BufferedClient(mqtt.Client):
    """paho's client with buffered reads and batched acknowledgements (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rsock: object = None
        self._rbuf = b""
        self._rpos = 0
        self.generation = 0  # one more at each connection
        # (topic, payload, qos, packet id) of every QoS 0/1 PUBLISH, instead of on_message.
        self.deliver: Callable[[str, bytes, int, int], None] | None = None

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        deliver = self.deliver
        if deliver is None or qos > 1 or self._protocol != mqtt.MQTTv5:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        try:
            end = 2 + int.from_bytes(packet[0:2], "big")
            topic = packet[2:end].decode("utf-8")
            mid = 0
            if qos:
                mid = int.from_bytes(packet[end : end + 2], "big")
                end += 2
            length, shift = 0, 0
            while True:  # the properties' length: a variable byte integer
                byte = packet[end]
                end += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80 or shift > 21:
                    break
            end += length
            if end > len(packet) or not topic:
                raise ValueError("short packet")
        except (IndexError, ValueError):  # malformed: paho's own decoder says how
            return super()._handle_publish()
        deliver(topic, bytes(packet[end:]), qos, mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._sock is not self._rsock:  # a new connection: nothing read is valid for it
            self._rsock, self._rbuf, self._rpos = self._sock, b"", 0
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(max(bufsize, READ_CHUNK))
            if len(data) <= bufsize:
                return data
            self._rbuf, self._rpos = data, 0
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def _buffered(self) -> bool:
        return self._sock is not None and self._sock is self._rsock and self._rpos < len(self._rbuf)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Each pass parses at least one byte of the buffer, so this ends.
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._buffered():
            rc = super().loop_read(max_packets)
        return rc

    def ack_all(self, generation: int, mids: Sequence[int]) -> None:
        """``PUBACK`` every message id, in one packet buffer and one wake-up of the network
        thread; nothing if the connection they came on is gone."""
        if mids and generation == self.generation and self._sock is not None:
            packet = b"".join([struct.pack("!BBH", _PUBACK, 2, mid) for mid in mids])
            self._packet_queue(_PUBACK, packet, 0, 1)


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
        self._acks: list[tuple[int, int]] = []  # (connection, message id), stored not yet acked
        shard = pipeline.shard
        client_id = client_id or settings.mqtt_client_id
        if not shard.alone:
            # A session of its own per shard: each one receives every reading and keeps its own.
            client_id = f"{client_id}-{shard.index}of{shard.count}"
        self.client_id = client_id
        self.client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.deliver = self._deliver
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        # First: the broker hears of a committed batch before anything else runs.
        pipeline.listeners.insert(0, self._flush_acks)
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
        self.client.generation += 1
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

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """What paho's own decoder delivers (``_BufferedClient`` hands it what it does not read
        itself)."""
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # dead-lettered as an unknown topic, never raised into paho
            topic = "(a topic that is not UTF-8)"
        self._deliver(topic, bytes(msg.payload), msg.qos, msg.mid)

    def _deliver(self, topic: str, payload: bytes, qos: int, mid: int) -> None:
        if self._closing:
            return
        self.received += 1
        ack = functools.partial(self._acks.append, (self.client.generation, mid)) if qos else None
        received = self.pipeline.clock.now().timestamp()
        self.pipeline.submit(Message("mqtt", topic, payload, received, ack))

    def _flush_acks(self, _written: object, _messages: object) -> None:
        """After each commit (on the worker thread, which is the only one to touch ``_acks``)."""
        acks, self._acks = self._acks, []
        generation = self.client.generation
        self.client.ack_all(generation, [mid for gen, mid in acks if gen == generation])

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
