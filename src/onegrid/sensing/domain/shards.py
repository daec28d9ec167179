"""Shards: which ingest process keeps the rule state of which device.

Rule state (a threshold's held window, the last value a state change saw, silence) lives in the
memory of one process per device, so that N ingest processes never evaluate the same device.
A device belongs to shard ``crc32(device id) mod N``: a function of the id alone, so every
process agrees without asking anyone, at once, from the topic, and even for a device none of
them has registered yet (exactly one of them dead-letters it). Changing N moves devices between
shards; a moved device's state starts afresh from the stored open alerts, as after a restart.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from onegrid.core.errors import DomainError


@dataclass(frozen=True, slots=True)
class Shard:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise DomainError(f"shard {self.index}/{self.count}: the index is 0 … count − 1")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``i/N``: the i-th of N shards, counted from 0."""
        index, sep, count = text.partition("/")
        if not sep or not index.strip().isdigit() or not count.strip().isdigit():
            raise DomainError(f"shard {text!r} is not i/N, e.g. 0/2")
        return cls(int(index), int(count))

    @property
    def alone(self) -> bool:
        return self.count == 1

    def owns(self, device_id: str | None) -> bool:
        """Whether this shard keeps ``device_id`` (a message without one: the first shard)."""
        if self.count == 1:
            return True
        if not device_id:
            return self.index == 0
        return zlib.crc32(device_id.encode("utf-8", "surrogatepass")) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
