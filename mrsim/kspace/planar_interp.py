"""Planar line interpolation batched over planes: one set of 2D lines, repeated in every plane.

:func:`mrsim.kspace.line_interp.interp_lines_planar` interpolates lines that stay in planes
of the first array axis (rotations about that axis). In a Cartesian acquisition whose
motion state changes with one phase-encode index only, every plane holds *the same* 2D
lines: seed 001's MP-RAGE (readout z, one shot per ``k_y``, the ``k_x`` partitions inside
the shot) moved about x gives line ``(k_x, k_y)`` the pose of shot ``k_y``, so its in-plane
coordinates, band, and translation ramp (no x translation) do not depend on ``k_x``. Then
the tap weights of a 2D sample are the same in all ``P`` planes and

    v[p, c, j] = sum_{taps (a, b)} w_a(c, j) w_b(c, j) G[p, i_a, i_b]

is, per sample ``(c, j)``, ``ns^2`` contiguous vector updates of length ``P`` on the planes
stored innermost (``G2[i_a, i_b, p]``): the kernel weights are evaluated once per ``P``
outputs instead of once per output, and the inner loop is a plain SIMD multiply-add over
planes. :func:`plane_batches` detects that structure (exactly equal 2D line parameters in
every plane; otherwise the caller keeps the per-line path) and :func:`interp_plane_batched`
evaluates it. Same kernel and the same values up to float rounding (the taps are summed in
one pass instead of row sums then readout sums; tests/test_perf_batched.py).

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
Seed 001 (MC-Net): in-plane rotations about the sagittal slice normal.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["PlaneBatches", "plane_batches", "contracted_planes", "interp_plane_batched"]


@dataclass(frozen=True)
class PlaneBatches:
    """Lines of :func:`plane_batches` as ``planes x classes``.

    ``line[p, c]`` is the line index of class ``c`` in plane ``p`` (first-axis position
    ``planes[p]``, fine-grid units); ``origin``, ``step`` (C, 2) the class's in-plane line
    (fine-grid units, axes 1 and 2), ``lo``, ``hi`` its band and ``ph0``, ``dph`` its phase.
    """

    planes: np.ndarray
    line: np.ndarray
    origin: np.ndarray
    step: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    ph0: np.ndarray
    dph: np.ndarray


def plane_batches(
    origin: np.ndarray,
    step: np.ndarray,
    n_samples: int,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    phase: tuple[np.ndarray, np.ndarray] | None = None,
) -> PlaneBatches | None:
    """Group planar lines (``step[:, 0] == 0``) as the same 2D lines in every plane.

    Lines are grouped by their first coordinate (the plane); within each plane they are
    kept in their given order. The grouping applies when every plane holds the same number
    of lines and the ``k``-th line of every plane has bit-for-bit the same in-plane origin,
    step, band and phase as the ``k``-th line of the first plane. Returns None otherwise
    (or when there is only one plane).

    Parameters
    ----------
    origin, step : ndarray, shape (L, 3)
        As for :func:`mrsim.kspace.line_interp.interp_lines` (fine-grid units).
    n_samples : int
    band, phase : optional
        As for :func:`mrsim.kspace.line_interp.interp_lines`.
    """
    L = origin.shape[0]
    planes, which = np.unique(origin[:, 0], return_inverse=True)
    P = len(planes)
    if P < 2 or L % P:
        return None
    C = L // P
    if np.any(np.bincount(which, minlength=P) != C):
        return None
    line = np.argsort(which, kind="stable").reshape(P, C)
    S = int(n_samples)
    lo = np.zeros(L, np.int64) if band is None else np.asarray(band[0], np.int64).reshape(L)
    hi = np.full(L, S - 1, np.int64) if band is None else np.asarray(band[1], np.int64).reshape(L)
    ph0 = np.zeros(L) if phase is None else np.asarray(phase[0], np.float64).reshape(L)
    dph = np.zeros(L) if phase is None else np.asarray(phase[1], np.float64).reshape(L)
    cols = [origin[:, 1], origin[:, 2], step[:, 1], step[:, 2], lo, hi, ph0, dph]
    for v in cols:
        per_plane = v[line]
        if not np.array_equal(per_plane, np.broadcast_to(per_plane[:1], per_plane.shape)):
            return None
    first = line[0]
    return PlaneBatches(
        planes,
        np.ascontiguousarray(line, dtype=np.int64),
        np.ascontiguousarray(np.stack([origin[first, 1], origin[first, 2]], 1)),
        np.ascontiguousarray(np.stack([step[first, 1], step[first, 2]], 1)),
        np.ascontiguousarray(lo[first]),
        np.ascontiguousarray(hi[first]),
        np.ascontiguousarray(ph0[first]),
        np.ascontiguousarray(dph[first]),
    )


def plane_weights(planes: np.ndarray, kernel, n0: int) -> tuple[np.ndarray, np.ndarray]:
    """First-axis taps of each plane: weights (P, ns) float64 and grid rows (P, ns)."""
    ns = kernel.ns
    start = np.ceil(planes - ns / 2.0)
    z = 2.0 * (start - (planes - ns / 2.0)) - 1.0
    w = np.stack([np.polyval(kernel.coef[:, i], z) for i in range(ns)], axis=1)
    rows = (start.astype(np.int64)[:, None] + np.arange(ns)) % n0
    return w, rows


def contracted_planes(grid: np.ndarray, planes: np.ndarray, kernel) -> np.ndarray:
    """The planes of ``grid`` contracted along axis 0, stored planes innermost.

    Plane ``p`` is ``sum_i w_i(p) grid[row_i(p)]`` (the first-axis kernel taps at position
    ``planes[p]``, each plane's contraction the one of the per-line planar path), returned as
    ``G2[i_1, i_2, p]`` (complex64, C-contiguous). Inside
    :func:`mrsim.kspace.reuse.reuse_spectra`, for a stored (upsampled) grid it is computed
    once and served again (:func:`mrsim.kspace.reuse.memoized_derived`).
    """
    from mrsim.kspace.reuse import memoized_derived

    def compute() -> np.ndarray:
        w, rows = plane_weights(planes, kernel, grid.shape[0])
        out = np.empty(grid.shape[1:] + (len(planes),), np.complex64)
        plane = np.empty(grid.shape[1:], np.complex64)
        for p in range(len(planes)):
            np.einsum("i,ijk->jk", w[p].astype(np.float32), grid[rows[p]], out=plane)
            out[:, :, p] = plane
        return out

    settings = (planes.tobytes(), kernel.ns, kernel.coef.tobytes())
    return memoized_derived("contracted_planes", grid, settings, compute)


def interp_plane_batched(
    g2: np.ndarray,
    batches: PlaneBatches,
    n_samples: int,
    kernel,
    scale: float = 1.0,
    nthreads: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Interpolate the lines of ``batches`` on the contracted planes ``g2``.

    Parameters
    ----------
    g2 : ndarray, complex64, shape (n_1, n_2, P)
        From :func:`contracted_planes` (periodic on both in-plane axes).
    batches : PlaneBatches
    n_samples : int
    kernel : mrsim.kspace.line_interp.KernelTaps
    scale : float
    nthreads : int
        numba threads (the values do not depend on it: each sample is one task's).
    out : ndarray, complex64, shape (L, n_samples), optional

    Returns
    -------
    ndarray, complex64, shape (L, n_samples)
        Line ``batches.line[p, c]`` in row order, like
        :func:`mrsim.kspace.line_interp.interp_lines`.
    """
    P, C = batches.line.shape
    if g2.dtype != np.complex64 or not g2.flags.c_contiguous or g2.shape[2] != P:
        raise ValueError(f"g2 must be a C-contiguous complex64 (n_1, n_2, {P}) array")
    S = int(n_samples)
    if out is None:
        out = np.empty((P * C, S), np.complex64)
    coef = kernel.coef.astype(np.float32)
    fn = _compiled()
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(nthreads), numba.config.NUMBA_NUM_THREADS)))
    try:
        fn(
            g2.view(np.float32), batches.origin, batches.step, S, coef, batches.lo, batches.hi,
            batches.ph0, batches.dph, float(scale), batches.line, out,
        )  # fmt: skip
    finally:
        numba.set_num_threads(previous)
    return out


