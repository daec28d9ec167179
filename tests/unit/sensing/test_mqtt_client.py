"""The ingester's own reading of a PUBLISH packet gives what paho's decoder gives, and leaves
anything it does not read to paho."""

from __future__ import annotations

import pytest
from paho.mqtt import _packet
from paho.mqtt.client import MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from onegrid.sensing.ingest.mqtt import _BufferedClient

PUBLISH = 0x30


def _packet_of(topic: bytes, qos: int, mid: int, payload: bytes, props: Properties) -> bytearray:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += mid.to_bytes(2, "big")
    return bytearray(body + props.pack() + payload)


def _properties(user: int) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    props.PayloadFormatIndicator = 1
    # Enough user properties for a multi-byte properties length.
    props.UserProperty = [(f"key{i}", "v" * 40) for i in range(user)]
    return props


def _client() -> tuple[_BufferedClient, list[tuple[str, bytes, int, int]]]:
    client = _BufferedClient(CallbackAPIVersion.VERSION2, protocol=MQTTv5, manual_ack=True)
    got: list[tuple[str, bytes, int, int]] = []
    client.deliver = lambda *args: got.append(args)
    return client, got


@pytest.mark.parametrize(("qos", "user"), [(0, 0), (1, 0), (1, 3), (1, 40)])
def test_the_fast_path_reads_what_paho_reads(qos: int, user: int) -> None:
    client, got = _client()
    header = PUBLISH | (qos << 1)
    packet = _packet_of(
        b"onegrid/v1/devices/AQ-1/readings", qos, 513, b'{"ts": 1}', _properties(user)
    )
    want = _packet.decode_publish(header, bytes(packet), MQTTv5)
    client._in_packet = {"command": header, "packet": packet}
    client._handle_publish()
    assert got == [(want.topic.decode(), want.payload, want.qos, want.mid)]


def test_a_malformed_packet_is_left_to_paho() -> None:
    client, got = _client()
    seen: list[object] = []
    client.on_message = lambda *args: seen.append(args)
    header = PUBLISH | 2
    client._in_packet = {"command": header, "packet": bytearray(b"\x00\x40onegrid")}
    with pytest.raises(_packet.MalformedPacket):  # paho's decoder names the problem
        client._handle_publish()
    assert got == [] and seen == []
