"""Interpolation of an upsampled Fourier grid along straight, equispaced k-space lines.

The second half of a type-2 NUFFT (Barnett et al. 2019): after the image has been
deconvolved, zero-padded and FFT-ed onto the upsampled ("fine") grid ``G``, every
non-uniform point ``X`` (in fine-grid index units) gets

    v(X) = sum_{i in stencil(X)} prod_a phi(i_a - X_a) G[i]

with finufft's kernel ``phi`` of ``ns`` taps per axis. Under rigid motion every Cartesian
readout stays a straight line of equispaced samples, ``X_lj = X_l + j D_l``, so a line is
described by two vectors instead of ``ns`` coordinates per sample. :func:`interp_lines`
exploits that: coordinates are made on the fly (no three ``M``-long coordinate arrays, no
point check), one line is one task of a numba ``prange`` (each sample is computed
independently, so the values do not depend on the thread count), and samples outside a
given readout interval are not computed at all (written as zero).

The kernel is finufft's own, read off finufft by spreading unit points
(:func:`finufft_kernel`): finufft evaluates each tap as a polynomial of degree ``ns + 2`` in
the point's fractional offset, which a least-squares fit recovers to ~1e-13, so this
interpolation equals finufft's ``spreadinterponly`` interpolation up to float rounding and
keeps finufft's accuracy (tested in ``tests/test_kspace_line_interp.py``).

Why it exists: finufft's interpolation makes and checks three ``M``-long coordinate arrays,
then applies the translation ramp and band mask in a separate pass; here the coordinates are
made on the fly and the ramp, band and scale applied as each sample is written. For kernels
of up to 8 taps (every single-precision tolerance at finufft's upsampling 1.5, e.g. 5 taps at
eps 1e-3 and 6 at 1e-4 in 3D) each stencil row is one SIMD vector operation
(:mod:`mrsim.kspace.line_simd`); that is 2.0-2.4x less CPU than this module's scalar loop and
faster than finufft's own interpolation (docs/benchmarks.md). The scalar loop remains for
wider kernels (``USE_SIMD`` off, or where the vector kernel cannot be built).

The scalar loop body is generated per kernel width (every tap and stencil row unrolled into
scalar variables, which numba compiles to ~2x faster code than loops over small arrays).
Compiling it takes 10-25 s (the vector kernels ~2 s), so the generated source is written to a
cache folder and numba keeps the machine code there: paid once per machine
(:func:`_load_generated`).

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import stat
import sys
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from mrsim.kspace.line_simd import SIMD_MAX_NS, band_source, kernel_source, simd_coefficients
from mrsim.kspace.planar_interp import (
    contracted_planes,
    interp_plane_batched,
    plane_batches,
    plane_weights,
)

__all__ = [
    "MAX_NS",
    "KernelTaps",
    "finufft_kernel",
    "interp_lines",
    "interp_lines_planar",
    "compile_cached",
]

# Widest kernel this module interpolates (wider ones go to finufft's own interpolation):
# every kernel whose stencil rows fit one vector (mrsim.kspace.line_simd), faster than
# finufft's interpolation at every such width (docs/benchmarks.md). The scalar loop alone
# was faster than finufft only up to 5 taps.
MAX_NS = SIMD_MAX_NS

#: Use the vector-row kernels of :mod:`mrsim.kspace.line_simd` (False: the scalar loop, kept
#: for kernels wider than 8 taps, as the fallback, and for benchmarks).
USE_SIMD = True


@dataclass(frozen=True)
class KernelTaps:
    """finufft's interpolation kernel as per-tap polynomials.

    Tap ``i`` (``0 <= i < ns``) of a point at fine-grid position ``X`` sits at grid index
    ``ceil(X - ns / 2) + i`` with weight ``sum_k coef[k, i] z^k`` (Horner, highest power
    first in ``coef``), ``z = 2 (ceil(X - ns/2) - (X - ns/2)) - 1`` in ``[-1, 1]``.
    """

    ns: int
    coef: np.ndarray  # (nc, ns) float64, highest power first
    fit_residual: float


@lru_cache(maxsize=16)
def finufft_kernel(eps: float, upsampfac: float, ndim: int = 3) -> KernelTaps:
    """Read finufft's kernel for ``(eps, upsampfac, ndim)`` by spreading unit points.

    finufft picks the kernel width from the tolerance, the upsampling factor and the number
    of dimensions (wider in 3D than in 1D for the same eps), so the kernel is read with a
    plan of the same dimension: 128 unit-strength points at fractional offsets
    ``(k + 1/2) / 128`` along the first axis, 32 grid points apart (no overlap), and on a
    grid node along the other axes, where the kernel's centre tap is ``phi(0)``; the row
    through that node holds the first-axis taps times ``phi(0)^(ndim-1)``, which one point
    placed on a node measures. The plan is ``spreadinterponly`` type 1 in
    double precision. Each tap is fitted by a polynomial in ``z`` (Chebyshev least squares,
    then power basis) of the smallest degree that reproduces the samples to 1e-10 of the
    peak (finufft's own evaluator is such a polynomial, of degree ``ns + 2``).

    Parameters
    ----------
    eps : float
        finufft tolerance (chooses the width ``ns``).
    upsampfac : float
        finufft upsampling factor (chooses the width and the shape).
    ndim : int
        Dimension of the transform the kernel is for (2 or 3).

    Returns
    -------
    KernelTaps

    Raises
    ------
    RuntimeError
        If no polynomial of degree up to ``ns + 8`` reproduces the samples (a finufft whose
        kernel is no longer piecewise polynomial); callers then use finufft itself.
    """
    import finufft

    K, spacing, side = 128, 32, 32
    N = K * spacing
    X = spacing * np.arange(K) + spacing / 2 + (np.arange(K) + 0.5) / K
    X[-1] = spacing * (K - 1) + spacing / 2  # on a node: its centre tap is phi(0)^ndim
    node = side // 2  # grid node of the other axes: x = 0 there
    plan = finufft.Plan(
        1, (N,) + (side,) * (ndim - 1), eps=float(eps), isign=-1, dtype=np.complex128,
        upsampfac=float(upsampfac), spreadinterponly=1,
    )  # fmt: skip
    plan.setpts(X * 2 * np.pi / N - np.pi, *[np.zeros(K)] * (ndim - 1))
    g = plan.execute(np.ones(K, np.complex128)).real
    g = g[(slice(None),) + (node,) * (ndim - 1)]
    # finufft's polynomial gives phi(0) = 1 only to ~1e-5: divide the other axes' factor out.
    centre = g[int(X[-1])] ** (1.0 / ndim)
    g = g / centre ** (ndim - 1)
    # Each point's taps lie inside its own block of `spacing` grid points; the widest count
    # is the width (a tap can round to exactly 0 at some offsets, so not the total / K).
    ns = int(np.count_nonzero(g.reshape(K, spacing), axis=1).max())
    start = np.ceil(X - ns / 2).astype(int)
    taps = np.stack([g[start + i] for i in range(ns)], axis=1)  # (K, ns)
    z = 2 * (start - (X - ns / 2)) - 1
    peak = np.abs(taps).max()
    for deg in range(ns - 1, ns + 9):
        cheb = [np.polynomial.chebyshev.chebfit(z, taps[:, i], deg) for i in range(ns)]
        resid = max(
            np.abs(np.polynomial.chebyshev.chebval(z, c) - taps[:, i]).max()
            for i, c in enumerate(cheb)
        )
        if resid <= 1e-10 * peak:
            power = np.stack([np.polynomial.chebyshev.cheb2poly(c) for c in cheb], axis=1)
            return KernelTaps(ns, np.ascontiguousarray(power[::-1]), float(resid / peak))
    raise RuntimeError(
        f"finufft's kernel (eps={eps}, upsampfac={upsampfac}) is not a polynomial of degree "
        f"<= {ns + 8} per tap"
    )


def interp_lines(
    grid: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    n_samples: int,
    kernel: KernelTaps,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    phase: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    nthreads: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Interpolate a periodic fine grid at ``origin_l + j step_l``, ``j = 0 .. n_samples-1``.

    Sample ``(l, j)`` is returned times ``scale * exp(i (phase0_l + j dphase_l))`` (e.g. the
    translation ramp of rigid motion): the phasor is advanced along the line by one complex
    multiplication per sample in double precision (error ~1e-16 per step), not by a
    cos/sin per sample.

    Parameters
    ----------
    grid : ndarray, complex64, shape (n_0, ..., n_{d-1}), d = 2 or 3, C-contiguous
        Upsampled grid, periodic on every axis (index ``i`` and ``i + n_a`` are the same).
        Lines should run mostly along the last (fastest) axis, the readout: consecutive
        samples then reuse the same cache lines.
    origin, step : ndarray, shape (L, d), float64
        Fine-grid index of each line's sample 0 and the increment per sample.
    n_samples : int
    kernel : KernelTaps
        From :func:`finufft_kernel`.
    band : (lo, hi), int arrays of shape (L,), optional
        Only samples ``lo_l <= j <= hi_l`` are computed; the others are set to zero.
    phase : (phase0, dphase), float arrays of shape (L,), optional
        Per-line linear phase in radians; default none.
    scale : float
    nthreads : int
        numba threads (the values do not depend on it).
    out : ndarray, complex64, shape (L, n_samples), optional

    Returns
    -------
    ndarray, complex64, shape (L, n_samples)
    """
    d = grid.ndim
    if d not in (2, 3) or grid.dtype != np.complex64 or not grid.flags.c_contiguous:
        raise ValueError("grid must be a C-contiguous complex64 array with 2 or 3 axes")
    origin = np.ascontiguousarray(origin, dtype=np.float64)
    step = np.ascontiguousarray(step, dtype=np.float64)
    L = origin.shape[0]
    if origin.shape != (L, d) or step.shape != (L, d):
        raise ValueError(f"origin and step must have shape (L, {d})")
    if out is None:
        out = np.empty((L, int(n_samples)), np.complex64)
    if band is None:
        lo = np.zeros(L, np.int64)
        hi = np.full(L, int(n_samples) - 1, np.int64)
    else:
        lo = np.ascontiguousarray(band[0], dtype=np.int64)
        hi = np.ascontiguousarray(band[1], dtype=np.int64)
    if phase is None:
        ph0 = dph = np.zeros(L)
    else:
        ph0 = np.ascontiguousarray(phase[0], dtype=np.float64).reshape(L)
        dph = np.ascontiguousarray(phase[1], dtype=np.float64).reshape(L)
    fn, layout = _compiled(d, kernel.ns, kernel.coef.shape[0])
    coef = layout(kernel.coef)
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(nthreads), numba.config.NUMBA_NUM_THREADS)))
    try:
        fn(grid.view(np.float32), origin, step, int(n_samples), coef, lo, hi, ph0, dph, scale, out)
    finally:
        numba.set_num_threads(previous)
    return out


