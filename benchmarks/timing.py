"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/<script>.py``,
which puts this folder on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object, float]:
    """Best wall time of ``repeat`` calls (s), the last result, and the best process CPU time
    (all threads; less sensitive than wall time to other jobs on a shared machine)."""
    best, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, out, best_cpu
