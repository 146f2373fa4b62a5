"""Type-2 NUFFT backends: a Cartesian image evaluated at arbitrary k-space points.

One function, :func:`nufft_type2`, with two backends:

* ``"finufft"`` (default): the Flatiron Institute NUFFT (Barnett et al. 2019), with a
  configurable tolerance ``eps`` (relative l2 error), thread count and upsampling factor.
  Single precision is used when ``eps >= 1e-5`` (bulk data), double precision otherwise
  (validation).
* ``"sigpy"``: sigpy's Kaiser-Bessel gridding NUFFT, used as an independent cross-check.
  Its kernel width is chosen from ``eps`` (oversampling 2); its accuracy floor is ~1e-7.

Convention (the one of :mod:`mrsim.kspace.fft`): the image sample at index ``j`` sits at
position ``j - n // 2`` (in voxels) and the k-space point ``u`` is given in cycles per FOV
along each axis, so the function returns

    F(u) = sum_j f_j exp(-i 2 pi sum_a u_a (j_a - n_a // 2) / n_a)

without normalisation (multiply by ``1 / sqrt(N)`` to match :func:`fft_centered` at grid
points). The band of the image is ``|u_a| <= n_a / 2``; points in ``(n_a / 2, 3 n_a / 2]``
are evaluated periodically (the DTFT of the samples), which the caller may mask.

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import scipy.fft

from mrsim.errors import MrsimInputError
from mrsim.kspace.nufft_options import (
    BACKENDS,
    NufftOptions,
    nufft_options_from,
    single_precision,
)

__all__ = [
    "BACKENDS",
    "NufftOptions",
    "nufft_type2",
    "nufft_type2_lines",
    "line_coordinates",
    "modulate_lines",
    "default_nthreads",
    "single_precision",
]

# Smallest upsampled grid: at least twice the widest finufft kernel (16 points).
_MIN_FINE = 32

# Default upsampling in single precision. finufft picks the kernel width from (eps, sigma):
# at eps 1e-4 sigma 1.25 gives 7 points per axis and 1.5 gives 6; the interpolation of
# 11.5 M line samples costs ~1.1 CPU-s at width 7 vs ~0.85 at width 6, more than the
# larger upsampled-grid FFT adds (~0.17 -> ~0.22 CPU-s); at eps 1e-3 (width 6 -> 5) the two
# are within a few per cent (docs/benchmarks.md). Both stay within eps (measured relative
# l2 error on those samples: 3.9e-5 at 1e-4, 2.0e-4 at 1e-3).
_UPSAMPFAC_SINGLE = 1.5


def default_nthreads() -> int:
    """Threads used when ``nthreads=None``: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def nufft_type2(
    image: np.ndarray,
    points: np.ndarray,
    backend: str = "finufft",
    eps: float = 1e-6,
    nthreads: int | None = None,
    upsampfac: float | None = None,
    coherent_points: bool = False,
    fft_method: str = "auto",
) -> np.ndarray:
    """Evaluate the DTFT of a Cartesian image at non-uniform k-space points.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n)
        Image with 2 or 3 spatial axes; an optional leading batch axis is transformed with
        the same points in the same call (e.g. echoes).
    points : sequence of ndim arrays of shape (M,), or ndarray (ndim, M)
        k-space positions in radians per voxel, ``x_a = 2 pi u_a / n_a`` for ``u_a`` in
        cycles/FOV; each must lie in ``[-3 pi, 3 pi]``. Contiguous arrays of the working
        precision (float32 when ``eps >= 1e-5``) are used without a copy.
    backend : {"finufft", "sigpy"}
    eps : float
        Requested relative accuracy.
    nthreads : int, optional
        Threads; default :func:`default_nthreads`.
    upsampfac : float, optional
        finufft upsampling factor (sigma): finufft chooses its kernel width from eps and
        sigma; a larger sigma means a narrower kernel (cheaper interpolation) but a larger
        upsampled grid (``sigma^ndim`` times the modes) to FFT. Default: 1.5 in single
        precision (measured fastest for ~1e7 points on 256x256x176, see
        docs/benchmarks.md), else finufft's own choice. Ignored by sigpy.
    coherent_points : bool
        The points are already in a cache-friendly order (e.g. consecutive samples of
        k-space lines): finufft's bin sort is skipped (``spread_sort=0``), which saves its
        cost without slowing the interpolation.
    fft_method : {"auto", "scipy", "finufft"}
        finufft backend only. ``"finufft"``: finufft does everything (its FFTW plan is made
        with FFTW_ESTIMATE, which on this kind of machine runs the upsampled-grid FFT several
        times slower than scipy's pocketfft). ``"scipy"``: the same algorithm split in
        three steps: deconvolve and zero-pad on the upsampled grid, scipy FFT (a real-input
        FFT plus Hermitian completion for a real image), then finufft's interpolation only
        (``spreadinterponly=1``); see :func:`_finufft_interp_scipy_fft`. Its result does not
        depend on ``nthreads``. ``"auto"``: scipy in single precision (bulk runs), finufft
        in double precision (validation).

    Returns
    -------
    ndarray, shape (M,) or (B, M)
        complex64 when ``eps >= 1e-5`` else complex128.
    """
    if backend not in BACKENDS:
        raise MrsimInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    eps = float(eps)
    if not 0 < eps < 1:
        raise MrsimInputError(f"eps must be in (0, 1), got {eps}")
    points = [np.asarray(p).reshape(-1) for p in points]
    nd = len(points)
    if nd not in (2, 3) or any(p.shape != points[0].shape for p in points):
        raise MrsimInputError("points must be 2 or 3 arrays (one per axis) of the same length M")
    if image.ndim not in (nd, nd + 1):
        raise MrsimInputError(f"image must have {nd} axes (+1 batch axis), got shape {image.shape}")
    single = single_precision(eps)
    cdt = np.complex64 if single else np.complex128
    rdt = np.float32 if single else np.float64
    nthreads = default_nthreads() if nthreads is None else int(nthreads)
    if backend == "finufft":
        import finufft

        image = np.asarray(image)
        n_modes = image.shape[-nd:]
        n_trans = image.shape[0] if image.ndim == nd + 1 else 1
        up = float(upsampfac) if upsampfac is not None else (_UPSAMPFAC_SINGLE if single else None)
        opts = {"nthreads": nthreads}
        if coherent_points:
            opts["spread_sort"] = 0
        coords = [np.ascontiguousarray(p, dtype=rdt) for p in points]
        if fft_method == "scipy" or (fft_method == "auto" and single):
            # No contiguous complex copy of the image: it is read once, straight into the
            # upsampled grid.
            if image.dtype not in (rdt, cdt):
                image = image.astype(cdt if np.iscomplexobj(image) else rdt)
            return _finufft_interp_scipy_fft(
                image, coords, n_modes, n_trans, eps, up or 2.0, opts, cdt
            )
        f = np.ascontiguousarray(image, dtype=cdt)
        if up is not None:
            opts["upsampfac"] = up
        plan = finufft.Plan(2, n_modes, n_trans=n_trans, eps=eps, isign=-1, dtype=cdt, **opts)
        plan.setpts(*coords)
        return plan.execute(f)
    # sigpy: coordinates in cycles/FOV, orthonormal scaling; undo it to match finufft.
    import sigpy

    n_modes = image.shape[-nd:]
    width = int(np.clip(np.ceil(-np.log10(eps)) + 1, 4, 8))
    u = np.stack([points[a].astype(np.float64) * n_modes[a] / (2 * np.pi) for a in range(nd)], -1)
    out = sigpy.nufft(np.asarray(image, dtype=np.complex128), u, oversamp=2.0, width=width)
    return (out * np.sqrt(float(np.prod(n_modes)))).astype(cdt)