def interp_lines_planar(
    grid: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    n_samples: int,
    kernel: KernelTaps,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    phase: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    nthreads: int = 1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`interp_lines` for 3D lines that stay in one plane of the first axis.

    When every line has ``step[:, 0] == 0`` (a rotation about the first array axis, e.g.
    seed 001's in-plane rotations about the slice normal), the first-axis kernel weights
    are the same for all samples of a line and for all lines at the same ``origin[:, 0]``.
    The tensor-product kernel then factors: the ``ns`` grid planes of each distinct first
    coordinate are contracted once with their weights (``ns x n_1 x n_2`` multiply-adds per
    distinct plane), and each line is interpolated in that 2D plane with ``ns^2`` taps per
    sample instead of ``ns^3``. Same kernel and the same values up to float rounding (the
    sums are taken in another order; tests/test_perf_planar.py). When every plane holds the
    same 2D lines (bit for bit: seed 001's MP-RAGE), the planes are interpolated together
    (:mod:`mrsim.kspace.planar_interp`, the weights of a sample shared by all planes).

    Parameters and returns as :func:`interp_lines` with a 3D ``grid``.
    """
    if grid.ndim != 3 or grid.dtype != np.complex64 or not grid.flags.c_contiguous:
        raise ValueError("grid must be a C-contiguous complex64 array with 3 axes")
    origin = np.ascontiguousarray(origin, dtype=np.float64)
    step = np.ascontiguousarray(step, dtype=np.float64)
    L = origin.shape[0]
    if origin.shape != (L, 3) or step.shape != (L, 3) or np.any(step[:, 0] != 0):
        raise ValueError("origin and step must have shape (L, 3) with step[:, 0] == 0")
    S = int(n_samples)
    if out is None:
        out = np.empty((L, S), np.complex64)
    batches = plane_batches(origin, step, S, band, phase)
    if batches is not None:  # the same 2D lines in every plane (seed 001's MP-RAGE)
        g2 = contracted_planes(grid, batches.planes, kernel)
        return interp_plane_batched(g2, batches, S, kernel, scale, nthreads, out)
    ns = kernel.ns
    planes, which = np.unique(origin[:, 0], return_inverse=True)
    # First-axis taps of each distinct plane (the formula of KernelTaps, in float64).
    w, rows = plane_weights(planes, kernel, grid.shape[0])
    # All planes stacked into one tall 2D grid, each with periodic margins along its first
    # axis wide enough for any line's stencil, so ONE parallel call interpolates every line
    # (one call per plane is slow on a busy machine: a thread barrier per call).
    n1 = grid.shape[1]
    reach = np.abs(step[:, 1]).max() * max(S - 1, 0) + ns + 1
    pad = int(np.ceil(reach))
    if pad > n1:  # steep lines (large rotations): one call per plane, wrapping in the plane
        plane = np.empty(grid.shape[1:], np.complex64)
        for q in np.unique(which):
            sel = np.flatnonzero(which == q)
            np.einsum("i,ijk->jk", w[q].astype(np.float32), grid[rows[q]], out=plane)
            out[sel] = interp_lines(
                plane, origin[sel, 1:], step[sel, 1:], S, kernel,
                band=None if band is None else (band[0][sel], band[1][sel]),
                phase=None if phase is None else (phase[0][sel], phase[1][sel]),
                scale=scale, nthreads=nthreads,
            )  # fmt: skip
        return out
    H = n1 + 2 * pad
    tall = np.empty((len(planes), H, grid.shape[2]), np.complex64)
    for q in range(len(planes)):
        plane = tall[q, pad : pad + n1]
        np.einsum("i,ijk->jk", w[q].astype(np.float32), grid[rows[q]], out=plane)
        tall[q, :pad] = plane[n1 - pad :]
        tall[q, pad + n1 :] = plane[:pad]
    o2 = np.empty((L, 2))
    o2[:, 0] = which * H + pad + np.mod(origin[:, 1], n1)
    o2[:, 1] = origin[:, 2]
    return interp_lines(
        tall.reshape(-1, grid.shape[2]), o2, step[:, 1:], S, kernel, band=band, phase=phase,
        scale=scale, nthreads=nthreads, out=out,
    )  # fmt: skip


_COMPILE_LOCK = threading.Lock()


def _compiled(d: int, ns: int, nc: int):
    """The kernel for ``d`` axes, ``ns`` taps, ``nc`` coefficients, and the function that
    lays out :attr:`KernelTaps.coef` for it."""
    with _COMPILE_LOCK:
        if USE_SIMD and ns <= SIMD_MAX_NS:
            fn = _compile_simd(d, ns, nc)
            if fn is not None:
                return fn, simd_coefficients
        return _compile(d, ns, nc), _scalar_coefficients


def _scalar_coefficients(coef: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(coef, dtype=np.float32)


@cache
def _compile_simd(d: int, ns: int, nc: int):
    """The vector-row kernel (:mod:`mrsim.kspace.line_simd`), compiled by one call on a tiny
    grid; None (after a warning) where this numba/llvmlite cannot build it, so the caller
    falls back to the scalar loop."""
    try:
        fn = _load_generated(kernel_source(d, ns, nc), f"simd_d{d}_ns{ns}_nc{nc}").kernel
        g = np.zeros((8,) * (d - 1) + (32,), np.float32)
        one = np.zeros((1, d))
        fn(
            g, one, one, 1, simd_coefficients(np.zeros((nc, ns))), np.zeros(1, np.int64),
            np.zeros(1, np.int64), np.zeros(1), np.zeros(1), 1.0, np.empty((1, 1), np.complex64),
        )  # fmt: skip
        return fn
    except Exception as exc:  # noqa: BLE001 -- any failure to build: the scalar loop is exact
        import warnings

        warnings.warn(
            f"mrsim: vector line-interpolation kernel unavailable ({type(exc).__name__}: "
            f"{exc}); using the scalar loop (same values, slower)",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


@cache
def _compile(d: int, ns: int, nc: int):
    """Scalar numba kernel for ``d`` axes, ``ns`` taps and ``nc`` polynomial coefficients.

    The generated body holds the ``d x ns`` tap weights and the ``2 ns`` partial sums of the
    readout stencil (real and imaginary parts) in scalar variables: for each stencil row
    ``(i_0, .., i_{d-2})`` the ``2 ns`` contiguous floats are scaled by the product of the
    row's weights and accumulated, and the readout weights are applied once at the end.
    Samples whose readout stencil crosses the grid's edge take a slower path that wraps the
    columns tap by tap.
    """
    pe = list(range(d - 1))  # phase-encode axes; axis d-1 is the readout (contiguous)
    ro = d - 1
    src: list[str] = []
    emit = src.append
    emit("def kernel(g, org, step, nsamp, coef, lo, hi, ph0, dph, scale, out):")
    for a in range(d - 1):
        emit(f"    n{a} = g.shape[{a}]")
    emit(f"    n{ro} = g.shape[{ro}] // 2")
    emit(f"    hns = {ns / 2.0}")
    emit("    for l in numba.prange(org.shape[0]):")
    for a in range(d):
        emit(f"        o{a} = org[l, {a}]; d{a} = step[l, {a}]")
    src.extend(band_source(" " * 8))
    emit("        cr = math.cos(dph[l]); sr = math.sin(dph[l])")
    emit("        ec = scale * math.cos(ph0[l] + j0 * dph[l])")
    emit("        es = scale * math.sin(ph0[l] + j0 * dph[l])")
    emit("        for j in range(j0, j1 + 1):")
    for a in range(d):
        emit(f"            X{a} = o{a} + j * d{a} - hns")
        emit(f"            s{a} = math.ceil(X{a})")
        emit(f"            z{a} = np.float32(2.0 * (s{a} - X{a}) - 1.0)")
    # tap weights w{a}_{i} by Horner
    for i in range(ns):
        for a in range(d):
            emit(f"            w{a}_{i} = coef[0, {i}]")
        for k in range(1, nc):
            emit(
                "            "
                + "; ".join(f"w{a}_{i} = w{a}_{i} * z{a} + coef[{k}, {i}]" for a in range(d))
            )
    for a in pe:
        emit(f"            s{a} = s{a} % n{a}")
    for q in range(2 * ns):
        emit(f"            p{q} = np.float32(0.0)")
    emit(f"            if s{ro} >= 0 and s{ro} + {ns} <= n{ro}:")
    emit(f"                c = 2 * s{ro}")
    _emit_rows(emit, pe, ns, "fast")
    emit("            else:")
    args = ", ".join([f"s{a}" for a in range(d)] + [f"w{a}_{i}" for a in pe for i in range(ns)])
    emit(f"                ({', '.join(f'p{q}' for q in range(2 * ns))},) = edge(g, {args})")
    emit("            re = " + " + ".join(f"w{ro}_{i} * p{2 * i}" for i in range(ns)))
    emit("            im = " + " + ".join(f"w{ro}_{i} * p{2 * i + 1}" for i in range(ns)))
    emit("            out[l, j] = complex(re * ec - im * es, re * es + im * ec)")
    emit("            ec, es = ec * cr - es * sr, ec * sr + es * cr")
    # The slow path (readout stencil wrapping around the grid edge) is a separate,
    # non-inlined function, which keeps the fast loop small (measured ~10 % faster).
    edge: list[str] = []
    emit_edge = edge.append
    emit_edge(f"def edge(g, {args}):")
    for a in range(d - 1):
        emit_edge(f"    n{a} = g.shape[{a}]")
    emit_edge(f"    n{ro} = g.shape[{ro}] // 2")
    for q in range(2 * ns):
        emit_edge(f"    p{q} = np.float32(0.0)")
    _emit_rows(emit_edge, pe, ns, "wrap", indent="    ")
    emit_edge(f"    return ({', '.join(f'p{q}' for q in range(2 * ns))},)")
    module = "\n".join(
        [
            f'"""mrsim line interpolation kernel, d={d} ns={ns} nc={nc} (generated)."""',
            "import math",
            "import numba",
            "import numpy as np",
            "",
            "",
            "@numba.njit(fastmath=True, nogil=True, inline='never', cache=True)",
            *edge,
            "",
            "",
            "@numba.njit(parallel=True, fastmath=True, nogil=True, cache=True)",
            *src,
            "",
        ]
    )
    return _load_generated(module, f"d{d}_ns{ns}_nc{nc}").kernel


def _cache_dir() -> Path:
    """Where generated kernels are written so that numba can cache their machine code:
    ``$MRSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/mrsim``, else ``~/.cache/mrsim``."""
    root = os.environ.get("MRSIM_CACHE_DIR")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "mrsim" if xdg else Path.home() / ".cache" / "mrsim"


class UntrustedCacheError(OSError):
    """A cache folder that someone other than the current user could write to."""


def _private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only (0o700), or check an existing one.

    An existing folder (or symlink) must belong to the current user and be writable by no one
    else; otherwise :class:`UntrustedCacheError`. Checked because both the generated source
    and numba's cache index (a pickle, loaded before any freshness check) execute code.
    """
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for q in reversed(missing):
        try:
            q.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile: checked below
            pass
    if not hasattr(os, "getuid"):  # no POSIX ownership (Windows): rely on the user's ACLs
        return path
    uid = os.getuid()
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode) and link.st_uid != uid:
        raise UntrustedCacheError(f"{path}: cache folder is a symlink owned by uid {link.st_uid}")
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path}: cache path is not a folder")
    if st.st_uid != uid:
        raise UntrustedCacheError(
            f"{path}: cache folder is owned by uid {st.st_uid}, not by this user ({uid})"
        )
    if st.st_mode & 0o022:
        raise UntrustedCacheError(
            f"{path}: cache folder is writable by group or others (mode {st.st_mode & 0o7777:o})"
        )
    return path


def _kernel_file(source: str, tag: str) -> tuple[str, str]:
    """Module name (``mrsim_line_kernel_<tag>_<first 16 hex of sha256>``) and full sha256."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    return f"mrsim_line_kernel_{tag}_{digest[:16]}", digest


def _file_holds(path: Path, source: bytes, digest: str) -> bool:
    """Whether ``path`` is a regular file whose bytes are ``source`` (sha256 ``digest``)."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size != len(source):
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == digest and data == source


_warned: set[str] = set()


def compile_cached(source: str, tag: str):
    """Import numba source (a module text) with its machine code cached once per machine,
    in the private cache folder of the line kernels (:func:`_load_generated`). For mrsim's
    own fixed kernels (e.g. :mod:`mrsim.kspace.planar_interp`, :mod:`mrsim.dataset.
    trilinear`); returns the module."""
    return _load_generated(source, tag)


def _load_generated(source: str, tag: str):
    """Import generated source as a module.

    numba caches compiled machine code only for functions defined in a file, and the unrolled
    kernels take 10-25 s to compile; so the source is written under :func:`_cache_dir`
    (``line_kernels/``, named by its hash) and numba keeps the machine code in the
    ``__pycache__`` beside it: the compile is paid once per machine, not once per process.

    Trust: what runs is always ``source`` itself, compiled from memory (the file only gives
    numba a path to key its cache on); a cached file whose bytes differ from ``source`` (or
    its sha256) is rewritten atomically before numba sees it. Folders are created owner-only
    (0o700). numba loads its cache index and machine code with ``pickle`` from
    ``line_kernels/__pycache__`` (or ``$NUMBA_CACHE_DIR``), so whoever can write there can run
    code in this process: a cache folder that is not the current user's, or that group or
    others can write, is not used (a warning, then an in-memory compile, as when the cache
    cannot be written). See docs/security.md.
    """
    import types

    name, digest = _kernel_file(source, tag)
    raw = source.encode()
    try:
        folder = _private_folder(_private_folder(_cache_dir()) / "line_kernels")
        _private_folder(folder / "__pycache__")
        numba_dir = os.environ.get("NUMBA_CACHE_DIR")
        if numba_dir:
            _private_folder(Path(numba_dir))
        path = folder / f"{name}.py"
        if not _file_holds(path, raw, digest):
            from mrsim.io.atomic import atomic_path

            with atomic_path(path) as tmp:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(raw)
        code = compile(source, str(path), "exec")
        module = types.ModuleType(name)
        module.__file__ = str(path)
        # numba's cache re-imports the module by name when loading machine code.
        sys.modules[name] = module
        exec(code, module.__dict__)  # noqa: S102 -- our own generated source, from memory
        return module
    except OSError as exc:
        if isinstance(exc, UntrustedCacheError) and str(exc) not in _warned:
            import warnings

            _warned.add(str(exc))
            warnings.warn(
                f"{exc}: generated code and numba's cache (pickles) there could have been "
                "planted, so it is not used; compiling the kernel in memory (run: chmod go-w "
                "on the folder, or set MRSIM_CACHE_DIR to a folder of your own)",
                RuntimeWarning,
                stacklevel=3,
            )
        module = types.ModuleType(name)
        exec(compile(source.replace("cache=True", "cache=False"), name, "exec"), module.__dict__)  # noqa: S102
        return module


def _emit_rows(emit, pe: list[int], ns: int, mode: str, indent: str = " " * 16) -> None:
    """Accumulate ``p_q += (product of the row's weights) * g[row, readout stencil]``, every
    stencil row unrolled (``ns ** len(pe)`` rows).

    ``mode``: ``"fast"`` (the stencil's columns are stored contiguously from ``c / 2``) or
    ``"wrap"`` (columns wrapped around the periodic readout axis tap by tap).
    """
    ro = len(pe)
    for a in pe:  # wrapped row indices of each phase-encode axis
        for i in range(ns):
            emit(f"{indent}i{a}_{i} = s{a} + {i}")
            emit(f"{indent}if i{a}_{i} >= n{a}: i{a}_{i} -= n{a}")
    if mode == "wrap":
        for i in range(ns):
            emit(f"{indent}r{i} = (s{ro} + {i}) % n{ro}")
    for taps in itertools.product(range(ns), repeat=len(pe)):
        row = ", ".join(f"i{a}_{t}" for a, t in zip(pe, taps, strict=True))
        emit(f"{indent}w = " + " * ".join(f"w{a}_{t}" for a, t in zip(pe, taps, strict=True)))
        if mode == "fast":
            for q in range(2 * ns):
                emit(f"{indent}p{q} += w * g[{row}, c + {q}]")
        else:
            for i in range(ns):
                emit(f"{indent}p{2 * i} += w * g[{row}, 2 * r{i}]")
                emit(f"{indent}p{2 * i + 1} += w * g[{row}, 2 * r{i} + 1]")
