"""Trilinear sampling of 3D volumes at arbitrary points, bit-identical to scipy's.

``scipy.ndimage.map_coordinates(v, coords, order=1, mode=...)`` for ``mode`` "constant"
(``cval`` 0) or "nearest", computed by a parallel numba loop that evaluates each point with
scipy's own arithmetic: corner weights ``1 - t`` and ``t`` with ``t = x - floor(x)`` per
axis, the eight corners summed in C order, each as ``value * w_0 * w_1 * w_2`` in double
precision, the sum cast to the output type (scipy's ``NI_GeometricTransform`` for spline
order 1). The result equals scipy's bit for bit (tests/test_perf_batched.py), and several
volumes sampled at the same points share the weights.

Why: a synthetic subject samples five tissue maps and three smooth noise fields at ~2 M
points (128^3); scipy's general spline loop spends ~0.1 s per map single-threaded, which on
``benchmarks/dataset_throughput.py --size medium`` (8 samples per subject) was a third of
the build. This loop is ~4x faster on one thread and runs on the worker's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache

import numpy as np

__all__ = ["trilinear"]

MODES = ("constant", "nearest")


def trilinear(
    volumes: Sequence[np.ndarray],
    coords: Sequence[np.ndarray],
    mode: str = "constant",
    threads: int = 1,
) -> list[np.ndarray]:
    """Sample each volume at the points ``coords`` (voxel index units), order 1.

    Parameters
    ----------
    volumes : sequence of ndarray, each of shape (n0, n1, n2), all of one dtype
        float32 or float64.
    coords : sequence of three arrays of one shape
        Point coordinates along the three axes (float64).
    mode : {"constant", "nearest"}
        As in scipy: "constant" gives 0 for points outside ``[0, n - 1]`` on any axis,
        "nearest" extends the edge values (the corner indices are clamped).
    threads : int
        numba threads (the values do not depend on it).

    Returns
    -------
    list of ndarray
        One per volume, of ``coords[0].shape`` and the volumes' dtype.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    vols = np.ascontiguousarray(np.stack([np.asarray(v) for v in volumes]))
    if vols.ndim != 4 or vols.dtype not in (np.float32, np.float64):
        raise ValueError("volumes must be 3D float32 or float64 arrays of one shape")
    shape = np.shape(coords[0])
    c = [np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in coords]
    out = np.empty((vols.shape[0], c[0].size), vols.dtype)
    import numba

    fn = _compiled()
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        fn(vols, c[0], c[1], c[2], mode == "nearest", out)
    finally:
        numba.set_num_threads(previous)
    return [o.reshape(shape) for o in out]


_SOURCE = '''"""mrsim trilinear sampling kernel (from mrsim.dataset.trilinear)."""
import math

import numba


@numba.njit(parallel=True, nogil=True, cache=True)
def kernel(v, c0, c1, c2, nearest, out):
    n0 = v.shape[1]
    n1 = v.shape[2]
    n2 = v.shape[3]
    for p in numba.prange(c0.size):
        x = c0[p]
        y = c1[p]
        z = c2[p]
        if not nearest and not (0.0 <= x <= n0 - 1 and 0.0 <= y <= n1 - 1 and 0.0 <= z <= n2 - 1):
            for m in range(v.shape[0]):
                out[m, p] = 0.0
            continue
        fx = math.floor(x)
        fy = math.floor(y)
        fz = math.floor(z)
        tx = x - fx
        ty = y - fy
        tz = z - fz
        ux = 1.0 - tx
        uy = 1.0 - ty
        uz = 1.0 - tz
        # corner indices clamped to the volume ("nearest" extends the edge values)
        i = min(max(int(fx), 0), n0 - 1)
        j = min(max(int(fy), 0), n1 - 1)
        k = min(max(int(fz), 0), n2 - 1)
        i1 = min(max(int(fx) + 1, 0), n0 - 1)
        j1 = min(max(int(fy) + 1, 0), n1 - 1)
        k1 = min(max(int(fz) + 1, 0), n2 - 1)
        for m in range(v.shape[0]):
            t = 0.0
            t += v[m, i, j, k] * ux * uy * uz
            t += v[m, i, j, k1] * ux * uy * tz
            t += v[m, i, j1, k] * ux * ty * uz
            t += v[m, i, j1, k1] * ux * ty * tz
            t += v[m, i1, j, k] * tx * uy * uz
            t += v[m, i1, j, k1] * tx * uy * tz
            t += v[m, i1, j1, k] * tx * ty * uz
            t += v[m, i1, j1, k1] * tx * ty * tz
            out[m, p] = t
'''

_LOCK = threading.Lock()


@cache
def _load():
    from mrsim.kspace.line_interp import compile_cached

    return compile_cached(_SOURCE, "trilinear").kernel


def _compiled():
    with _LOCK:
        return _load()
