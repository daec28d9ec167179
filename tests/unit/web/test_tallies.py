"""The map's kept counts: one count per key at a time, renewed before they expire, and never
served across a write."""

from __future__ import annotations

import threading
from typing import Any

from onegrid.web.tallies import FineCell, Tallies

TTL = 10.0


def _cells(total: int) -> list[FineCell]:
    return [FineCell("8a31aa5a1a47fff", "110101", total, 0, 0, 39.91, 116.3)]


class Probe:
    """A version equal to ``value`` that tells when a reader compares it with the kept one,
    which a reader does holding the lock that a finishing count must take."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.compared = threading.Event()

    def __eq__(self, other: object) -> bool:
        self.compared.set()
        return other == self.value

    __hash__ = None  # type: ignore[assignment]


class Counter:
    def __init__(self, total: int, gate: threading.Event | None = None) -> None:
        self.total = total
        self.gate = gate
        self.calls = 0
        self.started = threading.Event()

    def __call__(self) -> list[FineCell]:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(timeout=30)
        return _cells(self.total)


def _refreshes() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "map-tallies-refresh"]


def test_two_readers_at_expiry_cause_one_count() -> None:
    kept = Tallies()
    assert kept.read("k", "v1", 0.0, TTL, Counter(3))[0].total == 3
    expired = TTL + 1  # nothing written
    gate = threading.Event()
    first, second = Counter(4, gate), Counter(4)
    probe = Probe("v1")
    answers: dict[str, Any] = {}

    def ask(name: str, version: object, count: Counter) -> None:
        answers[name] = kept.read("k", version, expired, TTL, count)

    one = threading.Thread(target=ask, args=("one", "v1", first))
    one.start()
    assert first.started.wait(timeout=30)  # the first reader is counting, holding the flight
    two = threading.Thread(target=ask, args=("two", probe, second))
    two.start()
    # The second reader has looked (under the lock the first must take to finish): it waits.
    assert probe.compared.wait(timeout=30)
    gate.set()
    one.join(timeout=30)
    two.join(timeout=30)
    assert first.calls == 1 and second.calls == 0
    assert answers["one"][0].total == answers["two"][0].total == 4


def test_a_reader_after_a_write_counts_again_however_young_the_counts() -> None:
    kept = Tallies()
    kept.read("k", "v1", 0.0, TTL, Counter(3))
    again = Counter(4)
    assert kept.read("k", "v2", 1.0, TTL, again)[0].total == 4  # the version moved: a write
    assert again.calls == 1
    unused = Counter(5)
    assert kept.read("k", "v2", 2.0, TTL, unused)[0].total == 4 and unused.calls == 0


def test_old_counts_are_served_while_one_refresh_renews_them() -> None:
    kept = Tallies()
    kept.read("k", "v1", 0.0, TTL, Counter(3))
    old = TTL * 0.75  # not expired
    gate = threading.Event()
    refreshed = 0

    def refresh() -> tuple[Any, list[FineCell]]:
        nonlocal refreshed
        refreshed += 1
        assert gate.wait(timeout=30)
        return "v1", _cells(7)

    never = Counter(99)
    # Both readers are answered at once from the kept counts; only one refresh starts.
    assert kept.read("k", "v1", old, TTL, never, refresh)[0].total == 3
    assert kept.read("k", "v1", old, TTL, never, refresh)[0].total == 3
    gate.set()
    for t in _refreshes():
        t.join(timeout=30)
    assert refreshed == 1 and never.calls == 0
    # Past the first count's life, within the refresh's (counted at ``old``).
    assert kept.read("k", "v1", TTL * 1.5, TTL, never)[0].total == 7 and never.calls == 0


def test_a_refresh_that_read_an_older_version_is_not_served_after_a_write() -> None:
    kept = Tallies()
    kept.read("k", "v1", 0.0, TTL, Counter(3))
    kept.read("k", "v1", TTL * 0.75, TTL, Counter(99), lambda: ("v1", _cells(3)))
    for t in _refreshes():
        t.join(timeout=30)
    after = Counter(4)
    assert kept.read("k", "v2", TTL * 0.8, TTL, after)[0].total == 4 and after.calls == 1


def test_when_the_counting_reader_fails_a_waiting_one_counts_itself() -> None:
    kept = Tallies()
    kept.read("k", "v1", 0.0, TTL, Counter(3))
    gate = threading.Event()
    started = threading.Event()

    def broken() -> list[FineCell]:
        started.set()
        assert gate.wait(timeout=30)
        raise RuntimeError("database went away")

    failures: list[BaseException] = []

    def ask_broken() -> None:
        try:
            kept.read("k", "v1", TTL + 1, TTL, broken)
        except RuntimeError as e:
            failures.append(e)

    one = threading.Thread(target=ask_broken)
    one.start()
    assert started.wait(timeout=30)
    second = Counter(5)
    probe = Probe("v1")
    answer: list[list[FineCell]] = []
    late = TTL + 1
    two = threading.Thread(target=lambda: answer.append(kept.read("k", probe, late, TTL, second)))
    two.start()
    assert probe.compared.wait(timeout=30)
    gate.set()
    one.join(timeout=30)
    two.join(timeout=30)
    assert len(failures) == 1
    assert second.calls == 1 and answer[0][0].total == 5


def test_a_clock_moved_past_the_life_or_set_back_counts_again() -> None:
    kept = Tallies()
    kept.read("k", "v1", 100.0, TTL, Counter(3))
    later, earlier = Counter(4), Counter(5)
    assert kept.read("k", "v1", 100.0 + TTL + 1, TTL, later)[0].total == 4
    assert kept.read("k", "v1", 50.0, TTL, earlier)[0].total == 5
    kept_again = Counter(6)
    assert kept.read("k", "v1", 51.0, TTL, kept_again)[0].total == 5  # kept from 50 on
    assert later.calls == earlier.calls == 1 and kept_again.calls == 0
