"""Type-1 NUFFT along k-space lines: the exact adjoint of :func:`nufft_type2_lines`.

:func:`mrsim.kspace.nufft.nufft_type2_lines` evaluates an image's DTFT at the equispaced
samples of straight lines, ``x_lj = origin_l + j step_l`` (radians per voxel), times
``scale * exp(i (phase0_l + j dphase_l))`` and a band mask. Its adjoint sends line values
``y_lj`` back to the image grid,

    f[k] = sum_lj conj(scale e^{i (phase0_l + j dphase_l)} mask_lj) y_lj e^{+i x_lj . (k - n//2)},

which is a type-1 NUFFT (Barnett et al. 2019). :func:`nufft_type1_lines` computes it as the
exact transpose of whichever pipeline the forward used, so that ``<A x, y> = <x, A^H y>``
holds to rounding, not only to the NUFFT tolerance:

* double precision (``eps < 1e-5``): the forward is finufft's own type 2, so the adjoint is
  finufft's own type 1 with the same tolerance, upsampling factor and mode order (finufft's
  type 1 and type 2 with equal kernel and grid are adjoint to each other);
* single precision: the forward is mrsim's split pipeline (deconvolve + zero-pad by the
  kernel's Fourier series, scipy FFT of the upsampled grid, then finufft's or
  :mod:`mrsim.kspace.line_interp`'s interpolation with finufft's kernel). The adjoint is
  the three transposed steps in reverse order: finufft spreading only
  (``spreadinterponly=1``, the transpose of the interpolation), an unnormalised inverse FFT
  of the upsampled grid (the transpose of the forward FFT), and the gather of the modes
  times the same real correction ``(-1)^k / C(k)``.
* ``backend="sigpy"``: sigpy's ``nufft_adjoint`` (the adjoint of its ``nufft``).

Like the forward, the cost does not depend on the number of motion states: all lines of
all poses are spread in one call.

References
----------
A. H. Barnett, J. Magland, L. af Klinteberg, "A parallel nonuniform fast Fourier transform
library based on an 'exponential of semicircle' kernel", SIAM J. Sci. Comput. 41 (2019).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from mrsim.kspace.nufft import (
    _UPSAMPFAC_SINGLE,
    NufftOptions,
    _fine_shape,
    _kernel_series,
    default_nthreads,
    line_coordinates,
    modulate_lines,
    single_precision,
)

__all__ = ["nufft_type1_lines"]


def nufft_type1_lines(
    values: np.ndarray,
    origin: np.ndarray,
    step: np.ndarray,
    n_modes: tuple[int, ...],
    options: NufftOptions | None = None,
    *,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    phase: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
    coords: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Adjoint of :func:`~mrsim.kspace.nufft.nufft_type2_lines` (same arguments).

    Parameters
    ----------
    values : ndarray, shape (L, S)
        Line samples (``S = n_samples``), e.g. measured or residual k-space lines.
    origin, step : ndarray, shape (L, ndim)
        As for the forward (radians per voxel).
    n_modes : tuple of int
        Image grid (the forward's ``image.shape``).
    options : NufftOptions, optional
        Backend, eps, threads, upsampling: exactly as given to the forward.
    band, phase, scale
        Exactly as given to the forward.
    coords : list of ndarray, optional
        :func:`~mrsim.kspace.nufft.line_coordinates` of ``origin, step`` (pass it to reuse
        it across calls).

    Returns
    -------
    ndarray, shape n_modes
        complex64 when ``eps >= 1e-5`` else complex128.
    """
    opt = NufftOptions() if options is None else options
    backend, eps, nthreads, upsampfac = opt.backend, opt.eps, opt.threads, opt.upsampling
    origin = np.asarray(origin, dtype=np.float64)
    step = np.asarray(step, dtype=np.float64)
    L, nd = origin.shape
    S = values.shape[-1]
    if values.shape != (L, S):
        raise ValueError(f"values must have shape ({L}, n_samples), got {values.shape}")
    n_modes = tuple(int(n) for n in n_modes)
    eps = float(eps)
    single = single_precision(eps)
    cdt = np.complex64 if single else np.complex128
    nth = default_nthreads() if nthreads is None else int(nthreads)
    # conj(scale e^{i phi} mask) y: the same in-place pass as the forward, with -phi.
    w = np.array(values, dtype=cdt, copy=True, order="C")
    if phase is not None or band is not None:
        ph0, dph = phase if phase is not None else (np.zeros(L), np.zeros(L))
        band = None if band is None else tuple(np.asarray(b, np.int64).reshape(L) for b in band)
        modulate_lines(w, -np.asarray(ph0, float), -np.asarray(dph, float), scale, nth, band)
    elif scale != 1.0:
        w *= w.real.dtype.type(scale)
    if coords is None:
        coords = line_coordinates(origin, step, S, single, nth)
    w = w.reshape(-1)
    if backend == "sigpy":
        import sigpy

        u = np.stack(
            [coords[a].astype(np.float64) * n_modes[a] / (2 * np.pi) for a in range(nd)], -1
        )
        out = sigpy.nufft_adjoint(
            w.astype(np.complex128), u, n_modes, oversamp=2.0, width=_sigpy_width(eps)
        )
        return (out * np.sqrt(float(np.prod(n_modes)))).astype(cdt)
    import finufft

    up = float(upsampfac) if upsampfac is not None else (_UPSAMPFAC_SINGLE if single else None)
    opts = {"nthreads": nth}
    if not single:
        if up is not None:
            opts["upsampfac"] = up
        plan = finufft.Plan(1, n_modes, eps=eps, isign=1, dtype=cdt, **opts)
        plan.setpts(*coords)
        return plan.execute(w)
    return _spread_ifft_gather(w, coords, n_modes, eps, up, opts)


def _sigpy_width(eps: float) -> int:
    """The kernel width :func:`~mrsim.kspace.nufft.nufft_type2` gives sigpy for ``eps``."""
    return int(np.clip(np.ceil(-np.log10(eps)) + 1, 4, 8))


def _spread_ifft_gather(
    w: np.ndarray, coords: list[np.ndarray], n_modes: tuple[int, ...], eps: float, up: float,
    opts: dict,
) -> np.ndarray:  # fmt: skip
    """Transpose of mrsim's single-precision type 2 (``_upsampled_grid`` + interpolation)."""
    import finufft

    nd = len(n_modes)
    fine = _fine_shape(n_modes, up)
    plan = finufft.Plan(
        1, fine, eps=eps, isign=1, dtype=np.complex64, upsampfac=up, spreadinterponly=1, **opts
    )
    plan.setpts(*coords)
    grid = plan.execute(w)
    # The forward FFT is unnormalised (sum_m g[m] e^{-2 pi i i.m / nf}); its transpose is
    # the unnormalised inverse (norm="forward" puts the 1/N on the other direction).
    grid = scipy.fft.ifftn(grid, norm="forward", overwrite_x=True, workers=opts["nthreads"])
    factors = _kernel_series(fine, n_modes, float(eps), float(up), True)
    idx = [(np.arange(n) - n // 2) % nf for n, nf in zip(n_modes, fine, strict=True)]
    out = grid[np.ix_(*idx)]
    for a in range(nd):
        shape = [1] * nd
        shape[a] = n_modes[a]
        out *= factors[a].astype(np.float32).reshape(shape)
    return out