def nufft_type2_lines(
    image: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    n_samples: int,
    options: NufftOptions | None = None,
    *,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    phase: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    **keywords,
) -> np.ndarray:
    """:func:`nufft_type2` at the equispaced samples of straight lines in k-space.

    Line ``l`` has the points ``x_lj = origin_l + j step_l``, ``j = 0 .. n_samples - 1`` (the
    readouts of a Cartesian acquisition under rigid motion). Same convention, units and
    accuracy as :func:`nufft_type2`.

    With the finufft backend in single precision and a kernel of at most
    :data:`mrsim.kspace.line_interp.MAX_NS` taps per axis (8: every single-precision eps at
    the default upsampling 1.5), the upsampled grid is interpolated by
    :func:`mrsim.kspace.line_interp.interp_lines`: finufft's kernel, read off finufft, in a
    loop that makes each line's coordinates on the fly, one SIMD operation per stencil row
    (equal to finufft's interpolation to float rounding and faster than it,
    docs/benchmarks.md). Otherwise the coordinates are built and :func:`nufft_type2` is
    called. Lines with ``step[:, 0] == 0`` (rotations about the first array axis only) take
    :func:`mrsim.kspace.line_interp.interp_lines_planar` at any kernel width (``ns^2``
    taps per sample after one contraction per plane). Either way each value depends only
    on its own point, not on the thread count.

    Parameters
    ----------
    image : ndarray, shape (*n) or (B, *n)
        2 or 3 spatial axes, optional leading batch axis. Lines should run mostly along the
        last axis (fastest in memory).
    origin, step : ndarray, shape (L, ndim)
        Radians per voxel (``x_a = 2 pi u_a / n_a``); every point must lie in
        ``[-3 pi, 3 pi]``.
    n_samples : int
    options : NufftOptions, optional
        Backend, eps, threads, upsampling (as for :func:`nufft_type2`); the keywords
        ``backend``, ``eps``, ``nthreads``, ``upsampfac`` are accepted too.
    band : (lo, hi), integer arrays of shape (L,), optional
        Samples outside ``lo_l <= j <= hi_l`` are returned as zero (and, where possible,
        not computed), e.g. those beyond the image's band.
    phase : (phase0, dphase), arrays of shape (L,), optional
        Sample ``(l, j)`` is multiplied by ``exp(i (phase0_l + j dphase_l))`` (radians), e.g.
        a translation's phase ramp.
    scale : float
        Multiplies every sample.

    Returns
    -------
    ndarray, shape (L, n_samples) or (B, L, n_samples)
        complex64 when ``eps >= 1e-5`` else complex128.
    """
    opt = nufft_options_from(options, keywords, NufftOptions())
    if keywords:
        raise TypeError(f"nufft_type2_lines() got unexpected keywords {sorted(keywords)}")
    backend, eps, nthreads, upsampfac = opt.backend, opt.eps, opt.threads, opt.upsampling
    origin = np.asarray(origin, dtype=np.float64)
    step = np.asarray(step, dtype=np.float64)
    if origin.ndim != 2 or origin.shape != step.shape or origin.shape[1] not in (2, 3):
        raise MrsimInputError("origin and step must both have shape (L, ndim) with ndim 2 or 3")
    L, nd = origin.shape
    S = int(n_samples)
    image = np.asarray(image)
    if image.ndim not in (nd, nd + 1):
        raise MrsimInputError(f"image must have {nd} axes (+1 batch axis), got shape {image.shape}")
    if band is not None:
        band = tuple(np.asarray(b, dtype=np.int64).reshape(L) for b in band)
    eps = float(eps)
    single = single_precision(eps)
    nth = default_nthreads() if nthreads is None else int(nthreads)
    up = float(upsampfac) if upsampfac is not None else (_UPSAMPFAC_SINGLE if single else None)
    # Lines in planes of the first axis (rotations about it only): separable path.
    planar = single and nd == 3 and backend == "finufft" and bool(np.all(step[:, 0] == 0))
    kernel = _line_kernel(backend, eps, up, nd, any_width=planar) if single else None
    if kernel is not None:
        from mrsim.kspace.line_interp import interp_lines, interp_lines_planar

        interp = interp_lines_planar if planar else interp_lines

        n_modes = image.shape[-nd:]
        if image.dtype not in (np.float32, np.complex64):
            image = image.astype(np.complex64 if np.iscomplexobj(image) else np.float32)
        g = _upsampled_grid(image, n_modes, eps, up, np.complex64, nth)
        to_index = np.asarray(g.shape[-nd:], dtype=np.float64) / (2 * np.pi)
        o, d = (origin + np.pi) * to_index, step * to_index
        batch = image.shape[:-nd]
        out = np.empty(batch + (L, S), np.complex64)
        for b in np.ndindex(*batch):
            interp(
                g[b], o, d, S, kernel, band=band, phase=phase, scale=scale, nthreads=nth, out=out[b]
            )
        return out
    x = line_coordinates(origin, step, S, single, nth)
    out = nufft_type2(image, x, backend, eps, nth, upsampfac, coherent_points=True)
    out = out.reshape(image.shape[:-nd] + (L, S))
    if phase is None and band is None:
        if scale != 1.0:
            out *= out.real.dtype.type(scale)
        return out
    ph0, dph = phase if phase is not None else (np.zeros(L), np.zeros(L))
    modulate_lines(out, ph0, dph, scale, nth, band=band)
    return out


