"""Per-phase wall-clock accounting of a build (NUFFT, I/O, ...), per thread.

Sample functions wrap their expensive steps in ``with phase("nufft"):``; the
builder collects and resets the totals after each shard. Timings never enter
the dataset files (they would make builds non-reproducible); they only feed
the progress report and ``benchmarks/dataset_throughput.py``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["phase", "count", "take_phases"]

_local = threading.local()


def _totals() -> defaultdict[str, float]:
    if not hasattr(_local, "totals"):
        _local.totals = defaultdict(float)
    return _local.totals


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the wall time of the ``with`` block to phase ``name`` (this thread)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _totals()[name] += time.perf_counter() - t0


def count(name: str, n: float = 1.0) -> None:
    """Add ``n`` to the counter ``name`` (kept with the phase totals; by convention counter
    names start with ``n_``)."""
    _totals()[name] += n


def take_phases() -> dict[str, float]:
    """Return this thread's phase totals (seconds) and reset them."""
    out = dict(_totals())
    _totals().clear()
    return out
