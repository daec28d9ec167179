"""What several benchmarks share: where the real public data is, and the best-of timing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(
    os.environ.get("ONEGRID_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