def line_coordinates(
    origin: np.ndarray, step: np.ndarray, n_samples: int, single: bool, nthreads: int = 1
) -> list[np.ndarray]:
    """The points ``origin_l + j step_l`` of :func:`nufft_type2_lines`, one flat array per
    axis (line-major), in the working precision (float32 when ``single``).

    The one construction of these points: the forward and its adjoint
    (:func:`mrsim.kspace.nufft_adjoint.nufft_type1_lines`) see bit-identical coordinates.
    """
    origin = np.asarray(origin, dtype=np.float64)
    step = np.asarray(step, dtype=np.float64)
    rdt = np.float32 if single else np.float64
    S = int(n_samples)
    sj = np.arange(S, dtype=rdt)

    def axis_coords(a: int) -> np.ndarray:
        xa = step[:, a, None].astype(rdt) * sj
        xa += origin[:, a, None].astype(rdt)
        return xa.reshape(-1)

    x = _map_threads(axis_coords, range(origin.shape[1]), nthreads)
    # x is linear along a line: its extremes are at the ends.
    reach = np.maximum(np.abs(origin), np.abs(origin + step * (S - 1))).max(initial=0.0)
    if reach > 2.9 * np.pi:
        # finufft accepts [-3 pi, 3 pi]; wrap far points into [-pi, pi) (same DTFT).
        x = [np.remainder(xa + np.pi, 2 * np.pi) - np.pi for xa in x]
    return x