_SOURCE = '''"""mrsim batched planar interpolation kernel (from mrsim.kspace.planar_interp)."""
import math

import numba
import numpy as np


@numba.njit(parallel=True, fastmath=True, nogil=True, cache=True)
def kernel(g, org, step, nsamp, coef, lo, hi, ph0, dph, scale, line, out):
    n1 = g.shape[0]
    n2 = g.shape[1]
    p2 = g.shape[2]
    n_planes = p2 // 2
    nc = coef.shape[0]
    ns = coef.shape[1]
    hns = ns / 2.0
    for c in numba.prange(org.shape[0]):
        acc = np.empty(p2, np.float32)
        wa = np.empty(ns, np.float32)
        wb = np.empty(ns, np.float32)
        ia = np.empty(ns, np.int64)
        ib = np.empty(ns, np.int64)
        j0 = max(lo[c], 0)
        j1 = min(hi[c], nsamp - 1)
        for j in range(0, min(j0, nsamp)):
            for p in range(n_planes):
                out[line[p, c], j] = 0
        for j in range(max(j1 + 1, 0), nsamp):
            for p in range(n_planes):
                out[line[p, c], j] = 0
        cr = math.cos(dph[c])
        sr = math.sin(dph[c])
        ec = scale * math.cos(ph0[c] + j0 * dph[c])
        es = scale * math.sin(ph0[c] + j0 * dph[c])
        for j in range(j0, j1 + 1):
            xa = org[c, 0] + j * step[c, 0] - hns
            xb = org[c, 1] + j * step[c, 1] - hns
            sa = math.ceil(xa)
            sb = math.ceil(xb)
            za = np.float32(2.0 * (sa - xa) - 1.0)
            zb = np.float32(2.0 * (sb - xb) - 1.0)
            for i in range(ns):
                va = coef[0, i]
                vb = coef[0, i]
                for k in range(1, nc):
                    va = va * za + coef[k, i]
                    vb = vb * zb + coef[k, i]
                wa[i] = va
                wb[i] = vb
                ia[i] = (np.int64(sa) + i) % n1
                ib[i] = (np.int64(sb) + i) % n2
            acc[:] = 0.0
            for i in range(ns):
                for k in range(ns):
                    w = wa[i] * wb[k]
                    row = g[ia[i], ib[k]]
                    for q in range(p2):
                        acc[q] += w * row[q]
            for p in range(n_planes):
                re = acc[2 * p]
                im = acc[2 * p + 1]
                out[line[p, c], j] = complex(re * ec - im * es, re * es + im * ec)
            ec, es = ec * cr - es * sr, ec * sr + es * cr
'''

_LOCK = threading.Lock()


@cache
def _load():
    from mrsim.kspace.line_interp import compile_cached

    return compile_cached(_SOURCE, "planar_batched").kernel


def _compiled():
    with _LOCK:
        return _load()
