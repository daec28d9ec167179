from __future__ import annotations

import pytest

from onegrid.sensing.ingest.pipeline import topic_device


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("onegrid/v1/devices/AQ-1/readings", ("AQ-1", None)),
        ("onegrid/v1/gateways/gw-7/readings", (None, None)),
        (None, (None, None)),
    ],
)
def test_topics_name_the_device_or_a_gateway(
    topic: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert topic_device(topic, "onegrid/v1") == expected


@pytest.mark.parametrize(
    "topic",
    [
        "onegrid/v1/devices/AQ-1",
        "onegrid/v1/devices//readings",
        "onegrid/v1/things/AQ-1/readings",
        "other/v1/devices/AQ-1/readings",
        "onegrid/v1x/devices/AQ-1/readings",
        "onegrid/v1/devices/AQ-1/readings/extra",
    ],
)
def test_other_topics_are_refused(topic: str) -> None:
    device, error = topic_device(topic, "onegrid/v1")
    assert device is None and error