# Lines per block when a phase is applied in place: 512 x 256 complex64 samples (1 MiB)
# keep the block's phase in cache while the samples stream through once.
_MODULATE_BLOCK_LINES = 512


def modulate_lines(
    lines: np.ndarray,
    phase0: np.ndarray,
    dphase: np.ndarray,
    scale: float = 1.0,
    nthreads: int | None = 1,
    band: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """``lines (..., L, S) *= scale * exp(i (phase0_l + j dphase_l))``, in place.

    Block by block of lines (cos/sin in the samples' precision, SIMD float32 for complex64),
    the blocks shared among ``nthreads`` threads; elementwise, so the result does not depend
    on the thread count. With ``band = (lo, hi)`` (integer arrays (L,)), samples outside
    ``lo_l <= j <= hi_l`` are set to zero in the same pass.
    """
    rdt = np.float32 if lines.dtype == np.complex64 else np.float64
    L, S = lines.shape[-2:]
    phase0 = np.asarray(phase0, dtype=rdt).reshape(L)
    dphase = np.asarray(dphase, dtype=rdt).reshape(L)
    j = np.arange(S, dtype=rdt)

    def apply(i0: int) -> None:
        blk = slice(i0, i0 + _MODULATE_BLOCK_LINES)
        ph = phase0[blk, None] + dphase[blk, None] * j
        factor = np.empty(ph.shape, lines.dtype)
        np.cos(ph, out=factor.real)
        np.sin(ph, out=factor.imag)
        if scale != 1.0:
            factor *= rdt(scale)
        if band is not None:
            factor *= (j >= band[0][blk, None]) & (j <= band[1][blk, None])
        lines[..., blk, :] *= factor

    nthreads = default_nthreads() if nthreads is None else int(nthreads)
    _map_threads(apply, range(0, L, _MODULATE_BLOCK_LINES), nthreads)


def _line_kernel(backend: str, eps: float, upsampfac: float, nd: int, any_width: bool = False):
    """finufft's kernel when :func:`nufft_type2_lines` should use its own interpolation
    (up to MAX_NS taps; any width for the planar path, which is faster at every width)."""
    if backend != "finufft":
        return None
    from mrsim.kspace.line_interp import MAX_NS, finufft_kernel

    try:
        kernel = finufft_kernel(eps, upsampfac, nd)
    except RuntimeError:
        return None
    return kernel if any_width or kernel.ns <= MAX_NS else None


def _next_smooth_even(n: int) -> int:
    """Smallest even integer >= n with no prime factor above 5 (fast FFT sizes)."""
    n = max(int(n), 2)
    while True:
        if n % 2 == 0:
            m = n
            for p in (2, 3, 5):
                while m % p == 0:
                    m //= p
            if m == 1:
                return n
        n += 1


@lru_cache(maxsize=8)
def _kernel_series(
    fine: tuple[int, ...], n_modes: tuple[int, ...], eps: float, upsampfac: float, single: bool
) -> tuple[np.ndarray, ...]:
    """Per-axis pre-correction ``(-1)^k / C_a(k)`` for the modes of each axis.

    ``C_a(k) = sum_i phi_a(y_i) exp(-i k y_i)`` is the discrete Fourier series of finufft's
    kernel on the upsampled grid (``y_i = 2 pi (i - nf/2) / nf``), measured by spreading a
    unit point at the origin with the very plan settings used for the interpolation (finufft
    picks the kernel width from eps, upsampfac, dimension and precision). The kernel is a
    tensor product, so the lines through the centre give each axis' factor up to the
    centre value. ``(-1)^k`` shifts the FFT output to finufft's centred grid order.
    """
    import finufft

    cdt = np.complex64 if single else np.complex128
    nd = len(fine)
    plan = finufft.Plan(
        1, fine, eps=eps, isign=-1, dtype=cdt, upsampfac=upsampfac, spreadinterponly=1
    )
    plan.setpts(*[np.zeros(1, dtype=np.float32 if single else np.float64)] * nd)
    grid = plan.execute(np.ones(1, dtype=cdt)).astype(np.complex128).real
    centre = tuple(nf // 2 for nf in fine)
    peak = grid[centre]
    out = []
    for a in range(nd):
        line = grid[tuple(slice(None) if b == a else centre[b] for b in range(nd))]
        line = line / peak ** ((nd - 1) / nd)  # share the centre value between the axes
        nf = fine[a]
        y = 2 * np.pi * (np.arange(nf) - nf // 2) / nf
        k = np.arange(n_modes[a]) - n_modes[a] // 2
        C = (np.exp(-1j * np.outer(k, y)) @ line).real
        out.append(np.where(k % 2 == 0, 1.0, -1.0) / C)
    return tuple(out)


def _finufft_interp_scipy_fft(
    f: np.ndarray,
    coords: list[np.ndarray],
    n_modes: tuple[int, ...],
    n_trans: int,
    eps: float,
    upsampfac: float,
    opts: dict,
    cdt: type = np.complex64,
) -> np.ndarray:
    """Type-2 NUFFT as deconvolve + zero-pad -> scipy FFT -> finufft interpolation only.

    The same three steps as inside finufft (Barnett et al. 2019), with the upsampled-grid FFT
    done by scipy (multi-threaded pocketfft, no planning cost) instead of an FFTW_ESTIMATE
    plan (:func:`_upsampled_grid`), then finufft's interpolation (``spreadinterponly=1``).
    """
    import finufft

    fine = _fine_shape(n_modes, upsampfac)

    def make_plan():
        plan = finufft.Plan(
            2,
            fine,
            n_trans=n_trans,
            eps=eps,
            isign=-1,
            dtype=cdt,
            upsampfac=upsampfac,
            spreadinterponly=1,
            **opts,
        )
        plan.setpts(*coords)
        return plan

    workers = opts.get("nthreads") or 1
    # finufft's setpts (a serial bounds check of every point, ~0.04 s for 11.5 M) needs
    # only the points: with threads to spare it runs while the grid is built.
    pool = ThreadPoolExecutor(max_workers=1) if workers > 1 else None
    pending = pool.submit(make_plan) if pool is not None else None
    try:
        g = _upsampled_grid(f, n_modes, eps, upsampfac, cdt, workers)
        plan = pending.result() if pending is not None else make_plan()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return plan.execute(g)


def _fine_shape(n_modes: tuple[int, ...], upsampfac: float) -> tuple[int, ...]:
    """Upsampled grid: ``upsampfac * n`` rounded up to an even 5-smooth size, >= 32."""
    return tuple(max(_next_smooth_even(np.ceil(upsampfac * n)), _MIN_FINE) for n in n_modes)


def _upsampled_grid(
    f: np.ndarray,
    n_modes: tuple[int, ...],
    eps: float,
    upsampfac: float,
    cdt: type,
    workers: int,
) -> np.ndarray:
    """finufft's upsampled grid of ``f`` (modes ``n_modes`` on the last axes), by scipy.

    Modes ``k`` go to index ``k mod nf`` after multiplication by ``(-1)^k / C(k)``
    (:func:`_kernel_series`); the forward FFT then yields the grid in finufft's centred
    order directly (no shifts): grid index ``i`` is the point ``x = -pi + 2 pi i / nf``.

    ``f`` (real or complex, in the working precision, any memory layout) is multiplied by
    the separable correction block by block straight into the grid: the non-negative modes
    of each axis land at the start of the grid axis, the negative ones at its end (2^ndim
    slab pairs), so neither a complex copy of ``f``, nor an index gather, nor a full-size
    correction array is made. For a real ``f`` the grid is real: a real-input FFT computes
    half of its spectrum and the other half is filled by Hermitian symmetry
    (:func:`_hermitian_full`), ~30 % less CPU than the complex FFT (docs/benchmarks.md).
    Returns a C-contiguous ``cdt`` array of shape ``f.shape[:-nd] + fine``; inside
    :func:`mrsim.kspace.reuse.reuse_spectra` the grid of an object seen before is returned
    again (read-only, bit-identical) instead of being recomputed.
    """
    from mrsim.kspace.reuse import memoized

    settings = (tuple(n_modes), float(eps), float(upsampfac), np.dtype(cdt).str)
    return memoized(
        "upsampled_grid",
        f,
        settings,
        lambda: _compute_upsampled_grid(f, n_modes, eps, upsampfac, cdt, workers),
    )


def _compute_upsampled_grid(
    f: np.ndarray,
    n_modes: tuple[int, ...],
    eps: float,
    upsampfac: float,
    cdt: type,
    workers: int,
) -> np.ndarray:
    """:func:`_upsampled_grid` without reuse."""
    single = cdt == np.complex64
    rdt = np.float32 if single else np.float64
    nd = len(n_modes)
    fine = _fine_shape(n_modes, upsampfac)
    factors = [
        c.astype(rdt)
        for c in _kernel_series(fine, tuple(n_modes), float(eps), float(upsampfac), single)
    ]
    # Correction of the leading axes as one small array, the last axis applied in place.
    lead = factors[0]
    for a in range(1, nd - 1):
        lead = lead[..., None] * factors[a]
    batch = f.shape[:-nd]
    real = not np.iscomplexobj(f)
    g = np.zeros(batch + fine, dtype=rdt if real else cdt)
    halves = [
        ((slice(n // 2, n), slice(0, n - n // 2)), (slice(0, n // 2), slice(nf - n // 2, nf)))
        for n, nf in zip(n_modes, fine, strict=True)
    ]

    def fill(blocks: tuple) -> None:
        src = tuple(b[0] for b in blocks)
        dst = g[(Ellipsis, *(b[1] for b in blocks))]
        if dst.size:
            np.multiply(f[(Ellipsis, *src)], lead[src[:-1]][..., None], out=dst)
            dst *= factors[-1][src[-1]]

    _map_threads(fill, itertools.product(*halves), workers)
    axes = tuple(range(-nd, 0))
    if real:
        spectrum = scipy.fft.rfftn(g, axes=axes, workers=workers)
        g = None  # free the real grid before the full complex one is allocated
        return _hermitian_full(spectrum, fine[-1], nd, workers)
    return scipy.fft.fftn(g, axes=axes, overwrite_x=True, workers=workers)


def _hermitian_full(half: np.ndarray, n_last: int, nd: int, nthreads: int = 1) -> np.ndarray:
    """Full DFT of a real array from its ``rfftn`` half, over the last ``nd`` axes.

    ``F[m] = conj(F[-m mod n])``: the missing columns ``m_last > n_last // 2`` are the
    conjugates of the kept ones at negated indices, copied with reversed slices (on each
    leading axis, index 0 maps to 0 and ``1 .. n-1`` to ``n-1 .. 1``). Leading (batch) axes
    before the last ``nd`` are carried along. The copies are split into ``nthreads`` bands of
    the first transformed axis (elementwise, so the result does not depend on ``nthreads``).
    """
    h = half.shape[-1]
    full = np.empty(half.shape[:-1] + (n_last,), dtype=half.dtype)
    m = n_last - h
    n0 = half.shape[-nd]
    # other leading axes: (dst, src) index pairs for -m mod n
    pairs = [
        ((slice(0, 1), slice(0, 1)), (slice(1, None), slice(n - 1, 0, -1)))
        for n in half.shape[-nd + 1 : -1]
    ]

    def band(rows: tuple[int, int]) -> None:
        a, b = rows
        full[(Ellipsis, slice(a, b)) + (slice(None),) * (nd - 1)][..., :h] = half[
            (Ellipsis, slice(a, b)) + (slice(None),) * (nd - 1)
        ]
        if m == 0:
            return
        first = []  # (dst, src) on the first axis for rows a .. b-1
        if a == 0:
            first.append((slice(0, 1), slice(0, 1)))
            a = 1
        if a < b:
            first.append((slice(a, b), slice(n0 - a, n0 - b, -1)))
        for d0, s0 in first:
            for combo in itertools.product(*pairs):
                dst = (Ellipsis, d0, *(c[0] for c in combo), slice(h, None))
                src = (Ellipsis, s0, *(c[1] for c in combo), slice(m, 0, -1))
                np.conjugate(half[src], out=full[dst])

    edges = np.linspace(0, n0, max(1, min(int(nthreads), n0)) + 1).astype(int)
    _map_threads(band, zip(edges[:-1], edges[1:], strict=True), nthreads)
    return full


def _map_threads(fn, items, nthreads: int) -> list:
    """``[fn(i) for i in items]`` in up to ``nthreads`` threads (numpy releases the GIL in
    its array loops); serial when ``nthreads <= 1``. Results in item order."""
    items = list(items)
    if int(nthreads) <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(int(nthreads), len(items))) as pool:
        return list(pool.map(fn, items))
